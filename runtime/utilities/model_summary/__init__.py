"""``ModelSummary`` (the table's data), ``summarize`` and ``get_human_readable_count``, at Lightning's paths."""
from runtime.utilities.model_summary.model_summary import ModelSummary, get_human_readable_count, summarize

__all__ = ["ModelSummary", "get_human_readable_count", "summarize"]
