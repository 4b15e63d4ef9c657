"""example_call: a call of a Python function with arguments built from its annotations."""

from __future__ import annotations

from ghosttype.actions.arguments import example_call

SOURCE = """
import re
from typing import IO, Optional, Pattern


class Reader:
    def __init__(self, stream: IO[str]) -> None:
        self.text = stream.read()

    def read_regex(self, regex: Pattern[str]) -> tuple:
        return ()


def validate(regex: Pattern[bytes], data: bytes, message: str = "") -> dict:
    return {}


class Point:
    x: int
    y: "Optional[int]"


def parse_key(reader: Reader, strict: bool = False) -> Optional[str]:
    return None


def distance(points: list[Point], scale: float) -> float:
    return 0.0


def add(a: int, b: int) -> int:
    return a + b


def untyped(a, b):
    return a
"""


def test_a_parameter_of_the_files_own_class_is_built_through_its_constructor():
    assert example_call(SOURCE, "parse_key") == 'parse_key(Reader(io.StringIO("text")))'
    assert example_call(SOURCE, "distance") == "distance([Point(1, 1)], 1.5)"
    assert example_call(SOURCE, "validate") == 'validate(re.compile(b"text"), b"text")'
    assert example_call(SOURCE, "read_regex") == (
        'Reader(io.StringIO("text")).read_regex(re.compile("text"))'
    )


def test_nothing_where_plain_values_do_or_an_annotation_is_missing():
    assert example_call(SOURCE, "add") == ""  # a small model gets plain values right
    assert example_call(SOURCE, "untyped") == ""
    assert example_call(SOURCE, "missing") == ""
    assert example_call("def broken(:", "broken") == ""
