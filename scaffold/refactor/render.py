"""Statements of the script as text for their new place: cut by line range (comments kept), edited at AST
positions (``.to(device)`` removed, ``loss.backward()`` -> ``self.manual_backward(loss)``, ...), re-indented.

Each rule looks at one node and answers: keep it (None), drop it (DROP), or this text instead.
"""

from __future__ import annotations

import ast

from scaffold.refactor.plan import Plan, is_autocast
from scaffold.refactor.source import call_leaf, dotted, last_thing_done

DROP = object()
_OWN_DATA = ("after", "epoch")  # stages whose tensors the trainer does not move (on_train_end, the epoch hooks)
_STMT_LISTS = ("body", "orelse", "finalbody")


class Renderer:
    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.script = plan.analysis.script
        self.loss_names = set()
        if plan.loss is not None and isinstance(plan.loss, ast.Name):
            self.loss_names.add(plan.loss.id)
        for c in ast.walk(plan.analysis.train.loop):
            if isinstance(c, ast.Call) and isinstance(c.func, ast.Attribute) and c.func.attr == "backward":
                t = c.func.value
                if isinstance(t, ast.Call) and call_leaf(t) == "scale" and t.args:
                    t = t.args[0]
                if isinstance(t, ast.Name):
                    self.loss_names.add(t.id)
        self.logged = False  # a print of the loss became self.log in the training step
        # a script that loads back what it saved (best model, then test) keeps its torch.save: dropping it would
        # leave the torch.load reading a stale file, or none
        self._loads_back = any(isinstance(c, ast.Call) and dotted(c.func) in ("torch.load", "load")
                               for c in ast.walk(plan.analysis.script.tree))
        self.used: list[tuple[ast.AST, str]] = []  # (node, what) for the report
        self.meaning: list = []  # changes of meaning found while rendering (plan.Note), for the report
        self.stops: set[int] = set()  # ids of `break`s of the epoch loop that become `self.trainer.should_stop = True`
        # a batch loop that puts a model in eval mode itself (a look at the test data every N steps, then back to
        # train) keeps its toggles: the trainer switches modes around validation, never inside a training step
        self._toggles_in_step = any(isinstance(c, ast.Call) and call_leaf(c) == "eval" and isinstance(c.func, ast.Attribute)
                                    and dotted(c.func.value) in plan.model_names
                                    for s in plan.analysis.train.loop.body for c in ast.walk(s))

    # ------------------------------------------------------------------------------------------ text
    def statement(self, stmt: ast.stmt, stage: str) -> str | None:
        """The statement's text, dedented to column 0, or None when a rule drops it."""
        r = self.rule(stmt, stage, top=True)
        first = self.script.first_line(stmt)
        if r is DROP:
            if first < stmt.lineno:  # the statement goes, the comment above it stays
                return _dedent("".join(self.script.lines[first - 1:stmt.lineno - 1]).rstrip("\n"), stmt.col_offset, set())
            return None
        start, _ = self.script.lines_span(stmt)
        end = self.script.offset(stmt.end_lineno, stmt.end_col_offset)
        rest = self.script.text[end:self.script.text.find("\n", end) if "\n" in self.script.text[end:] else len(self.script.text)]
        if rest.strip().startswith("#"):
            end += len(rest.rstrip())  # the comment at the end of the statement's last line goes with it
        if isinstance(r, str):
            lead = self.script.text[start:self.script.offset(stmt.lineno, stmt.col_offset)]
            text = lead + r
        else:
            text = self._edited(stmt, stage, start, end)
        return _dedent(text, stmt.col_offset, _string_lines(stmt, first))

    def expr(self, node: ast.AST, stage: str) -> str:
        start, end = self.script.span(node)
        return self._edited(node, stage, start, end)

    def _edited(self, node: ast.AST, stage: str, start: int, end: int) -> str:
        edits: list[tuple[int, int, str]] = []
        self._collect(node, stage, edits)
        text = self.script.text
        out, pos = [], start
        for a, b, new in sorted(edits):
            if a < pos:
                continue
            out.append(text[pos:a])
            out.append(new)
            pos = b
        out.append(text[pos:end])
        return "".join(out)

    def _collect(self, node: ast.AST, stage: str, edits: list) -> None:
        for fname, value in ast.iter_fields(node):
            if fname in _STMT_LISTS and isinstance(value, list) and value and isinstance(value[0], ast.stmt):
                results = [self.rule(s, stage) for s in value]
                if all(r is DROP for r in results):
                    s = value[0]
                    a, _ = self.script.span(s)
                    edits.append((a, self.script.offset(value[-1].end_lineno, value[-1].end_col_offset), "pass"))
                    continue
                for s, r in zip(value, results):
                    if r is DROP:
                        a, b = self.script.lines_span(s)
                        following = self.script.before_semicolon(s)  # `s; t`: up to t
                        if following is not None:
                            b = following
                        elif not self.script.after_semicolon(s):
                            b = self.script.text.find("\n", b) + 1 or b  # the whole line goes
                        edits.append((a, b, ""))
                    elif isinstance(r, str):
                        a, b = self.script.span(s)
                        edits.append((a, b, r))
                    else:
                        self._collect(s, stage, edits)
                continue
            children = value if isinstance(value, list) else [value]
            for child in children:
                if not isinstance(child, ast.AST):
                    continue
                r = self.rule(child, stage)
                if isinstance(r, str):
                    a, b = self.script.span(child)
                    edits.append((a, b, r))
                elif r is None:
                    self._collect(child, stage, edits)

    # ------------------------------------------------------------------------------------------ rules
    def _device_arg(self, call: ast.Call) -> bool:
        args = list(call.args) + [k.value for k in call.keywords if k.arg == "device"]
        if not args or any(k.arg not in ("device", "non_blocking", "memory_format", "copy") for k in call.keywords):
            return False
        a = args[0]
        if isinstance(a, ast.Name) and a.id in self.plan.device_names:
            return True
        if isinstance(a, ast.Attribute) and a.attr == "device":
            return True
        if isinstance(a, ast.Constant) and isinstance(a.value, str) and a.value.split(":")[0] in ("cuda", "cpu", "mps"):
            return True
        return isinstance(a, ast.Call) and dotted(a.func) in ("torch.device", "device")

    def _moves_only(self, target: ast.AST, value: ast.AST) -> bool:
        """``value`` is ``target`` moved to the device (``x.to(device)``, ``x.cuda()``, element by element for tuples)."""
        if isinstance(target, (ast.Tuple, ast.List)) and isinstance(value, (ast.Tuple, ast.List)):
            return len(target.elts) == len(value.elts) and all(self._moves_only(t, v) for t, v in zip(target.elts, value.elts))
        if not (isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute)):
            return False
        moved = (value.func.attr == "to" and self._device_arg(value) and len(value.args) <= 1) or \
            (value.func.attr == "cuda" and not value.args and not value.keywords)
        inner = value.func.value
        if not moved:
            return False
        if isinstance(inner, ast.Call):
            return self._moves_only(target, inner)
        return ast.dump(inner) == ast.dump(target).replace("Store()", "Load()")

    def rule(self, node: ast.AST, stage: str, top: bool = False):
        plan = self.plan
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            moves = (node.func.attr == "to" and self._device_arg(node) and len(node.args) <= 1) or \
                (node.func.attr == "cuda" and not node.args)
            if moves and stage in _OWN_DATA:
                # a loop of the hook's own (a test after training): the trainer moves the model, not these tensors
                self.used.append((node, "`.to(device)` became `.to(self.device)`: the trainer moves the model, and only "
                                        "the batches of its own loops"))
                return f"{self.expr(node.func.value, stage)}.to(self.device)"
            if node.func.attr == "to" and self._device_arg(node) and len(node.args) <= 1:
                self.used.append((node, "`.to(device)` removed: the trainer moves the model and the batches"))
                return self.expr(node.func.value, stage)
            if node.func.attr == "cuda" and not node.args:
                self.used.append((node, "`.cuda()` removed: the trainer moves the model and the batches"))
                return self.expr(node.func.value, stage)
            return None
        if isinstance(node, (ast.Global, ast.Nonlocal)):
            return DROP
        if isinstance(node, ast.If) and not node.orelse and all(self.rule(s, stage) is DROP for s in node.body):
            return DROP  # `if args.cuda: x = x.cuda()`: nothing is left to do under the test
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and stage not in _OWN_DATA and self._moves_only(node.targets[0], node.value):
            # `x = x.to(device)` / `x, y = x.to(device), y.to(device)`: without the move it is `x = x`
            self.used.append((node, "`.to(device)` removed: the trainer moves the model and the batches"))
            return DROP
        if isinstance(node, ast.With) and all(is_autocast(i) for i in node.items):
            self.used.append((node, "autocast block unwrapped: the trainer's precision does it (16-mixed where CUDA is "
                                    "available, 32-true on a CPU, chosen in train.py)" if plan.precision == "16-mixed" else
                              f"autocast block unwrapped: `precision: {plan.precision}` in the config does it"))
            inner = "\n".join(self.statement(s, stage) or "pass" for s in node.body)
            pad = " " * node.col_offset
            lines = inner.splitlines()
            return "\n".join([lines[0]] + [pad + ln if ln.strip() else ln for ln in lines[1:]])
        if isinstance(node, ast.Break) and id(node) in self.stops:
            self.used.append((node, "`break` out of the epoch loop became `self.trainer.should_stop = True`: the trainer "
                                    "stops after this epoch, as the loop did"))
            return "self.trainer.should_stop = True"
        if isinstance(node, ast.Break) and stage == "train" and self._ends_training(node):
            self.used.append((node, "`break` out of the training loop (no epoch loop around it) became "
                                    "`self.trainer.should_stop = True`: the trainer stops after this batch, as the loop did"))
            return "self.trainer.should_stop = True"
        if isinstance(node, (ast.Break, ast.Continue)) and stage in ("train", "eval") and self._owner_loop(node) in self._batch_loops:
            word = "break" if isinstance(node, ast.Break) else "continue"
            if word == "break":
                self.meaning.append(_meaning(node, "`break` ended the pass over the data; now only the batch ends (see below)"))
            self.used.append((node, f"`{word}` in a batch loop became `return None`: the batch ends, the epoch goes on"
                                    + (" (the script's `break` ended the whole pass over the data: bound it with "
                                       "`--trainer.limit_train_batches` / `limit_val_batches`)" if word == "break" else "")))
            return "return None"
        if not isinstance(node, ast.Expr) or not isinstance(node.value, ast.Call):
            return None
        call = node.value
        name, leaf = dotted(call.func), call_leaf(call)
        owner = dotted(call.func.value) if isinstance(call.func, ast.Attribute) else ""
        models = set(plan.model_names)
        if owner in models and leaf in ("train", "eval") and len(call.args) <= 1 and stage in ("train", "closure", "eval") \
                and not (self._toggles_in_step and stage in ("train", "closure")):
            self.used.append((node, f"`{owner}.{leaf}()` removed: the trainer switches train/eval mode"))
            return DROP
        if owner in models | plan.device_names and leaf in ("to", "cuda"):
            self.used.append((node, "device placement removed"))
            return DROP
        if (name in ("torch.save", "save") or (leaf == "save" and owner.startswith("torch"))) and not self._loads_back:
            # the file the script wrote is not written: a change of meaning, not only a replacement
            self.meaning.append(_meaning(node, f"`{' '.join(self.script.segment(call).split())}` is not run, so that file is not written: the "
                                               "trainer's checkpoints (lightning_logs/version_N/checkpoints) hold the weights"))
            return DROP
        if owner in plan.writer_names:
            if leaf == "add_scalar" and len(call.args) >= 2 and stage != "data":
                self.used.append((node, "`SummaryWriter.add_scalar` became `self.log` (the trainer's TensorBoard logger)"))
                return f"self.log({self.expr(call.args[0], stage)}, {self.expr(call.args[1], stage)})"
            self.used.append((node, f"`{owner}.{leaf}` removed: the trainer's logger replaces the SummaryWriter"))
            return DROP
        if owner in plan.scaler_names and leaf == "update":
            self.used.append((node, "`scaler.update()` removed: the precision plugin owns the GradScaler"))
            return DROP
        if id(call) in plan.plateau_logs:
            key = plan.plateau_logs[id(call)]
            self.used.append((node, f"`{owner}.step({key})` became `self.log(\"{key}\", {key})` and the scheduler's "
                                    f"`monitor: {key}`: the trainer steps it with that value after the epoch's end"))
            return f'self.log("{key}", {self.expr(call.args[0], stage)})'
        if owner in plan.schedulers and leaf == "step" and plan.mode == "automatic":
            self.used.append((node, "`scheduler.step()` removed: configure_optimizers returns the scheduler, the trainer steps it"))
            return DROP
        if stage not in ("train", "closure"):
            return None
        is_opt = owner in plan.optimizers
        if plan.mode == "automatic":
            if leaf == "zero_grad" and (is_opt or owner in models):
                self.used.append((node, "`zero_grad()` removed: automatic optimization zeroes the gradients"))
                return DROP
            if leaf == "backward":
                self.used.append((node, "`backward()` removed: the trainer calls backward on the loss training_step returns"))
                return DROP
            if leaf == "step" and (is_opt or owner in plan.scaler_names):
                self.used.append((node, "optimizer step removed: the trainer steps the optimizer"))
                return DROP
            if leaf in ("clip_grad_norm_", "clip_grad_value_"):
                self.used.append((node, f"gradient clipping became `gradient_clip_val: {plan.clip[0]}` in the config"))
                return DROP
            if leaf == "unscale_" and owner in plan.scaler_names:
                return DROP
        else:
            if leaf == "backward":
                target = call.func.value
                if isinstance(target, ast.Call) and call_leaf(target) == "scale" and target.args:
                    target = target.args[0]
                rest = [self.expr(a, stage) for a in call.args] + [f"{k.arg}={self.expr(k.value, stage)}" for k in call.keywords]
                self.used.append((node, "`backward()` became `self.manual_backward()`"))
                return f"self.manual_backward({', '.join([self.expr(target, stage)] + rest)})"
            if leaf == "step" and owner in plan.scaler_names and call.args:
                return f"{self.expr(call.args[0], stage)}.step()"
            if leaf == "unscale_" and owner in plan.scaler_names:
                return DROP
        if name == "print" and stage in ("train", "closure"):
            logged = self._logged_names(call)
            if logged:
                self.logged = True
                self.used.append((node, "a print of the loss became `self.log`"))
                items = ", ".join(f'"{n}": {n}' for n in logged)
                return f"self.log_dict({{{items}}}, prog_bar=True)"
        return None

    def _logged_names(self, call: ast.Call) -> list[str]:
        out = []
        for n in ast.walk(call):
            if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == "item" and isinstance(n.func.value, ast.Name):
                out.append(n.func.value.id)
            elif isinstance(n, ast.Name) and n.id in self.loss_names:
                out.append(n.id)
        return list(dict.fromkeys(out))

    @property
    def _batch_loops(self) -> list:
        info = self.plan.analysis
        return [loop.loop for loop in (info.train, info.val, info.test) if loop is not None]

    def _ends_training(self, node: ast.Break) -> bool:
        """A `break` of the training batch loop that no epoch loop surrounds, as the last thing the loop's body does
        (`for i in count(1): ... if loss < 1e-3: break`): it ends the training, not only the batch."""
        info = self.plan.analysis
        return (info.train is not None and info.epoch_loop is None and self._owner_loop(node) is info.train.loop
                and last_thing_done(info.train.loop.body, node))

    def _owner_loop(self, node: ast.AST):
        parents = {}
        for loop in self._batch_loops:
            for p in ast.walk(loop):
                for c in ast.iter_child_nodes(p):
                    parents[c] = p
        while node in parents:
            node = parents[node]
            if isinstance(node, (ast.For, ast.While, ast.AsyncFor)):
                return node
            if isinstance(node, (ast.FunctionDef, ast.Lambda)):
                return None
        return None


def _meaning(node: ast.AST, what: str):
    from scaffold.refactor.plan import Note

    return Note(str(node.lineno), what)


def _string_lines(stmt: ast.stmt, first: int) -> set[int]:
    """Lines (relative to ``first``) that continue a multi-line string: their indentation is content."""
    out = set()
    for n in ast.walk(stmt):
        if isinstance(n, (ast.Constant, ast.JoinedStr)) and getattr(n, "end_lineno", n.lineno) > n.lineno:
            out |= {ln - first for ln in range(n.lineno + 1, n.end_lineno + 1)}
    return out


def _dedent(text: str, col: int, keep: set[int]) -> str:
    out = []
    for i, line in enumerate(text.splitlines()):
        if i in keep:
            out.append(line)
            continue
        strip = min(col, len(line) - len(line.lstrip(" ")))
        out.append(line[strip:])
    return "\n".join(out)


def indent(text: str, spaces: int) -> str:
    pad = " " * spaces
    return "\n".join(pad + ln if ln.strip() else "" for ln in text.splitlines())
