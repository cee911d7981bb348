"""The call's clock: time moves with the call audio, and updates and hang-ups happen on the way.

The clock counts samples of the 8 kHz call audio; moving it plays audio or
silence, delivers an UpdateSipMediaApplicationCall that falls due
(CALL_UPDATE_REQUESTED, the rules of :mod:`.engine`'s docstring under
Updates), ends the call at the caller's hang-up or the length bound, and
records the keys that nothing listened to.
"""

from __future__ import annotations

from constructs_pkg.runtime.actions import (
    ACTION_PAUSE,
    ACTION_PLAY_AUDIO,
)
from constructs_pkg.runtime.events import (
    ACTION_INTERRUPTED,
    CALL_UPDATE_REQUESTED,
)

from . import rules
from .call_options import CallUpdate
from .call_state import CallState, Replaced, action_data_of
from .media import ms_to_samples, samples_to_ms
from .results import Outcome
from .transcript import fmt_time

# update-sip-call: "Types of interruptible actions": PlayAudio, RecordAudio, Pause.
_INTERRUPTIBLE = (ACTION_PLAY_AUDIO, ACTION_PAUSE)


class Clock(CallState):
    """Moves the call's clock, and what happens on the way."""

    def _silence(self, samples: int, why: str) -> None:
        summary = f"the caller hears silence for {fmt_time(samples_to_ms(samples))}: {why}"
        with self._span("silence", summary, why=why):
            self._advance(samples, "silence")

    def _advance(self, samples: int, what: str, pcm: bytes | None = None) -> None:
        """Move the clock, with audio or silence; deliver an update that falls due on the way;
        end the call at a hang-up or the bound."""
        start = self.now
        target = start + max(0, samples)
        due = self._due_update(target)
        if due is not None:
            at = max(start, ms_to_samples(due.at_ms))
            self._advance_to(at, what, pcm)
            self._deliver(due)
            rest = pcm[(at - start) * 2 :] if pcm is not None else None
            self._advance(target - at, what, rest)
            return
        self._advance_to(target, what, pcm)

    def _due_update(self, before: int) -> CallUpdate | None:
        """The next update, if it falls due before ``before`` while an action (or silence
        with none) runs; pops it. None while the SMA waits for the handler."""
        if self._running is None or not self._updates:
            return None
        if ms_to_samples(self._updates[0].at_ms) >= before:
            return None
        return self._updates.pop(0)

    def _deliver(self, update: CallUpdate) -> None:
        """CALL_UPDATE_REQUESTED (update-sip-call): the answer replaces what follows the
        running action, and stops the running action if it is interruptible."""
        running, self._running = self._running, None  # the invocation is not interruptible
        new = self._invoke(
            CALL_UPDATE_REQUESTED,
            {"Type": "CallUpdateRequest", "Parameters": {"Arguments": dict(update.arguments)}},
        )
        if new is None:
            self.transcript.add("note", self.now, "the actions in progress continue")
            self._running = running
            return
        if isinstance(running, dict) and running["Type"] not in _INTERRUPTIBLE:
            self._replacement = new
            self._running = running
            return
        if isinstance(running, dict):
            self.transcript.add(
                "note", self.now, f"{running['Type']} is interrupted", doc=rules.DOCS["call-update"]
            )
            self._invoke(ACTION_INTERRUPTED, action_data_of(running))
        raise Replaced(new)

    def _advance_to(self, target: int, what: str, pcm: bytes | None = None) -> None:
        """Move the clock to ``target`` (no update delivered on the way)."""
        start = self.now
        stop = target
        hangup_ms = self.options.hangup_at_ms
        hangup_at = ms_to_samples(hangup_ms) if hangup_ms is not None else None
        caller_hangs_up = hangup_at is not None and hangup_at < target
        if caller_hangs_up and hangup_at is not None:
            stop = max(start, hangup_at)
        bound = ms_to_samples(self.options.max_call_ms)
        bound_reached = bound < stop
        stop = min(stop, bound)
        if pcm is not None:
            self.audio.play(pcm, stop - start)
        self.audio.silence(stop - self.now)
        self._ignore_keys_until(stop, during=what)
        if bound_reached:
            self._end(
                Outcome.LIMIT,
                "the call reached the simulator's length bound of "
                f"{fmt_time(self.options.max_call_ms)} (--max-call-seconds)",
            )
        if caller_hangs_up:
            self._leg_hangs_up(0, "the caller")
            self._end(Outcome.CALLER_HANGUP, f"the caller hung up at {fmt_time(hangup_ms or 0)}")

    def _next_key(self, start: int, end: int, digits: set[str] | None) -> int | None:
        """The first pending key in [start, end) (among ``digits`` if given)."""
        for index, press in enumerate(self.keys):
            at = ms_to_samples(press.at_ms)
            if self._key_state[index] != "pending" or at < start:
                continue
            if at >= end:
                return None
            if digits is None or press.digit in digits:
                return index
        return None

    def _ignore_keys_until(self, until: int | None, during: str = "") -> None:
        """Keys before ``until`` that nothing used are recorded as ignored."""
        for index, press in enumerate(self.keys):
            at = ms_to_samples(press.at_ms)
            if self._key_state[index] != "pending" or (until is not None and at >= until):
                continue
            self._key_state[index] = "ignored"
            why = {
                "prompt": "not a PlaybackTerminator of this prompt",
                "pause": "during a Pause",
                "idle": "no action is running",
                "silence": "while the SMA waits for the handler",
                "digits": "no digits are being collected",
                "between-attempts": "between PlayAudioAndGetDigits attempts",
                "ringing": "the call is not answered",
            }.get(during, "the call was over" if until is None else "nothing listens")
            self.transcript.add(
                "key",
                at if until is not None else self.now,
                f"caller presses '{press.digit}' at {fmt_time(press.at_ms)}: ignored ({why})",
                digit=press.digit,
                effect="ignored",
                atMs=press.at_ms,
            )
