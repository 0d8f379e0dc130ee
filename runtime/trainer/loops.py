"""The loops: fit, one training epoch, evaluation and prediction, each a plain function; and the rules
they follow (when to stop, when a step ends an accumulation window), each written once.

Read top to bottom, these are the whole control flow of a run. Each takes the trainer (flags, hooks,
strategy) and the ``Run`` of the current call. Hardware decisions live in the strategy and precision
plugin; hooks go through ``trainer._hooks``; what must survive a restart is in ``trainer._progress``.
"""
import time
from typing import Any

import torch

from runtime.trainer import data
from runtime.trainer import preemption
from runtime.trainer.logging import Results, log_step_metrics, send_to_loggers
from runtime.trainer.resume import EpochStart, rng_from_checkpoint
from runtime.trainer.states import RunningStage, TrainerFn
from runtime.utilities.exceptions import MisconfigurationException
from runtime.utilities.model_helpers import is_overridden
from runtime.utilities.rank_zero import rank_zero_warn
from runtime.utilities.seed import isolate_rng, restore_rng_states


# ----------------------------------------------------------------------------------------- rules
def stop_requested(trainer) -> bool:
    """A stop was asked for (``trainer.should_stop``: a callback, or max_time) and min_epochs / min_steps allow it."""
    if not trainer.should_stop:
        return False
    flags, p = trainer.flags, trainer._progress
    return (flags.min_epochs is None or p.current_epoch >= flags.min_epochs) and (
        flags.min_steps is None or p.optimizer_steps >= flags.min_steps)


def should_stop(trainer, run) -> bool:
    """The stop rule, written once: checked after every training batch and before every epoch."""
    flags = trainer.flags
    if flags.max_steps != -1 and trainer._progress.optimizer_steps >= flags.max_steps:
        return True
    if flags.max_time is not None and max_time_reached(run, flags.max_time):
        trainer.should_stop = True
    return trainer.should_stop and stop_requested(trainer)


def max_time_reached(run, max_time: float) -> bool:
    """``max_time`` has passed: by this process' clock, or with several processes, as the ranks agreed (at a
    step that is the same on all of them; see ``preemption._PeerSignals``)."""
    up = time.monotonic() - run.start_time >= max_time
    peers = run.peer_signals
    if peers is None:
        return up
    peers.time_up_here = peers.time_up_here or up
    return peers.time_up


def fit_done(trainer, run) -> bool:
    """Before each epoch: nothing to train on, the epoch bound reached, or the stop rule."""
    if run.num_training_batches == 0:
        return True
    max_epochs = trainer.flags.max_epochs
    if max_epochs != -1 and trainer._progress.current_epoch >= max_epochs:
        return True
    return should_stop(trainer, run)


def window_ends(batch_idx: int, is_last: bool, accumulate: int, automatic: bool) -> bool:
    """This batch ends an accumulation window: the optimizer steps after it (always in manual optimization)."""
    return accumulate == 1 or is_last or (batch_idx + 1) % accumulate == 0 or not automatic


# ----------------------------------------------------------------------------------------- fit
def run_fit(trainer, run) -> None:
    hooks = trainer._hooks
    if data.val_defined(trainer, run) and trainer.flags.num_sanity_val_steps != 0 and not run.restored_mid_fit:
        with isolate_rng():
            run_sanity_check(trainer, run)

    train_loader = data.train_loader(trainer, run)
    if data.val_defined(trainer, run) and "val" not in run.loaders and data.val_epoch_due(trainer):
        data.val_loaders(trainer, run)  # loaded before on_train_start so the progress bar knows the totals
    run.results = run.train_results  # what on_train_start logs counts in the first epoch
    run.results.reset()
    hooks("on_train_start")
    run.last_val_time = time.monotonic()  # a duration val_check_interval counts training time from here
    accumulators = grad_accumulators(trainer.lightning_module) if trainer.strategy.may_hold_grad_accumulators else []
    try:
        while not fit_done(trainer, run):
            if data.train_reload_due(trainer, run):
                train_loader = data.train_loader(trainer, run)
            run_train_epoch(trainer, run, train_loader)
    finally:
        del accumulators
    hooks("on_train_end")


def grad_accumulators(module) -> list:
    """The autograd nodes that add each parameter's gradient into ``.grad``, held for the fit.

    Autograd holds them weakly: once a step's graph is freed they are destroyed, and the next forward builds
    them again (a hand-written loop keeps them alive by holding the last ``loss``; DDP's reducer holds them
    too). Plain parameters only: a sharded (DTensor) one is left to its strategy."""
    with torch.enable_grad():
        return [p.view_as(p).grad_fn.next_functions[0][0] for p in module.parameters()
                if type(p) is torch.nn.Parameter and p.requires_grad]


def run_sanity_check(trainer, run) -> None:
    hooks = trainer._hooks
    trainer.state.stage = RunningStage.SANITY_CHECKING
    hooks.callbacks("on_sanity_check_start")
    loaders = data.val_loaders(trainer, run)
    steps = trainer.flags.num_sanity_val_steps
    limits = [n if steps == -1 else min(n, steps) for n in run.num_val_batches]
    run_evaluation(trainer, run, RunningStage.SANITY_CHECKING, loaders, limits)
    hooks.callbacks("on_sanity_check_end")
    # what the sanity check logged is not a result of training
    trainer.callback_metrics.clear()
    trainer._progress_bar_metrics.clear()
    trainer.logged_metrics.clear()
    trainer.state.stage = RunningStage.TRAINING


def run_train_epoch(trainer, run, loader) -> None:
    hooks = trainer._hooks
    p = trainer._progress
    results = begin_train_epoch(trainer, run, loader)
    keep_outputs = hooks.module_overrides("training_epoch_end")
    epoch_outputs: list = []

    if p.epoch_batch_idx == 0:  # as Lightning: a fit resumed mid-epoch does not start the epoch again
        hooks("on_epoch_start")  # the 1.x hook, before its 2.x successor (skipped unless someone defines it)
        hooks("on_train_epoch_start")
    validates = data.val_epoch_due(trainer) and data.val_enabled(trainer, run)  # decided once per epoch
    automatic = trainer.lightning_module.automatic_optimization
    accumulate = trainer.flags.accumulate_grad_batches  # read after on_train_epoch_start: a callback may set it there
    # moving a batch: skipped when it changes nothing (CPU, no transfer hook, no dtype cast)
    to_device = None if trainer._transfer_is_noop() else trainer.strategy.batch_to_device
    # ReduceLROnPlateau with interval "step": stepped after every optimizer step, once validation has logged
    plateau_steps = automatic and any(c.reduce_on_plateau and c.interval == "step" for c in trainer.lr_scheduler_configs)
    finished = False  # the loader ran out (not a stop): the epoch is complete
    # the batch hooks, found once: None when nobody defines them, and then the step's outputs are not built
    batch_start, batch_end = hooks.resolve("on_train_batch_start"), hooks.resolve("on_train_batch_end")
    run.keep_step_outputs = keep_outputs or batch_end is not None
    every_batch_steps = accumulate == 1 or not automatic
    for batch_idx, batch, is_last in epoch_batches(trainer, run, loader):
        run.is_last_batch = is_last
        if to_device is not None:
            batch = to_device(batch, 0)
        results.new_batch(batch)
        if batch_start is not None and batch_start(batch, batch_idx) == -1:
            break
        # the optimizer steps after this batch (False on an accumulation window's micro-batches)
        steps = every_batch_steps or window_ends(batch_idx, is_last, accumulate, automatic)
        outputs = train_step(trainer, run, batch, batch_idx, steps, is_last, automatic)
        if keep_outputs:
            epoch_outputs.append(outputs)
        # counted before the hook, so a checkpoint saved there resumes after this batch
        p.epoch_batch_idx = batch_idx + 1
        p.total_batch_idx += 1
        run.pending_step = steps
        if batch_end is not None:
            batch_end(outputs, batch, batch_idx)
        if steps:
            log_step_metrics(trainer, results)
        if validates and data.val_due(trainer, run, batch_idx, is_last, trainer.should_stop and stop_requested(trainer)):
            validate_in_fit(trainer, run, steps)
        if steps:
            if plateau_steps:
                step_schedulers(trainer, "step", plateau=True)
            p.batches_that_stepped += 1
        finished = is_last
        run.pending_step = False
        if run.received_signal or run.peer_signals is not None:
            save_if_preempted(trainer, run)
        if should_stop(trainer, run):
            break

    end_train_epoch(trainer, run, results, epoch_outputs if keep_outputs else None, finished)


def begin_train_epoch(trainer, run, loader) -> Results:
    """The training stage, fresh results, and the samplers told the epoch (so DistributedSampler reshuffles)."""
    epoch = trainer._progress.current_epoch
    trainer.state.stage = RunningStage.TRAINING
    results = run.results = run.train_results  # reset at the end of the last epoch
    run.eval_counts.pop("validate", None)  # as Lightning: the val loop's total counts this epoch's validation batches
    sampler = getattr(loader, "sampler", None)
    if hasattr(sampler, "set_epoch"):
        sampler.set_epoch(epoch)
    batch_sampler = getattr(loader, "batch_sampler", None)
    if hasattr(getattr(batch_sampler, "sampler", None), "set_epoch") and batch_sampler.sampler is not sampler:
        batch_sampler.sampler.set_epoch(epoch)
    return results


def end_train_epoch(trainer, run, results: Results, epoch_outputs: list | None, finished: bool) -> None:
    """The epoch-end hooks and logging. ``finished``: all its batches ran; an epoch cut short (max_steps, a stop)
    is resumed from a checkpoint saved here at its next batch, and does not step ReduceLROnPlateau."""
    hooks = trainer._hooks
    p = trainer._progress
    p.epoch_done = finished
    results.publish_epoch(trainer)
    if epoch_outputs is not None:
        out = hooks.module("training_epoch_end", epoch_outputs)
        if out is not None:
            raise MisconfigurationException("`training_epoch_end` must return None; log values with `self.log` instead.")
    # checkpoint and early-stopping callbacks run after the module so they see what it logged
    hooks.callbacks("on_train_epoch_end", monitoring=False)
    hooks.module("on_train_epoch_end")
    send_to_loggers(trainer, results.epoch_end(), epoch_end=True)
    hooks.callbacks("on_train_epoch_end", monitoring=True)
    hooks("on_epoch_end")  # 1.x
    if finished and trainer.lightning_module.automatic_optimization:
        step_schedulers(trainer, "epoch", plateau=True)
    p.current_epoch += 1
    p.epoch_batch_idx = 0
    p.epoch_done = False


def train_step(trainer, run, batch: Any, batch_idx: int, steps: bool, is_last: bool, automatic: bool) -> Any:
    """One training step: forward, backward and (when ``steps``) the optimizer and the schedulers due; the step's outputs."""
    if not automatic:
        return manual_step(trainer, run, batch, batch_idx)
    outputs = automatic_step(trainer, run, batch, batch_idx, not steps)
    if steps and trainer.lr_scheduler_configs:
        step_schedulers(trainer, "step", plateau=False)
        if is_last:
            step_schedulers(trainer, "epoch", plateau=False)
    return outputs


def validate_in_fit(trainer, run, steps: bool) -> None:
    """Validation between two training batches; it must not change the random streams training draws from."""
    if steps:
        trainer._hooks.module("on_validation_model_zero_grad")
    with isolate_rng():
        run_evaluation(trainer, run, RunningStage.VALIDATING, data.val_loaders(trainer, run), run.num_val_batches)
    run.last_val_time = time.monotonic()  # a duration val_check_interval counts from here


def save_if_preempted(trainer, run) -> None:
    """A stop signal arrived (on this rank or, agreed, on another): save and exit at this step."""
    signum = preemption.signal_to_act_on(run)
    if signum:
        preemption.save_on_preemption(trainer, signum)


def epoch_batches(trainer, run, loader):
    """This epoch's ``(batch_idx, batch, is_last)``; after a restore, only the batches not yet trained on,
    drawn with the same order and random streams as the run that was interrupted."""
    p = trainer._progress
    limit = run.num_training_batches
    resume, run.resume = run.resume, None
    if resume is None or "epoch_start" not in resume or p.epoch_batch_idx == 0:
        if resume is not None:  # saved at an epoch boundary: continue the random streams from the save
            restore_rng_states(rng_from_checkpoint(resume["rng"]))
        run.epoch_start = EpochStart(loader)
        return data.iterate(iter(loader), limit)
    done = p.epoch_batch_idx
    run.epoch_start = EpochStart.restore(loader, resume["epoch_start"])
    if resume.get("loader") is not None and callable(getattr(loader, "load_state_dict", None)):
        loader.load_state_dict(resume["loader"])  # a stateful loader continues where it stood
        batches = data.iterate(iter(loader), limit, start=done)
    else:
        batches = data.iterate(iter(loader), limit)
        for _ in range(done):  # fast-forward: fetch and drop what was already trained on
            next(batches)
    restore_rng_states(rng_from_checkpoint(resume["rng"]))
    return batches


def after_closure(trainer, optimizer) -> None:
    """After backward, before the update (the precision plugin calls it): the before-step hooks and gradient clipping."""
    hooks = trainer._hooks
    if hooks.on_before_optimizer_step is not None:  # None when nobody defines the hook
        hooks.on_before_optimizer_step(optimizer)
    flags = trainer.flags
    clips = hooks.clips_gradients
    if not (clips or flags.gradient_clip_val) or not trainer._lightning_module.automatic_optimization:
        return  # (manual optimization clips where the user says)
    if clips:
        hooks.module("configure_gradient_clipping", optimizer, gradient_clip_val=flags.gradient_clip_val,
                     gradient_clip_algorithm=flags.gradient_clip_algorithm)
    else:
        trainer.strategy.precision_plugin.clip_gradients(optimizer, flags.gradient_clip_val, flags.gradient_clip_algorithm or "norm")


def forward(trainer, name: str, *args: Any) -> Any:
    """``training_step`` / ``validation_step`` / ... through the strategy, under the precision's autocast."""
    strategy = trainer.strategy
    if strategy.precision_plugin.autocasts:
        with strategy.precision_plugin.forward_context():
            return strategy.step(name, *args)
    return strategy.step(name, *args)


def _loss_from(trainer, output: Any) -> torch.Tensor | None:
    if output is None:
        return None
    if isinstance(output, torch.Tensor):
        loss = output
    elif isinstance(output, dict):
        if "loss" not in output:
            raise MisconfigurationException(
                "In automatic optimization, `training_step` must return a Tensor, a dict with a 'loss' key, or None "
                f"(to skip the batch). It returned a dict with keys {sorted(output)}, none of them 'loss'."
            )
        loss = output["loss"]
        if loss is None:
            return None
    else:
        raise MisconfigurationException(
            "In automatic optimization, `training_step` must return a Tensor, a dict with a 'loss' key, or None "
            f"(to skip the batch); it returned {type(output).__name__}: {output!r:.60}"
        )
    if not isinstance(loss, torch.Tensor) or loss.numel() != 1:
        raise MisconfigurationException(
            f"The loss returned by `training_step` must be a one-element tensor, got {type(loss).__name__}"
            + (f" of shape {tuple(loss.shape)}" if isinstance(loss, torch.Tensor) else "")
            + ". Reduce it (e.g. `.mean()`) before returning."
        )
    return loss


def _batch_outputs(output: Any, loss: torch.Tensor | None) -> Any:
    """What ``on_train_batch_end`` receives: a dict with the detached loss and the step's other items."""
    if output is None:
        return None
    if isinstance(output, torch.Tensor):
        return {"loss": output.detach()}
    if isinstance(output, dict):
        out = dict(output)
        if isinstance(out.get("loss"), torch.Tensor):
            out["loss"] = out["loss"].detach()
        return out
    return output


_NOT_RUN = object()


def automatic_step(trainer, run, batch: Any, batch_idx: int, accumulating: bool) -> Any:
    """training_step, zero_grad (first batch of a window), backward; then the optimizer step unless accumulating."""
    hooks = trainer._hooks
    strategy = trainer.strategy
    optimizer = trainer.optimizers[0]
    accumulate = trainer.flags.accumulate_grad_batches
    epoch = trainer._progress.current_epoch
    plain = hooks.plain_step_hooks  # the module keeps the base optimizer_step / optimizer_zero_grad: call their bodies
    holder: list = [_NOT_RUN]

    def closure() -> torch.Tensor | None:
        output = forward(trainer, "training_step", batch, batch_idx)
        if run.has_step_end:
            output = hooks.module("training_step_end", output)
        loss = output if type(output) is torch.Tensor and output.ndim == 0 else _loss_from(trainer, output)
        holder[0] = _batch_outputs(output, loss) if run.keep_step_outputs else None
        if loss is None:
            trainer._warn_once("`training_step` returned None: this batch is skipped (no backward, no update).")
        if batch_idx % accumulate == 0:
            if hooks.on_before_zero_grad is not None:  # None when nobody defines the hook
                hooks.on_before_zero_grad(optimizer)
            if plain:
                optimizer.zero_grad()
            else:
                hooks.module("optimizer_zero_grad", epoch, batch_idx, optimizer)
        if loss is not None:
            strategy.backward(loss / accumulate if accumulate > 1 else loss, optimizer)
        return loss

    if accumulating:
        with strategy.no_sync():  # no gradient all-reduce on micro-batches that do not step
            closure()
        return holder[0]
    if plain:
        trainer._lightning_optimizers[0].step(closure=closure)
    else:
        hooks.module("optimizer_step", epoch, batch_idx, trainer._lightning_optimizers[0], closure)
    if holder[0] is _NOT_RUN:
        raise MisconfigurationException(
            "The training step did not run: `optimizer_step` must call the closure it receives, usually through "
            "`optimizer.step(closure=optimizer_closure)` (or call `optimizer_closure()` yourself)."
        )
    return holder[0]


def manual_step(trainer, run, batch: Any, batch_idx: int) -> Any:
    extra = (0,) if run.legacy_optimizer_idx else ()
    output = forward(trainer, "training_step", batch, batch_idx, *extra)
    if run.has_step_end:
        output = trainer._hooks.module("training_step_end", output)
    if output is None:
        return {}
    if isinstance(output, torch.Tensor):
        return {"loss": output.detach()}
    return _batch_outputs(output, None)


def step_schedulers(trainer, interval: str, plateau: bool) -> None:
    """Step the schedulers of ``interval`` ("step" / "epoch") that are due by their frequency (plateau ones with their metric)."""
    p = trainer._progress
    for config in trainer.lr_scheduler_configs:
        if config.reduce_on_plateau != plateau or config.interval != interval:
            continue
        index = (p.batches_that_stepped if interval == "step" else p.current_epoch) + 1
        if index % config.frequency:
            continue
        metric = None
        if config.reduce_on_plateau:
            metric = trainer.fit_loop.epoch_loop._get_monitor_value(config.monitor)
            if metric is None:
                available = sorted(trainer.callback_metrics)
                if config.strict:
                    raise MisconfigurationException(
                        f"ReduceLROnPlateau conditioned on metric {config.monitor} which is not available. Available "
                        f"metrics are: {available}. Log it with `self.log({config.monitor!r}, ...)`, or set the `monitor` "
                        "key of the lr scheduler dict to one of them."
                    )
                rank_zero_warn(f"ReduceLROnPlateau conditioned on metric {config.monitor} which is not available but "
                               f"strict is set to `False` (available: {available}). Skipping learning rate update.",
                               category=RuntimeWarning)
                continue
        trainer._hooks.module("lr_scheduler_step", config.scheduler, metric)


# ----------------------------------------------------------------------------------------- evaluation
def eval_grad_context(trainer):
    # validation inside fit uses no_grad: inference tensors it creates could not be used by training later
    if trainer.flags.inference_mode and trainer.state.fn != TrainerFn.FITTING and trainer.strategy.supports_inference_mode:
        return torch.inference_mode()
    return torch.no_grad()


def run_evaluation(trainer, run, stage: RunningStage, loaders: list, limits: list) -> list[dict[str, float]]:
    """One pass over the validation or test loaders; returns the epoch metrics per loader.

    The trainer's stage and the run's results are those of the caller again when it returns."""
    outer = trainer.state.stage, run.results
    try:
        return _evaluate(trainer, run, stage, loaders, limits)
    finally:
        trainer.state.stage, run.results = outer


def _evaluate(trainer, run, stage: RunningStage, loaders: list, limits: list) -> list[dict[str, float]]:
    hooks = trainer._hooks
    strategy = trainer.strategy
    prefix = "test" if stage == RunningStage.TESTING else "validation"
    trainer.state.stage = stage
    results = run.results = Results(training=False)
    multi = len(loaders) > 1
    keep_outputs = hooks.module_overrides(f"{prefix}_epoch_end")
    has_step_end = hooks.module_overrides(f"{prefix}_step_end")
    all_outputs: list[list] = [[] for _ in loaders]
    per_loader: list[dict] = []
    seen = [0] * len(loaders)  # batches per loader
    log_steps = eval_log_steps(run, stage, loaders)  # the step of eval step metrics, as in Lightning
    counts = None
    if stage != RunningStage.SANITY_CHECKING:  # what trainer.validate_loop.batch_progress reads
        counts = run.eval_counts.setdefault(stage.value, {"done": 0, "seen": seen, "closed": False})
        counts["seen"], counts["closed"] = seen, False

    with eval_grad_context(trainer):
        modes = module_modes(trainer.lightning_module)
        hooks.module(f"on_{prefix}_model_eval")
        hooks(f"on_{prefix}_start")
        hooks("on_epoch_start")  # 1.x
        hooks(f"on_{prefix}_epoch_start")
        for dl_idx, (loader, limit) in enumerate(zip(loaders, limits)):
            results.dataloader_idx = dl_idx if multi else None
            extra = (dl_idx,) if multi else ()
            for batch_idx, batch, _ in data.iterate(loader, limit):
                batch = strategy.batch_to_device(batch, dl_idx)
                results.new_batch(batch)
                hooks(f"on_{prefix}_batch_start", batch, batch_idx, *extra)
                output = forward(trainer, f"{prefix}_step", batch, batch_idx, *extra)
                if has_step_end:
                    output = hooks.module(f"{prefix}_step_end", output)
                if keep_outputs:
                    all_outputs[dl_idx].append(output)
                hooks(f"on_{prefix}_batch_end", output, batch, batch_idx, *extra)
                if log_steps is not None:
                    if results.step_logged:
                        send_to_loggers(trainer, results.step_logged, step=log_steps[dl_idx])
                    log_steps[dl_idx] += 1
                results.step_logged.clear()
                seen[dl_idx] += 1
        if counts is not None:
            counts["done"] += sum(seen)
            counts["closed"] = True
        results.publish_epoch(trainer)
        if keep_outputs:
            hooks.module(f"{prefix}_epoch_end", all_outputs[0] if not multi else all_outputs)
        hooks(f"on_{prefix}_epoch_end")
        hooks("on_epoch_end")  # 1.x
        if stage != RunningStage.SANITY_CHECKING:
            # each loader's epoch values, and what the epoch-end hooks logged in all of them
            common = results.epoch_logged(None)
            for dl_idx in range(len(loaders)):
                own = {**results.epoch_logged(dl_idx), **common} if multi else common
                per_loader.append({k: v.item() for k, v in own.items()})
            send_to_loggers(trainer, results.epoch_logged())
        results.reset()
        hooks(f"on_{prefix}_end")
        back_to_train_mode(trainer, f"on_{prefix}_model_train", modes)
    return per_loader


def module_modes(module) -> dict[str, bool]:
    """The ``training`` flag of every submodule, to put back after an evaluation (a frozen part stays in eval)."""
    return {name: m.training for name, m in module.named_modules()}


def back_to_train_mode(trainer, hook: str, modes: dict[str, bool]) -> None:
    """After evaluation: the user's ``on_*_model_train`` when they wrote one, else each submodule's mode as it was."""
    module = trainer.lightning_module
    if is_overridden(hook, module):
        trainer._hooks.module(hook)
    else:
        restore_modes(module, modes)


def restore_modes(module, modes: dict[str, bool]) -> None:
    for name, m in module.named_modules():
        if name in modes:
            m.training = modes[name]


def eval_log_steps(run, stage: RunningStage, loaders: list) -> list[int] | None:
    """Per loader, the step the next evaluation batch's values are logged at: counted on through the passes of
    one call (fit's validations) until the loaders are reloaded; None in the sanity check, which logs nothing."""
    if stage == RunningStage.SANITY_CHECKING:
        return None
    known = run.eval_log_steps.get(stage.value)
    if known is None or known[0] is not loaders:
        known = run.eval_log_steps[stage.value] = (loaders, [0] * len(loaders))
    return known[1]


# ----------------------------------------------------------------------------------------- predict
def run_predict(trainer, run, loaders: list, limits: list) -> list | None:
    return_predictions = run.return_predictions
    hooks = trainer._hooks
    strategy = trainer.strategy
    trainer.state.stage = RunningStage.PREDICTING
    multi = len(loaders) > 1
    predictions: list[list] = [[] for _ in loaders]
    with eval_grad_context(trainer):
        modes = module_modes(trainer.lightning_module)
        hooks.module("on_predict_model_eval")
        hooks("on_predict_start")
        hooks("on_predict_epoch_start")
        for dl_idx, (loader, limit) in enumerate(zip(loaders, limits)):
            extra = (dl_idx,) if multi else ()
            for batch_idx, batch, _ in data.iterate(loader, limit):
                batch = strategy.batch_to_device(batch, dl_idx)
                hooks("on_predict_batch_start", batch, batch_idx, *extra)
                output = forward(trainer, "predict_step", batch, batch_idx, *extra)
                if return_predictions:
                    predictions[dl_idx].append(output)
                hooks("on_predict_batch_end", output, batch, batch_idx, *extra)
        hooks("on_predict_epoch_end")
        hooks("on_predict_end")
        restore_modes(trainer.lightning_module, modes)  # as Lightning 2.x: no on_predict_model_train call
    if not return_predictions:
        return None
    run.predictions = predictions[0] if not multi else predictions
    return run.predictions
