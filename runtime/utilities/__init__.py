"""Small helpers shared across the runtime."""
from runtime.utilities.exceptions import MisconfigurationException
from runtime.utilities.rank_zero import rank_zero_info, rank_zero_only, rank_zero_warn
from runtime.utilities.seed import seed_everything

__all__ = ["MisconfigurationException", "rank_zero_info", "rank_zero_only", "rank_zero_warn", "seed_everything"]
