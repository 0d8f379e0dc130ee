"""Build error messages that name the bad value, the allowed ones and the nearest valid name."""
import difflib
from typing import Iterable


def nearest(value: object, allowed: Iterable[str]) -> str | None:
    matches = difflib.get_close_matches(str(value), [str(a) for a in allowed], n=1, cutoff=0.5)
    return matches[0] if matches else None


def invalid_choice(what: str, value: object, allowed: Iterable[str]) -> str:
    allowed = [str(a) for a in allowed]
    msg = f"{what}={value!r} is not supported. Allowed values: {', '.join(repr(a) for a in allowed)}."
    guess = nearest(value, allowed)
    if guess is not None:
        msg += f" Did you mean {guess!r}?"
    return msg
