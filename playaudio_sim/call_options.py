"""What a simulated call is asked to do: the caller's keys and updates, the numbers, the bounds.

Parsed from ``--keys``/``--update`` and scenario files (:func:`parse_keys`,
:func:`parse_update`, :func:`check_phone_number`) into :class:`CallOptions`,
which :class:`.engine.Call` runs; kept apart from the engine so the CLI and
scenarios can check their input without loading the call machinery.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from constructs_pkg.chime_facts import E164_NUMBER
from constructs_pkg.runtime.actions import DTMF_DIGITS

from .buckets import ObjectStore
from .readings import Readings
from .transcript import fmt_time

MAX_UPDATE_ARGUMENTS = 20  # update-sip-call: Arguments "Can contain 0 to 20 key-value pairs"
MAX_INVOCATIONS = 1000
DEFAULT_CALLER_PATIENCE_MS = 10_000
DEFAULT_MAX_CALL_MS = 600_000
CALLER_NUMBER = "+12065550199"
SMA_NUMBER = "+12065550100"


@dataclass(frozen=True)
class KeyPress:
    """The caller presses ``digit`` at ``at_ms`` into the call."""

    digit: str
    at_ms: float


@dataclass(frozen=True)
class CallUpdate:
    """UpdateSipMediaApplicationCall with ``arguments``, ``at_ms`` into the call."""

    at_ms: float
    arguments: dict[str, str]

    def __post_init__(self) -> None:
        arguments = self.arguments
        if not (
            isinstance(arguments, dict)
            and len(arguments) <= MAX_UPDATE_ARGUMENTS
            and all(isinstance(k, str) and isinstance(v, str) for k, v in arguments.items())
        ):
            raise ValueError(
                f"the arguments of the update at {fmt_time(self.at_ms)} are {arguments!r}; "
                f"expected an object of 0 to {MAX_UPDATE_ARGUMENTS} string keys to string "
                "values, as UpdateSipMediaApplicationCall takes"
            )


def _time_ms(text: str) -> float | None:
    """``"2.5s"``, ``"1500ms"`` or ``"2"`` (seconds) as milliseconds; None if not a time."""
    match = re.fullmatch(r"(\d+(?:\.\d+)?)(ms|s)?", text.strip())
    if not match:
        return None
    value, unit = match.groups()
    return float(value) * (1 if unit == "ms" else 1000)


def parse_keys(text: str) -> list[KeyPress]:
    """``"1@2.5s,#@4s,5@1500ms"`` -> key presses in time order."""
    presses = []
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        digit, _, when = item.partition("@")
        at_ms = _time_ms(when)
        if len(digit) != 1 or digit not in DTMF_DIGITS or at_ms is None:
            raise ValueError(
                f"key press {item!r} is not DIGIT@TIME; expected e.g. '1@2.5s', '#@4s' or "
                "'5@1500ms' (digits 0-9, # and *)"
            )
        presses.append(KeyPress(digit, at_ms))
    return sorted(presses, key=lambda p: p.at_ms)


def parse_update(text: str) -> CallUpdate:
    """``"2s:prompt=goodbye,language=es-US"`` (``--update``) -> a CallUpdate at 2 s."""
    when, _, pairs = text.partition(":")
    at_ms = _time_ms(when)
    items = [pair for pair in pairs.split(",") if pair]
    if at_ms is None or any("=" not in pair for pair in items):
        raise ValueError(
            f"update {text!r} is not TIME:NAME=VALUE,...; expected e.g. '2s:prompt=goodbye' "
            "or '1500ms' (no arguments)"
        )
    return CallUpdate(at_ms, dict(pair.partition("=")[::2] for pair in items))


def check_phone_number(text: str, what: str) -> str:
    """``text`` if it is an E.164 number (chime_facts.E164_NUMBER: ``+``, a country code
    that does not start with 0, 2 to 15 digits in all), else a ValueError naming ``what``."""
    if not isinstance(text, str) or not E164_NUMBER.fullmatch(text):
        raise ValueError(
            f"{what} {text!r} is not an E.164 phone number; expected '+' and 2 to 15 digits, "
            "the first not 0, e.g. '+12065550100'"
        )
    return text


@dataclass
class CallOptions:
    """What the caller does, the numbers of the call, and the simulator's bounds."""

    outbound: bool = False
    keys: list[KeyPress] = field(default_factory=list)
    hangup_at_ms: float | None = None
    caller_patience_ms: float = DEFAULT_CALLER_PATIENCE_MS
    max_call_ms: float = DEFAULT_MAX_CALL_MS
    max_invocations: int = MAX_INVOCATIONS
    environment: dict[str, str] | None = None  # the function's environment, if overridden
    caller_number: str = CALLER_NUMBER
    sma_number: str = SMA_NUMBER  # the user's number the caller dials (or is called from)
    store: ObjectStore | None = None  # the simulated buckets, if a scenario changed them
    readings: Readings = field(default_factory=Readings)  # where the guide's pages conflict
    updates: list[CallUpdate] = field(default_factory=list)  # UpdateSipMediaApplicationCall

    def __post_init__(self) -> None:
        check_phone_number(self.caller_number, "the caller number")
        check_phone_number(self.sma_number, "the SMA number")
