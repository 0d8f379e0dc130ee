"""Warning categories users filter on, as Lightning names them."""
import warnings

from runtime.utilities.rank_zero import LightningDeprecationWarning

__all__ = ["LightningDeprecationWarning", "PossibleUserWarning", "disable_possible_user_warnings"]


class PossibleUserWarning(UserWarning):
    """A warning that is often a mistake but sometimes intended (few workers, a tiny log interval)."""


def disable_possible_user_warnings(module: str = "") -> None:
    """Silence :class:`PossibleUserWarning` (from ``module`` only, when given)."""
    warnings.filterwarnings("ignore", category=PossibleUserWarning, module=module)
