"""ModelSummary: a table of the model's layers and parameter counts, printed when fit starts."""
from typing import Any

from torch import nn

from runtime.callbacks.callback import Callback
from runtime.utilities.model_summary.model_summary import Summary, get_human_readable_count, summarize  # noqa: F401 (public here too)


class ModelSummary(Callback):
    """Print the layers (to ``max_depth``), parameter counts and size of the model when fit starts.

    Example::

        Trainer(callbacks=[ModelSummary(max_depth=2)])  # replaces the default depth-1 summary
    """

    def __init__(self, max_depth: int = 1, **summarize_kwargs: Any) -> None:
        if not isinstance(max_depth, int) or max_depth < -1:
            raise ValueError(f"ModelSummary(max_depth={max_depth!r}): must be an int >= -1 (-1: every layer, 0: off)")
        self._max_depth = max_depth
        self._summarize_kwargs = summarize_kwargs

    def on_fit_start(self, trainer: Any, pl_module: nn.Module) -> None:
        if not self._max_depth:
            return
        if not trainer.is_global_zero:
            return
        self.summarize(summarize(pl_module, max_depth=self._max_depth))

    @staticmethod
    def summarize(summary: Summary) -> None:
        """Print ``summary``; override to send it elsewhere."""
        print(str(summary), flush=True)
