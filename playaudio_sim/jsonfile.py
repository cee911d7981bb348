"""Reading the simulator's JSON inputs (cdk.out's manifests and templates, scenario files).

One reader for every JSON file, so each way a file can be unreadable is one
message that names the file, what was found and what was expected: missing,
a folder, not UTF-8, empty, not JSON (``NaN`` and ``Infinity`` included, which
Python would accept), or nested deeper than :data:`MAX_DEPTH` (Python's
parser raises ``RecursionError`` near 1,000 levels; below that, the
simulator's own recursive code could). A UTF-8 byte order mark is skipped.

:func:`describe` renders a JSON value for those messages ("the number 5",
"a list", "the string 'welcome'").
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, NoReturn

# Far deeper than any manifest, template or scenario (a CDK template nests about 12 levels).
MAX_DEPTH = 100
_SHOWN = 60  # characters of a string shown in a message


class JsonFileError(ValueError):
    """A JSON file that cannot be read; the message starts with the file's path."""


def read_json(path: Path, what: str) -> Any:
    """The JSON value in ``path``; ``what`` names what the file should be, for the message."""

    def fail(found: str) -> NoReturn:
        raise JsonFileError(f"{path}: {found}; expected {what}")

    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        fail("no such file")
    except IsADirectoryError:
        fail("a folder, not a file")
    except OSError as error:
        fail(f"cannot be read ({error.strerror or error})")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        fail(f"not UTF-8 text (byte 0x{raw[error.start]:02x} at offset {error.start})")
    if not text.strip():
        fail("an empty file")
    try:
        data = json.loads(text, parse_constant=_not_json)
    except RecursionError:
        fail(f"JSON nested more than {MAX_DEPTH} levels deep")
    except ValueError as error:
        fail(f"not JSON ({error})")
    if _deeper_than(data, MAX_DEPTH):
        fail(f"JSON nested more than {MAX_DEPTH} levels deep")
    return data


def describe(value: Any) -> str:
    """A JSON value as a message shows it: its kind, and a scalar's value."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return f"the number {value!r}"
    if isinstance(value, str):
        shown = value if len(value) <= _SHOWN else value[:_SHOWN] + "..."
        return f"the string {shown!r}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _not_json(constant: str) -> Any:
    raise ValueError(f"{constant} is not a JSON value")


def _deeper_than(data: Any, limit: int) -> bool:
    """Whether lists and objects nest more than ``limit`` levels (without recursion)."""
    pending: list[tuple[Any, int]] = [(data, 1)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, dict):
            children: Any = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        if depth > limit:
            return True
        pending.extend((child, depth + 1) for child in children)
    return False
