"""Conversion of values against annotations: what is accepted, and what is refused."""
import enum
from pathlib import Path
from typing import Literal, Optional, Union

import pytest

from runtime.cli.values import ConversionError, convert, type_name


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


@pytest.mark.parametrize("value, ann, raw, expected", [
    ("3", int, None, 3),
    (3, float, None, 3.0),
    ("1e-3", float, None, 0.001),  # PyYAML reads 1e-3 as a string
    ("no", bool, None, False),
    ("TRUE", bool, None, True),
    (0.5, str, "0.50", "0.50"),  # a str parameter gets the text as typed
    (None, Optional[int], "null", None),
    (5, Union[int, str], "5", 5),
    ("auto", Union[int, str], "auto", "auto"),
    ([1, 2], tuple[int, int], None, (1, 2)),
    ([1, "2"], list[float], None, [1.0, 2.0]),
    ({"a": "1"}, dict[str, int], None, {"a": 1}),
    ("x/y", Path, None, Path("x/y")),
    ("relu", Literal["relu", "tanh"], None, "relu"),
    ("BLUE", Color, None, Color.BLUE),
    ("red", Color, None, Color.RED),
])
def test_accepts(value, ann, raw, expected):
    got = convert(value, ann, raw)
    assert got == expected and type(got) is type(expected)


@pytest.mark.parametrize("value, ann", [
    (True, int), (2.5, int), ("x", float), ("maybe", bool), (None, int), ([1, 2, 3], tuple[int, int]),
    ("gelu", Literal["relu", "tanh"]), (3, list[int]), ("green", Color), ({"a": "x"}, dict[str, int]),
])
def test_refuses(value, ann):
    with pytest.raises(ConversionError):
        convert(value, ann)


def test_type_names():
    assert type_name(Optional[int]) == "int | None"
    assert type_name(list[tuple[int, ...]]) == "list[tuple[int, ...]]"
    assert type_name(Literal["a", 1]) == "Literal['a', 1]"


def test_an_int_under_bool_or_int_stays_an_int():
    from runtime.cli.values import convert

    assert convert(0, bool | int) == 0 and type(convert(0, bool | int)) is int
    assert convert(1, bool | int) == 1 and type(convert(1, bool | int)) is int
    assert convert(True, bool | int) is True
    assert convert("true", bool | int) is True
