"""String enums that compare equal to their value, as Lightning's flags expect (``"norm" == GradClipAlgorithmType.NORM``)."""
from enum import Enum

__all__ = ["GradClipAlgorithmType", "LightningEnum"]


class LightningEnum(str, Enum):
    """A ``str`` enum that compares case-insensitively with plain strings."""

    @classmethod
    def from_str(cls, value: str, source: str = "key"):
        for member in cls:
            if (source in ("key", "any") and member.name.lower() == value.lower()) or (
                source in ("value", "any") and member.value.lower() == value.lower()
            ):
                return member
        raise ValueError(f"Invalid match: expected one of {[m.name for m in cls]}, but got {value}.")

    def __eq__(self, other: object) -> bool:
        other = other.value if isinstance(other, Enum) else str(other)
        return self.value.lower() == other.lower()

    def __hash__(self) -> int:
        return hash(self.value.lower())


class GradClipAlgorithmType(LightningEnum):
    VALUE = "value"
    NORM = "norm"
