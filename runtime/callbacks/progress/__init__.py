"""Progress bars: our plain-text default, and Lightning's tqdm and rich bars drawn by those libraries."""
from runtime.callbacks.progress.progress_bar import ProgressBar, get_standard_metrics
from runtime.callbacks.progress.rich_progress import RichProgressBar, RichProgressBarTheme
from runtime.callbacks.progress.text import TextProgressBar
from runtime.callbacks.progress.tqdm_progress import TQDMProgressBar

__all__ = ["ProgressBar", "RichProgressBar", "RichProgressBarTheme", "TQDMProgressBar", "TextProgressBar", "get_standard_metrics"]
