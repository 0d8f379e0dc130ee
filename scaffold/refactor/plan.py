"""What goes where: each set-up statement gets a kind (data, model, optimizer, ...), the training step gets a mode
(automatic optimization when it is the plain zero_grad/backward/step shape, manual otherwise), and the script's
options become the config. Nothing is written here.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import io
from dataclasses import dataclass, field
from typing import Any

from scaffold.refactor.analyze import Analysis, Chunk
from scaffold.refactor.errors import ScriptArgsError
from scaffold.refactor.source import call_leaf, calls_in, dotted, loaded_names, mutated_names, stored_names

OPTIMIZERS = {"SGD", "Adam", "AdamW", "Adadelta", "Adagrad", "Adamax", "ASGD", "LBFGS", "NAdam", "RAdam", "RMSprop",
              "Rprop", "SparseAdam", "Adafactor"}
SCHEDULERS = {"StepLR", "MultiStepLR", "ExponentialLR", "CosineAnnealingLR", "ReduceLROnPlateau", "CyclicLR", "OneCycleLR",
              "LambdaLR", "MultiplicativeLR", "LinearLR", "ConstantLR", "SequentialLR", "ChainedScheduler", "PolynomialLR",
              "CosineAnnealingWarmRestarts"}
_DATA_CALLS = {"DataLoader", "TensorDataset", "Dataset", "random_split", "Subset", "ConcatDataset", "randn", "rand", "randint",
               "randperm", "linspace", "arange", "load", "loadtxt", "open", "read_csv", "normal", "tensor", "from_numpy",
               "ImageFolder", "MNIST", "CIFAR10", "FashionMNIST", "Compose"}
_RANDOM_VALUES = {"randn", "rand", "randint", "randperm", "normal", "randn_like", "rand_like"}
_SEED_CALLS = {"manual_seed", "seed", "seed_everything", "manual_seed_all"}


@dataclass
class Note:
    """One line of the report: what happened to which lines of the script."""

    lines: str
    what: str

    @classmethod
    def at(cls, node_or_lines, what: str) -> "Note":
        """A note on a node's lines, or on lines given as text (``"12"``, ``"12-15"``)."""
        if isinstance(node_or_lines, ast.AST):
            a, b = node_or_lines.lineno, node_or_lines.end_lineno
            node_or_lines = f"{a}" if a == b else f"{a}-{b}"
        return cls(str(node_or_lines), what)


@dataclass
class Plan:
    analysis: Analysis
    args_name: str | None = None
    args: dict[str, Any] = field(default_factory=dict)  # dest -> value after parsing the script arguments
    arg_types: dict[str, str] = field(default_factory=dict)
    kinds: dict[int, str] = field(default_factory=dict)  # id(stmt) -> kind for set-up statements
    device_names: set[str] = field(default_factory=set)
    model_names: list[str] = field(default_factory=list)
    optimizers: list[str] = field(default_factory=list)
    schedulers: list[str] = field(default_factory=list)
    optimizer_lists: dict[str, ast.expr] = field(default_factory=dict)  # `optimizers = [opt_a, opt_b]` -> its value
    scaler_names: set[str] = field(default_factory=set)
    writer_names: set[str] = field(default_factory=set)
    param_tensors: set[str] = field(default_factory=set)  # raw tensors trained as weights (`requires_grad=True`)
    mode: str = "automatic"
    mode_reason: str = ""
    loss: ast.expr | None = None
    closure: ast.FunctionDef | None = None
    clip: tuple[float, str] | None = None
    precision: str = "32-true"
    seed: Any = True
    max_epochs: int | None = None
    limit_train_batches: int | None = None  # the script trains on the first batch(es) of its loader only
    epoch_start: int = 0
    epoch_var: str | None = None
    configure_model: bool = False
    constants: dict[str, Any] = field(default_factory=dict)
    notes: list[Note] = field(default_factory=list)
    meaning: list[Note] = field(default_factory=list)  # changes of meaning, listed apart in REFACTOR.md
    unplaced: list[tuple[Chunk, str]] = field(default_factory=list)
    train_body: list[ast.stmt] = field(default_factory=list)  # the batch loop's body, autocast blocks flattened
    plateau_logs: dict[int, str] = field(default_factory=dict)  # id(`sched.step(value)`) at the epoch's end -> metric it logs

    final: bool = False  # set as make_plan returns: from then on the plan is read, never changed

    def note(self, node_or_lines, what: str, meaning: bool = False) -> None:
        """A line of the report; ``meaning=True``: the project does something the script did not (or not the same way)."""
        if self.final:
            raise RuntimeError("the plan is final once make_plan returns: code that emits keeps its own notes (Emitter.note)")
        (self.meaning if meaning else self.notes).append(Note.at(node_or_lines, what))

    def finish(self) -> "Plan":
        """The plan as emitting sees it: its notes and unplaced code become tuples, so nothing appends to them later."""
        self.notes, self.meaning, self.unplaced = tuple(self.notes), tuple(self.meaning), tuple(self.unplaced)
        self.final = True
        return self


def _top_call(stmt: ast.stmt) -> ast.Call | None:
    value = getattr(stmt, "value", None)
    return value if isinstance(value, ast.Call) else None


def is_autocast(item: ast.withitem) -> bool:
    expr = item.context_expr
    return isinstance(expr, ast.Call) and call_leaf(expr) == "autocast"


def flatten_autocast(stmts: list[ast.stmt]) -> list[ast.stmt]:
    out = []
    for s in stmts:
        if isinstance(s, ast.With) and all(is_autocast(i) for i in s.items):
            out.extend(flatten_autocast(s.body))
        else:
            out.append(s)
    return out


def make_plan(info: Analysis, script_args: list[str]) -> Plan:
    plan = Plan(info)
    _parse_arguments(plan, script_args)
    _constants(plan)
    _classify_setup(plan)
    _epochs(plan)
    _mode(plan)
    _plateau_on_epoch_values(plan)
    if info.self_training is not None:
        from scaffold.refactor.selftrain import plan_self_training

        plan_self_training(plan)
    return plan.finish()


# ---------------------------------------------------------------------------------------------- arguments
def _parse_arguments(plan: Plan, script_args: list[str]) -> None:
    info = plan.analysis
    ap = info.argparse
    if ap is None:
        if script_args:
            raise ScriptArgsError(f"{info.script.path} has no argparse parser, so it takes no arguments; got {' '.join(script_args)}")
        return
    plan.args_name = ap.args_name
    script = info.script
    from scaffold.refactor.options import NotStatic, build_parser, constants

    try:
        parser, notes = build_parser(ap.parser_stmts, constants(info.definitions), script.path.name)
    except (NotStatic, argparse.ArgumentError, TypeError, ValueError) as err:
        raise ScriptArgsError(f"{script.path}: cannot read the script's argparse options from its text ({err}); scaffold "
                              "reads them without running the script, so write them as literals") from None
    for text in notes:
        line, _, what = text.partition(": ")
        plan.note(line.replace("line ", ""), what, meaning=True)
    err = io.StringIO()
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            parsed = parser.parse_args(list(script_args))
    except SystemExit:
        message = err.getvalue().strip().splitlines()
        raise ScriptArgsError(f"the script's arguments were rejected by its own parser: {message[-1] if message else 'invalid arguments'}"
                              + (f"\n{message[0]}" if len(message) > 1 else "")) from None
    plan.args = vars(parsed)
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction) or action.dest not in plan.args:
            continue
        value = plan.args[action.dest]
        if isinstance(action, (argparse._StoreTrueAction, argparse._StoreFalseAction)):
            ann = "bool"
        elif action.nargs not in (None, "?"):
            ann = "list"
        elif action.type in (int, float, str):
            ann = action.type.__name__
        elif isinstance(value, bool):
            ann = "bool"
        elif isinstance(value, (int, float)):
            ann = type(value).__name__
        else:
            ann = "str"
        if value is None:
            ann = f"{ann} | None"
        plan.arg_types[action.dest] = ann


def _constants(plan: Plan) -> None:
    from scaffold.refactor.options import constants

    plan.constants = constants(plan.analysis.definitions)


_STATIC_CALLS = {"range": range, "len": len, "int": int, "float": float, "min": min, "max": max}
_STATIC_NODES = (ast.Expression, ast.Constant, ast.Name, ast.Load, ast.Tuple, ast.List, ast.BinOp, ast.UnaryOp,
                 ast.BoolOp, ast.Compare, ast.IfExp, ast.Subscript, ast.Slice, ast.Call, ast.keyword, ast.Attribute,
                 ast.operator, ast.unaryop, ast.boolop, ast.cmpop)


def _check_static(plan: Plan, node: ast.expr) -> None:
    """Refuse what could run code of the script's text when evaluated: only arithmetic, comparisons and indexing on
    literals, constants and options, the script options' attributes (``args.epochs``), and calls of ``range``/``len``/
    ``int``/``float``/``min``/``max``. ``().__class__...`` or a lambda would otherwise reach any object."""
    for n in ast.walk(node):
        if not isinstance(n, _STATIC_NODES):
            raise ValueError(f"`{ast.unparse(n)}` needs the script to run")
        if isinstance(n, ast.Attribute) and not (
                isinstance(n.value, ast.Name) and n.value.id == plan.args_name and not n.attr.startswith("_")):
            raise ValueError(f"`{ast.unparse(n)}` is not an option of the script")
        if isinstance(n, ast.Call) and not (isinstance(n.func, ast.Name) and n.func.id in _STATIC_CALLS):
            raise ValueError(f"`{ast.unparse(n)}` needs the script to run")
        if isinstance(n, ast.BinOp) and isinstance(n.op, ast.Pow) and not (
                isinstance(n.right, ast.Constant) and isinstance(n.right.value, (int, float)) and abs(n.right.value) <= 64):
            raise ValueError(f"`{ast.unparse(n)}`: a power too large to compute")


def static_value(plan: Plan, node: ast.expr, params: bool = True) -> Any:
    """The value of an expression made of literals, constants and script options, or raise ValueError.
    Checked by ``_check_static`` before ``eval`` (no builtins), so nothing of the script runs. ``params``: the training
    function's parameters are known by what the driver passes (not inside those arguments: they are the caller's)."""
    _check_static(plan, node)
    env: dict[str, Any] = dict(_STATIC_CALLS)
    env.update(plan.constants)
    if plan.args_name:
        env[plan.args_name] = argparse.Namespace(**plan.args)
    for param, expr in plan.analysis.driver_bindings.items() if params else ():
        with contextlib.suppress(Exception):
            env.setdefault(param, static_value(plan, expr, params=False))
    names = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
    if not names <= set(env):
        raise ValueError(f"depends on {', '.join(sorted(names - set(env)))}")
    try:
        return eval(compile(ast.Expression(node), "<static>", "eval"), {"__builtins__": {}}, env)
    except Exception as err:
        raise ValueError(str(err)) from None


# ---------------------------------------------------------------------------------------------- set-up
def _is_model_ctor(plan: Plan, value: ast.expr) -> bool:
    """``Net(...)``, ``nn.Sequential(...)``, ``build_model()``, ``Net().to(device)``."""
    while isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute) and value.func.attr in ("to", "cuda", "double", "float", "half"):
        value = value.func.value
    if not isinstance(value, ast.Call):
        return False
    name = dotted(value.func)
    if name.startswith(("nn.", "torch.nn.", "models.", "torchvision.models.")):
        return True
    classes = {d.name: d for d in plan.analysis.definitions if isinstance(d, ast.ClassDef)}
    if name in classes:
        bases = " ".join(dotted(b) for b in classes[name].bases)
        return "Module" in bases or bases.startswith("nn.") or any(b in classes for b in bases.split())
    functions = {d.name: d for d in plan.analysis.definitions if isinstance(d, ast.FunctionDef)}
    if name in functions:
        returns = [n.value for n in ast.walk(functions[name]) if isinstance(n, ast.Return) and n.value is not None]
        return any(_is_model_ctor(plan, r) for r in returns)
    return False


def _grad_tensors(stmt: ast.stmt) -> set[str]:
    """Names a statement makes require gradients: ``w = torch.randn(3, requires_grad=True)``, ``w.requires_grad_()``,
    ``w.requires_grad = True``."""
    out = set()
    if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name) and any(
            k.arg == "requires_grad" and isinstance(k.value, ast.Constant) and k.value.value is True
            for c in calls_in(stmt) for k in c.keywords):
        out.add(stmt.targets[0].id)
    if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call) and call_leaf(stmt.value) == "requires_grad_" and \
            isinstance(stmt.value.func, ast.Attribute) and isinstance(stmt.value.func.value, ast.Name) and \
            not any(isinstance(a, ast.Constant) and a.value is False for a in stmt.value.args):
        out.add(stmt.value.func.value.id)
    if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Attribute) and \
            stmt.targets[0].attr == "requires_grad" and isinstance(stmt.targets[0].value, ast.Name) and \
            isinstance(stmt.value, ast.Constant) and stmt.value.value is True:
        out.add(stmt.targets[0].value.id)
    return out


def _classify_setup(plan: Plan) -> None:
    info = plan.analysis
    ap = info.argparse
    consumed = {id(s) for s in ap.consumed} if ap else set()
    kinds = plan.kinds
    loop_iters = [info.train.loop.iter] + ([info.val.loop.iter] if info.val else []) + ([info.test.loop.iter] if info.test else [])
    data_seed_names = set()
    for it in loop_iters:
        data_seed_names |= {n.id for n in ast.walk(it) if isinstance(n, ast.Name)}
    for bindings in [info.driver_bindings] + [loop.bindings for loop in (info.train, info.val, info.test) if loop is not None]:
        data_seed_names |= {e.id for k, e in bindings.items() if isinstance(e, ast.Name) and k in data_seed_names}

    # whatever an optimizer is given the parameters of is a model, wherever its class comes from
    trained = {dotted(c.func.value) for ch in info.setup for c in calls_in(ch.stmt) if call_leaf(c) in OPTIMIZERS
               for a in c.args[:1] for c2 in [a] for c in calls_in(c2) if isinstance(c.func, ast.Attribute) and c.func.attr == "parameters"}
    # tensors made to require gradients (`torch.randn(..., requires_grad=True)`, `w.requires_grad_()`) are the
    # weights of a model written without nn.Module: the module owns them, as parameters
    plan.param_tensors |= {n for ch in info.setup for n in _grad_tensors(ch.stmt)}
    first_model_line = next((c.stmt.lineno for c in info.setup if isinstance(c.stmt, (ast.Assign, ast.AnnAssign))
                             and _is_model_ctor(plan, c.stmt.value)), None)
    for chunk in info.setup:
        s = chunk.stmt
        text = plan.analysis.script.segment(s)
        leafs = {call_leaf(c) for c in calls_in(s)}
        names = stored_names([s])
        if isinstance(s, ast.Assign) and len(s.targets) == 1 and isinstance(s.targets[0], ast.Name) and not calls_in(s) and \
                loaded_names([s]) and loaded_names([s]) <= set(plan.optimizers):
            # a list of the optimizers (306_optimizer: `optimizers = [opt_SGD, opt_Adam]`): the optimizers exist only once
            # configure_optimizers ran, so the list is made where it is read, from the trainer's optimizers
            kind = "optimizer_list"
            plan.optimizer_lists[s.targets[0].id] = s.value
        elif id(s) in consumed or (ap and plan.args_name in names and any(call_leaf(c) in ("parse_args", "parse_known_args") or dotted(c.func) == ap.function for c in calls_in(s))):
            kind = "args"
        elif isinstance(s, ast.Expr) and leafs & _SEED_CALLS:
            kind = "seed"
        elif "GradScaler" in leafs:
            kind = "amp"
        elif "SummaryWriter" in leafs:
            kind = "logger"
        elif isinstance(s, (ast.Assign, ast.AnnAssign)) and leafs & SCHEDULERS:
            kind = "scheduler"
        elif isinstance(s, (ast.Assign, ast.AnnAssign)) and leafs & OPTIMIZERS:
            kind = "optimizer"
        elif _is_device_stmt(plan, s, text):
            kind = "device"
        elif isinstance(s, ast.Expr) and isinstance(s.value, ast.Call) and call_leaf(s.value) in ("to", "cuda") and \
                dotted(s.value.func).split(".")[0] in plan.model_names:
            kind = "device"
        elif isinstance(s, (ast.Assign, ast.AnnAssign)) and (_is_model_ctor(plan, s.value) or (set(names) & trained and calls_in(s))
                                                            or set(names) & plan.param_tensors):
            kind = "model"
        elif isinstance(s, ast.Expr) and isinstance(s.value, ast.Call) and call_leaf(s.value) == "save":
            kind = "save"
        elif loaded_names([s]) & set(plan.model_names) and not loaded_names([s]) & _data_names(plan):
            kind = "model"
        elif (leafs & _DATA_CALLS and not (leafs <= _RANDOM_VALUES | {""} and first_model_line is not None and s.lineno > first_model_line)) \
                or set(names) & data_seed_names or loaded_names([s]) & _data_names(plan):
            # random values drawn after the model is built (dcgan's fixed_noise) stay in the model's set-up, in the
            # script's order; drawn in the data's set-up they would shift the weights' initialisation
            kind = "data"
        else:
            kind = "rest"
        kinds[id(s)] = kind
        target = {"optimizer": plan.optimizers, "scheduler": plan.schedulers, "model": plan.model_names}.get(kind)
        if target is not None and isinstance(s, (ast.Assign, ast.AnnAssign)):
            target.extend(n for n in names if n not in target)
        if kind == "amp":
            plan.scaler_names |= set(names)
        if kind == "logger":
            plan.writer_names |= set(names)
    # statements the data needs (kwargs dicts, sizes) are data, and so are statements that change what the data's set-up
    # made (`train_kwargs.update(accel_kwargs)` under `if use_accel:`, mnist): run after the datamodule's setup they would
    # come too late for the loaders built from it. The rest belongs to the module
    promoted: set[int] = set()
    changed = True
    while changed:
        changed = False
        data_loads = set().union(*[loaded_names([c.stmt]) for c in info.setup if kinds[id(c.stmt)] == "data"] or [set()])
        data_stores = _data_names(plan)
        model_stores = {n for c in info.setup if kinds[id(c.stmt)] in ("model", "optimizer", "scheduler", "amp", "logger")
                        for n in stored_names([c.stmt])}
        for c in info.setup:
            if kinds[id(c.stmt)] != "rest":
                continue
            if set(stored_names([c.stmt])) & data_loads:
                kinds[id(c.stmt)] = "data"
                promoted.add(id(c.stmt))
                changed = True
            elif mutated_names(c.stmt) & data_stores and not loaded_names([c.stmt]) & model_stores:
                kinds[id(c.stmt)] = "data"  # data in its own right: not given back to the module below
                changed = True
    for c in info.setup:
        if kinds[id(c.stmt)] == "rest":
            kinds[id(c.stmt)] = "module"
    # a data statement that reads what only the module's set-up makes (trainingyt's demo `loss = loss_fn(dummy_outputs,
    # dummy_labels)`) runs in the module's set-up, which can read the data's names (the datamodule is set up first)
    changed = True
    while changed:
        changed = False
        module_made = {n for c in info.setup if kinds[id(c.stmt)] in ("model", "module") for n in stored_names([c.stmt])}
        data_made = _data_names(plan)
        data_loads = set().union(*[loaded_names([c.stmt]) for c in info.setup if kinds[id(c.stmt)] == "data"] or [set()])
        for c in info.setup:
            names = set(stored_names([c.stmt]))
            if kinds[id(c.stmt)] != "data" or names & data_seed_names:
                continue
            # ... and what was data only because such a statement read it (a value drawn after the model: its draw
            # goes back to its place in the script's order)
            if loaded_names([c.stmt]) & (module_made - data_made) or (id(c.stmt) in promoted and not names & data_loads):
                kinds[id(c.stmt)] = "module"
                changed = True
    # a function's parameter bound to the SummaryWriter (`train_one_epoch(epoch, writer)` as `tb_writer`) is the writer
    for loop in (info.train, info.val, info.test):
        if loop is not None:
            plan.writer_names |= {k for k, e in loop.bindings.items() if isinstance(e, ast.Name) and e.id in plan.writer_names}
    for c in info.setup:
        if kinds[id(c.stmt)] == "seed":
            call = _top_call(c.stmt)
            try:
                value = static_value(plan, call.args[0]) if call.args else True
                if value is None or isinstance(value, bool):
                    raise ValueError("its value is not a number before the script runs")
                plan.seed = int(value)
            except (ValueError, TypeError) as err:
                # the script computes its seed (dcgan: `random.randint` when --manualSeed is not given): the seeding
                # stays code, in the set-up that runs next in the script's order, so what follows is drawn as there
                # (the data's set-up when the data is built before the next model, or the value comes from it)
                later = [kinds[id(d.stmt)] for d in info.setup if d.stmt.lineno > c.stmt.lineno]
                from_data = loaded_names([c.stmt]) & {n for d in info.setup if d.stmt.lineno < c.stmt.lineno
                                                      and kinds[id(d.stmt)] == "data" for n in stored_names([d.stmt])}
                first = next((k for k in later if k in ("data", "model")), "data")
                kinds[id(c.stmt)] = "data" if from_data or first == "data" else "module"
                plan.note(c.stmt, f"the seed is only known when the script runs ({err}): the seeding stays as code, "
                                  f"in {'datamodule.py setup' if kinds[id(c.stmt)] == 'data' else 'the module'}; "
                                  "`seed_everything: true` seeds before it", meaning=True)
    first_model = next((c.stmt.lineno for c in info.setup if kinds[id(c.stmt)] == "model"), None)
    first_data = next((c.stmt.lineno for c in info.setup if kinds[id(c.stmt)] == "data"), None)
    module_loads = set().union(*[loaded_names([c.stmt]) for c in info.setup if kinds[id(c.stmt)] in ("model", "module")] or [set()])
    plan.configure_model = bool(first_data and (first_model is None or first_data < first_model)) or bool(module_loads & _data_names(plan))
    last_data = max((c.stmt.lineno for c in info.setup if kinds[id(c.stmt)] == "data"), default=None)
    if first_model and first_data and first_data < first_model < (last_data or 0):
        plan.note(f"{first_model}-{last_data}", "data and model statements are interleaved; the data is built first here, "
                                                  "so random numbers may be drawn in another order than in the script", meaning=True)


def _data_names(plan: Plan) -> set[str]:
    return {n for c in plan.analysis.setup if plan.kinds.get(id(c.stmt)) == "data" for n in stored_names([c.stmt])}


def _is_device_stmt(plan: Plan, s: ast.stmt, text: str) -> bool:
    names = set(stored_names([s]))
    if isinstance(s, ast.If):
        return bool(loaded_names([s.test]) & plan.device_names) or "cuda" in plan.analysis.script.segment(s.test)
    if isinstance(s, (ast.Assign, ast.AnnAssign)) and ("cuda" in text or "torch.device" in text or "mps" in text) and \
            not any(call_leaf(c) in _DATA_CALLS | OPTIMIZERS for c in calls_in(s)) and not _is_model_ctor(plan, s.value):
        plan.device_names |= names
        return True
    if "cudnn" in text or "set_device" in text:
        return True
    if isinstance(s, (ast.Assign, ast.AnnAssign)) and loaded_names([s]) & plan.device_names and not calls_in(s):
        plan.device_names |= names
        return True
    return False


# ---------------------------------------------------------------------------------------------- epochs and mode
def _epochs(plan: Plan) -> None:
    loop = plan.analysis.epoch_loop
    if loop is None:
        plan.max_epochs = 1
        return
    if isinstance(loop, ast.While):
        var, first, init, step = plan.analysis.epoch_counter
        plan.epoch_var = var
        plan.note(init, f"the epoch counter `{var}` became the trainer's epoch (`self.current_epoch`)")
        plan.note(step, f"`{var} += 1` removed: the trainer counts the epochs")
        try:
            start, stop = static_value(plan, first), static_value(plan, loop.test.comparators[0])
            plan.max_epochs = max(int(stop) - int(start) + (1 if isinstance(loop.test.ops[0], ast.LtE) else 0), 0)
            plan.epoch_start = int(start)
        except (ValueError, TypeError) as err:
            plan.note(loop, f"the number of epochs could not be read from `while {plan.analysis.script.segment(loop.test)}` "
                            f"({err}); set trainer.max_epochs in configs/default.yaml")
        return
    if isinstance(loop.target, ast.Name):
        plan.epoch_var = loop.target.id
    try:
        value = static_value(plan, loop.iter)
        rng = value if isinstance(value, range) else range(len(value))
        plan.max_epochs = len(rng)
        plan.epoch_start = rng.start if isinstance(value, range) else 0
    except (ValueError, TypeError) as err:
        plan.note(loop, f"the number of epochs could not be read from `{plan.analysis.script.segment(loop.iter)}` ({err}); "
                        "set trainer.max_epochs in configs/default.yaml")


def _plateau_on_epoch_values(plan: Plan) -> None:
    """A ReduceLROnPlateau stepped at the epoch's end with a value the epoch computed itself (``mean_loss`` over the
    training losses, no validation): the trainer steps it on a logged metric, so that value is logged where the step
    was and becomes the scheduler's monitor."""
    info = plan.analysis
    if plan.mode != "automatic":
        return
    plateaus = {name for c in info.setup if plan.kinds.get(id(c.stmt)) == "scheduler"
                for name in stored_names([c.stmt]) if name in plan.schedulers
                and any(dotted(n.func).split(".")[-1] == "ReduceLROnPlateau" for n in calls_in(c.stmt))}
    val = (info.val.result or "val_result") if info.val is not None else None
    for chunk in info.epoch_post:
        for call in calls_in(chunk.stmt):
            if (isinstance(call.func, ast.Attribute) and call.func.attr == "step" and dotted(call.func.value) in plateaus
                    and len(call.args) == 1 and isinstance(call.args[0], ast.Name) and call.args[0].id != val):
                plan.plateau_logs[id(call)] = call.args[0].id


def _attr_call(stmt: ast.stmt, attr: str) -> ast.Call | None:
    call = _top_call(stmt) if isinstance(stmt, ast.Expr) else None
    return call if call is not None and isinstance(call.func, ast.Attribute) and call.func.attr == attr else None


def _mode(plan: Plan) -> None:
    info = plan.analysis
    body = flatten_autocast(info.train.loop.body)
    plan.train_body = body
    autocasts = [i for n in ast.walk(info.train.loop) if isinstance(n, ast.With) for i in n.items if is_autocast(i)]
    if autocasts:
        kw = {k.arg: k.value for k in autocasts[0].context_expr.keywords}
        dtype = dotted(kw["dtype"]) if "dtype" in kw else ""
        plan.precision = "bf16-mixed" if "bfloat16" in dtype else "16-mixed"
    closures = [s for s in body if isinstance(s, ast.FunctionDef)]
    backward = [c for c in calls_in(info.train.loop) if isinstance(c.func, ast.Attribute) and c.func.attr == "backward"]

    def manual(reason: str) -> None:
        plan.mode, plan.mode_reason = "manual", reason

    if len(plan.optimizers) != 1:
        return manual("no optimizer object: the weights are updated by hand" if not plan.optimizers
                      else f"{len(plan.optimizers)} optimizers ({', '.join(plan.optimizers)})")
    if len(backward) != 1:
        return manual(f"{len(backward)} backward() calls per batch")
    steps = [c for c in calls_in(info.train.loop) if _is_step(plan, c)]
    if len(steps) != 1:
        return manual(f"{len(steps)} optimizer steps per batch")
    step_stmt = next((s for s in body if any(c is steps[0] for c in calls_in(s))), None)
    if step_stmt is None or not isinstance(step_stmt, ast.Expr) or step_stmt.value is not steps[0]:
        return manual("the optimizer step is not a plain statement of the batch loop")
    if steps[0].args and isinstance(steps[0].args[0], ast.Name) and any(f.name == steps[0].args[0].id for f in closures):
        closure = next(f for f in closures if f.name == steps[0].args[0].id)
        ret = closure.body[-1]
        inner = flatten_autocast(closure.body)
        bw = next((s for s in inner if isinstance(s, ast.Expr) and s.value is backward[0]), None)
        if not isinstance(ret, ast.Return) or ret.value is None or bw is None:
            return manual("the closure is not zero_grad / loss / backward / return loss")
        plan.closure, plan.loss = closure, ret.value
        return None
    bw_stmt = next((s for s in body if isinstance(s, ast.Expr) and s.value is backward[0]), None)
    if bw_stmt is None:
        return manual("backward() is not a plain statement of the batch loop")
    target = backward[0].func.value
    if isinstance(target, ast.Call) and call_leaf(target) == "scale" and target.args:
        target = target.args[0]
    if not isinstance(target, ast.Name) or backward[0].args or backward[0].keywords:
        return manual("backward() is called on an expression or with arguments")
    i_bw, i_step = body.index(bw_stmt), body.index(step_stmt)
    if i_step < i_bw:
        return manual("the optimizer steps before backward()")
    for s in body[i_bw + 1:i_step]:
        call = _top_call(s)
        leaf = call_leaf(call) if call is not None else ""
        if leaf in ("clip_grad_norm_", "clip_grad_value_"):
            try:
                value = float(static_value(plan, call.args[1] if len(call.args) > 1 else next(k.value for k in call.keywords if k.arg in ("max_norm", "clip_value"))))
            except (ValueError, StopIteration, IndexError) as err:
                return manual(f"the clipping value at line {s.lineno} is not a constant or an option ({err})")
            extra = [k.arg for k in call.keywords if k.arg not in ("max_norm", "clip_value", "norm_type")]
            norm_type = next((k.value for k in call.keywords if k.arg == "norm_type"), None)
            if extra or (norm_type is not None and not (isinstance(norm_type, ast.Constant) and norm_type.value in (2, 2.0))):
                return manual(f"clipping at line {s.lineno} uses options gradient_clip_val cannot express")
            plan.clip = (value, "norm" if leaf == "clip_grad_norm_" else "value")
        elif leaf == "unscale_" or (isinstance(s, ast.Expr) and leaf == "step"):
            continue
        elif any(isinstance(n, ast.Attribute) and n.attr == "grad" for n in ast.walk(s)):
            return manual(f"line {s.lineno} reads gradients between backward() and step()")
    if any(isinstance(n, ast.Attribute) and n.attr == "grad" for s in body for n in ast.walk(s)
           if not (_top_call(s) is not None and call_leaf(_top_call(s)).startswith("clip_grad"))):
        return manual("the batch loop reads or writes .grad by hand")
    plan.loss = target


def _is_step(plan: Plan, call: ast.Call) -> bool:
    if not isinstance(call.func, ast.Attribute) or call.func.attr != "step":
        return False
    owner = dotted(call.func.value)
    if owner in plan.optimizers:
        return True
    return owner in plan.scaler_names and bool(call.args) and dotted(call.args[0]) in plan.optimizers
