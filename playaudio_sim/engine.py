"""The call state machine: what a SIP media application does with a handler's answers.

One call, one leg (LEG-A), on a simulated clock (samples of the 8 kHz call
audio, so the transcript, the timeline and call.wav agree). The rules, each
with the guide page it comes from (:data:`.rules.DOCS`):

Invocations (pstn-invocations, case-1, use-create-call-api)
    Inbound: NEW_INBOUND_CALL. ``outbound``: NEW_OUTBOUND_CALL and RINGING
    (their responses are ignored, as the page says), then CALL_ANSWERED.
    ``Sequence`` counts invocations from 1 (a retry keeps its number);
    ``CallDetails`` carries the account, region, SMA id (as ``SipApplicationId``
    or ``SipMediaApplicationId``: reading smaIdField), the participant and
    the stored ``TransactionAttributes``. The participant's ``To`` is the SMA's
    number and ``From`` the caller's on an inbound call, the reverse on an
    outbound one (:class:`CallOptions` ``caller_number``, ``sma_number``).
Responses (invoke-on-call-leg, use-cases, attribute-trans-invalid, pstn-invocations)
    Checked with ``constructs_pkg.runtime.actions.validate_response`` (the
    one set of rules: at most 10 actions, known action types and parameters,
    ``SchemaVersion`` "1.0", an object and not a JSON string,
    TransactionAttributes of at most 10 or 100 pairs (reading attributeLimit)
    and 20 KB). A response that breaks them is not run: the handler gets
    INVALID_LAMBDA_RESPONSE with ``ErrorType``/``ErrorMessage`` at the top
    level or in ``ActionData`` (reading invalidResponseErrors). A new action
    list replaces the remaining one; an empty list stops the remaining actions
    and a missing or null ``Actions`` keeps them (reading emptyActions=stop),
    or an empty list keeps them and a missing one is invalid (keep).
TransactionAttributes (transaction-attributes, update-trans-attributes)
    A response that carries them replaces the stored set, or adds to it
    (reading attributes); ``{}`` erases it; one without them keeps it.
Actions, in order (play-audio, play-audio-get-digits, pause, hangup, use-case-2)
    PlayAudio plays its prompt ``Repeat`` times; a key in
    ``PlaybackTerminators`` stops it and it is not repeated; ACTION_SUCCESSFUL
    follows when it was the last action. Pause is silence (ACTION_SUCCESSFUL
    when last, by the same reading). PlayAudioAndGetDigits plays, collects
    the scripted keys (``ReceivedDigits`` without the terminator), plays the
    failure audio, waits ``RepeatDurationInMilliseconds`` and retries, up to
    ``Repeat`` attempts; ACTION_FAILED when no entry was valid, and
    ACTION_SUCCESSFUL with ``ReceivedDigits`` even mid-list, or only as the
    last action (reading digitsSuccess). Hangup ends the leg and the handler
    gets HANGUP (its response ignored: one leg). An action Chime would fail
    (:mod:`.rules`) is reported as ACTION_FAILED and the rest of its list is
    dropped. A NEW_INBOUND_CALL answered with no actions is not answered and
    times out after 30 s (case-1).
Timeouts and errors (timeouts)
    An invocation with no answer within 5 s is retried every 5 s, and the
    call ends 20 s after the first attempt (the 5 s wait is the page's; the
    rest is inferred: assumption retriedEvery5sFor20s). A function error (the handler
    raised, or ran over a Timeout of 5 s or less) is not retried: the SMA
    hangs up with 480 (an assumption: the page retries 4XX statuses, which a
    function error is not). No HANGUP follows an SMA hang-up (assumed).
Readings and assumptions (:mod:`.readings`)
    Every step whose outcome rests on a reading of conflicting pages, or on an
    assumption, is marked ``assumes`` in the transcript; the ``call`` record
    lists the readings (smaIdField, which only names a field of every event,
    is not marked on each).
Updates (update-sip-call)
    ``updates`` (a scenario's ``call.updates``, ``--update``): at each time the
    handler gets CALL_UPDATE_REQUESTED with the ``Arguments``. Its answer
    replaces what follows the running action and, if that action is
    interruptible (PlayAudio, Pause), stops it (ACTION_INTERRUPTED, answer
    ignored); a non-interruptible one completes first, with no result event
    (assumed). An answer that keeps the actions (emptyActions) changes nothing.
Invoke permission (unexpected-hangups)
    Without ``lambda:InvokeFunction`` for ``voiceconnector.chime.amazonaws.com``
    (evaluated by :mod:`.policy` against the function's AWS::Lambda::Permission
    statements) the SMA cannot invoke the handler and the call drops.
Bounds
    1,000 invocations per call (invoke-on-call-leg); a call-length bound; a
    caller who hears nothing hangs up after ``caller_patience_ms``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from constructs_pkg.runtime.actions import (
    ACTION_PAUSE,
    ACTION_PLAY_AUDIO,
)
from constructs_pkg.runtime.events import (
    ACTION_FAILED,
    ACTION_SUCCESSFUL,
    CALL_ANSWERED,
    NEW_INBOUND_CALL,
    NEW_OUTBOUND_CALL,
    RINGING,
)

from . import rules
from .call_options import (
    CALLER_NUMBER,
    SMA_NUMBER,
    CallOptions,
    CallUpdate,
    parse_keys,
    parse_update,
)
from .call_state import CallEnded, Failed, Replaced, Reported, action_data_of
from .clock import Clock
from .invocations import SMA_FAILURE_SIP_CODE, Invocations
from .media import ms_to_samples, samples_to_ms
from .outputs import write_outputs
from .playback import Playback
from .results import CallResult, Outcome
from .transcript import fmt_time

# What the CLI, scenarios and tests take from here: the call and what it is given and gives.
__all__ = [
    "CALLER_NUMBER",
    "SMA_NUMBER",
    "Call",
    "CallOptions",
    "CallResult",
    "CallUpdate",
    "Outcome",
    "parse_keys",
    "parse_update",
    "write_outputs",
]

UNANSWERED_TIMEOUT_MS = 30_000  # case-1: "the call attempt times out after 30 seconds"
_T = TypeVar("_T")


class Call(Invocations, Playback, Clock):
    """One simulated call against a synthesized SMA: the roles combined, and the call's course."""

    # -- the call ----------------------------------------------------------------------------

    def run(self) -> CallResult:
        try:
            self._record_start()
            self._check_invoke_permission()
            if self.options.outbound:
                self._invoke(NEW_OUTBOUND_CALL)
                self._invoke(RINGING)
                self.participant["Status"] = "Connected"
                actions = self._invoke(CALL_ANSWERED)
            else:
                self.participant["Status"] = "Connected"
                actions = self._invoke(NEW_INBOUND_CALL)
                if not actions:
                    self._unanswered()
            self._run_actions(actions or [])
        except CallEnded:
            pass
        finally:
            self.invoker.close()
        assert self._outcome is not None
        outcome, reason = self._outcome
        self._ignore_keys_until(None)
        for update in self._updates:
            self.transcript.add(
                "note",
                self.now,
                f"the update at {fmt_time(update.at_ms)} was not delivered: the call was over "
                "or not answered",
            )
        for note in self.loader.notes:
            self.transcript.add("note", self.now, note)
        self.transcript.add(
            "end",
            self.now,
            f"call ended ({outcome.label}, exit {outcome.exit_code}): {reason}",
            outcome=outcome.label,
            exitCode=outcome.exit_code,
            reason=reason,
            invocations=self.sequence,
            durationMs=samples_to_ms(self.now),
            heard=[h["key"] for h in self.heard],
            failures=self.failures,
            metrics=self.metrics,
        )
        return CallResult(
            outcome=outcome,
            reason=reason,
            transcript=self.transcript,
            audio=self.audio,
            heard=self.heard,
            failures=self.failures,
            invocations=self.sequence,
            duration_ms=samples_to_ms(self.now),
        )

    def _record_start(self) -> None:
        setup = self.setup
        function = setup.function
        self.transcript.add(
            "call",
            0,
            f"{'outbound' if self.options.outbound else 'inbound'} call to SMA "
            f"{setup.sma.name} ({setup.stack.name}/{setup.sma.logical_id}); handler "
            f"{function.handler} of {function.logical_id}, timeout {function.timeout_s:g} s",
            stack=setup.stack.name,
            sma={"logicalId": setup.sma.logical_id, "id": setup.sma.id, "arn": setup.sma.arn},
            function={
                "logicalId": function.logical_id,
                "handler": function.handler,
                "runtime": function.runtime,
                "timeoutS": function.timeout_s,
                "code": str(function.code_dir) if function.code_dir else "inline",
                **layers_record(function.layers),
                "environment": self.options.environment
                if self.options.environment is not None
                else function.environment,
            },
            account=setup.sma.account,
            keys=[f"{k.digit}@{fmt_time(k.at_ms)}" for k in self.keys],
            hangupAtMs=self.options.hangup_at_ms,
            notes=setup.store.notes,
            readings=dict(self.options.readings),
        )

    # -- actions -----------------------------------------------------------------------------

    def _step(self, running: dict[str, Any] | str, step: Callable[[], _T]) -> _T | Replaced:
        """``step()`` with ``running`` as what an update finds (:meth:`_due_update`); the
        :class:`Replaced` of an update's answer that stopped it, if one did."""
        self._running = running
        try:
            return step()
        except Replaced as replaced:
            return replaced
        finally:
            self._running = None

    def _run_actions(self, actions: list[dict[str, Any]]) -> None:
        pending = list(actions)
        while True:
            if not pending:
                idle = self._step("idle", self._idle)  # ends the call unless an update comes
                assert isinstance(idle, Replaced)
                pending = idle.actions
                continue
            action = pending.pop(0)
            last = not pending
            result = self._step(action, functools.partial(self._execute, action))
            if isinstance(result, Replaced):
                pending = result.actions
                continue
            if self._replacement is not None:
                # An update answered while a non-interruptible action ran: it "completes
                # before the new Action 1 starts" (update-sip-call); no result event for it.
                pending, self._replacement = self._replacement, None
                self.transcript.add(
                    "note",
                    self.now,
                    f"{action['Type']} completed; the update's actions run now, and no "
                    "ACTION_SUCCESSFUL or ACTION_FAILED is sent for it",
                    **self._assumes("noResultAfterUpdate"),
                )
                continue
            if isinstance(result, Failed):
                failure = result.failure
                self._errors_seen += int(result.is_error)
                self.failures.append(failure.error_type)
                self.transcript.add(
                    "action-failed",
                    self.now,
                    f"{action['Type']} fails with {failure.error_type}: {failure.reason}"
                    + (f"; {len(pending)} remaining action(s) dropped" if pending else ""),
                    action=action,
                    errorType=failure.error_type,
                    errorMessage=failure.error_message,
                    reason=failure.reason,
                    doc=failure.doc,
                    dropped=pending,
                    **(self._assumes(*result.assumes) if result.assumes else {}),
                )
                # use-case-2: the SMA "clears the remaining actions in the list after the
                # failed one", so an answer that keeps the remaining ones keeps none.
                pending = self._invoke(ACTION_FAILED, result.action_data) or []
            elif isinstance(result, Reported):
                if last or self.options.readings["digitsSuccess"] == "always":
                    new = self._invoke(
                        ACTION_SUCCESSFUL,
                        result.action_data,
                        assumes=() if last else ("digitsSuccess",),
                    )
                    if new is not None:
                        pending = new
                else:
                    self.transcript.add(
                        "note",
                        self.now,
                        f"{action['Type']} succeeded mid-list: no ACTION_SUCCESSFUL until the "
                        "whole list has, so the handler does not see ReceivedDigits",
                        **self._assumes("digitsSuccess"),
                    )
            elif last and action["Type"] in (ACTION_PLAY_AUDIO, ACTION_PAUSE):
                pending = self._invoke(ACTION_SUCCESSFUL, action_data_of(action)) or []

    def _unanswered(self) -> None:
        """NEW_INBOUND_CALL got no actions: the call is not answered and times out (case-1)."""
        summary = (
            "NEW_INBOUND_CALL got no actions: the call is not answered; the caller hears "
            f"ringing for {fmt_time(UNANSWERED_TIMEOUT_MS)}"
        )
        # Documented, not assumed: case-1, "Do nothing, the call attempt times out after 30
        # seconds". What the caller hears meanwhile is the simulator's stand-in (silence).
        cites = "case-1: 'Do nothing, the call attempt times out after 30 seconds'"
        with self._span(
            "silence", summary, why="not answered", doc=rules.DOCS["inbound"], cites=cites
        ):
            self._advance(ms_to_samples(UNANSWERED_TIMEOUT_MS), "ringing")
        self._leg_hangs_up(
            SMA_FAILURE_SIP_CODE, "the SMA (the call attempt timed out)", notify=False
        )
        self._end(
            Outcome.SMA_HANGUP,
            "the handler answered NEW_INBOUND_CALL with no actions: the call was never answered "
            f"and timed out after {fmt_time(UNANSWERED_TIMEOUT_MS)} ({rules.DOCS['inbound']})",
        )

    def _idle(self) -> None:
        """No action left: the caller hears silence and hangs up after a while."""
        patience = ms_to_samples(self.options.caller_patience_ms)
        summary = (
            f"no action left: the caller hears silence for {fmt_time(samples_to_ms(patience))}"
        )
        with self._span("silence", summary, why="no actions"):
            self._advance(patience, "idle")
        self._leg_hangs_up(0, "the caller (after silence)")
        self._end(
            Outcome.CALLER_HANGUP,
            "the handler left the call with no action; the caller hung up after "
            f"{fmt_time(samples_to_ms(patience))} of silence",
        )


def layers_record(layers: tuple[Path, ...]) -> dict[str, Any]:
    """The call record's ``layers`` (their folders, in merge order); none without layers,
    so a transcript of a function without layers is as it always was."""
    return {"layers": [str(layer) for layer in layers]} if layers else {}
