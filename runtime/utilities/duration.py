"""Durations as users write them: "DD:HH:MM:SS", a timedelta, or a dict such as {"hours": 2}."""
import re
from datetime import timedelta
from typing import Any

from runtime.utilities.exceptions import MisconfigurationException


def parse_duration(value: Any, what: str) -> float | None:
    """Seconds in ``value`` (None stays None); ``what`` names the argument in the error message."""
    if value is None:
        return None
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, dict):
        try:
            return timedelta(**value).total_seconds()
        except TypeError as err:
            raise MisconfigurationException(f"{what}={value!r}: use keys days, hours, minutes, seconds ({err}).") from None
    if isinstance(value, str):
        m = re.fullmatch(r"(\d+):(\d{1,2}):(\d{1,2}):(\d{1,2})", value.strip())
        if not m:
            raise MisconfigurationException(
                f'{what}={value!r} is not a duration: expected a string in the format DD:HH:MM:SS, e.g. "00:12:00:00" for 12 hours.'
            )
        d, h, mi, s = (int(g) for g in m.groups())
        return timedelta(days=d, hours=h, minutes=mi, seconds=s).total_seconds()
    raise MisconfigurationException(f"{what}={value!r} must be a 'DD:HH:MM:SS' string, a timedelta or a dict.")
