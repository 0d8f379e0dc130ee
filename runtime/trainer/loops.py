"""The loops: fit, one training epoch, evaluation and prediction, each a plain function.

Read top to bottom, these are the whole control flow of a run. Hardware decisions live in the
strategy and precision plugin; hooks go through ``trainer._hooks``; what must survive a restart is in
``trainer._progress``.
"""
from typing import Any

import torch

from runtime.checkpoint import connector
from runtime.checkpoint.resume import EpochStart, rng_from_checkpoint
from runtime.trainer import data as data_utils
from runtime.trainer.logging import Results
from runtime.trainer.states import RunningStage
from runtime.utilities.exceptions import MisconfigurationException
from runtime.utilities.rank_zero import rank_zero_warn
from runtime.utilities.seed import isolate_rng, restore_rng_states


# ----------------------------------------------------------------------------------------- fit
def run_fit(trainer) -> None:
    hooks = trainer._hooks
    if trainer._val_defined() and trainer.num_sanity_val_steps != 0 and not trainer._restored_mid_fit:
        with isolate_rng():
            run_sanity_check(trainer)

    train_loader = trainer._setup_train_data()
    if trainer._val_defined() and "val" not in trainer._loaders and trainer._val_epoch_due():
        trainer._val_loaders()  # loaded before on_train_start so the progress bar knows the totals
    hooks("on_train_start")
    while not fit_done(trainer):
        if trainer._should_reload_train():
            train_loader = trainer._setup_train_data()
        run_train_epoch(trainer, train_loader)
    hooks("on_train_end")


def fit_done(trainer) -> bool:
    p = trainer._progress
    if trainer.num_training_batches == 0:
        return True
    if trainer.max_steps != -1 and p.optimizer_steps >= trainer.max_steps:
        return True
    if trainer.max_epochs != -1 and p.current_epoch >= trainer.max_epochs:
        return True
    if trainer.should_stop and trainer._can_stop_early():
        return True
    return trainer._max_time_reached()


def run_sanity_check(trainer) -> None:
    hooks = trainer._hooks
    trainer.state.stage = RunningStage.SANITY_CHECKING
    hooks.callbacks("on_sanity_check_start")
    loaders = trainer._val_loaders()
    limits = [
        n if trainer.num_sanity_val_steps == -1 else min(n, trainer.num_sanity_val_steps) for n in trainer.num_val_batches
    ]
    run_evaluation(trainer, RunningStage.SANITY_CHECKING, loaders, limits)
    hooks.callbacks("on_sanity_check_end")
    # what the sanity check logged is not a result of training
    trainer.callback_metrics.clear()
    trainer.progress_bar_metrics.clear()
    trainer.logged_metrics.clear()
    trainer.state.stage = RunningStage.TRAINING


def run_train_epoch(trainer, loader) -> None:
    hooks = trainer._hooks
    module = trainer.lightning_module
    strategy = trainer.strategy
    p = trainer._progress
    trainer.state.stage = RunningStage.TRAINING
    results = trainer._results = trainer._train_results
    results.reset()
    sampler = getattr(loader, "sampler", None)
    if hasattr(sampler, "set_epoch"):
        sampler.set_epoch(p.current_epoch)
    batch_sampler = getattr(loader, "batch_sampler", None)
    if hasattr(getattr(batch_sampler, "sampler", None), "set_epoch") and batch_sampler.sampler is not sampler:
        batch_sampler.sampler.set_epoch(p.current_epoch)
    automatic = module.automatic_optimization
    keep_outputs = hooks.module_overrides("training_epoch_end")
    epoch_outputs: list = []

    hooks("on_train_epoch_start")
    validates = trainer._val_epoch_due() and trainer._val_enabled()  # decided once per epoch
    schedulers = automatic and bool(trainer.lr_scheduler_configs)
    for batch_idx, batch, is_last in epoch_batches(trainer, loader):
        trainer._current_batch = batch
        results.batch_size = None
        batch = strategy.batch_to_device(batch, 0)
        trainer._current_batch = batch
        if hooks("on_train_batch_start", batch, batch_idx) == -1:
            break
        accumulating = automatic and not is_last and (batch_idx + 1) % trainer.accumulate_grad_batches != 0
        if automatic:
            outputs = automatic_step(trainer, batch, batch_idx, accumulating)
        else:
            outputs = manual_step(trainer, batch, batch_idx)
        if keep_outputs:
            epoch_outputs.append(outputs)
        if schedulers and not accumulating:
            update_lr_schedulers(trainer, "step", plateau=False)
            if is_last:
                update_lr_schedulers(trainer, "epoch", plateau=False)
        # counted before the hook, so a checkpoint saved there resumes after this batch
        p.epoch_batch_idx = batch_idx + 1
        p.total_batch_idx += 1
        trainer._pending_step = not accumulating
        hooks("on_train_batch_end", outputs, batch, batch_idx)
        if not accumulating:
            trainer._log_step_metrics()
        if validates and trainer._should_validate(batch_idx, is_last):
            if not accumulating:
                hooks.module("on_validation_model_zero_grad")
            with isolate_rng():  # validating must not change the random streams training draws from
                run_evaluation(trainer, RunningStage.VALIDATING, trainer._val_loaders(), trainer.num_val_batches)
            trainer.state.stage = RunningStage.TRAINING
            trainer._results = results
            if schedulers and not accumulating:
                update_lr_schedulers(trainer, "step", plateau=True)
        if not accumulating:
            p.batches_that_stepped += 1
        trainer._pending_step = False
        if trainer._received_signal or trainer._peer_signals is not None:
            signum = connector.signal_to_act_on(trainer)
            if signum:
                connector.save_on_preemption(trainer, signum)
        if trainer.max_time is not None and trainer._max_time_reached():
            trainer.should_stop = True
        if (trainer.max_steps != -1 and p.optimizer_steps >= trainer.max_steps) or (
            trainer.should_stop and trainer._can_stop_early()
        ):
            break

    p.epoch_done = True
    results.publish_epoch(trainer)
    if keep_outputs:
        out = hooks.module("training_epoch_end", epoch_outputs)
        if out is not None:
            raise MisconfigurationException("`training_epoch_end` must return None; log values with `self.log` instead.")
    # checkpoint and early-stopping callbacks run after the module so they see what it logged
    hooks.callbacks("on_train_epoch_end", monitoring=False)
    hooks.module("on_train_epoch_end")
    trainer._log_epoch_metrics(results)
    hooks.callbacks("on_train_epoch_end", monitoring=True)
    if automatic:
        update_lr_schedulers(trainer, "epoch", plateau=True)
    p.current_epoch += 1
    p.epoch_batch_idx = 0
    p.epoch_done = False


def epoch_batches(trainer, loader):
    """This epoch's ``(batch_idx, batch, is_last)``; after a restore, only the batches not yet trained on,
    drawn with the same order and random streams as the run that was interrupted."""
    p = trainer._progress
    limit = trainer.num_training_batches
    resume, trainer._resume = trainer._resume, None
    if resume is None or "epoch_start" not in resume or p.epoch_batch_idx == 0:
        if resume is not None:  # saved at an epoch boundary: continue the random streams from the save
            restore_rng_states(rng_from_checkpoint(resume["rng"]))
        trainer._epoch_start = EpochStart(loader)
        return data_utils.iterate(iter(loader), limit)
    done = p.epoch_batch_idx
    trainer._epoch_start = EpochStart.restore(loader, resume["epoch_start"])
    if resume.get("loader") is not None and callable(getattr(loader, "load_state_dict", None)):
        loader.load_state_dict(resume["loader"])  # a stateful loader continues where it stood
        batches = data_utils.iterate(iter(loader), limit, start=done)
    else:
        batches = data_utils.iterate(iter(loader), limit)
        for _ in range(done):  # fast-forward: fetch and drop what was already trained on
            next(batches)
    restore_rng_states(rng_from_checkpoint(resume["rng"]))
    return batches


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


def automatic_step(trainer, batch: Any, batch_idx: int, accumulating: bool) -> Any:
    """training_step, zero_grad (first batch of a window), backward; then the optimizer step unless accumulating."""
    hooks = trainer._hooks
    strategy = trainer.strategy
    optimizer = trainer.optimizers[0]
    accumulate = trainer.accumulate_grad_batches
    epoch = trainer._progress.current_epoch
    holder: list = [_NOT_RUN]

    def closure() -> torch.Tensor | None:
        output = trainer._step("training_step", batch, batch_idx)
        if trainer._has_step_end:
            output = hooks.module("training_step_end", output)
        loss = _loss_from(trainer, output)
        holder[0] = _batch_outputs(output, loss)
        if loss is None:
            trainer._warn_once("`training_step` returned None: this batch is skipped (no backward, no update).")
        if batch_idx % accumulate == 0:
            hooks("on_before_zero_grad", optimizer)
            hooks.module("optimizer_zero_grad", epoch, batch_idx, optimizer)
        if loss is not None:
            strategy.backward(loss / accumulate if accumulate > 1 else loss, optimizer)
        return loss

    if accumulating:
        with strategy.no_sync():  # no gradient all-reduce on micro-batches that do not step
            closure()
        return holder[0]
    hooks.module("optimizer_step", epoch, batch_idx, trainer._lightning_optimizers[0], closure)
    if holder[0] is _NOT_RUN:
        raise MisconfigurationException(
            "The training step did not run: `optimizer_step` must call the closure it receives, usually through "
            "`optimizer.step(closure=optimizer_closure)` (or call `optimizer_closure()` yourself)."
        )
    return holder[0]


def manual_step(trainer, batch: Any, batch_idx: int) -> Any:
    extra = (0,) if trainer._legacy_optimizer_idx else ()
    output = trainer._step("training_step", batch, batch_idx, *extra)
    if trainer._has_step_end:
        output = trainer._hooks.module("training_step_end", output)
    if output is None:
        return {}
    if isinstance(output, torch.Tensor):
        return {"loss": output.detach()}
    return _batch_outputs(output, None)


def update_lr_schedulers(trainer, interval: str, plateau: bool) -> None:
    p = trainer._progress
    for config in trainer.lr_scheduler_configs:
        if config.reduce_on_plateau != plateau or config.interval != interval:
            continue
        index = (p.batches_that_stepped if interval == "step" else p.current_epoch) + 1
        if index % config.frequency:
            continue
        metric = None
        if config.reduce_on_plateau:
            metric = trainer.callback_metrics.get(config.monitor)
            if metric is None:
                available = sorted(trainer.callback_metrics)
                if config.strict:
                    raise MisconfigurationException(
                        f"ReduceLROnPlateau is conditioned on metric {config.monitor!r}, which was not logged. "
                        f"Logged metrics: {available}. Set the scheduler's `monitor` to one of them."
                    )
                rank_zero_warn(f"ReduceLROnPlateau metric {config.monitor!r} not found ({available}); the scheduler is not stepped.")
                continue
        trainer._hooks.module("lr_scheduler_step", config.scheduler, metric)


# ----------------------------------------------------------------------------------------- evaluation
def run_evaluation(trainer, stage: RunningStage, loaders: list, limits: list) -> list[dict[str, float]]:
    """One pass over the validation or test loaders; returns the epoch metrics per loader."""
    hooks = trainer._hooks
    strategy = trainer.strategy
    prefix = "test" if stage == RunningStage.TESTING else "validation"
    trainer.state.stage = stage
    results = trainer._results = Results(training=False)
    multi = len(loaders) > 1
    keep_outputs = hooks.module_overrides(f"{prefix}_epoch_end")
    has_step_end = hooks.module_overrides(f"{prefix}_step_end")
    all_outputs: list[list] = [[] for _ in loaders]
    per_loader: list[dict] = []
    seen = [0] * len(loaders)  # batches per loader: the step of eval step metrics, as in Lightning

    with trainer._eval_grad_context():
        hooks.module(f"on_{prefix}_model_eval")
        hooks(f"on_{prefix}_start")
        hooks(f"on_{prefix}_epoch_start")
        for dl_idx, (loader, limit) in enumerate(zip(loaders, limits)):
            trainer._dataloader_idx = dl_idx if multi else None
            extra = (dl_idx,) if multi else ()
            for batch_idx, batch, _ in data_utils.iterate(loader, limit):
                trainer._current_batch = batch
                results.batch_size = None
                batch = strategy.batch_to_device(batch, dl_idx)
                trainer._current_batch = batch
                hooks(f"on_{prefix}_batch_start", batch, batch_idx, *extra)
                output = trainer._step(f"{prefix}_step", batch, batch_idx, *extra)
                if has_step_end:
                    output = hooks.module(f"{prefix}_step_end", output)
                if keep_outputs:
                    all_outputs[dl_idx].append(output)
                hooks(f"on_{prefix}_batch_end", output, batch, batch_idx, *extra)
                if results.step_logged:
                    if stage != RunningStage.SANITY_CHECKING:
                        trainer._send_to_loggers(results.step_logged, step=seen[dl_idx])
                    results.step_logged.clear()
                seen[dl_idx] += 1
        trainer._dataloader_idx = None
        results.publish_epoch(trainer)
        if keep_outputs:
            hooks.module(f"{prefix}_epoch_end", all_outputs[0] if not multi else all_outputs)
        hooks(f"on_{prefix}_epoch_end")
        logged = results.epoch_end(trainer)
        if stage != RunningStage.SANITY_CHECKING:
            trainer._send_to_loggers(logged)
            for dl_idx in range(len(loaders)):
                suffix = f"/dataloader_idx_{dl_idx}"
                own = {k: v for k, v in logged.items() if not multi or k.endswith(suffix) or "/dataloader_idx_" not in k}
                per_loader.append({k: v.item() for k, v in own.items()})
        hooks(f"on_{prefix}_end")
        hooks.module(f"on_{prefix}_model_train")
    return per_loader


# ----------------------------------------------------------------------------------------- predict
def run_predict(trainer, loaders: list, limits: list, return_predictions: bool) -> list | None:
    hooks = trainer._hooks
    strategy = trainer.strategy
    trainer.state.stage = RunningStage.PREDICTING
    multi = len(loaders) > 1
    predictions: list[list] = [[] for _ in loaders]
    with trainer._eval_grad_context():
        hooks.module("on_predict_model_eval")
        hooks("on_predict_start")
        hooks("on_predict_epoch_start")
        for dl_idx, (loader, limit) in enumerate(zip(loaders, limits)):
            extra = (dl_idx,) if multi else ()
            for batch_idx, batch, _ in data_utils.iterate(loader, limit):
                batch = strategy.batch_to_device(batch, dl_idx)
                hooks("on_predict_batch_start", batch, batch_idx, *extra)
                output = trainer._step("predict_step", batch, batch_idx, *extra)
                if return_predictions:
                    predictions[dl_idx].append(output)
                hooks("on_predict_batch_end", output, batch, batch_idx, *extra)
        hooks("on_predict_epoch_end")
        hooks("on_predict_end")
    if not return_predictions:
        return None
    return predictions[0] if not multi else predictions
