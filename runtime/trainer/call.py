"""One door for every hook: callbacks, the LightningModule and the LightningDataModule.

The dispatcher remembers which objects override which hook, so a hook nobody overrides costs one dict
lookup per call (nothing at all where the loops looked it up once with ``resolve``), and it records the
name of the hook running so ``self.log`` can check where it is.
"""
import inspect
from functools import cached_property, partial
from typing import Any, Callable
from unittest.mock import NonCallableMock

from runtime.callbacks.callback import Callback
from runtime.callbacks.checkpoint import Checkpoint
from runtime.callbacks.early_stopping import EarlyStopping
from runtime.core.datamodule import LightningDataModule
from runtime.core.module import LightningModule

# Hooks whose base implementation does nothing (or returns its input): skipped unless overridden.
_MODULE_NO_OPS = frozenset(
    name
    for base in LightningModule.__mro__
    if base.__module__ == "runtime.core.hooks"
    for name, fn in vars(base).items()
    if callable(fn) and not name.startswith("_")
) - {
    "on_validation_model_zero_grad", "on_validation_model_eval", "on_validation_model_train",
    "on_test_model_eval", "on_test_model_train", "on_predict_model_eval", "on_predict_model_train",
    "train_dataloader", "val_dataloader", "test_dataloader", "predict_dataloader", "transfer_batch_to_device",
    "on_before_batch_transfer", "on_after_batch_transfer",  # identity, but their result is the batch
}
# the module hooks of every automatic training step whose base body is a single call (see plain_step_hooks)
_PLAIN_STEP_HOOKS = ("backward", "optimizer_step", "optimizer_zero_grad")
_BASES = {"callback": Callback, "module": LightningModule, "datamodule": LightningDataModule}


def hook_differs(name: str, obj: Any, base: type | None = None) -> bool:
    """Whether calling ``obj.name`` may do something ``base``'s ``name`` does not: its class or the instance
    replaces it, or the object makes its methods up (a ``Mock(spec=Callback)``: Lightning calls every hook, so
    only a hook that is provably the base's no-op may be skipped). ``obj.name = None`` switches a hook off.

    The dispatcher's question, not Lightning's ``utilities.model_helpers.is_overridden`` ("did the user write
    their own?"): there a ``Mock(wraps=hook)`` or a ``functools.wraps`` wrapper of the base is no override,
    here it must still be called (it records, or adds work around the base)."""
    if obj is None:
        return False
    if isinstance(obj, NonCallableMock):  # `Mock(spec=Callback)` stands for a callback with every hook of its spec
        return callable(getattr(obj, name, None))
    if base is None:
        base = next((b for b in _BASES.values() if isinstance(obj, b)), None)
        if base is None:
            return callable(getattr(obj, name, None))
    fn = getattr(obj, name, None)
    if fn is None:
        return False
    return getattr(fn, "__func__", fn) is not getattr(base, name, None)


# the most positional arguments the loops pass each step: (batch, batch_idx[, dataloader_idx])
_STEP_NAMES = {"training_step": 2, "validation_step": 3, "test_step": 3, "predict_step": 3}


def _declared_args_only(fn: Callable, most: int) -> Callable:
    """``fn`` called with only the positional arguments it declares, as Lightning calls steps:
    ``training_step(self, batch)`` gets no ``batch_idx``, ``validation_step(self, batch, batch_idx)`` no
    ``dataloader_idx``. Decided once, from the signature; a step taking them all (or ``*args``) is ``fn`` itself.
    """
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):  # a builtin or C function: pass everything
        return fn
    if any(p.kind is p.VAR_POSITIONAL for p in params):
        return fn
    n = sum(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) for p in params)
    if n >= most:
        return fn  # takes everything the loops pass: no wrapper, no cost per call

    def trimmed(*args: Any, **kwargs: Any) -> Any:
        return fn(*args[:n], **kwargs)

    trimmed.__wrapped__ = fn  # type: ignore[attr-defined]
    return trimmed


class _Resolved:
    """``hooks.on_before_backward``: the hook resolved (``HookDispatcher.resolve``), None when nobody defines it.

    Found on first read and kept in the instance until ``reset``: on the per-step path, an empty hook costs
    one attribute read."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, hooks: "HookDispatcher | None", owner: type | None = None) -> Any:
        if hooks is None:
            return self
        fn = hooks.__dict__[self.name] = hooks.resolve(self.name)
        return fn


class HookDispatcher:
    """Calls hooks on the trainer's callbacks, module and datamodule, in Lightning's order."""

    # hooks of every training step, as attributes (see _Resolved)
    on_before_zero_grad = _Resolved()
    on_before_backward = _Resolved()
    on_after_backward = _Resolved()
    on_before_optimizer_step = _Resolved()

    def __init__(self, trainer) -> None:
        self.trainer = trainer
        self._callbacks: dict[tuple[str, Any], list[Callable]] = {}
        self._modules: dict[str, Callable | None] = {}
        self._overrides: dict[str, bool] = {}
        self._resolved: dict[str, Callable | None] = {}
        self.current_fx: str | None = None
        self._profiler = None

    def _profiled(self, fn: Callable, label: str) -> Callable:
        """``fn`` timed under ``label`` when a profiler records; ``fn`` itself otherwise (no cost per call)."""
        prof = self._profiler
        if prof is None:
            return fn

        def timed(*args: Any, **kwargs: Any) -> Any:
            with prof.profile(label):
                return fn(*args, **kwargs)

        return timed

    def reset(self) -> None:
        """Forget cached lookups; call after the callbacks, module or datamodule change."""
        self._callbacks.clear()
        self._modules.clear()
        self._overrides.clear()
        for name in [*self._resolved, "clips_gradients", "plain_step_hooks"]:
            self.__dict__.pop(name, None)
        self._resolved.clear()
        from runtime.profilers import is_active

        profiler = getattr(self.trainer, "profiler", None)
        self._profiler = profiler if is_active(profiler) else None

    # -- callbacks
    def callbacks(self, name: str, *args: Any, monitoring: bool | None = None, **kwargs: Any) -> None:
        """Run ``name`` on each callback that overrides it; ``monitoring`` selects checkpoint/early-stop ones."""
        fns = self._callbacks.get((name, monitoring))
        if fns is None:
            fns = self._callback_fns(name, monitoring)
        if not fns:
            return
        trainer = self.trainer
        module = trainer.lightning_module
        prev = self.current_fx
        self.current_fx = name
        try:
            for fn in fns:
                fn(trainer, module, *args, **kwargs)
        finally:
            self.current_fx = prev

    def _callback_fns(self, name: str, monitoring: bool | None) -> list[Callable]:
        fns = self._callbacks[(name, monitoring)] = [
            self._profiled(getattr(cb, name), f"[Callback]{cb.state_key}.{name}")
            for cb in self.trainer.callbacks
            if hook_differs(name, cb, Callback) and (monitoring is None or _is_monitoring(cb) == monitoring)
        ]
        return fns

    # -- module
    def module(self, name: str, *args: Any, **kwargs: Any) -> Any:
        """Run the LightningModule's ``name`` (skipped when it is a no-op nobody overrides)."""
        try:
            fn = self._modules[name]
        except KeyError:
            fn = self._module_fn(name)
        if fn is None:
            return None
        prev = self.current_fx
        self.current_fx = name
        try:
            return fn(*args, **kwargs) if kwargs else fn(*args)  # (no keyword dict to build on the per-step path)
        finally:
            self.current_fx = prev

    def _module_fn(self, name: str) -> Callable | None:
        module = self.trainer.lightning_module
        fn = None
        if name not in _MODULE_NO_OPS or hook_differs(name, module, LightningModule):
            fn = getattr(module, name, None)
        if fn is not None:
            if name in _STEP_NAMES:
                fn = _declared_args_only(fn, _STEP_NAMES[name])
            fn = self._profiled(fn, f"[LightningModule]{type(module).__name__}.{name}")
        self._modules[name] = fn
        return fn

    @cached_property
    def clips_gradients(self) -> bool:
        """The module overrides ``configure_gradient_clipping`` or ``clip_gradients`` (found once, until ``reset``)."""
        return self.module_overrides("configure_gradient_clipping") or self.module_overrides("clip_gradients")

    @cached_property
    def plain_step_hooks(self) -> bool:
        """The module keeps the base ``backward``, ``optimizer_step`` and ``optimizer_zero_grad`` (each one call:
        ``loss.backward()``, ``optimizer.step(closure=...)``, ``optimizer.zero_grad()``) and no profiler times hooks:
        then the training step makes those calls itself, with no hook frame between (found once, until ``reset``)."""
        return self._profiler is None and not any(map(self.module_overrides, _PLAIN_STEP_HOOKS))

    def module_overrides(self, name: str) -> bool:
        found = self._overrides.get(name)
        if found is None:
            found = self._overrides[name] = hook_differs(name, self.trainer.lightning_module, LightningModule)
        return found

    # -- datamodule
    def datamodule(self, name: str, *args: Any, **kwargs: Any) -> Any:
        dm = self.trainer.datamodule
        if dm is None or not hook_differs(name, dm, LightningDataModule):
            return None
        prev = self.current_fx
        self.current_fx = name
        try:
            return self._profiled(getattr(dm, name), f"[LightningDataModule]{type(dm).__name__}.{name}")(*args, **kwargs)
        finally:
            self.current_fx = prev

    def loader_hook(self, owner: Any, name: str) -> Any:
        """A ``*_dataloader`` hook of ``owner`` (the datamodule or the module the trainer chose as the source)."""
        prev = self.current_fx
        self.current_fx = name
        try:
            return getattr(owner, name)()
        finally:
            self.current_fx = prev

    def __call__(self, name: str, *args: Any, **kwargs: Any) -> Any:
        """Callbacks first, then the module: Lightning's order for hooks both define."""
        fn = self._resolved.get(name, False)
        if fn is False:
            fn = self.resolve(name)
        return None if fn is None else fn(*args, **kwargs)

    def resolve(self, name: str) -> Callable | None:
        """``name`` on the callbacks, then on the module, as one callable; None when nobody overrides it.

        Kept until ``reset``. The training loop resolves its per-batch hooks once per epoch, so there a
        hook nobody defines costs nothing."""
        fn = self._resolved.get(name, False)
        if fn is False:
            on_callbacks, on_module = bool(self._callback_fns(name, None)), self._module_fn(name) is not None
            if on_callbacks and on_module:
                fn = partial(self._callbacks_then_module, name)
            elif on_callbacks or on_module:
                fn = partial(self.callbacks if on_callbacks else self.module, name)
            else:
                fn = None
            self._resolved[name] = fn
        return fn

    def _callbacks_then_module(self, name: str, *args: Any, **kwargs: Any) -> Any:
        self.callbacks(name, *args, **kwargs)
        return self.module(name, *args, **kwargs)


def _is_monitoring(callback: Callback) -> bool:
    """Checkpoint and early-stopping callbacks (and their subclasses) run their epoch-end hook after the module's."""
    return isinstance(callback, (Checkpoint, EarlyStopping))
