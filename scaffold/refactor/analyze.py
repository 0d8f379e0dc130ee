"""Find the training machinery in a script: the batch loop, the epoch loop around it, the set-up before them,
the evaluation loop, and the argparse parser. Only the tree is read here; nothing is rewritten.

The batch loop is the innermost ``for`` loop whose body calls ``.backward()``. When it sits in a function
(``train(args, model, ...)``) the epoch loop is the loop that calls that function, and the function's
parameters are bound to the caller's arguments, so its code keeps its own names.
"""

from __future__ import annotations

import ast
from collections import Counter
from dataclasses import dataclass, field

from scaffold.refactor.errors import NoTrainingLoopError
from scaffold.refactor.phases import phase_values
from scaffold.refactor.source import Script, calls_in, dotted, stored_names

LOOKED_FOR = (
    "a `for` loop over batches whose body calls `.backward()` (directly, in a closure passed to "
    "`optimizer.step`, or through `scaler.scale(loss).backward()`), at module level or in a function"
)


@dataclass
class Chunk:
    """One statement to carry over, with the scope it came from (a function's parameters bound to the caller's arguments)."""

    stmt: ast.stmt
    bindings: dict[str, ast.expr] = field(default_factory=dict)


@dataclass
class LoopInfo:
    """A batch loop (training or evaluation) and the statements of its function around it."""

    loop: ast.For
    fn: ast.FunctionDef | None = None
    bindings: dict[str, ast.expr] = field(default_factory=dict)
    pre: list[Chunk] = field(default_factory=list)
    post: list[Chunk] = field(default_factory=list)
    call: ast.stmt | None = None  # the caller's statement that runs it (None: written inline)
    result: str | None = None  # the caller's name that receives the function's return value
    epoch_end: bool = False  # post holds the epoch loop's own statements after the loop (validation written inline)


@dataclass
class ArgparseInfo:
    parser_stmts: list[ast.stmt]  # building the parser, in order
    args_name: str  # the name the parsed namespace is bound to in the driver
    consumed: list[ast.stmt]  # driver statements that only parse arguments
    function: str | None  # a function that builds and parses (``args = get_args()``)


@dataclass
class Analysis:
    script: Script
    definitions: list[ast.stmt]  # module-level imports, classes, functions, constants: kept verbatim
    driver: ast.FunctionDef | None  # the function holding the epoch loop (None: module level)
    setup: list[Chunk]
    epoch_loop: ast.For | ast.While | None
    epoch_pre: list[Chunk]
    train: LoopInfo
    epoch_post: list[Chunk]
    after: list[Chunk]
    val: LoopInfo | None = None
    test: LoopInfo | None = None
    argparse: ArgparseInfo | None = None
    consumed_functions: set[str] = field(default_factory=set)
    main_call: list[ast.stmt] = field(default_factory=list)  # `if __name__ == "__main__": main()` and friends
    driver_bindings: dict[str, ast.expr] = field(default_factory=dict)  # the driver's parameters -> its caller's arguments
    shared: list[str] = field(default_factory=list)  # globals the kept functions/classes read that the set-up binds
    # a `while epoch < N:` epoch loop: (the counter's name, its first value, the statement setting it, its `+= 1`)
    epoch_counter: tuple[str, ast.expr, ast.stmt, ast.stmt] | None = None
    # the model trains itself: one call runs the training (selftrain.SelfTraining); `train.loop` stands for it
    self_training: object | None = None


def _has_backward(node: ast.AST) -> bool:
    return any(isinstance(c.func, ast.Attribute) and c.func.attr == "backward" for c in calls_in(node))


def _functions_reaching_backward(functions: dict) -> set[str]:
    """Names of the script's functions that call backward(), directly or through other functions of the script."""
    out = {name for name, fn in functions.items() if _has_backward(fn)}
    changed = True
    while changed:
        changed = False
        for name, fn in functions.items():
            if name not in out and any(isinstance(c.func, ast.Name) and c.func.id in out for c in calls_in(fn)):
                out.add(name)
                changed = True
    return out


def _why_no_loop(tree: ast.Module, parents) -> str:
    """Where backward() is, and why no batch loop reaches it (a method, a `while` loop, no loop at all)."""
    call = next(c for c in calls_in(tree) if isinstance(c.func, ast.Attribute) and c.func.attr == "backward")
    fn = _enclosing_function(call, parents)
    if fn is None:
        return f"`.backward()` at line {call.lineno} is not inside a `for` loop"
    owner = parents.get(fn)
    name = f"{owner.name}.{fn.name}" if isinstance(owner, ast.ClassDef) else fn.name
    callers = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == fn.name]
    loops = []
    for c in callers:
        node = c
        while node in parents and not isinstance(node, (ast.For, ast.While)):
            node = parents[node]
        if isinstance(node, (ast.For, ast.While)):
            loops.append(node)
    if isinstance(owner, ast.ClassDef):
        how = (f" from a `while` loop at line {loops[0].lineno}" if loops and isinstance(loops[0], ast.While) else
               f" from the loop at line {loops[0].lineno}" if loops else "")
        return (f"`.backward()` at line {call.lineno} is in the method `{name}`, called through an object{how} (a "
                "reinforcement-learning agent's `learn()` is this shape); scaffold follows the script's plain functions, "
                "not methods: call the update from a `for` loop over episodes or batches in a function, or write the "
                "LightningModule's training_step by hand")
    return f"`.backward()` at line {call.lineno} is in `{name}`, which no `for` loop of the script calls"


def _fans_out(loop: ast.For) -> bool:
    """A loop over a fixed list of models/optimizers (``zip(nets, opts)``, ``[g, d]``), not over data."""
    it = loop.iter
    if isinstance(it, ast.Call) and dotted(it.func) == "enumerate" and it.args:
        it = it.args[0]
    if isinstance(it, (ast.List, ast.Tuple)):
        return True
    return isinstance(it, ast.Call) and dotted(it.func) == "zip" and all(isinstance(a, (ast.Name, ast.List, ast.Tuple)) for a in it.args)


def _is_main_guard(stmt: ast.stmt) -> bool:
    if not isinstance(stmt, ast.If) or not isinstance(stmt.test, ast.Compare):
        return False
    names = {getattr(n, "id", None) for n in ast.walk(stmt.test)} | {getattr(n, "value", None) for n in ast.walk(stmt.test)}
    return "__name__" in names and "__main__" in names


def _parents(tree: ast.AST) -> dict[ast.AST, ast.AST]:
    out = {}
    for node in ast.walk(tree):
        for child in ast.iter_child_nodes(node):
            out[child] = node
    return out


def _enclosing_function(node: ast.AST, parents) -> ast.FunctionDef | None:
    while node in parents:
        node = parents[node]
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            return node
    return None


def _body_of(scope) -> list[ast.stmt]:
    """A scope's statements, with the body of ``if __name__ == "__main__":`` flattened into the module's."""
    out = []
    for stmt in scope.body:
        if isinstance(scope, ast.Module) and _is_main_guard(stmt):
            out.extend(_flatten_try(stmt.body))
        else:
            out.extend(_flatten_try([stmt]))
    return out


def _flatten_try(stmts: list[ast.stmt]) -> list[ast.stmt]:
    """``try: <training> except KeyboardInterrupt: ...``: the body is the training (the trainer itself ends a run
    cleanly on Ctrl-C, so the handler has nothing left to do)."""
    out = []
    for stmt in stmts:
        if isinstance(stmt, ast.Try) and not stmt.finalbody and not stmt.orelse and stmt.handlers and all(
                h.type is not None and dotted(h.type) == "KeyboardInterrupt" for h in stmt.handlers):
            out.extend(_flatten_try(stmt.body))
        else:
            out.append(stmt)
    return out


def _split_at(body: list[ast.stmt], target: ast.AST) -> tuple[list[ast.stmt], ast.stmt, list[ast.stmt]] | None:
    """(before, the statement holding ``target``, after) when ``target`` is a statement of ``body``, or
    inside a ``with`` of it (whose other statements are flattened around it)."""
    for i, stmt in enumerate(body):
        if stmt is target:
            return body[:i], stmt, body[i + 1:]
        if isinstance(stmt, ast.With) and any(n is target for n in ast.walk(stmt)):
            inner = _split_at(stmt.body, target)
            if inner is not None:
                return body[:i] + inner[0], inner[1], inner[2] + body[i + 1:]
    return None


def _bind(fn: ast.FunctionDef, call: ast.Call) -> dict[str, ast.expr]:
    params = [a.arg for a in fn.args.posonlyargs + fn.args.args]
    out: dict[str, ast.expr] = {}
    for name, value in zip(params, call.args):
        out[name] = value
    for kw in call.keywords:
        if kw.arg:
            out[kw.arg] = kw.value
    defaults = fn.args.defaults
    for name, value in zip(params[len(params) - len(defaults):], defaults):
        out.setdefault(name, value)
    return {k: v for k, v in out.items() if not (isinstance(v, ast.Name) and v.id == k)}


def _calls_to(name: str, body: list[ast.stmt]) -> list[tuple[ast.stmt, ast.Call]]:
    found = []
    for stmt in body:
        for call in calls_in(stmt):
            if isinstance(call.func, ast.Name) and call.func.id == name:
                found.append((stmt, call))
    return found


def _loop_in_function(fn: ast.FunctionDef, loop: ast.For, call_stmt: ast.stmt, call: ast.Call) -> LoopInfo:
    bindings = _bind(fn, call)
    split = _split_at(fn.body, loop)
    before, _, after = split if split else ([], loop, [])
    result = None
    if isinstance(call_stmt, ast.Assign) and len(call_stmt.targets) == 1 and isinstance(call_stmt.targets[0], ast.Name):
        result = call_stmt.targets[0].id
    skip = (ast.Global, ast.Nonlocal)
    return LoopInfo(loop, fn, bindings,
                    [Chunk(s, bindings) for s in before if not isinstance(s, skip) and not _is_docstring(s)],
                    [Chunk(s, bindings) for s in after if not isinstance(s, skip)], call_stmt, result)


def _is_docstring(stmt: ast.stmt) -> bool:
    return isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant) and isinstance(stmt.value.value, str)


def _eval_loop_of(fn: ast.FunctionDef) -> ast.For | None:
    """The first batch loop of a function that does not call backward (directly or under a ``with``)."""
    for stmt in fn.body:
        candidates = [stmt] if isinstance(stmt, ast.For) else [s for s in ast.walk(stmt) if isinstance(s, ast.For)] if isinstance(stmt, ast.With) else []
        for loop in candidates:
            if not _has_backward(loop):
                return loop
    return None


def _training_statements(body: list[ast.stmt], trains: set[str]) -> list[ast.stmt]:
    """The statements of a scope that run training: they call backward() or a function of the script that reaches it."""
    return [s for s in body if not isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and (
        _has_backward(s) or any(isinstance(c.func, ast.Name) and c.func.id in trains for c in calls_in(s)))]


def _refuse_several_runs(script: Script, functions: dict) -> None:
    """A script that trains more than once, one run after the other (`train_model(model_ft, ...)` then
    `train_model(model_conv, ...)`; a tutorial training the same model again as it refines the code): a project is
    one training run, and keeping the first would silently drop the others."""
    trains = _functions_reaching_backward(functions)
    runs = _training_statements(_body_of(script.tree), trains)
    if len(runs) == 1 and isinstance(runs[0], ast.Expr) and isinstance(runs[0].value, ast.Call) and \
            isinstance(runs[0].value.func, ast.Name) and runs[0].value.func.id in functions:
        runs = _training_statements(_body_of(functions[runs[0].value.func.id]), trains)  # `main()`: its own statements
    if len(runs) <= 1:
        return
    lines = ", ".join(f"{script.source_line(script.first_line(s))}" for s in runs[:8]) + (", ..." if len(runs) > 8 else "")
    raise NoTrainingLoopError(
        f"{script.path}:{script.source_line(script.first_line(runs[0]))}: the script trains {len(runs)} times, one run after another (lines "
        f"{lines}); a project is one training run (`python train.py fit`), and scaffold will not keep one and drop the "
        "others. Keep the run you want in the script (or put each in its own script) and refactor that")


def _refuse_phase_loop(script: Script, batch: ast.For, parents) -> None:
    """``for phase in ['train', 'val']:`` around the batch loop (``for x, y in dataloaders[phase]:``), which trains in
    one pass and evaluates in the other: the trainer needs them apart (training_step, validation_step)."""
    node = batch
    while node in parents and not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Module)):
        node = parents[node]
        values = phase_values(node)
        if values is not None and any(isinstance(n, ast.Name) and n.id == node.target.id for n in ast.walk(batch.iter)):
            name = node.target.id
            raise NoTrainingLoopError(
                f"{script.path}:{script.source_line(node.lineno)}: the batch loop (line {script.source_line(batch.lineno)}) runs once per `{name}` in {values}, "
                f"training in one pass and evaluating in the other (`if {name} == ...` decides whether to call backward); "
                "scaffold needs them as two loops to make training_step and validation_step. What to change: in the epoch "
                f"loop, write the training pass as its own loop (`for ... in {script.segment(batch.iter).replace(name, repr(values[0]))}:` "
                f"with its backward/step) followed by the evaluation loop (over the `{values[-1]}` data, under "
                "`torch.no_grad()`), each with its own statistics")
    return


def analyze(script: Script) -> Analysis:
    tree = script.tree
    parents = _parents(tree)
    functions = {n.name: n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}

    with_backward = [n for n in ast.walk(tree) if isinstance(n, (ast.For, ast.AsyncFor)) and _has_backward(n)]
    if not with_backward:
        # backward() reached through the script's own functions (`train_iter(...)`, `finish_episode()`): the loop
        # calling them is the batch loop, and the function is called from training_step as written
        trains = _functions_reaching_backward(functions)
        with_backward = [n for n in ast.walk(tree) if isinstance(n, (ast.For, ast.AsyncFor)) and any(
            isinstance(c.func, ast.Name) and c.func.id in trains for c in calls_in(n))]
    # innermost: no other loop calling backward inside it (the closure's own loops do not count)
    innermost = [n for n in with_backward if not any(m is not n and m in with_backward and _inside(m, n, parents) for m in with_backward)]
    if not innermost:
        where = "no `.backward()` call at all" if not _has_backward(tree) else _why_no_loop(tree, parents)
        raise NoTrainingLoopError(f"{script.path}: no training loop found ({where}); looked for {LOOKED_FOR}")
    _refuse_several_runs(script, functions)
    batch = innermost[0]
    _refuse_phase_loop(script, batch, parents)
    parent = parents.get(batch)
    if _fans_out(batch) and isinstance(parent, ast.For) and batch in parent.body:
        batch = parent  # `for net, opt in zip(nets, opts):` trains several models on each batch of the loop around it
    fn = _enclosing_function(batch, parents)
    self_training = None
    if fn is not None and isinstance(parents.get(fn), ast.ClassDef):
        # the model trains itself (its own loop and optimizers in a method): the call that runs it is the step
        from scaffold.refactor.selftrain import find

        self_training = find(script, _body_of, parents, fn, batch)
        batch, fn, body = self_training.loop, self_training.scope, self_training.body
    else:
        body = _body_of(fn or tree)

    parent = parents.get(batch)
    epoch_loop = parent if isinstance(parent, (ast.For, ast.While)) and batch in parent.body else None
    train = LoopInfo(batch)
    driver, driver_body = fn, body
    consumed: set[str] = set()
    epoch_pre: list[ast.stmt] = []
    epoch_post: list[ast.stmt] = []
    if epoch_loop is None and fn is not None:
        # the loop is in a function (`train(...)`): the epoch loop is where that function is called
        for caller_name, caller in [(None, tree)] + list(functions.items()):
            if caller is fn:
                continue
            cbody = _body_of(caller)
            for stmt, call in _calls_to(fn.name, cbody):
                loop = _loop_containing(stmt, call, cbody)
                if loop is None:
                    continue
                train = _loop_in_function(fn, batch, _stmt_in(loop.body, call), call)
                epoch_loop, driver, driver_body = loop, (caller if caller_name else None), cbody
                consumed.add(fn.name)
                break
            if driver is not fn:
                break
    if epoch_loop is not None:
        split = _split_at(epoch_loop.body, train.call or batch)
        if split is None:
            raise NoTrainingLoopError(f"{script.path}:{script.source_line(batch.lineno)}: the training loop is nested too deeply in the epoch loop "
                                      f"(line {script.source_line(epoch_loop.lineno)}) to be moved; looked for {LOOKED_FOR}")
        epoch_pre, _, epoch_post = split
        top = epoch_loop
    else:
        top = batch
    split = _split_at(driver_body, top)
    if split is None:
        raise NoTrainingLoopError(f"{script.path}:{script.source_line(top.lineno)}: the training loop is inside a statement (try/if/while) "
                                  f"that scaffold cannot take apart; looked for {LOOKED_FOR}")
    setup, _, after = split
    if driver is not None:
        consumed.add(driver.name)
    # the driver's own scope: when it is a function, module-level driver statements are only its call
    definitions, module_driver = _module_statements(tree, driver, {f.name for f in (fn, driver, train.fn) if f is not None})
    if self_training is not None:  # the drawn batch, its preparation and the call are the step's, nothing else's
        step = {id(s) for s in [self_training.draw] + batch.body}
        definitions = [d for d in definitions if id(d) not in step]
        module_driver = [s for s in module_driver if id(s) not in step]
    main_call = []
    if driver is not None:
        calls_driver = [s for s in module_driver if any(dotted(c.func) == driver.name for c in calls_in(s))]
        main_call = calls_driver
        # module code after the call runs once training has returned (304_save_reload: `save()` then `restore_net()`)
        end = max((s.end_lineno for s in calls_driver), default=None)
        setup = [s for s in module_driver if s not in calls_driver and (end is None or s.lineno < end)] + setup
        after = after + [s for s in module_driver if s not in calls_driver and end is not None and s.lineno > end]
    else:
        setup = [s for s in module_driver if s.lineno < top.lineno]
        after = [s for s in module_driver if s.lineno > top.end_lineno]

    # a driver with parameters (`def fit(model, loader, optimizer, epochs)`) called from `main()`: main's statements
    # around the call are the set-up and the end, and the driver's parameters are bound to main's arguments
    outer_setup: list[ast.stmt] = []
    outer_after: list[ast.stmt] = []
    bound: dict[str, ast.expr] = {}
    if driver is not None and (driver.args.args or driver.args.posonlyargs or driver.args.kwonlyargs):
        for caller in [f for f in functions.values() if f is not driver] + [None]:
            cbody = _body_of(caller or tree)
            hits = [(st, c) for st, c in _calls_to(driver.name, cbody) if st in cbody]
            if hits:
                stmt, call = hits[0]
                i = cbody.index(stmt)
                outer_setup, outer_after = cbody[:i], cbody[i + 1:]
                bound = _bind(driver, call)
                if caller is not None:
                    consumed.add(caller.name)
                    calls_caller = [s for s in module_driver if any(dotted(c.func) == caller.name for c in calls_in(s))]
                    main_call = calls_caller
                    outer_setup = [s for s in module_driver if s not in calls_caller] + outer_setup
                else:
                    main_call, outer_setup = [stmt], [s for s in outer_setup if s in module_driver]
                    outer_after = [s for s in outer_after if s in module_driver]
                setup = [s for s in setup if s not in module_driver]
                break
        if bound:
            train.bindings = {**bound, **{k: (bound[v.id] if isinstance(v, ast.Name) and v.id in bound else v)
                                          for k, v in train.bindings.items()}}
            for c in train.pre + train.post:
                c.bindings = train.bindings
    info = Analysis(script, definitions, driver, [Chunk(s) for s in outer_setup] + [Chunk(s, bound) for s in setup], epoch_loop,
                    [Chunk(s, bound) for s in epoch_pre], train, [Chunk(s, bound) for s in epoch_post],
                    [Chunk(s, bound) for s in after] + [Chunk(s) for s in outer_after])
    info.driver_bindings = bound
    info.self_training = self_training
    calls = Counter(c.func.id for c in calls_in(tree) if isinstance(c.func, ast.Name))
    info.val, info.epoch_post = _find_eval(info.epoch_post, functions, consumed, train, calls)
    after_all = info.after
    info.test, info.after = _find_eval(info.after, functions, consumed, train, calls)
    if info.test is not None and info.test.fn is None:
        # an inline loop after training: keep it as code run at the end instead of a test_step, as written (inside its
        # `with torch.no_grad():`: without it the evaluation builds graphs the script never built)
        info.after = after_all
        info.test = None
    if isinstance(epoch_loop, ast.While):
        _while_epochs(info)
    info.argparse = _find_argparse(tree, functions, driver_body if driver is not None else module_driver)
    if info.argparse is not None and info.argparse.function:
        consumed.add(info.argparse.function)
    info.consumed_functions = consumed
    info.main_call = main_call
    info.definitions = [d for d in definitions if not (isinstance(d, (ast.FunctionDef, ast.AsyncFunctionDef)) and d.name in consumed)]
    info.shared = _shared_globals(info, module_driver)
    return info


def _while_epochs(info: "Analysis") -> None:
    """``epoch = 0`` / ``while epoch < N:`` ... ``epoch += 1``: the counter is the trainer's epoch; its set-up and its
    increment go (the trainer counts), and the plan reads N. Any other ``while`` is refused with what to write."""
    loop, script = info.epoch_loop, info.script
    how = "write it as `for epoch in range(N):`, or as `while epoch < N:` whose last statement is `epoch += 1`"
    test = loop.test
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], (ast.Lt, ast.LtE))
            and isinstance(test.left, ast.Name)):
        raise NoTrainingLoopError(f"{script.path}:{script.source_line(loop.lineno)}: the epoch loop is `while {script.segment(test)}:`, and "
                                  f"scaffold cannot tell how many epochs that runs (trainer.max_epochs); {how}")
    var, last = test.left.id, loop.body[-1]
    if not (isinstance(last, ast.AugAssign) and isinstance(last.op, ast.Add) and isinstance(last.target, ast.Name)
            and last.target.id == var and isinstance(last.value, ast.Constant) and last.value.value == 1):
        raise NoTrainingLoopError(f"{script.path}:{script.source_line(loop.lineno)}: the epoch loop `while {script.segment(test)}:` does not end "
                                  f"with `{var} += 1`, so its epochs cannot be counted; {how}")
    others = [n for s in loop.body[:-1] for n in ast.walk(s) if isinstance(n, ast.Name) and n.id == var
              and not isinstance(n.ctx, ast.Load)]
    if others:
        raise NoTrainingLoopError(f"{script.path}:{script.source_line(others[0].lineno)}: `{var}`, the counter of the epoch loop at line "
                                  f"{loop.lineno}, is changed inside the loop besides its final `{var} += 1`; {how}")
    inits = [c for c in info.setup if isinstance(c.stmt, ast.Assign) and len(c.stmt.targets) == 1
             and isinstance(c.stmt.targets[0], ast.Name) and c.stmt.targets[0].id == var]
    if not inits:
        raise NoTrainingLoopError(f"{script.path}:{script.source_line(loop.lineno)}: `{var}`, the counter of the epoch loop, is not set before "
                                  f"the loop in the same function; {how}")
    init = inits[-1]
    info.setup = [c for c in info.setup if c is not init]
    info.epoch_post = [c for c in info.epoch_post if c.stmt is not last]
    info.epoch_counter = (var, init.stmt.value, init.stmt, last)


def _shared_globals(info: "Analysis", module_driver: list[ast.stmt]) -> list[str]:
    """Names the script's functions and classes read as module globals but that only the training's set-up binds
    (``nz = int(opt.nz)`` read by ``Generator``): models.py declares them and the code that binds them sets them there."""
    from scaffold.refactor.source import BUILTINS

    # `args = None` at module level and `global args` in the function that sets up the training (`args =
    # parser.parse_args()` in main()): the definition is only a placeholder, the set-up binds what the functions read
    declared = {n for d in info.script.tree.body if isinstance(d, (ast.FunctionDef, ast.AsyncFunctionDef))
                and (d is info.driver or d.name in info.consumed_functions)
                for g in ast.walk(d) if isinstance(g, ast.Global) for n in g.names}
    provided = {n for d in info.definitions for n in stored_names([d])} - declared
    needed: list[str] = []
    for d in info.definitions:
        if isinstance(d, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            needed += sorted(_def_reads(d) - provided - BUILTINS)
    bound = set(stored_names(module_driver)) | {n for c in info.setup + info.after for n in stored_names([c.stmt])}
    return [n for n in dict.fromkeys(needed) if n in bound]


def _inside(inner: ast.AST, outer: ast.AST, parents) -> bool:
    node = inner
    while node in parents:
        node = parents[node]
        if node is outer:
            return True
    return False


def _stmt_in(body: list[ast.stmt], node: ast.AST) -> ast.stmt:
    for stmt in body:
        if any(n is node for n in ast.walk(stmt)):
            if isinstance(stmt, ast.With):
                return _stmt_in(stmt.body, node)
            return stmt
    return body[0]


def _loop_containing(stmt: ast.stmt, call: ast.Call, body: list[ast.stmt]) -> ast.For | ast.While | None:
    for s in body:
        if isinstance(s, (ast.For, ast.While)) and any(n is call for n in ast.walk(s)):
            return s
    return None


def _module_statements(tree: ast.Module, driver, training: set[str] = frozenset()) -> tuple[list[ast.stmt], list[ast.stmt]]:
    """Split the module into definitions kept verbatim and driver statements (everything that runs the training)."""
    body = _body_of(tree)
    guarded = {id(s) for g in tree.body if _is_main_guard(g) for s in g.body}
    stores_elsewhere: dict[str, int] = {}
    for stmt in body:
        for name in stored_names([stmt]):
            stores_elsewhere[name] = stores_elsewhere.get(name, 0) + 1
    classes = {s.name for s in body if isinstance(s, ast.ClassDef)}
    definitions, rest = [], []
    for stmt in body:
        if id(stmt) in guarded:
            rest.append(stmt)
        elif isinstance(stmt, (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) or _is_docstring(stmt):
            definitions.append(stmt)
        elif isinstance(stmt, (ast.Assign, ast.AnnAssign)) and not calls_in(stmt) and all(
            stores_elsewhere.get(n, 0) == 1 for n in stored_names([stmt])
        ):
            definitions.append(stmt)  # a constant (`EPOCHS = 3`, `history = []`)
        elif driver is not None and isinstance(stmt, (ast.Assign, ast.AnnAssign)) and not _has_rng(stmt) and not _is_argparse(stmt) \
                and not _builds_trained_objects(stmt, classes):
            definitions.append(stmt)  # module state used by a driver function: leave it where functions find it
        else:
            rest.append(stmt)
    return _settle(definitions, rest, guarded, training)


# calls a module-level statement may make and still move into models.py (it then runs when models.py is imported,
# as it ran when the script started): values, not data loading, models or options
_PURE_ROOTS = {"torch", "np", "numpy", "math", "range", "len", "int", "float", "str", "list", "tuple", "dict", "min", "max",
               "abs", "sum", "round", "bool", "zip", "enumerate", "sorted", "set"}
_SEEDS = {"manual_seed", "seed", "seed_everything", "manual_seed_all"}
_NOT_PURE = {"DataLoader", "parse_args", "parse_known_args", "load", "open", "save", "manual_seed", "seed", "MNIST", "CIFAR10"}


def _def_reads(stmt: ast.stmt) -> set[str]:
    """Global names a function or class reads (approximation: names loaded inside it and stored nowhere in it)."""
    loads = {n.id for n in ast.walk(stmt) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    stores = {n.id for n in ast.walk(stmt) if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Load)}
    stores |= {a.arg for a in ast.walk(stmt) if isinstance(a, ast.arg)}
    stores |= {n.name for n in ast.walk(stmt) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and n is not stmt}
    return loads - stores


def _promotable(stmt: ast.stmt, provided: set[str]) -> bool:
    if isinstance(stmt, ast.If):
        return _promotable(ast.Expr(stmt.test), provided) and all(_promotable(s, provided) for s in stmt.body + stmt.orelse)
    if isinstance(stmt, ast.Pass):
        return True
    if not isinstance(stmt, (ast.Assign, ast.AnnAssign, ast.Expr)) or (isinstance(stmt, ast.Expr) and calls_in(stmt)):
        return isinstance(stmt, ast.Expr) and not calls_in(stmt)
    for c in calls_in(stmt):
        name = dotted(c.func)
        root = dotted(c.func.value).split(".")[0] if isinstance(c.func, ast.Attribute) and not name else name.split(".")[0]
        if not root or (root not in _PURE_ROOTS and root not in provided) or name.split(".")[-1] in _NOT_PURE or \
                any(part in name.split(".") for part in ("nn", "optim", "data", "models", "datasets", "hub")):
            return False
    return True


def _settle(definitions: list[ast.stmt], rest: list[ast.stmt], guarded: set[int],
            training: set[str] = frozenset()) -> tuple[list[ast.stmt], list[ast.stmt]]:
    """models.py must import on its own: a constant reading a name only the training code binds goes back to the
    driver, and a plain value the script's own functions read at module level (``device``, ``W_target``) moves into
    models.py beside them, where those functions find it."""
    from scaffold.refactor.source import BUILTINS, loaded_names

    defs, driver = list(definitions), list(rest)
    modules = {n for d in defs if isinstance(d, (ast.Import, ast.ImportFrom)) for n in stored_names([d])}
    # a value drawn from the random generator moves only when no seeding came before it in the script
    seeded = min((s.lineno for s in driver if any(dotted(c.func).split(".")[-1] in _SEEDS for c in calls_in(s))), default=None)
    changed = True
    while changed:
        changed = False
        provided = {n for d in defs for n in stored_names([d])}
        for d in list(defs):
            if isinstance(d, (ast.Assign, ast.AnnAssign)) and loaded_names([d]) - provided - BUILTINS:
                defs.remove(d)
                driver.append(d)
                changed = True
        if changed:
            continue
        needed = set()
        for d in defs:  # the functions that hold the training loop become hooks: what they read is not needed here
            if isinstance(d, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and d.name not in training:
                needed |= _def_reads(d)
        needed -= provided | BUILTINS
        for s in sorted(driver, key=lambda x: x.lineno):
            names = set(stored_names([s]))
            if seeded is not None and s.lineno > seeded and _has_rng(s):
                continue
            values = provided - modules - {d.name for d in defs if isinstance(d, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}
            if names & needed and _promotable(s, values) and not (loaded_names([s]) - provided - BUILTINS - names):
                driver.remove(s)
                defs.append(s)
                changed = True
                break
    order = lambda x: x.lineno  # noqa: E731
    return sorted(defs, key=order), sorted(driver, key=order)


_RNG = {"randn", "rand", "randint", "randperm", "normal", "random", "manual_seed", "seed", "uniform", "choice", "shuffle"}


def _builds_trained_objects(stmt: ast.stmt, classes: set[str]) -> bool:
    """A model (a class of the script, ``nn.*``), an optimizer or a scheduler: the module owns those, not models.py."""
    for c in calls_in(stmt):
        name = dotted(c.func)
        parts = name.split(".")
        if parts[0] in classes or "nn" in parts[:-1] or "optim" in parts[:-1] or "lr_scheduler" in parts[:-1] or \
                parts[-1] in ("SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "LBFGS"):
            return True
    return False


def _is_argparse(stmt: ast.stmt) -> bool:
    """Building or running the script's argparse parser: that becomes the config, never module-level code."""
    return any(dotted(c.func).split(".")[-1] in ("ArgumentParser", "parse_args", "parse_known_args", "add_argument",
                                                   "add_argument_group") for c in calls_in(stmt))


def _has_rng(stmt: ast.stmt) -> bool:
    return any(dotted(c.func).split(".")[-1] in _RNG for c in calls_in(stmt))


def _find_eval(chunks: list[Chunk], functions, consumed: set[str], train: LoopInfo,
               calls: dict[str, int]) -> tuple[LoopInfo | None, list[Chunk]]:
    for i, chunk in enumerate(chunks):
        stmt = chunk.stmt
        value = stmt.value if isinstance(stmt, (ast.Expr, ast.Assign)) else None
        if isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id in functions:
            fn = functions[value.func.id]
            if fn is train.fn or _has_backward(fn) or calls.get(fn.name, 0) > 1:
                # called more than once (`check_accuracy(train_loader, model)` then `(test_loader, model)`): one call
                # cannot become the loop of a stage while the others still call it; all stay code, the function kept
                continue
            loop = _eval_loop_of(fn)
            if loop is not None:
                consumed.add(fn.name)
                return _loop_in_function(fn, loop, stmt, value), chunks[:i] + chunks[i + 1:]
        inline = [stmt] if isinstance(stmt, ast.For) else [s for s in stmt.body if isinstance(s, ast.For)] if isinstance(stmt, ast.With) else []
        if inline and not _has_backward(inline[0]):
            loop = inline[0]
            pre = [c for c in chunks[:i]]
            if isinstance(stmt, ast.With):
                split = _split_at(stmt.body, loop)
                pre += [Chunk(s) for s in split[0]]
                post = [Chunk(s) for s in split[2]] + chunks[i + 1:]
            else:
                post = chunks[i + 1:]
            return LoopInfo(loop, None, {}, pre, post, epoch_end=bool(chunks[i + 1:])), []
    return None, chunks


def _find_argparse(tree: ast.Module, functions, driver_body: list[ast.stmt]) -> ArgparseInfo | None:
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call) and dotted(node.value.func).endswith("ArgumentParser"):
            break
    else:
        return None
    parents = _parents(tree)
    scope = _enclosing_function(node, parents)
    body = _body_of(scope or tree)
    parser_names = set(stored_names([node]))
    stmts, parse_target, returns_parse = [], None, False
    for stmt in body:
        if stmt.lineno < node.lineno:
            continue
        mentions = {n.id for n in ast.walk(stmt) if isinstance(n, ast.Name)} & parser_names
        if not mentions:
            continue
        parse_calls = [c for c in calls_in(stmt) if isinstance(c.func, ast.Attribute) and c.func.attr in ("parse_args", "parse_known_args")]
        if parse_calls:
            if isinstance(stmt, ast.Return):
                returns_parse = True
            elif isinstance(stmt, ast.Assign):
                t = stmt.targets[0]
                parse_target = (t.elts[0] if isinstance(t, ast.Tuple) else t).id
            continue
        if isinstance(stmt, (ast.Expr, ast.Assign)):
            stmts.append(stmt)
            parser_names |= set(stored_names([stmt]))
    consumed = [s for s in body if s in stmts or s is node]
    function = None
    if returns_parse and scope is not None:
        function = scope.name
        for stmt in driver_body:
            if isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.Call) and dotted(stmt.value.func) == scope.name:
                parse_target = stmt.targets[0].id
    if parse_target is None:
        return None
    return ArgparseInfo([node] + [s for s in stmts if s is not node], parse_target, consumed, function)
