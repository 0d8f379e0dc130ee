"""RichModelSummary: the ModelSummary table drawn with rich (Lightning's ``callbacks.RichModelSummary``)."""
from typing import Any

from runtime.callbacks.model_summary import ModelSummary, Summary
from runtime.utilities.model_summary.model_summary import get_human_readable_count


class RichModelSummary(ModelSummary):
    """Print the model summary as a rich table when fit starts.

    Args:
        max_depth: deepest layer shown (-1: all, 0: none).
        header_style: the style of the table's header row.
        **summarize_kwargs: passed to the summary, as for :class:`ModelSummary`.

    Example::

        Trainer(callbacks=[RichModelSummary(max_depth=2)])
    """

    def __init__(self, max_depth: int = 1, header_style: str = "bold magenta", **summarize_kwargs: Any) -> None:
        super().__init__(max_depth, **summarize_kwargs)
        self._header_style = header_style

    def summarize(self, summary: Summary) -> None:  # type: ignore[override]
        from rich import get_console
        from rich.table import Table

        console = get_console()
        table = Table(header_style=self._header_style)
        for name, justify in (("", "right"), ("Name", "left"), ("Type", "left"), ("Params", "right"), ("Mode", "left")):
            table.add_column(name, justify=justify, no_wrap=name != "Name")
        for i, (name, kind, n, mode) in enumerate(zip(summary.layer_names, summary.layer_types, summary.param_nums,
                                                     summary.training_modes)):
            table.add_row(str(i), name, kind, get_human_readable_count(n), "train" if mode else "eval")
        if summary.layer_names:
            console.print(table)
        lazy = " (plus uninitialized lazy parameters)" if summary.has_lazy_parameters else ""
        for value, label in ((get_human_readable_count(summary.trainable_parameters), "Trainable params"),
                             (get_human_readable_count(summary.non_trainable_parameters), "Non-trainable params"),
                             (get_human_readable_count(summary.total_parameters), f"Total params{lazy}"),
                             (f"{summary.model_size:,.3f}", "Total estimated model params size (MB)")):
            console.print(f"[bold]{value:<10}[/bold]{label}", highlight=False)
