"""Failure shapes found on real scripts (bench/refactor_corpus.py), each reproduced by a small script under shapes/.

Refactoring is cheap (in-process, no training); one slow test trains every written project a few steps.
"""
import ast
import re
import shutil

import pytest
import yaml

from pathlib import Path

from scaffold.errors import BadNameError
from scaffold.refactor import refactor_script
from scaffold.refactor.check import check_source
from scaffold.refactor.errors import NoTrainingLoopError
from tests.scaffold.refactor.helpers import FIT, python_files, run

SHAPES = Path(__file__).resolve().parent / "shapes"
WRITTEN = ["helper_globals", "seed_none", "full_batch", "zip_models", "try_keyboard", "loss_rebound", "builtin_shadow",
           "save_then_restore", "optimizer_list", "eval_result_printed", "early_stop_by_hand",
           "while_epochs", "plateau", "semicolons", "device_after_training",
           "unread_loop_index", "unread_batch_index", "batch_named_index", "self_training",
           "fit_method", "eval_called_twice",
           "raw_tensor_weights", "model_read_by_helper", "epoch_function_result", "glob_data_files",
           "plateau_on_train_mean", "loader_kwargs_mutated", "global_args", "epoch_count_after_val", "phase_unrolled",
           "stop_in_only_loop", "state_set_in_a_branch",
           "phase_loop"]


@pytest.fixture(scope="module")
def projects(tmp_path_factory):
    root = tmp_path_factory.mktemp("shapes")
    return {name: refactor_script(SHAPES / f"{name}.py", output=root / name) for name in WRITTEN}


def _text(result, rel):
    return (result.path / rel.format(package=result.package)).read_text()


@pytest.mark.parametrize("name", WRITTEN)
def test_written_projects_pass_their_own_check(projects, name):
    """Every file compiles and reads only names it defines (the check that runs before writing, run again here)."""
    for path in python_files(projects[name].path):
        assert check_source(path.name, path.read_text()) == [], path


def _method(result, name):
    tree = ast.parse(_text(result, "{package}/module.py"))
    return next(ast.unparse(n) for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == name)


def test_module_code_after_the_training_call_runs_after_training(projects):
    """`save()` then `restore()` at module level: restore() loads what save() wrote, so it runs at the end, not in __init__."""
    result = projects["save_then_restore"]
    assert "restore()" not in _method(result, "__init__")
    end = _method(result, "on_train_end").splitlines()
    assert end[-1].strip() == "restore()" and "torch.save" in end[-2]


def test_a_list_of_the_optimizers_is_made_from_the_trainers(projects):
    """`optimizers = [opt_sgd, opt_adam]`: built in __init__/configure_model it read the optimizers before
    configure_optimizers made them (IndexError); the step reads the trainer's."""
    result = projects["optimizer_list"]
    step = _method(result, "training_step")
    assert "optimizers = self.optimizers()" in step
    assert "by_name = {'sgd': self.optimizers()[0], 'adam': self.optimizers()[1]}" in step
    for name in ("__init__", "configure_model"):
        assert "optimizers" not in _method(result, name)


def test_what_reads_the_test_result_runs_where_it_is_made(projects):
    """`test_loss = evaluate(test_data)` became test_step, which fit does not run: the print reading test_loss runs at the
    end of the test epoch; on_train_end read a test_loss that fit never made (AttributeError)."""
    result = projects["eval_result_printed"]
    end = _method(result, "on_test_epoch_end")
    assert end.index("test_loss = ") < end.index("test_ppl = test_loss * 2") < end.index("print('test loss', test_loss, test_ppl)")
    assert "test_loss" not in _method(result, "on_train_end")


def test_early_stopping_by_hand_stops_the_trainer(projects):
    """The epoch loop's last statement ends in `break`: it becomes `self.trainer.should_stop = True` (it was left out,
    with the best-model saving beside it, and on_train_end then loaded a best.pt never written); the patience counter
    one branch resets and the other increments is read from self."""
    result = projects["early_stop_by_hand"]
    end = _method(result, "on_train_epoch_end")
    assert "self.trainer.should_stop = True" in end and "break" not in end
    assert "bad = self.bad" in end and "torch.save(model.state_dict(), 'best.pt')" in end
    assert "NOT PLACED" not in _text(result, "{package}/module.py")


def test_statements_joined_by_semicolons_are_placed_once(projects):
    """`plt.xlabel(..);plt.ylabel(..);plt.legend()` (MorvanZhou's 504_batch_normalization): each statement was cut as its
    whole line, so the line came out once per statement; a statement removed (`model.to(device); print(..)`) took its
    neighbours with it, and an edit of the first (`xb.to(device)`) left the second unedited."""
    result = projects["semicolons"]
    text = "".join(p.read_text() for p in python_files(result.path / result.package))
    for line in ('print("first")', 'print("second")', 'print("third")', 'print("epoch", epoch)', 'print("model ready")',
                 "WIDTH = 8", "SCALE = 2.0", "x = torch.randn(64, 4)", "pred = model(xb)", "loss_fn = nn.MSELoss()"):
        assert text.count(line) == 1, (line, text)
    assert ".to(device)" not in text and "yb = yb" not in text


def test_a_loop_after_training_moves_its_batches_to_the_modules_device(projects):
    """`images = images.to(device)` in the test after training became `images = images` (the trainer moves only the
    batches of its own loops: on a GPU the model was there and the test batches on the CPU); in training_step the move
    goes, with no `x = x` (or an `if` around nothing) left."""
    result = projects["device_after_training"]
    end = _method(result, "on_train_end")
    assert "inputs.to(self.device), targets.to(self.device)" in end
    step = _method(result, "training_step")
    assert "to(" not in step and "cuda" not in step and "pass" not in step  # nor `if ...: inputs, targets = inputs, targets`
    assert "`.to(device)` became `.to(self.device)`" in _text(result, "REFACTOR.md")


def test_counts_are_not_logged_as_metrics(tmp_path):
    """`correct += (predicted == targets).sum().item()` / `total += targets.size(0)` (p8, pytorch/examples mnist) were
    logged as val_correct / val_total, charting counts; the summed loss divided at the end (`test_loss /= len(..)`) is a
    metric and stays logged."""
    scripts = SHAPES.parent / "scripts"
    module = _text(refactor_script(scripts / "p8_eval_accuracy.py", output=tmp_path / "p8"), "{package}/module.py")
    assert "correct" in module and "total" in module
    assert "float(correct)" not in module and "float(total)" not in module
    mnist = tmp_path / "mnist.py"
    mnist.write_text((SHAPES / "device_after_training.py").read_text().replace(
        "    total = 0.0\n", "    total = 0.0\n    hits = 0\n").replace(
        "        total += criterion", "        hits += (model(inputs) > 0).eq(targets > 0).sum().item()\n        total += criterion"))
    from scaffold.refactor.emit import _counts
    tree = ast.parse(mnist.read_text())
    loop = [n for n in ast.walk(tree) if isinstance(n, ast.For)][-1]
    assert _counts("hits", loop, []) and not _counts("total", loop, [])
    assert not _counts("hits", loop, [ast.parse("hits /= 16").body])


def test_the_evaluation_after_training_keeps_its_no_grad(projects):
    """`with torch.no_grad(): for ... in test_loader:` after training (yunjey's tutorials) was unwrapped into on_train_end:
    the evaluation built autograd graphs the script never built."""
    end = _method(projects["device_after_training"], "on_train_end")
    block = end[end.index("with torch.no_grad():"):]
    assert "for inputs, targets in test_loader:" in block and "print('test loss', total)" in block
    assert end.index("model.eval()") < end.index("with torch.no_grad():")


def test_an_evaluation_function_called_twice_stays_a_function(projects):
    """`check_accuracy(train_loader, model)` then `check_accuracy(test_loader, model)` (aladdinpersson's tutorials): the
    first call became test_step and the function left the project, so the second read a name defined nowhere (refused)."""
    result = projects["eval_called_twice"]
    end = _method(result, "on_train_end")
    assert end.index("report_accuracy(train_loader, model)") < end.index("report_accuracy(test_loader, model)")
    assert "def report_accuracy(loader, net):" in _text(result, "{package}/models.py")
    assert "test_step" not in _text(result, "{package}/module.py")


def test_loop_variables_never_read_are_not_bound(projects):
    """`for t in range(20):` (full batch) and `for step, (b_x, b_y) in enumerate(loader):` with `t` / `step` never read
    gave an unused `t = batch` / `step = batch_idx` in training_step."""
    full = _method(projects["unread_loop_index"], "training_step")
    assert "= batch" not in full and not re.search(r"\bt = ", full) and "prediction = net(x)" in full
    step = _method(projects["unread_batch_index"], "training_step")
    assert "batch_idx" not in step.split(":", 1)[1] and "b_x, b_y = batch" in step


def test_a_batch_index_named_batch_is_not_stored_on_self(projects):
    """`for batch, (X, y) in enumerate(loader)` and an evaluation loop: validation_step reads its own `batch` parameter,
    which made the training loop's `batch` look like state (`self.batch = batch`, written each step, read nowhere)."""
    result = projects["batch_named_index"]
    assert "self.batch" not in _text(result, "{package}/module.py")
    assert "batch = batch_idx" in _method(result, "training_step") and "validation_step" in _text(result, "{package}/module.py")


def test_loader_options_changed_in_place_are_changed_before_the_loader_is_built(projects):
    """mnist's `if use_accel: train_kwargs.update(accel_kwargs)` went to the module's configure_model, which runs after the
    datamodule's setup built the loaders: on an accelerator they never shuffled. The changes run in setup, in the script's
    order, with the flag they read (computed once there, read by the module from the datamodule)."""
    result = projects["loader_kwargs_mutated"]
    setup = _text(result, "{package}/datamodule.py")
    order = ["fast = args.fast and args.batch_size > 1", 'train_kwargs = {"batch_size": args.batch_size}',
             "train_kwargs.update(extra)", 'train_kwargs["num_workers"] = 0', "loader = DataLoader("]
    assert [setup.index(s) for s in order] == sorted(setup.index(s) for s in order), setup
    module = _text(result, "{package}/module.py")
    assert "fast = self.trainer.datamodule.fast" in module and "train_kwargs" not in module
    check = ("import torch.utils.data as tud\n"
             f"from {result.package}.datamodule import *\n"
             "dm = next(v for k, v in dict(globals()).items() if k.endswith('DataModule') and k != 'LightningDataModule')"
             "(fast=True)\n"
             "dm.setup('fit')\n"
             "loader = dm.train_dataloader()\n"
             "print(type(loader.sampler).__name__, loader.drop_last, len(loader))\n")
    proc = run(["-c", check], cwd=result.path, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.split() == ["RandomSampler", "True", "2"]


def test_options_parsed_into_a_global_declared_in_main(projects):
    """`args = None` at module level, `global args` / `args = parser.parse_args()` in main(), and Net / decayed_lr reading
    `args.hidden` / `args.lr`: models.py kept `args = None` and nothing set it (AttributeError on None at the first
    step). The module and the datamodule set it to their options, and no code imports the placeholder by value."""
    result = projects["global_args"]
    models = _text(result, "{package}/models.py")
    assert len(re.findall(r"^args = None$", models, re.M)) == 1
    for side in ("module", "datamodule"):
        text = _text(result, f"{{package}}/{side}.py")
        assert "_models.args = (" in text or "_models.args = self.hparams" in text
        assert not re.search(r"from \S+\.models import .*\bargs\b", text), text
    assert "args = self.hparams" in _method(result, "configure_optimizers")
    options = yaml.safe_load(_text(result, "configs/default.yaml"))["model"]
    assert options["hidden"] == 6 and options["lr"] == 0.05  # Net reads args.hidden: it is an option of the model
    proc = run(["train.py", "fit", "--trainer.max_epochs=2", "--trainer.accelerator=cpu", "--trainer.enable_progress_bar=false"],
               cwd=result.path, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "epoch 1 loss" in proc.stdout  # decayed_lr read args.lr at each epoch start


def test_a_name_one_branch_binds_is_free_in_the_other():
    from scaffold.refactor.source import free_names

    tree = ast.parse("if v < best:\n    best, bad = v, 0\nelse:\n    bad += 1\nprint(bad)\nfor i in range(2):\n    z = i\nprint(z)\n")
    assert free_names(tree.body) == ["v", "best", "bad", "print", "range"]


@pytest.mark.slow
def test_early_stopping_by_hand_stops_where_the_script_stops(projects):
    proc = run(["train.py", "fit", "--trainer.accelerator=cpu", "--trainer.enable_progress_bar=false"],
               cwd=projects["early_stop_by_hand"].path, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "epoch 2 val" in proc.stdout and "epoch 3 val" not in proc.stdout and "stopping early" in proc.stdout
    assert "should_stop was set (epoch 3" in proc.stdout + proc.stderr


def test_the_epochs_end_after_inline_validation_skips_the_sanity_check(projects):
    """The epoch's end after an inline validation (`epochs_done += 1`, a print) is on_validation_epoch_end; the
    trainer's sanity check, which validates before any training, returns before it."""
    hook = _method(projects["epoch_count_after_val"], "on_validation_epoch_end").splitlines()
    assert hook[1].strip() == "if self.trainer.sanity_checking:" and hook[2].strip() == "return"


@pytest.mark.slow
def test_the_epochs_end_runs_once_per_epoch_and_not_in_the_sanity_check(projects):
    """3 epochs: the counter printed 1, 2, 3 (the sanity check's run printed 1 before training, and the last was 4)."""
    proc = run(["train.py", "fit", "--trainer.accelerator=cpu", "--trainer.enable_progress_bar=false"],
               cwd=projects["epoch_count_after_val"].path, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert re.findall(r"EPOCHS DONE (\d+)", proc.stdout) == ["1", "2", "3"], proc.stdout[-2000:]


def test_epochs_counted_by_a_while_loop(projects):
    """`epoch = 1` / `while epoch <= 3:` ... `epoch += 1` was refused ("inside a statement"): it is 3 epochs, the
    counter is the trainer's epoch from 1, and neither the set-up nor the increment of the counter is left in a hook."""
    result = projects["while_epochs"]
    config = yaml.safe_load(_text(result, "configs/default.yaml"))
    assert config["trainer"]["max_epochs"] == 3
    module = _text(result, "{package}/module.py")
    assert "epoch = self.current_epoch + 1" in module and "epoch += 1" not in module and "epoch = 1\n" not in module
    assert "`epoch += 1` removed" in _text(result, "REFACTOR.md")


def test_a_while_loop_with_no_count_is_refused_with_what_to_write(tmp_path):
    with pytest.raises(NoTrainingLoopError) as err:
        refactor_script(SHAPES / "while_true_epochs.py", output=tmp_path / "out")
    assert "while_true_epochs.py:10: the epoch loop is `while True:`" in str(err.value)
    assert "`for epoch in range(N):`" in str(err.value) and not (tmp_path / "out").exists()


def test_plateau_scheduler_monitors_the_validation_result(projects):
    result = projects["plateau"]
    assert "'monitor': 'val_loss'" in _method(result, "configure_optimizers")
    assert "became the scheduler's `monitor: val_loss`" in _text(result, "REFACTOR.md")


def test_plateau_scheduler_stepped_with_an_epoch_mean_monitors_that_value(projects):
    """`sched.step(avg)` with the mean of the epoch's training losses and no validation: the value is logged where the step
    was and is the scheduler's monitor (it was returned with no monitor: MisconfigurationException at fit)."""
    result = projects["plateau_on_train_mean"]
    assert "'monitor': 'avg'" in _method(result, "configure_optimizers")
    end = _method(result, "on_train_epoch_end")
    assert "self.log('avg', avg)" in end and "sched" not in end
    assert "`sched.step(avg)` became `self.log(\"avg\", avg)`" in _text(result, "REFACTOR.md")


@pytest.mark.slow
def test_plateau_scheduler_steps_on_the_logged_validation_loss(projects):
    proc = run(["train.py", "fit", "--trainer.max_epochs=2", "--trainer.accelerator=cpu", "--trainer.enable_progress_bar=false"],
               cwd=projects["plateau"].path, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]


def test_helper_globals_live_where_the_functions_read_them(projects):
    models = _text(projects["helper_globals"], "{package}/models.py")
    module = _text(projects["helper_globals"], "{package}/module.py")
    assert "SCALE = torch.linspace(1, 2, 4)" in models  # a plain value moves beside the function reading it
    assert "nz = None" in models and "_models.nz = nz" in module  # a value from the options is set there by the module


def test_seed_that_is_none_until_the_script_picks_one(projects):
    config = yaml.safe_load(_text(projects["seed_none"], "configs/default.yaml"))
    assert config["seed_everything"] is True
    # the seed is computed as the script runs: the seeding stays code, before the data it seeds
    setup = _text(projects["seed_none"], "{package}/datamodule.py")
    assert setup.index("random.randint(1, 10000)") < setup.index("torch.manual_seed(opt.manualSeed)") < setup.index("torch.randn")
    assert "the seed is only known when the script runs" in _section(projects["seed_none"], "Changes of meaning")


def _section(result, title):
    return _text(result, "REFACTOR.md").split(f"## {title}\n", 1)[1].split("\n## ", 1)[0]


def test_report_lists_changes_of_meaning_under_their_heading(projects):
    """The seed seeded twice (seed_everything, then the script's own) and a `torch.save` not run (its file is not written)
    were listed under "Replaced by the trainer", where nobody looks for a difference from the script."""
    meaning, replaced = (_section(projects["seed_none"], t) for t in ("Changes of meaning", "Replaced by the trainer"))
    assert "seed_everything: true` seeds before it" in meaning and "seed" not in replaced
    meaning, replaced = (_section(projects["device_after_training"], t) for t in ("Changes of meaning", "Replaced by the trainer"))
    assert '`torch.save(model.state_dict(), "model.ckpt")` is not run, so that file is not written' in meaning
    assert "torch.save" not in replaced


def test_full_batch_training_through_a_function(projects):
    result = projects["full_batch"]
    step = _text(result, "{package}/module.py")
    assert result.mode == "manual" and "train(epoch)" in step


def test_models_trained_side_by_side(projects):
    module = _text(projects["zip_models"], "{package}/module.py")
    tree = ast.parse(module)
    step = next(n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == "training_step")
    assert any(isinstance(n, ast.For) for n in ast.walk(step)), "the zip loop stays inside training_step"


def test_epoch_loop_inside_try_keyboard_interrupt(projects):
    result = projects["try_keyboard"]
    config = yaml.safe_load(_text(result, "configs/default.yaml"))
    assert config["trainer"]["max_epochs"] == 3
    assert "validation_step" in _text(result, "{package}/module.py")


def test_loss_rebound_for_printing_is_not_returned(projects):
    """The quickstart's `loss = loss.item()`: training_step returns the tensor backward() saw; evaluation after training
    keeps model.eval() (BatchNorm statistics stay as trained); the loop variable `batch` is not stored on self."""
    result = projects["loss_rebound"]
    module = _text(result, "{package}/module.py")
    tree = ast.parse(module)
    step = next(n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == "training_step")
    assert ast.unparse(step.body[-1]) == "return step_loss" and "step_loss = loss" in ast.unparse(step)
    end = next(n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == "on_train_end")
    assert "model.eval()" in ast.unparse(end)
    assert "self.batch" not in module
    assert "training_step returns `step_loss`" in _text(result, "REFACTOR.md")


def test_builtin_name_keeps_its_binding(projects):
    """`input` bound by the script is read from the datamodule, not resolved to the builtin; slicing a tensor by a
    range() becomes a DataLoader over that range."""
    result = projects["builtin_shadow"]
    assert "input = self.trainer.datamodule.input" in _text(result, "{package}/module.py")
    assert "_as_loader(range(0, 32, 8))" in _text(result, "{package}/datamodule.py")


def test_rl_agent_method_is_refused_with_the_reason(tmp_path):
    with pytest.raises(NoTrainingLoopError) as err:
        refactor_script(SHAPES / "rl_agent_method.py", output=tmp_path / "out")
    assert "`Agent.learn`" in str(err.value) and "`while` loop at line 22" in str(err.value)
    assert not (tmp_path / "out").exists()


def test_a_model_that_trains_itself_is_one_training_step(projects):
    """forward-forward (pytorch/examples mnist_forward_forward) was refused ("the training loop is inside the method"):
    the script's one training call runs in training_step on the batch it drew (`next(iter(loader))`: one epoch of that
    one batch, prepared as the script prepares it), the optimizers stay the script's, and the report says so."""
    result = projects["self_training"]
    assert result.mode == "manual"
    step = _method(result, "training_step")
    assert step.index("x, y = batch") < step.index("x_neg = corrupt(x_pos)") < step.index("net.train(x_pos, x_neg)")
    assert "return None" in _method(result, "configure_optimizers")
    assert "print('score'" in _method(result, "on_train_end")
    config = yaml.safe_load(_text(result, "configs/default.yaml"))
    assert config["trainer"]["max_epochs"] == 1 and config["trainer"]["limit_train_batches"] == 1
    loader = _text(result, "{package}/datamodule.py").split("def train_dataloader")[1]
    assert "return loader" in loader
    meaning = _section(result, "Changes of meaning")
    assert "`net.train(x_pos, x_neg)` trains the model itself" in meaning and "`Stack.blocks` is a plain Python list" in meaning
    assert "`Stack.train(...)` is the script's training" in meaning


def test_a_fit_method_called_once_is_the_training_step(projects):
    """`model.fit(loader, epochs=3)`: no batch drawn for the call; it runs once, on a loader of one item, and the report
    says the trainer does not move the data the call reads itself."""
    result = projects["fit_method"]
    step = _method(result, "training_step")
    assert "model.fit(loader, epochs=3)" in step and "= batch" not in step
    assert "return _as_loader([None])" in _text(result, "{package}/datamodule.py").split("def train_dataloader")[1]
    assert "def train(" not in _text(result, "{package}/module.py")  # Regressor keeps nn.Module.train
    meaning = _section(result, "Changes of meaning")
    assert "`model.fit(loader, epochs=3)` trains the model itself" in meaning and "not the data the call reads itself" in meaning


@pytest.mark.slow
def test_eval_and_train_of_a_model_that_trains_itself_only_switch_modes(projects):
    """`Stack.train(x_pos, x_neg)` replaces nn.Module.train: the trainer's eval()/train() on the LightningModule (around
    validation and test) recursed into it (TypeError: missing x_neg); now they only set the flags."""
    result = projects["self_training"]
    code = (f"from {result.package}.module import SelfTrainingModule; import {result.package}.models as m\n"
            "module = SelfTrainingModule(); module.net = m.Stack([4, 3])\n"
            "module.eval(); assert not module.training and not module.net.training\n"
            "module.train(); assert module.training and module.net.training; print('modes ok')")
    proc = run(["-c", code], cwd=result.path, timeout=300)
    assert proc.returncode == 0 and "modes ok" in proc.stdout, proc.stderr[-3000:]


def test_a_model_training_itself_in_a_loop_is_refused(tmp_path):
    """The training method called once per episode (an agent's update): not one training call; refused, naming both."""
    script = tmp_path / "episodes.py"
    script.write_text((SHAPES / "self_training.py").read_text().replace(
        "net.train(x_pos, x_neg)\n", "for episode in range(2):\n    net.train(x_pos, x_neg)\n"))
    with pytest.raises(NoTrainingLoopError) as err:
        refactor_script(script, output=tmp_path / "out")
    assert "`Block.train`" in str(err.value) and "from inside the loop at line 63" in str(err.value)
    assert not (tmp_path / "out").exists()


def test_no_user_code_runs_without_verify(tmp_path, monkeypatch):
    """argparse default=/type= with side effects and a local import: reading the script runs none of them."""
    for var in ("SIDE_EFFECT_MARK", "SIDE_EFFECT_DEFAULT", "SIDE_EFFECT_IMPORT"):
        monkeypatch.setenv(var, str(tmp_path / var))
    monkeypatch.chdir(tmp_path)
    script = tmp_path / "side_effects.py"
    shutil.copy(SHAPES / "side_effects.py", script)
    shutil.copy(SHAPES / "side_effects_helper.py", tmp_path / "side_effects_helper.py")
    result = refactor_script(script, output=tmp_path / "out", script_args=["--lr", "0.5"])
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith("SIDE_EFFECT")]
    config = yaml.safe_load(_text(result, "configs/default.yaml"))
    options = {**config["model"], **config["data"]}
    assert options["lr"] == "0.5"  # type=marked was not run: the value stays the text given
    assert options.get("out") is None
    report = _text(result, "REFACTOR.md")
    assert "type=marked" in report and "the default of `--out` was not read" in report


def test_name_with_a_path_names_the_options_refactor_has(tmp_path):
    with pytest.raises(BadNameError) as err:
        refactor_script(SHAPES / "seed_none.py", output=tmp_path / "x", name="../evil")
    assert "--output" in str(err.value) and "--output-dir" not in str(err.value)


def test_raw_tensors_trained_by_hand_are_the_modules_parameters(projects):
    """`w = torch.randn((), requires_grad=True)` updated by hand: made in the datamodule it was no parameter of the
    module (`_HandUpdate(self.parameters())`: "optimizer got an empty parameter list"); now a Parameter the update reaches."""
    result = projects["raw_tensor_weights"]
    init = _method(result, "configure_model") if "def configure_model" in _text(result, "{package}/module.py") else _method(result, "__init__")
    assert "self.w = torch.nn.Parameter(w)" in init and "self.b = torch.nn.Parameter(b)" in init
    assert "requires_grad" not in _text(result, "{package}/datamodule.py")


def test_a_model_only_the_scripts_functions_read_is_stored_on_the_module(projects):
    """`train()` reads the global `net`: the module keeps it as a submodule, so its weights are parameters."""
    result = projects["model_read_by_helper"]
    assert "self.net = net" in _text(result, "{package}/module.py")


def test_what_the_training_function_returns_is_read_after_it(projects):
    """`avg_loss = train_one_epoch(epoch, writer)`, printed after the inline validation: the function's `return` becomes
    `avg_loss = last_loss` after the epoch's last batch (the trainer validates before on_train_epoch_end), None until
    then (the sanity check validates first); the writer passed as a parameter is the trainer's logger; the demo loss at
    module level runs in the module's set-up."""
    result = projects["epoch_function_result"]
    module = _text(result, "{package}/module.py")
    end = _method(result, "on_train_batch_end")
    assert "if not self.trainer.is_last_batch" in end and "avg_loss = last_loss" in end
    assert "self.avg_loss = None" in _method(result, "__init__")
    assert "tb_writer" not in module and 'self.log("Loss/train", last_loss)' in module
    assert "loss_fn(dummy_outputs, dummy_labels)" not in _text(result, "{package}/datamodule.py")
    assert "dummy_outputs = torch.rand(4, 2)" not in _text(result, "{package}/datamodule.py")  # drawn after the model, as there


def test_files_a_glob_reads_go_with_the_project(projects):
    result = projects["glob_data_files"]
    assert (result.path / "glob_data" / "a.txt").is_file() and (result.path / "glob_data" / "b.txt").is_file()


def test_a_script_that_trains_twice_is_refused_with_its_runs(tmp_path):
    """Two runs one after the other: the refusal names both lines and what to change (it said "define `fit`", or took
    the first run and dropped the second)."""
    with pytest.raises(NoTrainingLoopError) as err:
        refactor_script(SHAPES / "two_runs.py", output=tmp_path / "p")
    text = str(err.value)
    assert "trains 2 times" in text and "lines 22, 24" in text and "Keep the run you want" in text
    assert not (tmp_path / "p").exists()


def test_a_phase_loop_is_unrolled_into_training_then_validation(projects):
    """`for phase in ("train", "val"):` around the batch loop was refused ("inside a statement (try/if/while)", then
    "runs once per `phase`"): one copy of its body per phase, the `if`s on `phase` reduced to the branch taken."""
    result = projects["phase_unrolled"]
    module = _text(result, "{package}/module.py")
    assert "phase ==" not in module and "set_grad_enabled" not in module
    step = _method(result, "training_step")
    assert "backward" not in step and "total_loss += loss.item()" in step
    val = _method(result, "validation_step")
    assert "with torch.no_grad():" in val and "backward" not in val
    # the training pass's statistics: after the epoch's last batch, before validating (not in the sanity check)
    assert "print(f'train loss" in _method(result, "on_train_batch_end")
    end = _method(result, "on_validation_epoch_end")
    assert "sizes['val']" in end and "if phase_acc > best_acc:" in end and "print(f'val loss" in end
    assert "StepLR" in _method(result, "configure_optimizers")
    report = _text(result, "REFACTOR.md")
    assert "| 24 | `for phase in ['train', 'val']:` was unrolled" in report
    assert "- line 41: `scheduler.step()` removed" in report and "- line 37: optimizer step removed" in report
    # the IfExp form (`model.train() if phase == "train" else model.eval()`) too
    other = _text(projects["phase_loop"], "{package}/module.py")
    assert "phase ==" not in other and "[phase]" not in other and "model.eval() if" not in other


@pytest.mark.parametrize("text, expected", [
    ("def f():\n    break\n", "does not compile: 'break' outside loop"),
    ("def f():\n    return 1\n    print(2)\n", "never runs: it follows a `return`"),
    ("class A:\n    def g(self):\n        return device\n", "reads `device`, which is defined nowhere"),
])
def test_check_finds_what_would_break_a_project(text, expected):
    problems = check_source("m.py", text)
    assert problems and expected in str(problems[0]), problems


@pytest.mark.slow
def test_written_shapes_train(projects):
    for name, result in projects.items():
        proc = run(FIT, cwd=result.path, timeout=300)
        assert proc.returncode == 0, (name, proc.stderr[-3000:])


def test_a_break_of_the_only_training_loop_stops_the_training(projects):
    """`for step in count(1): ... if value < 1e-2: break` with no epoch loop: the break ends the training, so it is
    `self.trainer.should_stop = True` (a `return None` only skipped the batch, and the endless stream trained on)."""
    step = _method(projects["stop_in_only_loop"], "training_step")
    assert "self.trainer.should_stop = True" in step and "return None" not in step
    assert "stops after this batch" in _text(projects["stop_in_only_loop"], "REFACTOR.md")


@pytest.mark.slow
def test_the_stopped_training_ends_where_the_script_did(projects):
    proc = run(["train.py", "fit", "--trainer.accelerator=cpu", "--trainer.enable_progress_bar=false"],
               cwd=projects["stop_in_only_loop"].path, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    # as the script: it stopped at the first batch whose loss fell under 1e-2 (--verify compares the losses themselves)
    found = re.findall(r"STOPPED AT (\d+) WITH (\S+)", proc.stdout)
    assert len(found) == 1 and float(found[0][1]) < 1e-2 and int(found[0][0]) < 100, proc.stdout[-2000:]


@pytest.mark.slow
def test_state_bound_only_in_a_branch_exists_before_the_first_hook_reads_it(projects):
    """The epoch's start binds `state` only for an RNN and keeps self's value otherwise: __init__ sets it to None
    first (it raised AttributeError at the first epoch's start)."""
    assert "self.state = None" in _method(projects["state_set_in_a_branch"], "__init__")
    for kind in ("rnn", "linear"):
        proc = run(["train.py", "fit", "--trainer.accelerator=cpu", "--trainer.enable_progress_bar=false",
                    f"--model.kind={kind}"], cwd=projects["state_set_in_a_branch"].path, timeout=300)
        if kind == "rnn":
            assert proc.returncode == 0, proc.stderr[-3000:]
        else:  # the script itself fails here (`None.detach()`): the project fails the same way, not on a missing attribute
            assert "'NoneType' object has no attribute 'detach'" in proc.stderr, proc.stderr[-3000:]

