"""A model that trains itself: the batch loop (``backward()``, the optimizer steps) is inside a method of the script's
classes, with optimizers those classes build (forward-forward's ``Layer.train``), and the script runs the training with
one call made once, outside any loop (``net.train(x_pos, x_neg)``, a ``model.fit(...)``).

That call is the training step: training_step runs it, on the batch the script draws for it (``x, y =
next(iter(train_loader))``, then the lines that prepare that batch), and the trainer runs one epoch of that one batch.
Written as a batch loop of the script's own statements (``for x, y in train_loader: <prepare>; net.train(...)``, a
loop that is not in the script's text), it goes through the rest of the refactor like any other batch loop.

A call made once per episode or per batch (an RL agent's update, called in its environment's loop) is not this
shape: it is refused, naming the method and the loop.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from scaffold.refactor.errors import NoTrainingLoopError
from scaffold.refactor.source import Script, calls_in, dotted, free_names, stored_names


@dataclass
class SelfTraining:
    """The training call and what the refactor made of it (read by the plan, the emitter and the report)."""

    call: ast.stmt  # the script's statement that runs the training (`net.train(x_pos, x_neg)`)
    method: str  # where backward() is (`Layer.train`)
    loop_line: int  # the line of that method's loop
    draw: ast.Assign | None  # `x, y = next(iter(train_loader))`: the one batch the call is given (None: no batch)
    loop: ast.For  # the batch loop standing for the call (not in the script's text; its statements are)
    scope: ast.FunctionDef | None  # the function holding the call (None: module level)
    body: list[ast.stmt]  # that scope's statements, with the drawn batch, its preparation and the call as `loop`
    own_train: list[str] = field(default_factory=list)  # nn.Module classes of the script whose train() is not train(mode)
    plain_lists: list[tuple[str, str, int]] = field(default_factory=list)  # (class, attribute, line): modules in a list


def find(script: Script, body_of, parents: dict, loop_fn: ast.FunctionDef, loop: ast.AST) -> SelfTraining:
    """The call that runs the training whose loop is in the method ``loop_fn``, or a refusal naming why not.
    ``body_of(scope)``: a scope's statements as analyze reads them (the ``__main__`` block flattened)."""
    tree = script.tree
    cls = parents[loop_fn]
    method = f"{cls.name}.{loop_fn.name}"
    methods = _methods(tree)
    reach = _reaching(methods, loop_fn.name)
    functions = [n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
    found = None
    for scope in [None] + functions:
        for stmt in body_of(scope or tree):
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                continue
            call = next((c for c in calls_in(stmt) if _calls_method(c, reach, methods)), None)
            if call is not None:
                found = (scope, stmt, call)
                break
        if found:
            break
    how = ("move the loop into a function of the script (`def train(...)`) called from the training code, or write the "
           "LightningModule's training_step by hand")
    if found is None:
        raise NoTrainingLoopError(
            f"{script.path}:{loop.lineno}: the training loop is inside the method `{method}`, and no code of the script "
            f"outside its classes calls it (directly or through other methods); {how}")
    scope, stmt, call = found
    via = f"{dotted(call.func) or call.func.attr}(...)"
    outer = _loop_around(stmt, call)
    if outer is not None:
        raise NoTrainingLoopError(
            f"{script.path}:{call.lineno}: the model trains itself: the training loop is in the method `{method}` "
            f"(line {loop.lineno}), which `{via}` runs from inside the loop at line {outer.lineno}; scaffold takes over a "
            "training call the script makes once, outside any loop (as forward-forward's `net.train(x_pos, x_neg)`), not "
            f"one made per episode or per batch (an agent's update in its environment's loop); {how}")
    if not isinstance(stmt, (ast.Expr, ast.Assign, ast.AnnAssign)):
        raise NoTrainingLoopError(
            f"{script.path}:{call.lineno}: the model trains itself (the training loop is in `{method}`), and `{via}` is "
            f"inside a statement at line {stmt.lineno} (if/with/try) that scaffold cannot take apart; call it as a "
            "statement of its own")
    if scope is not None:
        _check_called_once(script, tree, body_of, scope, via)
    body = body_of(scope or tree)
    i = next(k for k, s in enumerate(body) if s is stmt)
    draw, prepare = _drawn_batch(body[:i], stmt)
    if draw is not None:
        it = draw.value.args[0].args[0]
        first = draw
        synthetic = ast.For(target=draw.targets[0], iter=it, body=prepare + [stmt], orelse=[], type_comment=None)
    else:
        # no batch drawn: the call is the whole training, run once, on a loader of one item the step does not read
        first = stmt
        target = ast.Name("_", ast.Store(), lineno=stmt.lineno, col_offset=stmt.col_offset, end_lineno=stmt.lineno,
                          end_col_offset=stmt.col_offset)
        none = ast.List([ast.Constant(None)], ast.Load())
        synthetic = ast.For(target=target, iter=none, body=[stmt], orelse=[], type_comment=None)
    synthetic.lineno, synthetic.col_offset = first.lineno, first.col_offset
    synthetic.end_lineno, synthetic.end_col_offset = stmt.end_lineno, stmt.end_col_offset
    start = body.index(first)
    return SelfTraining(stmt, method, loop.lineno, draw, synthetic, scope, body[:start] + [synthetic] + body[i + 1:],
                        _own_train(tree), _plain_lists(tree))


def _methods(tree: ast.Module) -> dict[str, list[ast.FunctionDef]]:
    out: dict[str, list[ast.FunctionDef]] = {}
    for cls in (n for n in tree.body if isinstance(n, ast.ClassDef)):
        for fn in cls.body:
            if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                out.setdefault(fn.name, []).append(fn)
    return out


def _required(fn: ast.FunctionDef) -> int:
    """Positional arguments a call of the method must give (``self`` left out)."""
    params = fn.args.posonlyargs + fn.args.args
    return max(len(params) - 1 - len(fn.args.defaults), 0)


def _calls_method(call: ast.Call, names: set[str], methods: dict) -> bool:
    """``obj.name(...)`` for a method of the script that reaches the training loop, given enough arguments for it (so
    ``model.train()``, nn.Module's, is not taken for ``Net.train(self, x_pos, x_neg)``)."""
    if not isinstance(call.func, ast.Attribute) or call.func.attr not in names:
        return False
    if any(isinstance(a, ast.Starred) for a in call.args) or any(k.arg is None for k in call.keywords):
        return True
    given = len(call.args) + len(call.keywords)
    return given >= min(_required(fn) for fn in methods[call.func.attr])


def _reaching(methods: dict, start: str) -> set[str]:
    """Names of the methods that run the loop of ``start``: it, and the methods that call those (``Net.train`` ->
    ``layer.train``)."""
    out = {start}
    changed = True
    while changed:
        changed = False
        for name, defs in methods.items():
            if name not in out and any(_calls_method(c, out, methods) for fn in defs for c in calls_in(fn)):
                out.add(name)
                changed = True
    return out


def _loop_around(stmt: ast.stmt, call: ast.Call) -> ast.AST | None:
    """The loop of the statement that holds ``call`` (the statement itself, or a loop inside it), if any."""
    for node in ast.walk(stmt):
        if isinstance(node, (ast.For, ast.AsyncFor, ast.While)) and any(n is call for n in ast.walk(node)):
            return node
    return None


def _check_called_once(script: Script, tree: ast.Module, body_of, scope: ast.FunctionDef, via: str) -> None:
    """The function holding the call is run once from the module's code (``main()``), or called with arguments from
    another function (analyze binds them), not from inside a loop."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and dotted(node.func) == scope.name:
            holder = next((s for s in body_of(tree) if any(n is node for n in ast.walk(s))), None)
            loop = _loop_around(holder, node) if holder is not None else None
            if loop is not None:
                raise NoTrainingLoopError(
                    f"{script.path}:{node.lineno}: the model trains itself: `{via}` in `{scope.name}` runs the training, "
                    f"and `{scope.name}` is called from inside the loop at line {loop.lineno}; scaffold takes over a "
                    "training call the script makes once, outside any loop")
            if holder is None and not (scope.args.args or scope.args.posonlyargs or scope.args.kwonlyargs):
                raise NoTrainingLoopError(
                    f"{script.path}:{node.lineno}: the model trains itself: `{via}` in `{scope.name}` runs the training, "
                    f"and `{scope.name}` is called from another function; call it from the script's module code "
                    "(`if __name__ == \"__main__\":`)")


def _is_draw(stmt: ast.stmt) -> bool:
    """``x, y = next(iter(loader))``."""
    if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.value, ast.Call)):
        return False
    outer = stmt.value
    if dotted(outer.func) != "next" or len(outer.args) != 1 or outer.keywords:
        return False
    inner = outer.args[0]
    return isinstance(inner, ast.Call) and dotted(inner.func) == "iter" and len(inner.args) == 1 and not inner.keywords


def _drawn_batch(before: list[ast.stmt], call: ast.stmt) -> tuple[ast.Assign | None, list[ast.stmt]]:
    """The last ``next(iter(loader))`` before the call, and the statements between that prepare the batch it drew for
    the call (each reads what the draw or an earlier one of them bound); (None, []) when anything else sits between
    them, or the call reads nothing drawn."""
    draws = [k for k, s in enumerate(before) if _is_draw(s)]
    if not draws:
        return None, []
    k = draws[-1]
    bound = set(stored_names([before[k]]))
    prepare = before[k + 1:]
    for s in prepare:
        if not set(free_names([s])) & bound:
            return None, []
        bound |= set(stored_names([s]))
    if not set(free_names([call])) & bound:
        return None, []
    return before[k], prepare


def _module_classes(tree: ast.Module) -> list[ast.ClassDef]:
    """The script's nn.Module classes (a base named ``*Module``, ``nn.*`` or another of them)."""
    classes = {n.name: n for n in tree.body if isinstance(n, ast.ClassDef)}
    modules: dict[str, ast.ClassDef] = {}
    changed = True
    while changed:
        changed = False
        for name, cls in classes.items():
            bases = [dotted(b) for b in cls.bases]
            if name not in modules and any(b.endswith("Module") or b.startswith(("nn.", "torch.nn.")) or b in modules
                                           for b in bases):
                modules[name] = cls
                changed = True
    return list(modules.values())


def _own_train(tree: ast.Module) -> list[str]:
    """nn.Module classes whose ``train`` is not ``train(self, mode=True)``: nn.Module.train (what ``eval()`` and
    ``train()`` on a module holding them call) would run their training with the mode as its data."""
    out = []
    for cls in _module_classes(tree):
        for fn in cls.body:
            if isinstance(fn, ast.FunctionDef) and fn.name == "train":
                params = [a.arg for a in fn.args.posonlyargs + fn.args.args][1:]
                if _required(fn) > 0 or (params and params[0] != "mode"):
                    out.append(cls.name)
    return out


def _plain_lists(tree: ast.Module) -> list[tuple[str, str, int]]:
    """``self.layers = [...]`` (or ``self.layers + [...]``) in an nn.Module class: modules in a plain list are not
    submodules (no ``state_dict``, no ``.to()``)."""
    classes = _module_classes(tree)
    names = {c.name for c in classes}
    out = []
    for cls in classes:
        lists: dict[str, list[ast.Assign]] = {}
        for node in ast.walk(cls):
            if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Attribute) \
                    and dotted(node.targets[0].value) == "self" and _is_list(node.value):
                lists.setdefault(node.targets[0].attr, []).append(node)
        for attr, assigns in lists.items():
            built = [dotted(c.func) for a in assigns for c in calls_in(a.value)]
            if any(b in names or b.startswith(("nn.", "torch.nn.")) for b in built):
                out.append((cls.name, attr, assigns[0].lineno))
    return out


def _is_list(value: ast.expr) -> bool:
    if isinstance(value, ast.BinOp) and isinstance(value.op, ast.Add):
        return _is_list(value.left) or _is_list(value.right)
    return isinstance(value, (ast.List, ast.ListComp)) or (isinstance(value, ast.Call) and dotted(value.func) == "list")


def plan_self_training(plan) -> None:
    """Manual optimization with the script's own optimizers, one epoch of the drawn batch, and the report's notes."""
    own: SelfTraining = plan.analysis.self_training
    script = plan.analysis.script
    call = " ".join(script.segment(own.call).split())
    plan.mode = "manual"
    plan.mode_reason = f"`{call}` trains the model itself: `{own.method}` calls backward() and steps its own optimizers"
    plan.max_epochs = 1
    where = "with nothing drawn for it (a loader of one item it does not read)"
    if own.draw is not None:
        plan.limit_train_batches = 1
        draw = " ".join(script.segment(own.draw).split())
        loader = script.segment(own.draw.value.args[0].args[0])
        plan.note(own.draw, f"`{draw}`: the trainer draws this batch from train_dataloader (`{loader}`), one batch "
                            "(`limit_train_batches: 1`), and moves it to the device")
        where = f"on the batch drawn at line {own.draw.lineno}" + (
            f", prepared by lines {own.loop.body[0].lineno}-{own.loop.body[-2].end_lineno}" if len(own.loop.body) > 1 else "")
    else:
        plan.note(own.call, "the trainer moves the model to its accelerator (`accelerator: auto`), not the data the call "
                            f"reads itself: on a GPU, move it in `{own.method}` to the model's device (the script's own "
                            "code), or run with `--trainer.accelerator=cpu`", meaning=True)
    optimizers = (f"configure_optimizers returns the script's `{'`, `'.join(plan.optimizers)}`, and the call gets the "
                  "trainer's wrappers of them" if plan.optimizers else
                  "configure_optimizers returns None (the trainer warns): the optimizers are built and stepped in the "
                  "script's classes, and an empty step after the call counts it as one step")
    plan.note(own.call, f"`{call}` trains the model itself (the loop, backward() and the optimizer steps are in "
                        f"`{own.method}`, line {own.loop_line}): training_step runs it once, {where}, in one epoch "
                        f"(`max_epochs: 1`); {optimizers}. Gradient clipping, accumulation, `precision` and `max_steps` "
                        "reach nothing inside that loop", meaning=True)
    classes = {n.name: n for n in script.tree.body if isinstance(n, ast.ClassDef)}
    for name in own.own_train:
        plan.note(classes[name].lineno, f"`{name}.train(...)` is the script's training, not nn.Module's `train(mode)`: the "
                                        "LightningModule's own `train(mode)` sets the mode flag of each submodule, so the "
                                        f"trainer's `eval()` / `train()` (around validation and test) never run `{name}.train`",
                  meaning=True)
    for cls, attr, line in own.plain_lists:
        plan.note(line, f"`{cls}.{attr}` is a plain Python list: the modules in it are not submodules, so the checkpoint holds "
                        "none of their weights (the script's `state_dict()` held none either) and the trainer does not move "
                        "them to the accelerator", meaning=True)
