"""The files lifted from the script, as text: models.py (the script's own classes and functions, verbatim), module.py
(the LightningModule), datamodule.py and configs/default.yaml, returned with what went where as a plain ``Emitted``
(REFACTOR.md is written from it by report.py; the rest of the layout comes from the templates). The plan is read, never
changed.

Code moved into a method reads the names it needs from where they now live, in a few lines at the top of the
method (``model = self.model``, ``args = self.hparams``, ``train_loader = self.trainer.datamodule.train_loader``),
so the script's own lines stay as they were written. Names a method changes that another method reads
(state carried across batches, accumulators, a decayed learning rate) are written back to ``self``.
"""

from __future__ import annotations

import ast
import copy
from dataclasses import dataclass, field

from scaffold.refactor.analyze import Chunk, LoopInfo
from scaffold.refactor.plan import Note, Plan, flatten_autocast
from scaffold.refactor.render import Renderer, indent
from scaffold.refactor.source import BUILTINS, dotted, free_names, last_thing_done, stored_names


@dataclass
class Piece:
    node: ast.stmt  # the script's statement
    text: str  # dedented source, as rewritten
    bindings: dict = field(default_factory=dict)

    @property
    def parsed(self) -> list[ast.stmt]:
        """The rewritten text as a tree: names are followed in what is emitted, not in what was removed."""
        try:
            return ast.parse(self.text).body
        except SyntaxError:
            return [self.node]


@dataclass
class Method:
    name: str
    signature: str
    pieces: list[Piece]
    side: str = "module"  # or "data"
    head: list[str] = field(default_factory=list)  # lines before the prelude
    tail: list[str] = field(default_factory=list)  # lines after the pieces (before the state write-back)
    ret: str | None = None
    ret_node: ast.AST | None = None
    docstring: str | None = None


@dataclass
class Emitted:
    """What emitting made, as plain data: the modules' text, the config, and for the report where each part of the
    script went, what the trainer replaced, what changed meaning and what could not be placed (the plan's notes
    first, then emitting's own)."""

    package: str
    module_class: str
    data_class: str
    module: str
    data: str
    models: str
    config: str
    placed: list[tuple[str, str]]  # (script lines, where they went)
    used: list[tuple[ast.AST, str]]  # (node, what replaced it)
    notes: list[Note]
    meaning: list[Note]
    unplaced: list[tuple[Chunk, str]]
    unresolved: dict[str, list[int]]  # a name moved code reads and nothing defines -> the script lines reading it


def _synthetic(text: str) -> Piece:
    return Piece(ast.parse(text).body[0], text)


def _reserved(cls_name: str) -> set[str]:
    import runtime as pl

    return set(dir(getattr(pl, cls_name))) | {"hparams", "trainer", "model", "datamodule"} - {"model"}


class Emitter:
    def __init__(self, plan: Plan, package: str, class_prefix: str) -> None:
        self.plan = plan
        self.info = plan.analysis
        self.script = self.info.script
        self.r = Renderer(plan)
        self.package = package
        self.module_class = f"{class_prefix}Module"
        self.data_class = f"{class_prefix}DataModule"
        self.placed: list[tuple[str, str]] = []  # (lines, where) for the report
        self.unresolved: dict[str, list[int]] = {}
        # a shared global the script also binds at module level (`args = None`, then `global args` in main()) is a
        # placeholder there: it is read from models.py at run time, never imported by value
        self.defined = {n for d in self.info.definitions for n in stored_names([d])} - set(self.info.shared)
        self._reserved_module = _reserved("LightningModule") - {"model"}
        self._reserved_data = _reserved("LightningDataModule")
        # the plan is final: what emitting finds is kept here, beside copies of the plan's own notes
        self.notes: list[Note] = list(plan.notes)
        self.meaning: list[Note] = list(plan.meaning)
        self.unplaced: list[tuple[Chunk, str]] = list(plan.unplaced)

    def note(self, node_or_lines, what: str, meaning: bool = False) -> None:
        """A line of the report; ``meaning=True``: the project does something the script did not (or not the same way)."""
        (self.meaning if meaning else self.notes).append(Note.at(node_or_lines, what))

    # ------------------------------------------------------------------------------------------ pieces
    def pieces(self, chunks: list[Chunk], stage: str, where: str) -> list[Piece]:
        out = []
        for c in chunks:
            text = self.r.statement(c.stmt, stage)
            if text is None:
                continue
            parsed = ast.parse(text).body if _parses(text) else []
            if len(parsed) == 1 and isinstance(parsed[0], ast.Assign) and len(parsed[0].targets) == 1 and \
                    ast.dump(parsed[0].targets[0]).replace("Store", "Load") == ast.dump(parsed[0].value):
                continue  # `x, y = x, y`: what is left of `x, y = x.to(device), y.to(device)`
            out.append(Piece(c.stmt, text, c.bindings))
            self._placed(c.stmt, where)
        return out

    def _placed(self, node: ast.AST, where: str) -> None:
        a, b = self.script.first_line(node) if isinstance(node, ast.stmt) else node.lineno, node.end_lineno
        self.placed.append((f"{a}" if a == b else f"{a}-{b}", where))

    # ------------------------------------------------------------------------------------------ sections
    def build(self) -> Emitted:
        plan, info = self.plan, self.info
        kinds = plan.kinds
        setup_of = {k: [c for c in info.setup if kinds.get(id(c.stmt)) in k] for k in (("model", "module"), ("data",), ("optimizer", "scheduler"))}
        for c in info.setup:
            kind = kinds.get(id(c.stmt))
            what = {"args": "the script's options became the config's model/data sections (configs/default.yaml)",
                    "seed": f"seeding became `seed_everything: {plan.seed}` in the config",
                    "device": "device bookkeeping removed: the trainer's `accelerator` chooses the device",
                    "amp": ("the GradScaler became the trainer's precision: train.py picks 16-mixed where CUDA is available "
                            "and 32-true on a CPU, where the script's torch.cuda.amp turns itself off (`trainer.precision` in "
                            "the config or on the command line forces one)" if plan.precision == "16-mixed"
                            else f"the GradScaler became `precision: {plan.precision}` in the config"),
                    "logger": "the SummaryWriter became the trainer's TensorBoard logger (`self.log`)",
                    "save": "`torch.save` replaced by the trainer's checkpoints",
                    "optimizer_list": "the list of optimizers is made where the training reads it, from `self.optimizers()` "
                                      "(the trainer's optimizers, built by configure_optimizers)"}.get(kind)
            if what:
                self.note(c.stmt, what)
        module: list[Method] = []
        data: list[Method] = []
        init_where = "configure_model" if plan.configure_model else "__init__"
        model_pieces = self.pieces(setup_of[("model", "module")], "init", f"module.py {init_where}")
        data_pieces = self.pieces(setup_of[("data",)], "data", "datamodule.py setup")
        opt_pieces = self.pieces(setup_of[("optimizer", "scheduler")], "optim", "module.py configure_optimizers")

        init = Method("__init__", "self", [], head=["super().__init__()", "self.save_hyperparameters()"])
        if plan.mode == "manual":
            init.head.append("self.automatic_optimization = False")
        module.append(init)
        if plan.configure_model:
            init.head.append("self._configured = False")
            module.append(Method("configure_model", "self", model_pieces,
                                 head=["if self._configured:", "    return", "self._configured = True"],
                                 docstring="The script's model set-up; it runs after the datamodule's setup, in the script's order."))
        else:
            init.pieces = model_pieces
        models = [n for n in plan.model_names if not n.lower().endswith(("loss", "criterion", "loss_fn"))]
        if len(models) == 1:
            module.append(Method("forward", "self, *args, **kwargs", [], ret=f"self.{self.attr(models[0])}(*args, **kwargs)"))

        module.append(self._training_step())
        train = info.train
        pre_p = self._epoch_pieces(info.epoch_pre, "epoch", "on_train_epoch_start") + self._epoch_pieces(train.pre, "epoch", "on_train_epoch_start")
        if pre_p:
            module.append(Method("on_train_epoch_start", "self", pre_p))
        # the training function's code after its batch loop ran before the script's validation, which may read what it
        # sets (`avg_loss = train_one_epoch(...)` printed after validating): the trainer validates before
        # on_train_epoch_end, so that code runs after the epoch's last batch instead, before validation
        val = info.val
        train_stores = set(stored_names([c.stmt for c in train.post])) | ({train.result} if train.result else set())
        before_val = val is not None and val.call is None and bool(train_stores & set(free_names(
            [val.loop] + [c.stmt for c in val.pre + val.post])))
        # the epoch's statements between an inline training loop and an inline evaluation loop that read what training
        # set (a phase loop unrolled: the training pass's statistics printed) ran after training, before validating:
        # after the epoch's last batch too, not in on_validation_epoch_start, which the sanity check runs before training
        between: list[Chunk] = []
        if val is not None and val.call is None and val.fn is None and train.fn is None:
            trained = set(stored_names([train.loop] + [c.stmt for c in train.pre]))
            reads = []
            for i, c in enumerate(val.pre):
                if set(free_names([c.stmt])) & trained:
                    reads.append(i)
                    trained |= set(stored_names([c.stmt]))  # `acc = hits / n` then `print(acc)`: both
            if reads:
                between, val.pre = val.pre[:reads[-1] + 1], val.pre[reads[-1] + 1:]
                before_val = True
        train_end = "on_train_batch_end" if before_val else "on_train_epoch_end"
        train_post = self._epoch_pieces([c for c in train.post if not isinstance(c.stmt, ast.Return)], "epoch", train_end) + \
            self._train_returns(train, train_end) + self._epoch_pieces(between, "epoch", train_end)
        if before_val and train_post:
            module.append(Method("on_train_batch_end", "self, outputs, batch, batch_idx", train_post,
                                 head=["if not self.trainer.is_last_batch:", "    return"]))
        post_p = ([] if before_val else train_post) + \
            self._epoch_pieces(info.epoch_post, "epoch", "on_train_epoch_end", ends_hook=True)
        if post_p:
            module.append(Method("on_train_epoch_end", "self", post_p))
        after_chunks, test_end = self._after_test(info.after, info.test)
        for stage, loop in (("validation", info.val), ("test", info.test)):
            if loop is not None:
                module.extend(self._eval(stage, loop, test_end if stage == "test" else []))
        if info.test is not None and info.test.call is not None:
            self.note(info.test.call, "the evaluation the script ran after training became test_step: `python train.py fit` "
                                      "does not run it; run `python train.py test --ckpt_path=last` after fitting", meaning=True)
        if info.shared:
            self.note(min(d.lineno for d in info.definitions if not isinstance(d, (ast.Import, ast.ImportFrom))) if info.definitions else 1,
                      f"the script's functions/classes read {', '.join(f'`{n}`' for n in info.shared)} as globals: models.py "
                      "declares them and the module/datamodule set them (`_models.NAME = NAME`) when the set-up runs; "
                      "they are None until then", meaning=True)
        after = self._epoch_pieces(after_chunks, "after", "on_train_end")
        if after:
            module.append(Method("on_train_end", "self", after))
        module.append(self._configure_optimizers(opt_pieces))
        own = self.info.self_training
        if own is not None and own.own_train:
            module.append(self._train_mode(own.own_train))

        dinit = Method("__init__", "self", [], side="data", head=["super().__init__()", "self.save_hyperparameters()", "self._ready = False"])
        setup = Method("setup", "self, stage: str", data_pieces, side="data", head=["if self._ready:", "    return", "self._ready = True"],
                       docstring="The script's data set-up, run once.")
        data += [dinit, setup]
        for hook, loop in (("train_dataloader", info.train), ("val_dataloader", info.val), ("test_dataloader", info.test)):
            if loop is not None:
                data.append(self._loader(hook, loop))
        self._resolve(module, data)
        module_text, data_text, models_text = self._module_file(module), self._data_file(data), self._models_file()
        return Emitted(self.package, self.module_class, self.data_class, module_text, data_text, models_text, self.config(),
                       list(self.placed), list(self.r.used), list(self.notes), self.meaning + self.r.meaning,
                       list(self.unplaced), dict(self.unresolved))

    def _train_returns(self, train: LoopInfo, where: str) -> list[Piece]:
        """The training function's ``return x`` (after its batch loop): ``result = x`` in on_train_epoch_end for the
        caller that reads it (``avg_loss = train_one_epoch(...)``); dropped when nobody does (a `return` in the hook
        would leave the epoch loop's own end code dead)."""
        out = []
        for c in train.post:
            if not isinstance(c.stmt, ast.Return):
                continue
            if c.stmt.value is not None and train.result:
                piece = _synthetic(f"{train.result} = {self.r.expr(c.stmt.value, 'epoch')}")
                piece.bindings = c.bindings
                out.append(piece)
                self._placed(c.stmt, f"module.py {where}")
            else:
                self._placed(c.stmt, "dropped: nothing reads what the training function returns")
        return out

    def _epoch_pieces(self, chunks: list[Chunk], stage: str, where: str, ends_hook: bool = False) -> list[Piece]:
        """``ends_hook``: the chunks are the last statements of the epoch loop's body (nothing of the hook runs after them),
        so a `break` that is the last thing they do stops training after this epoch (early stopping written by hand)."""
        keep = []
        for i, c in enumerate(chunks):
            loops_exit = _loop_exits(c.stmt)
            if loops_exit and ends_hook and i == len(chunks) - 1 and all(isinstance(n, ast.Break) for n in loops_exit) and \
                    all(last_thing_done([c.stmt], n) for n in loops_exit):
                self.r.stops |= {id(n) for n in loops_exit}
                loops_exit = []
            if loops_exit and not isinstance(c.stmt, ast.Return):
                self.unplaced.append((c, "it leaves the epoch loop early (break/continue/return); stop training with a "
                                              "callback such as EarlyStopping instead"))
                continue
            keep.append(c)
        return self.pieces(keep, stage, f"module.py {where}")

    def _read(self, target: ast.AST) -> bool:
        """The script reads a name the loop target binds (``for t in range(200):`` with ``t`` never read: no ``t = batch``)."""
        names = {n.id for n in ast.walk(target) if isinstance(n, ast.Name)}
        return any(isinstance(n, ast.Name) and n.id in names and isinstance(n.ctx, ast.Load) for n in ast.walk(self.script.tree))

    def _batch_unpack(self, loop: ast.For) -> tuple[list[Piece], int]:
        own = self.info.self_training
        if own is not None and loop is own.loop and own.draw is None:
            return [], 0  # the training call is run on a loader of one item it does not read
        target, start = loop.target, 0
        out = []
        it = loop.iter
        if isinstance(it, ast.Call) and dotted(it.func) == "enumerate" and isinstance(target, ast.Tuple) and len(target.elts) == 2:
            idx, target = target.elts
            if it.args[1:] or it.keywords:
                start_node = (it.args[1:] or [k.value for k in it.keywords if k.arg == "start"])[0]
                start = self.r.expr(start_node, "train")
            idx_text = self.script.segment(idx)
            if idx_text != "batch_idx" and self._read(idx):
                out.append(_synthetic(f"{idx_text} = batch_idx" + (f" + {start}" if start not in (0, "0") else "")))
        t = self.script.segment(target)
        if t != "batch" and self._read(target):
            out.insert(0, _synthetic(f"{t} = batch"))  # first: the index may be named `batch` (word_language_model)
        return out, start

    def _training_step(self) -> Method:
        plan, info, r = self.plan, self.info, self.r
        loop = info.train.loop
        unpack, _ = self._batch_unpack(loop)
        for p in unpack:
            p.bindings = info.train.bindings
        body = plan.train_body
        m = Method("training_step", "self, batch, batch_idx", list(unpack))
        if plan.mode == "manual":
            # the script's own function steps the optimizer it reads as a global: give it the trainer's wrapper,
            # whose step() counts global_step (max_steps, checkpoints, logging intervals)
            for i, n in enumerate(plan.optimizers):
                if n in info.shared:
                    m.head.append(f"_models.{n} = self.optimizers()" + ("" if len(plan.optimizers) == 1 else f"[{i}]"))
        where = "module.py training_step"
        if plan.closure is not None and plan.mode == "automatic":
            i = body.index(plan.closure)
            step_i = next(j for j, s in enumerate(body) if j > i and plan.closure.name in {n.id for n in ast.walk(s) if isinstance(n, ast.Name)})
            m.pieces += self.pieces([Chunk(s, info.train.bindings) for s in body[:i]], "train", where)
            inner = flatten_autocast(plan.closure.body)
            m.pieces += self.pieces([Chunk(s, info.train.bindings) for s in inner[:-1]], "closure", where)
            self.note(plan.closure, f"the closure's body became training_step; `{self.script.segment(body[step_i])}` "
                                         "became the trainer's optimizer step (it passes the same closure to LBFGS)")
            for s in body[step_i + 1:]:
                self.unplaced.append((Chunk(s, info.train.bindings), "it runs after the closure-based optimizer step"))
            m.ret_node = plan.loss
        else:
            rebound = self._loss_rebound_after_backward(body)
            if rebound is None:
                m.pieces += self.pieces([Chunk(s, info.train.bindings) for s in body], "train", where)
            else:
                # `loss = loss.item()` later in the loop (for printing): the step returns the tensor backward() saw
                i, name = rebound
                m.pieces += self.pieces([Chunk(s, info.train.bindings) for s in body[:i + 1]], "train", where)
                m.pieces.append(_synthetic(f"step_loss = {name}"))
                m.pieces += self.pieces([Chunk(s, info.train.bindings) for s in body[i + 1:]], "train", where)
                self.note(body[i], f"`{name}` is bound again after backward() (line "
                                   f"{min(n.lineno for n in self._rebinds)}); training_step returns `step_loss`, the value "
                                   "backward() was called on", meaning=True)
            if plan.mode == "automatic":
                m.ret_node = plan.loss
        if plan.mode == "manual" and not plan.optimizers:
            m.tail.append("self.optimizers().step()  # no update (the lines above did it): it counts the step for max_steps and checkpoints")
        if m.ret_node is not None:
            loss = "step_loss" if getattr(self, "_rebinds", None) else r.expr(m.ret_node, "train")
            if not r.logged:
                m.tail.append(f'self.log("train_loss", {loss}, prog_bar=True)')
            m.ret = loss
        self._placed(loop, where)
        return m

    def _loss_rebound_after_backward(self, body: list[ast.stmt]) -> tuple[int, str] | None:
        """(index of the backward statement, loss name) when the loss name is bound again after it, else None."""
        loss = self.plan.loss
        if self.plan.mode != "automatic" or not isinstance(loss, ast.Name):
            return None
        for i, s in enumerate(body):
            if any(isinstance(c, ast.Call) and isinstance(c.func, ast.Attribute) and c.func.attr == "backward" for c in ast.walk(s)):
                self._rebinds = [n for later in body[i + 1:] for n in ast.walk(later)
                                 if isinstance(n, ast.Name) and n.id == loss.id and not isinstance(n.ctx, ast.Load)]
                return (i, loss.id) if self._rebinds else None
        return None

    def _after_test(self, chunks: list[Chunk], test: LoopInfo | None) -> tuple[list[Chunk], list[Chunk]]:
        """(the code run after training, the code that reads the test evaluation's result): ``test_loss = evaluate(test_data)``
        then ``print(test_loss)`` (word_language_model): the evaluation became test_step, which `fit` does not run, so what
        reads its result runs where the result is made, at the end of the test epoch."""
        if test is None or test.call is None or not test.result:
            return chunks, []
        needs, keep, moved = {test.result}, [], []
        for c in chunks:
            if c.stmt.lineno > test.call.end_lineno and set(free_names([c.stmt])) & needs:
                moved.append(c)
                needs |= set(stored_names([c.stmt]))
            else:
                keep.append(c)
        return keep, moved

    def _eval(self, stage: str, loop: LoopInfo, end: list[Chunk] = ()) -> list[Method]:
        out = []
        prefix = "val" if stage == "validation" else "test"
        pre = self.pieces(loop.pre, "eval", f"module.py on_{stage}_epoch_start")
        if pre:
            out.append(Method(f"on_{stage}_epoch_start", "self", pre))
        unpack, _ = self._batch_unpack(loop.loop)
        for p in unpack:
            p.bindings = loop.bindings
        step = Method(f"{stage}_step", "self, batch, batch_idx", unpack + self.pieces(
            [Chunk(s, loop.bindings) for s in flatten_autocast(loop.loop.body)], "eval", f"module.py {stage}_step"))
        self._placed(loop.loop, f"module.py {stage}_step")
        out.append(step)
        post = []
        result = loop.result or f"{prefix}_result"
        for c in loop.post:
            if isinstance(c.stmt, ast.Return) and c.stmt.value is not None:
                piece = _synthetic(f"{result} = {self.r.expr(c.stmt.value, 'eval')}")
                piece.bindings = loop.bindings
                post.append(piece)
                self._placed(c.stmt, f"module.py on_{stage}_epoch_end")
            elif not isinstance(c.stmt, ast.Return):
                post += self.pieces([c], "eval", f"module.py on_{stage}_epoch_end")
        logged = []
        for c in loop.pre:
            if isinstance(c.stmt, (ast.Assign, ast.AugAssign)) and isinstance(getattr(c.stmt, "value", None), ast.Constant) and \
                    isinstance(c.stmt.value.value, (int, float)):
                logged += stored_names([c.stmt])
        for p in post:
            logged += stored_names([n for n in p.parsed if isinstance(n, (ast.Assign, ast.AugAssign))])
        tail = []
        post += self.pieces(list(end), "after", f"module.py on_{stage}_epoch_end")
        for name in dict.fromkeys(logged):
            if _counts(name, loop.loop, [p.parsed for p in post]):
                continue  # `correct += (pred == y).sum().item()`, `total += y.size(0)`: a count, not a metric
            key = name if name.startswith(prefix) else f"{prefix}_{name}"
            tail.append(f'self.log("{key}", float({name}))')
        if post or tail:
            # the epoch's own end (`epoch_number += 1`, a print, a scheduler step after validating) ran only after
            # training; the trainer's sanity check validates before any, so it must not run them
            head = ["if self.trainer.sanity_checking:", "    return  # the trainer's check before training: the script never ran this then"] \
                if stage == "validation" and loop.epoch_end else []
            out.append(Method(f"on_{stage}_epoch_end", "self", post, tail=tail, head=head))
        return out

    def _train_mode(self, classes: list[str]) -> Method:
        """``train(mode)`` of the LightningModule when a submodule's class has a ``train`` of its own that is not
        nn.Module's (forward-forward's ``Net.train(x_pos, x_neg)``): nn.Module.train would call it with the mode."""
        kinds = classes[0] if len(classes) == 1 else f"({', '.join(classes)})"
        head = ["self.training = mode", "for child in self.children():", f"    if isinstance(child, {kinds}):",
                "        # its train() is the script's training: set the flag only",
                "        for module in child.modules():", "            module.training = mode", "    else:",
                "        child.train(mode)"]
        named = " and ".join(f"`{c}.train`" for c in classes)
        return Method("train", "self, mode: bool = True", [], head=head, ret="self",
                      docstring=f"nn.Module.train, except that {named} (the script's training) "
                                f"{'is' if len(classes) == 1 else 'are'} not called: the trainer's eval() / train() only "
                                "switch modes.")

    def _configure_optimizers(self, pieces: list[Piece]) -> Method:
        plan = self.plan
        m = Method("configure_optimizers", "self", pieces)
        opts, scheds = plan.optimizers, plan.schedulers
        if not opts and self.info.self_training is not None:
            m.ret = "None"
            m.docstring = (f"None: the script's own classes build and step their optimizers (`{self.info.self_training.method}`); "
                           "the trainer steps none of its own.")
        elif not opts:
            m.ret = "_HandUpdate(self.parameters())"
            m.docstring = "The script updates the weights by hand in training_step; this optimizer only counts the steps."
        elif not scheds:
            m.ret = opts[0] if len(opts) == 1 else f"[{', '.join(opts)}]"
        else:
            items = ", ".join('{"scheduler": %s, "interval": "epoch"%s}' % (s, self._monitor(s)) for s in scheds)
            m.ret = f"[{', '.join(opts)}], [{items}]"
        return m

    def _monitor(self, scheduler: str) -> str:
        """``, "monitor": "val_loss"`` for a ReduceLROnPlateau the script steps with the validation's result
        (``scheduler.step(val_loss)``): the trainer steps it with that logged value; "" for any other scheduler."""
        info = self.info
        logged = [key for n in ast.walk(info.script.tree) if id(n) in self.plan.plateau_logs
                  and dotted(n.func.value) == scheduler for key in [self.plan.plateau_logs[id(n)]]]
        if logged:
            return ', "monitor": "%s"' % logged[0]
        built = [c.stmt for c in info.setup if scheduler in stored_names([c.stmt])]
        if not built or not any(dotted(n.func).split(".")[-1] == "ReduceLROnPlateau"
                                for n in ast.walk(built[-1]) if isinstance(n, ast.Call)):
            return ""
        steps = [n for n in ast.walk(info.script.tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
                 and n.func.attr == "step" and dotted(n.func.value) == scheduler and n.args and isinstance(n.args[0], ast.Name)]
        if not steps or info.val is None or steps[0].args[0].id != (info.val.result or "val_result"):
            return ""
        name = steps[0].args[0].id
        key = name if name.startswith("val") else f"val_{name}"
        self.note(steps[0], f"`{scheduler}.step({name})` became the scheduler's `monitor: {key}` (the validation's logged "
                            "result); the trainer steps it after each validation")
        return ', "monitor": "%s"' % key

    def _loader(self, hook: str, loop: LoopInfo) -> Method:
        it = loop.loop.iter
        if isinstance(it, ast.Call) and dotted(it.func) == "enumerate" and it.args:
            it = it.args[0]
        own = self.info.self_training
        if own is not None and loop.loop is own.loop and own.draw is None:
            self.wraps_loader = True
            return Method(hook, "self", [], side="data", ret="_as_loader([None])",
                          docstring="One item, which training_step does not read: it runs the script's training call once.")
        ret = self.r.expr(it, "data")
        if not self._is_dataloader(it):
            ret = f"_as_loader({ret})"  # the script loops over a list, a range, a generator: the trainer takes a DataLoader
            self.wraps_loader = True
        m = Method(hook, "self", [], side="data", ret=ret, ret_node=it)
        m.pieces = []
        m.bindings = loop.bindings  # type: ignore[attr-defined]
        return m

    def _is_dataloader(self, it: ast.expr) -> bool:
        """Whether the script's loop iterates a DataLoader it built (``DataLoader(...)`` or a name bound to one)."""
        if isinstance(it, ast.Call):
            return dotted(it.func).split(".")[-1] == "DataLoader"
        if isinstance(it, ast.Name):
            for c in self.info.setup:
                s = c.stmt
                if isinstance(s, ast.Assign) and it.id in stored_names([s]) and isinstance(s.value, ast.Call) and \
                        dotted(s.value.func).split(".")[-1] == "DataLoader":
                    return True
        return False

    # ------------------------------------------------------------------------------------------ names
    def attr(self, name: str, side: str = "module") -> str:
        reserved = self._reserved_module if side == "module" else self._reserved_data
        return f"{name}_" if name in reserved else name

    def _resolve(self, module: list[Method], data: list[Method]) -> None:
        plan = self.plan
        def nodes(m: Method) -> list[ast.AST]:
            out = [n for p in m.pieces for n in p.parsed]
            if m.ret_node is not None:
                out.append(ast.Expr(m.ret_node))
            for line in m.tail:
                out.append(ast.parse(line).body[0])
            return out

        self._free = {id(m): free_names(nodes(m)) for m in module + data}
        self._stored = {id(m): stored_names([n for p in m.pieces for n in p.parsed]) for m in module + data}
        special = {plan.args_name, plan.epoch_var} | plan.device_names | set(plan.optimizers) | set(plan.schedulers)
        special.discard(None)
        data_setup = data[1]
        used_anywhere = set().union(*[set(self._free[id(m)]) for m in module + data])
        # only what another hook reads is kept on the datamodule: a name bound in a branch the run does not take
        # (`classes` for LSUN only) would otherwise fail the write-back
        read_elsewhere = set().union(*[set(self._free[id(m)]) for m in module + data if m is not data_setup])
        for m in module + data:  # a function's parameter bound to the caller's name (`evaluate(val_data)`) reads that name
            for expr in [e for p in m.pieces for e in p.bindings.values()] + list((getattr(m, "bindings", None) or {}).values()):
                read_elsewhere |= {n.id for n in ast.walk(expr) if isinstance(n, ast.Name)}
        self.data_attrs = [n for n in self._stored[id(data_setup)] if n not in special and n in read_elsewhere]
        self.module_state = []

        def own_param(name: str, k: Method) -> bool:  # validation_step's `batch` is its own, not the training loop's
            return name in ("batch", "batch_idx") and k.signature.startswith("self, batch, batch_idx")

        for m in module:
            for n in self._stored[id(m)]:
                if n in special or n in self.data_attrs:
                    continue
                # the step's own parameters (`batch` re-bound by the script's loop) are not state carried across batches
                param = own_param(n, m)
                if any(n in self._free[id(k)] and not own_param(n, k) for k in module if k is not m) or (
                        not param and n in self._free[id(m)] and m.name.startswith(("training", "validation", "test", "on_"))):
                    if n not in self.module_state:
                        self.module_state.append(n)
                elif m.name in ("__init__", "configure_model") and (n in used_anywhere or n in plan.model_names):
                    # a model only the script's own functions read (`train()` reads the global `rnn`) is still the
                    # module's: stored on self, its weights are parameters (optimized, checkpointed, moved to the device)
                    self.module_state.append(n)
        self._module_methods, self._data_methods = module, data

    def prelude(self, m: Method) -> list[str]:
        lines: list[str] = []
        done: set[str] = set()
        bindings = {}
        for p in m.pieces:
            bindings.update(p.bindings)
        bindings.update(getattr(m, "bindings", {}) or {})

        def resolve(name: str, binding_ok: bool = True) -> None:
            if name in done:
                return
            done.add(name)
            if binding_ok and name in bindings:
                expr = bindings[name]
                if isinstance(expr, ast.Name):
                    value = self._access(expr.id, m)
                    if value is None:
                        self._unresolved(expr.id, expr)
                        return
                    lines.append(f"{name} = {value}")
                    return
                for sub in free_names([ast.Expr(expr)]):
                    resolve(sub, binding_ok=False)
                lines.append(f"{name} = {self.r.expr(expr, 'data' if m.side == 'data' else 'train')}")
                return
            if name in self.defined or name == "self" or (name in BUILTINS and self._access(name, m) is None):
                return  # a builtin the script re-bound (`input = ...`) keeps its binding: it is read from where it lives
            if name in ("batch", "batch_idx") and m.signature.startswith("self, batch, batch_idx"):
                return  # the step's own parameters
            value = self._access(name, m)
            if value is None:
                first = next((n for p in m.pieces for n in ast.walk(p.node) if isinstance(n, ast.Name) and n.id == name), None)
                self._unresolved(name, first)
                return
            lines.append(f"{name} = {value}")

        for name in self._free[id(m)]:
            resolve(name)
        return lines

    def _access(self, name: str, m: Method) -> str | None:
        plan = self.plan
        module_side = m.side == "module"
        if name == plan.args_name:
            return "self.hparams"
        if name == plan.epoch_var and module_side:
            return "self.current_epoch" + (f" + {plan.epoch_start}" if plan.epoch_start else "")
        if name in plan.device_names:
            return "self.device" if module_side else 'torch.device("cpu")'
        if name in plan.optimizers and module_side:
            i = plan.optimizers.index(name)
            return "self.optimizers()" if len(plan.optimizers) == 1 else f"self.optimizers()[{i}]"
        if name in plan.optimizer_lists and module_side:
            value = plan.optimizer_lists[name]
            if isinstance(value, (ast.List, ast.Tuple)) and [dotted(e) for e in value.elts] == plan.optimizers:
                return "self.optimizers()" if isinstance(value, ast.List) else "tuple(self.optimizers())"
            class Trainers(ast.NodeTransformer):
                def visit_Name(self, node):  # noqa: N802
                    i = plan.optimizers.index(node.id) if node.id in plan.optimizers else None
                    return node if i is None else ast.parse(f"self.optimizers()[{i}]", mode="eval").body

            return ast.unparse(Trainers().visit(copy.deepcopy(value)))
        if name in plan.schedulers and module_side:
            i = plan.schedulers.index(name)
            return "self.lr_schedulers()" if len(plan.schedulers) == 1 else f"self.lr_schedulers()[{i}]"
        if module_side and name in self.module_state:
            return f"self.{self.attr(name)}"
        if name in self.data_attrs:
            return f"self.trainer.datamodule.{self.attr(name, 'data')}" if module_side else f"self.{self.attr(name, 'data')}"
        return None

    def _unresolved(self, name: str, node) -> None:
        self.unresolved.setdefault(name, []).append(getattr(node, "lineno", 0))

    def writeback(self, m: Method) -> list[str]:
        if m.side == "data":
            if m.name == "setup":
                return [f"self.{self.attr(n, 'data')} = {n}" for n in self.data_attrs]
            return []
        # a raw tensor trained as a weight becomes a parameter of the module (it shares the tensor's storage, so the
        # script's in-place updates reach it): the optimizer sees it, checkpoints hold it, the trainer moves it
        return [f"self.{self.attr(n)} = torch.nn.Parameter({n})" if n in self.plan.param_tensors else f"self.{self.attr(n)} = {n}"
                for n in self._stored[id(m)] if n in self.module_state]

    # ------------------------------------------------------------------------------------------ files
    def method_text(self, m: Method) -> str:
        lines = [f"def {m.name}({m.signature}):"]
        body: list[str] = []
        if m.docstring:
            body.append(f'"""{m.docstring}"""')
        body += m.head
        if m.name == "__init__" and self.plan.args_name and self.plan.args_name in self.info.shared:
            body.append(f"_models.{self.plan.args_name} = self.hparams  # the script's functions read the options as a global")
        if m.name == "__init__":
            body += [f"self.{self.attr(n)} = None" for n in self.module_state if self.plan.configure_model and m.side == "module"
                     and n in self._stored_by("configure_model")]
            if m.side == "module":
                # what validation reads that only training sets (`avg_loss`, printed as the validation ends): None
                # during the sanity check, which validates before any training
                val_reads = {n for k in self._module_methods if "validation" in k.name for n in self._free[id(k)]}
                set_by_training = {n for k in self._module_methods if k.name.startswith(("training", "on_train"))
                                   for n in self._stored[id(k)]}
                set_early = set(self._stored_by("__init__")) | set(self._stored_by("configure_model"))
                # what the validation's end sets for later hooks, when the sanity check skips it: None until the first
                # validation (a run stopped by max_steps before any still ends)
                skipped = {n for k in self._module_methods if k.name == "on_validation_epoch_end" and k.head
                           for n in self._stored[id(k)]}
                later_reads = {n for k in self._module_methods if k.name != "on_validation_epoch_end" for n in self._free[id(k)]}
                # what a hook binds only in a branch keeps self's value when the branch is not taken (see below): it
                # must exist before the first such hook runs (word_language_model's `hidden`, bound only for an RNN)
                branch_only = {n for k in self._module_methods if k is not m for n in self._branch_only(k)}
                body += [f"self.{self.attr(n)} = None" for n in self.module_state
                         if (n in val_reads and n in set_by_training or n in skipped and n in later_reads or n in branch_only)
                         and n not in set_early]
        prelude = self.prelude(m) if (m.pieces or m.ret_node is not None or m.tail) else []
        body += prelude
        # a name written back to self that only a branch binds (`if args.use_optimizer: optimizer = ...`) starts as None,
        # so the write-back does not fail on a run that does not take the branch
        bound = {ln.split(" = ")[0] for ln in prelude} | set(stored_names(
            [n for p in m.pieces for n in p.parsed if isinstance(n, (ast.Assign, ast.AnnAssign, ast.Import, ast.ImportFrom,
                                                                    ast.FunctionDef, ast.ClassDef))]))
        written = [ln.split(" = ")[1] for ln in self.writeback(m)]
        # ... unless another hook set it first (`last_loss = 0.` at the epoch's start, re-bound only every 1000 batches):
        # then the branch not taken keeps that value, as the script's variable did
        earlier = {n for k in self._module_methods if k is not m and m.side == "module" for n in self._stored[id(k)]}
        body += [f"{n} = self.{self.attr(n)}" if n in earlier else f"{n} = None" for n in written if n.isidentifier() and n not in bound and
                 n in stored_names([x for p in m.pieces for x in p.parsed])]
        for p in m.pieces:
            body.append(p.text)
            # a global the script's own functions/classes read: set where they look for it (see models.py's end)
            body += [f"_models.{n} = {n}" for n in stored_names(p.parsed) if n in self.info.shared]
        body += m.tail
        body += self.writeback(m)
        if m.ret is not None:
            body.append(f"return {m.ret}")
        if not _parses("\n".join(body)) or not ast.parse("\n".join(body)).body:
            body.append("pass")  # only comments are left
        return lines[0] + "\n" + indent("\n".join(body), 4)

    def _branch_only(self, m: Method) -> set[str]:
        """The names ``m`` writes back to self that only a branch of it binds (not a statement of its own level)."""
        parsed = [x for p in m.pieces for x in p.parsed]
        top = set(stored_names([x for x in parsed if isinstance(x, (ast.Assign, ast.AnnAssign, ast.Import, ast.ImportFrom,
                                                                      ast.FunctionDef, ast.ClassDef))]))
        return {n for n in self._stored[id(m)] if n in self.module_state and n in stored_names(parsed) and n not in top}

    def _stored_by(self, name: str) -> list[str]:
        for m in self._module_methods:
            if m.name == name:
                return self._stored[id(m)]
        return []

    def _imports(self) -> str:
        return "\n".join(self.script.segment(d) for d in self.info.definitions if isinstance(d, (ast.Import, ast.ImportFrom)))

    def _model_imports(self, methods: list[Method]) -> str:
        used = set()
        for m in methods:
            for p in m.pieces:
                used |= {n.id for n in ast.walk(ast.Module(p.parsed, [])) if isinstance(n, ast.Name)}
            if m.ret_node is not None:
                used |= {n.id for n in ast.walk(m.ret_node) if isinstance(n, ast.Name)}
        import_names = {n for d in self.info.definitions if isinstance(d, (ast.Import, ast.ImportFrom)) for n in stored_names([d])}
        own = self.info.self_training
        if own is not None and any(m.name == "train" for m in methods):
            used |= set(own.own_train)
        names = sorted((used & self.defined) - import_names)
        out = f"from {self.package}.models import {', '.join(names)}" if names else ""
        if any(n in self.info.shared for m in methods for p in m.pieces for n in stored_names(p.parsed)) or \
                any(line.startswith("_models.") for m in methods for line in m.head) or \
                (self.plan.args_name and self.plan.args_name in self.info.shared):
            out += f"\nimport {self.package}.models as _models"
        return out.strip("\n")

    def _module_file(self, methods: list[Method]) -> str:
        plan = self.plan
        hp = self._hparams("module")
        methods[0].signature = "self" + "".join(f", {k}: {t} = {v!r}" for k, (t, v) in hp.items())
        doc = (f'"""The LightningModule made by `scaffold refactor` from {self.script.path.name}: the training loop\'s body is '
               f'training_step ({plan.mode} optimization).\n\nSee REFACTOR.md for where each line of the script went."""')
        imports = self._imports()
        parts = [doc, imports, None if "import torch\n" in imports + "\n" else "import torch", "import runtime as pl",
                 self._model_imports(methods), "",
                 f"class {self.module_class}(pl.LightningModule):",
                 indent(f'"""Options: {", ".join(hp) or "none"} (configs/default.yaml, section `model`)."""', 4)]
        for m in methods:
            parts.append(indent(self.method_text(m), 4) + "\n")
        if not plan.optimizers and self.info.self_training is None:
            parts.append(_HAND_UPDATE)
        if self.unplaced:
            parts.append(self._unplaced_block())
        return "\n".join(p for p in parts if p is not None) + "\n"

    def _unplaced_block(self) -> str:
        out = ["", "# " + "=" * 96,
               f"# scaffold refactor: NOT PLACED. These lines of {self.script.path.name} could not be mapped onto the",
               "# LightningModule. They are kept here, commented out, so nothing is lost; see REFACTOR.md.",
               "# " + "=" * 96]
        for chunk, why in self.unplaced:
            a, b = self.script.first_line(chunk.stmt), chunk.stmt.end_lineno
            out.append(f"# lines {a}-{b}: {why}")
            col = chunk.stmt.col_offset
            start, end = self.script.lines_span(chunk.stmt)
            for line in self.script.text[start:end].splitlines():
                out.append("#     " + line[min(col, len(line) - len(line.lstrip(" "))):])
        return "\n".join(out)

    def _data_file(self, methods: list[Method]) -> str:
        hp = self._hparams("data")
        methods[0].signature = "self" + "".join(f", {k}: {t} = {v!r}" for k, (t, v) in hp.items())
        doc = f'"""The LightningDataModule made by `scaffold refactor` from {self.script.path.name}: the script\'s data set-up."""'
        parts = [doc, self._imports(), "import torch" if "import torch" not in self._imports() else None, "import runtime as pl",
                 self._model_imports(methods), "",
                 f"class {self.data_class}(pl.LightningDataModule):",
                 indent(f'"""Options: {", ".join(hp) or "none"} (configs/default.yaml, section `data`)."""', 4)]
        for m in methods:
            parts.append(indent(self.method_text(m), 4) + "\n")
        if getattr(self, "wraps_loader", False):
            parts.append(_AS_LOADER)
        return "\n".join(p for p in parts if p is not None) + "\n"

    def _models_file(self) -> str:
        doc = (f'"""The classes, functions and constants of {self.script.path.name}, kept as they were written '
               '(moved here by `scaffold refactor`)."""')
        parts = [doc]
        previous = None
        for d in self.info.definitions:
            if isinstance(d, ast.Expr) and isinstance(d.value, ast.Constant) and d is self.info.script.tree.body[0]:
                # the script's docstring joins this file's own
                quoted = str(d.value.value).strip().replace('"""', "'''")
                parts[0] = parts[0][:-3] + "\n\nThe script's docstring:\n\n" + quoted + '\n"""'
                previous = d
                continue
            first = self.script.first_line(d)
            a, b = self.script.lines_span(d)
            text = self.script.text[a:b]
            if previous is not None and previous.end_lineno in (first - 1, first):
                parts[-1] += "\n" + text  # keep statements that were adjacent together (imports, constants)
            else:
                parts.append(text)
            previous = d
        placeholders = {n for d in self.info.definitions for n in stored_names([d])}
        if set(self.info.shared) - placeholders:
            device = [n for n in self.info.shared if n in self.plan.device_names and n not in placeholders]
            parts.append("# Globals the code above reads that the script bound while setting up its training: the LightningModule\n"
                         "# and DataModule set them here (`_models.NAME = NAME`) when they run that set-up.\n" +
                         "\n".join(f"{n} = None" for n in self.info.shared if n not in device and n not in placeholders) +
                         "".join(f'\n{n} = torch.device("cpu")  # the trainer moves the model and the batches' for n in device))
            if device and "torch" not in self.defined:
                parts.append("import torch")
        return "\n\n".join(parts) + "\n"

    # ------------------------------------------------------------------------------------------ config
    def _args_used(self, side: str) -> set[str] | None:
        """Option names read by one side's code; None when the whole namespace is passed around."""
        plan = self.plan
        if not plan.args_name:
            return set()
        if plan.args_name in self.info.shared:
            return None  # the script's functions read the whole namespace as a global: every option, on both sides
        methods = self._module_methods if side == "module" else self._data_methods
        used: set[str] = set()
        for m in methods:
            nodes = [n for p in m.pieces for n in p.parsed] + ([m.ret_node] if m.ret_node is not None else [])
            bindings = {}
            for p in m.pieces:
                bindings.update(p.bindings)
            bindings.update(getattr(m, "bindings", {}) or {})
            aliases = {plan.args_name} | {k for k, v in bindings.items() if isinstance(v, ast.Name) and v.id == plan.args_name}
            aliases -= {k for k in bindings if k == plan.args_name and not (isinstance(bindings[k], ast.Name) and bindings[k].id == plan.args_name)}
            for expr in bindings.values():
                nodes.append(expr)
            for node in nodes:
                parents = {}
                for p in ast.walk(node):
                    for c in ast.iter_child_nodes(p):
                        parents[c] = p
                for n in ast.walk(node):
                    if isinstance(n, ast.Name) and n.id in aliases:
                        parent = parents.get(n)
                        if isinstance(parent, ast.Attribute) and parent.value is n:
                            used.add(parent.attr)
                        elif not (isinstance(parent, ast.Call) and parent.func is n):
                            if not (m.name == "__init__"):
                                return None
        return used

    def _hparams(self, side: str) -> dict[str, tuple[str, object]]:
        plan = self.plan
        used = self._args_used(side)
        names = list(plan.args) if used is None else [k for k in plan.args if k in used]
        return {k: (plan.arg_types.get(k, "str"), plan.args[k]) for k in names}

    def config(self) -> str:
        import yaml

        plan = self.plan
        trainer: dict = {"max_epochs": plan.max_epochs if plan.max_epochs is not None else 10, "accelerator": "auto", "devices": 1}
        if plan.precision != "16-mixed":  # 16-mixed: train.py picks it where CUDA is available, 32-true elsewhere
            trainer["precision"] = plan.precision
        if plan.limit_train_batches is not None:
            trainer["limit_train_batches"] = plan.limit_train_batches
        if plan.clip and plan.mode == "automatic":
            trainer["gradient_clip_val"] = plan.clip[0]
            trainer["gradient_clip_algorithm"] = plan.clip[1]
        cfg = {"seed_everything": plan.seed, "trainer": trainer,
               "model": {k: v for k, (_, v) in self._hparams("module").items()},
               "data": {k: v for k, (_, v) in self._hparams("data").items()}}
        head = ("# Made by `scaffold refactor` from the script's options and loop. `python train.py fit` reads it; override any key\n"
                "# on the command line, e.g. `python train.py fit --trainer.max_epochs=3`.\n")
        if plan.precision == "16-mixed":
            head += ("# trainer.precision is not set here: train.py picks 16-mixed (the script's float16 autocast + GradScaler)\n"
                     "# where CUDA is available and 32-true on a CPU, as torch.cuda.amp does; set it here to force one.\n")
        return head + yaml.safe_dump(cfg, sort_keys=False, default_flow_style=False)


_AS_LOADER = '''
def _as_loader(batches):
    """The script loops over `batches` itself (a list, a range, a generator); the trainer takes a DataLoader that
    yields the same items, one at a time and unchanged."""
    if isinstance(batches, torch.utils.data.DataLoader):
        return batches
    if hasattr(batches, "__len__") and hasattr(batches, "__getitem__"):
        return torch.utils.data.DataLoader(batches, batch_size=None, collate_fn=lambda item: item)
    return torch.utils.data.DataLoader(_Batches(batches), batch_size=None, collate_fn=lambda item: item)


class _Batches(torch.utils.data.IterableDataset):
    def __init__(self, batches):
        self.batches = batches

    def __iter__(self):
        return iter(self.batches)
'''


_HAND_UPDATE = '''
class _HandUpdate(torch.optim.Optimizer):
    """An optimizer that changes nothing: the script updates the weights itself. Stepping it after each batch keeps
    `global_step` counting, so `max_steps`, logging intervals and checkpoints work as with a real optimizer."""

    def __init__(self, params):
        super().__init__(params, {})

    def step(self, closure=None):
        return closure() if closure is not None else None
'''


def _loop_exits(stmt: ast.stmt) -> list[ast.stmt]:
    """The `break` / `continue` that leave a loop around ``stmt`` and the `return`s that leave its function (those of
    loops and functions inside ``stmt`` stay there)."""
    out = []

    def visit(node: ast.AST, in_loop: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
                continue
            if isinstance(child, (ast.Break, ast.Continue)) and not in_loop:
                out.append(child)
            elif isinstance(child, ast.Return):
                out.append(child)
            inner = in_loop or (isinstance(child, (ast.For, ast.AsyncFor, ast.While)))
            # a loop's `else:` is not inside the loop: its break leaves the loop around it
            if isinstance(child, (ast.For, ast.AsyncFor, ast.While)):
                for s in child.body:
                    visit_one(s, True)
                for s in child.orelse:
                    visit_one(s, in_loop)
                visit(child.target if not isinstance(child, ast.While) else child.test, in_loop)
            else:
                visit(child, inner)

    def visit_one(node: ast.AST, in_loop: bool) -> None:
        wrapper = ast.Module([node], [])
        visit(wrapper, in_loop)

    visit_one(stmt, False)
    return out


def _parses(text: str) -> bool:
    try:
        ast.parse(text)
        return True
    except SyntaxError:
        return False


def _count_like(node: ast.AST) -> bool:
    """An integer count of things: ``1``, ``len(x)``, ``y.size(0)``, ``y.shape[0]``, ``x.numel()``, ``(p == y).sum().item()``."""
    if isinstance(node, ast.Constant):
        return type(node.value) is int
    if isinstance(node, ast.Subscript):
        return isinstance(node.value, ast.Attribute) and node.value.attr == "shape"
    if not isinstance(node, ast.Call):
        return False
    leaf = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
    if leaf in ("len", "size", "numel"):
        return True
    if leaf in ("item", "int") or (leaf == "sum" and isinstance(node.func, ast.Attribute)):
        inner = node.func.value if isinstance(node.func, ast.Attribute) else (node.args[0] if node.args else None)
        if leaf == "sum" and (isinstance(inner, ast.Compare) or (isinstance(inner, ast.Call) and isinstance(inner.func, ast.Attribute)
                                                                  and inner.func.attr in ("eq", "ne", "gt", "lt", "ge", "le"))):
            return True
        return inner is not None and _count_like(inner)
    return False


def _counts(name: str, loop: ast.AST, post: list) -> bool:
    """``name`` only ever grows by counts in the loop (``correct``, ``total``) and the epoch end does not turn it into a
    ratio (``correct /= total``): logging it as a metric would chart a count."""
    adds = [n for n in ast.walk(loop) if isinstance(n, ast.AugAssign) and isinstance(n.target, ast.Name) and n.target.id == name]
    if not adds or not all(isinstance(n.op, ast.Add) and _count_like(n.value) for n in adds):
        return False
    return not any(isinstance(n, (ast.AugAssign, ast.Assign)) and name in stored_names([n])
                   for nodes in post for top in nodes for n in ast.walk(top) if isinstance(n, ast.stmt))
