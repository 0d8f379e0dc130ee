"""``_Loop``: what Lightning's loop objects share, here a read-through view of one trainer."""
from typing import Any

__all__ = ["_Loop"]


class _Loop:
    """A view of ``trainer``'s loops: attributes read (and the few Lightning lets users set, write) the
    trainer's flags and progress record; there is no loop state of its own."""

    def __init__(self, trainer: Any) -> None:
        self.trainer = trainer

    @property
    def restarting(self) -> bool:
        """Whether the current fit continues from a checkpoint taken mid-run."""
        return bool(self.trainer._run.restored_mid_fit)

    def state_dict(self) -> dict[str, Any]:
        return {}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        raise NotImplementedError(
            f"{type(self).__name__} is a view of the trainer's progress: resume with `trainer.fit(model, ckpt_path=...)`,"
            " which restores it from the checkpoint's `loops` entry."
        )
