"""What every part of a simulated call shares: its state, its end, and the signals between parts.

:class:`CallState` holds one call's state (the clock is the length of its
audio) and is the base of the role mixins :class:`.invocations.Invocations`,
:class:`.playback.Playback` and :class:`.clock.Clock`, which :class:`.engine.Call`
combines; the abstract methods are what one role calls in another.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from constructs_pkg.runtime.events import LEG_A, participant

from . import rules
from .call_options import CallOptions
from .call_setup import CallSetup
from .intrinsics import standin_uuid
from .lambda_runner import InvokeResult, LambdaRunner
from .media import CallAudio, PromptLoader, samples_to_ms
from .readings import ASSUMPTIONS, CONFLICTS
from .results import Outcome
from .transcript import Transcript

_EPOCH_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z: a fixed call start, for repeatable runs


class Invoker(Protocol):
    """Runs the handler: :class:`.lambda_runner.LambdaRunner`, or a test double."""

    def invoke(self, event: dict[str, Any], timeout_s: float) -> InvokeResult: ...

    def close(self) -> None: ...


class CallEnded(Exception):
    """Raised inside the engine once the call is over; caught by :meth:`.engine.Call.run`."""


class Replaced(Exception):
    """An update's answer stopped what was running; ``actions`` run instead."""

    def __init__(self, actions: list[dict[str, Any]]) -> None:
        super().__init__("replaced by a CALL_UPDATE_REQUESTED answer")
        self.actions = actions


@dataclass(frozen=True)
class Failed:
    """An action the SMA failed: ACTION_FAILED with ``action_data`` follows."""

    failure: rules.ActionFailure
    action_data: dict[str, Any]
    is_error: bool = True  # False: the caller did not enter digits, a normal IVR path
    assumes: tuple[str, ...] = ()  # what the failure's error type rests on


@dataclass(frozen=True)
class Reported:
    """An action whose result the handler is told: ACTION_SUCCESSFUL with ``action_data``."""

    action_data: dict[str, Any]


class CallState(ABC):
    """One simulated call's state, and what every role of the call does with it."""

    def __init__(
        self,
        setup: CallSetup,
        options: CallOptions | None = None,
        *,
        invoker: Invoker | None = None,
        loader: PromptLoader | None = None,
    ) -> None:
        self.options = options or CallOptions()
        if self.options.store is not None:
            setup = dataclasses.replace(setup, store=self.options.store)
        self.setup = setup
        if invoker is None:
            function = setup.function
            if self.options.environment is not None:
                function = dataclasses.replace(function, environment=self.options.environment)
            invoker = LambdaRunner(function, region=setup.sma.region)
        self.invoker = invoker
        self.loader = loader or PromptLoader()
        self.transcript = Transcript()
        self.audio = CallAudio()
        self.heard: list[dict[str, Any]] = []
        self.failures: list[str] = []
        self.sequence = 0
        self.attributes: dict[str, str] | None = None
        self.keys = list(self.options.keys)
        self._key_state = ["pending"] * len(self.keys)
        self._updates = sorted(self.options.updates, key=lambda u: u.at_ms)
        # What an update finds running: an action, "idle", or None (nothing it can reach).
        self._running: dict[str, Any] | str | None = None
        self._replacement: list[dict[str, Any]] | None = None
        self._outcome: tuple[Outcome, str] | None = None
        self._errors_seen = 0
        self._last_call: dict[str, Any] = {}
        self.metrics: dict[str, float] = {}  # what the handler counted over the whole call
        caller_number, sma_number = self.options.caller_number, self.options.sma_number
        outbound = self.options.outbound
        self.participant = participant(
            standin_uuid(setup.sma.id, "call", LEG_A),
            to=caller_number if outbound else sma_number,
            from_=sma_number if outbound else caller_number,
            direction="Outbound" if outbound else "Inbound",
            start_ms=str(_EPOCH_MS),
        )
        self.transaction_id = standin_uuid(setup.sma.id, "transaction")

    @property
    def now(self) -> int:
        return self.audio.length

    def _assumes(self, *names: str) -> dict[str, Any]:
        """The marks of a record that rests on readings or assumptions (:mod:`.readings`):
        ``assumes`` (``["emptyActions=stop", "noHangupAfterSmaEnds"]``) and what each means."""
        readings = self.options.readings
        labels = [readings.label(n) if n in CONFLICTS else n for n in names]
        meaning = {
            label: (
                f"{CONFLICTS[name].question} Taken: {readings[name]} ({readings.page(name)})"
                if name in CONFLICTS
                else ASSUMPTIONS[name]
            )
            for name, label in zip(names, labels, strict=True)
        }
        return {"assumes": labels, "assumptions": meaning}

    def _end(self, outcome: Outcome, reason: str) -> None:
        if self._outcome is None:
            self._outcome = (outcome, reason)
        raise CallEnded

    def _handler_hung_up(self, reason: str) -> None:
        if self._errors_seen:
            self._end(
                Outcome.HANGUP_AFTER_ERROR,
                f"{reason}, after {self._errors_seen} error(s): {', '.join(self.failures)}",
            )
        self._end(Outcome.HANGUP, reason)

    @contextlib.contextmanager
    def _span(self, kind: str, summary: str, **details: Any) -> Iterator[dict[str, Any]]:
        """A record of something that lasts: added when it starts, its end set when it ends."""
        start = samples_to_ms(self.now)
        record = self.transcript.add(kind, self.now, summary, startMs=start, endMs=start, **details)
        try:
            yield record
        finally:
            record["endMs"] = samples_to_ms(self.now)

    # -- what one role calls in another (each is defined by the mixin named) --------------

    @abstractmethod
    def _invoke(
        self,
        event_type: str,
        action_data: Mapping[str, Any] | None = None,
        top_level: Mapping[str, Any] | None = None,
        assumes: tuple[str, ...] = (),
    ) -> list[dict[str, Any]] | None:
        """:class:`.invocations.Invocations`: invoke the handler, as the SMA does."""

    @abstractmethod
    def _leg_hangs_up(self, code: int, by: str, *, notify: bool = True) -> None:
        """:class:`.invocations.Invocations`: the leg is disconnected."""

    @abstractmethod
    def _silence(self, samples: int, why: str) -> None:
        """:class:`.clock.Clock`: the caller hears ``samples`` of silence."""

    @abstractmethod
    def _advance(self, samples: int, what: str, pcm: bytes | None = None) -> None:
        """:class:`.clock.Clock`: move the clock, with audio or silence."""

    @abstractmethod
    def _next_key(self, start: int, end: int, digits: set[str] | None) -> int | None:
        """:class:`.clock.Clock`: the first pending key in [start, end)."""


def action_data_of(action: Mapping[str, Any]) -> dict[str, Any]:
    return {"Type": action["Type"], "Parameters": copy.deepcopy(action.get("Parameters", {}))}


def failed_action_data(action: Mapping[str, Any], failure: rules.ActionFailure) -> dict[str, Any]:
    return {
        **action_data_of(action),
        "ErrorType": failure.error_type,
        "ErrorMessage": failure.error_message,
    }
