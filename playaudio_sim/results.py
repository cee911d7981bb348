"""How a simulated call ended: its outcome (and exit status) and its result.

:class:`CallResult` is what :meth:`.engine.Call.run` returns, what
:mod:`.timeline` draws and what :mod:`.outputs` writes; apart from the engine
so that the timeline imports the result without importing the engine.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any

from .media import CallAudio
from .transcript import Transcript


class Outcome(Enum):
    """How a call ended, and the exit status ``playaudio-sim call`` returns for it."""

    HANGUP = ("hangup", 0)
    HANGUP_AFTER_ERROR = ("hangup-after-error", 1)
    SMA_HANGUP = ("sma-hangup", 3)
    CALLER_HANGUP = ("caller-hangup", 4)
    LIMIT = ("limit", 5)

    @property
    def label(self) -> str:
        return self.value[0]

    @property
    def exit_code(self) -> int:
        return self.value[1]


@dataclass
class CallResult:
    """The call as it happened."""

    outcome: Outcome
    reason: str
    transcript: Transcript
    audio: CallAudio
    heard: list[dict[str, Any]]
    failures: list[str]
    invocations: int
    duration_ms: float

    @property
    def exit_code(self) -> int:
        return self.outcome.exit_code
