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

import contextlib
import copy
import dataclasses
import functools
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any, Protocol, TypeVar

from constructs_pkg.runtime.actions import (
    ACTION_HANGUP,
    ACTION_PAUSE,
    ACTION_PLAY_AUDIO,
    ACTION_PLAY_AUDIO_AND_GET_DIGITS,
    DEFAULT_MAX_NUMBER_OF_DIGITS,
    DEFAULT_MIN_NUMBER_OF_DIGITS,
    MAX_TRANSACTION_ATTRIBUTES,
    SCHEMA_VERSION,
    validate_response,
)

from . import rules
from .assembly import CallSetup
from .intrinsics import standin_uuid
from .lambda_runner import InvokeResult, LambdaRunner
from .media import CallAudio, PromptLoader, ms_to_samples, samples_to_ms
from .objects import ObjectStore
from .policy import Principal, Request, UnsupportedPolicyError, evaluate
from .readings import ASSUMPTIONS, CONFLICTS, Readings
from .transcript import Transcript, emitted_metrics, fmt_time

NEW_INBOUND_CALL = "NEW_INBOUND_CALL"
NEW_OUTBOUND_CALL = "NEW_OUTBOUND_CALL"
RINGING = "RINGING"
CALL_ANSWERED = "CALL_ANSWERED"
ACTION_SUCCESSFUL = "ACTION_SUCCESSFUL"
ACTION_FAILED = "ACTION_FAILED"
ACTION_INTERRUPTED = "ACTION_INTERRUPTED"
CALL_UPDATE_REQUESTED = "CALL_UPDATE_REQUESTED"
INVALID_LAMBDA_RESPONSE = "INVALID_LAMBDA_RESPONSE"
HANGUP = "HANGUP"
# use-create-call-api: "Any response ... is ignored"; update-sip-call: ACTION_INTERRUPTED's.
_IGNORED_RESPONSES = (NEW_OUTBOUND_CALL, RINGING, HANGUP, ACTION_INTERRUPTED)
# update-sip-call: "Types of interruptible actions": PlayAudio, RecordAudio, Pause.
_INTERRUPTIBLE = (ACTION_PLAY_AUDIO, ACTION_PAUSE)
MAX_UPDATE_ARGUMENTS = 20  # update-sip-call: Arguments "Can contain 0 to 20 key-value pairs"

MAX_INVOCATIONS = 1000
RETRY_AFTER_S = 5
HANG_UP_AFTER_S = 20
SMA_FAILURE_SIP_CODE = 480
UNANSWERED_TIMEOUT_MS = 30_000  # case-1: "the call attempt times out after 30 seconds"
DEFAULT_CALLER_PATIENCE_MS = 10_000
DEFAULT_MAX_CALL_MS = 600_000
CALLER_NUMBER = "+12065550199"
SMA_NUMBER = "+12065550100"
_E164 = re.compile(r"\+[0-9]{2,15}")
_EPOCH_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z: a fixed call start, for repeatable runs

# The guide's example ACTION_FAILED for "failed to collect the digits" carries
# InvalidAudioSource; the page names no other error type for it (assumption noInputErrorType).
DIGITS_NOT_COLLECTED = rules.INVALID_AUDIO_SOURCE


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
        if len(digit) != 1 or digit not in "0123456789#*" or at_ms is None:
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
    """``text`` if it is an E.164 number (``+`` and 2 to 15 digits), else a ValueError
    naming ``what``."""
    if not isinstance(text, str) or not _E164.fullmatch(text):
        raise ValueError(
            f"{what} {text!r} is not an E.164 phone number; expected '+' and 2 to 15 digits, "
            "e.g. '+12065550100'"
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


class Invoker(Protocol):
    """Runs the handler: :class:`.lambda_runner.LambdaRunner`, or a test double."""

    def invoke(self, event: dict[str, Any], timeout_s: float) -> InvokeResult: ...

    def close(self) -> None: ...


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


_T = TypeVar("_T")


class _CallEnded(Exception):
    """Raised inside the engine once the call is over; caught by :meth:`Call.run`."""


class _Replaced(Exception):
    """An update's answer stopped what was running; ``actions`` run instead."""

    def __init__(self, actions: list[dict[str, Any]]) -> None:
        super().__init__("replaced by a CALL_UPDATE_REQUESTED answer")
        self.actions = actions


@dataclass(frozen=True)
class _Failed:
    failure: rules.ActionFailure
    action_data: dict[str, Any]
    is_error: bool = True  # False: the caller did not enter digits, a normal IVR path
    assumes: tuple[str, ...] = ()  # what the failure's error type rests on


@dataclass(frozen=True)
class _Reported:
    action_data: dict[str, Any]


class Call:
    """One simulated call against a synthesized SMA."""

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
        direction = "Outbound" if self.options.outbound else "Inbound"
        caller_number, sma_number = self.options.caller_number, self.options.sma_number
        self.participant: dict[str, Any] = {
            "CallId": standin_uuid(setup.sma.id, "call", "LEG-A"),
            "ParticipantTag": "LEG-A",
            "To": sma_number if not self.options.outbound else caller_number,
            "From": caller_number if not self.options.outbound else sma_number,
            "Direction": direction,
            "StartTimeInMilliseconds": str(_EPOCH_MS),
        }
        self.transaction_id = standin_uuid(setup.sma.id, "transaction")

    # -- the call ----------------------------------------------------------------------------

    @property
    def now(self) -> int:
        return self.audio.length

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
        except _CallEnded:
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
                **_layers_record(function.layers),
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
        raise _CallEnded

    def _handler_hung_up(self, reason: str) -> None:
        if self._errors_seen:
            self._end(
                Outcome.HANGUP_AFTER_ERROR,
                f"{reason}, after {self._errors_seen} error(s): {', '.join(self.failures)}",
            )
        self._end(Outcome.HANGUP, reason)

    def _check_invoke_permission(self) -> None:
        setup = self.setup
        request = Request(
            Principal.service(rules.CHIME_SERVICE_PRINCIPAL),
            "lambda:InvokeFunction",
            setup.function.invoked_arn,
            {"aws:SourceAccount": setup.sma.account, "aws:SourceArn": setup.sma.arn},
        )
        try:
            evaluation = evaluate(setup.invoke_policy, request)
        except UnsupportedPolicyError as error:
            self.transcript.add("note", 0, f"the invoke permission was not evaluated: {error}")
            return
        if not evaluation.allowed:
            reason = (
                f"Chime may not invoke {setup.function.invoked_name}: no AWS::Lambda::Permission "
                "gives "
                f"{rules.CHIME_SERVICE_PRINCIPAL} lambda:InvokeFunction ({evaluation.explain()}); "
                "the SMA logs 'Access denied while invoking the AWS Lambda function' and the "
                "call drops"
            )
            self.transcript.add("invocation-error", 0, reason, doc=rules.DOCS["unexpected-hangups"])
            self._end(Outcome.SMA_HANGUP, reason)

    # -- invocations -------------------------------------------------------------------------

    def _event(
        self,
        event_type: str,
        action_data: Mapping[str, Any] | None = None,
        top_level: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        setup = self.setup
        details: dict[str, Any] = {"TransactionId": self.transaction_id}
        if self.attributes:
            details["TransactionAttributes"] = dict(self.attributes)
        details.update(
            {
                "AwsAccountId": setup.sma.account,
                "AwsRegion": setup.sma.region,
                self.options.readings["smaIdField"]: setup.sma.id,
                "Participants": [copy.deepcopy(self.participant)],
            }
        )
        event: dict[str, Any] = {
            "SchemaVersion": SCHEMA_VERSION,
            "Sequence": self.sequence,
            "InvocationEventType": event_type,
        }
        if action_data is not None:
            event["ActionData"] = copy.deepcopy(dict(action_data))
        event["CallDetails"] = details
        if top_level:
            event.update(top_level)
        return event

    def _invoke(
        self,
        event_type: str,
        action_data: Mapping[str, Any] | None = None,
        top_level: Mapping[str, Any] | None = None,
        assumes: tuple[str, ...] = (),
    ) -> list[dict[str, Any]] | None:
        """Invoke the handler; the actions that replace the remaining ones, or None when the
        remaining ones are kept (INVALID_LAMBDA_RESPONSE handled)."""
        readings = self.options.readings
        limit = int(readings["attributeLimit"])
        while True:
            if self.sequence >= self.options.max_invocations:
                self._end(
                    Outcome.LIMIT,
                    f"the handler was invoked {self.sequence} times; a call allows at most "
                    f"{self.options.max_invocations} invocations ({rules.DOCS['action-lists']})",
                )
            self.sequence += 1
            event = self._event(event_type, action_data, top_level)
            self.transcript.add(
                "event",
                self.now,
                f"SMA -> handler: {event_type} (Sequence {self.sequence})"
                + (
                    f" for {action_data.get('Type')}"
                    if action_data and "Type" in action_data
                    else ""
                ),
                seq=self.sequence,
                type=event_type,
                event=event,
                # Every event carries the SMA id under smaIdField's name; the call record lists
                # the readings, so only an event whose coming rests on one is marked.
                **(self._assumes(*assumes) if assumes else {}),
            )
            response = self._call_lambda(event)
            ignored = event_type in _IGNORED_RESPONSES
            # invoke-on-call-leg: "If the SIP media application receives a NULL action set,
            # it keeps the existing actions"; read as a missing or null Actions (emptyActions).
            null_actions = (
                not ignored
                and readings["emptyActions"] == "stop"
                and isinstance(response, dict)
                and response.get("Actions") is None
            )
            checked = {**response, "Actions": []} if null_actions else response
            errors = [] if ignored else validate_response(checked, max_attribute_pairs=limit)
            body = response if isinstance(response, dict) and not ignored else {}
            actions, attributes = body.get("Actions"), body.get("TransactionAttributes")
            marks: tuple[str, ...] = ()
            # What this response does rests on a reading: no actions (kept, stopped or
            # invalid), attributes with other keys, and more pairs than 10 (taken or refused).
            if body and not actions and (not errors or actions is None):
                marks += ("emptyActions",)
            if not errors and self._attributes_differ_by_reading(attributes):
                marks += ("attributes",)
            if isinstance(attributes, dict) and len(attributes) > MAX_TRANSACTION_ATTRIBUTES:
                marks += ("attributeLimit",)
            self.transcript.add(
                "response",
                self.now,
                f"handler -> SMA: {_describe_response(response)}"
                + (" (ignored for this event)" if ignored else "")
                + (": a NULL action set, the remaining actions are kept" if null_actions else "")
                + _metrics_note(self._last_call),
                seq=self.sequence,
                response=response,
                ignored=ignored,
                **self._last_call,
                **(self._assumes(*marks) if marks else {}),
            )
            if ignored:
                return None
            if errors:
                error_type = _invalid_response_type(response, limit)
                message = "; ".join(errors)
                self._errors_seen += 1
                self.failures.append(f"{INVALID_LAMBDA_RESPONSE}:{error_type}")
                self.transcript.add(
                    "rejected",
                    self.now,
                    f"response rejected ({error_type}): {message}",
                    seq=self.sequence,
                    errorType=error_type,
                    errors=errors,
                    doc=rules.DOCS["invalid-response"],
                    **(
                        self._assumes("invalidResponseErrorType")
                        if error_type == "InvalidLambdaResponse"
                        else {}
                    ),
                )
                errors_field = {"ErrorType": error_type, "ErrorMessage": message}
                event_type, assumes = INVALID_LAMBDA_RESPONSE, ("invalidResponseErrors",)
                if readings["invalidResponseErrors"] == "action-data":
                    action_data, top_level = errors_field, None
                else:
                    action_data, top_level = None, errors_field
                continue
            if "TransactionAttributes" in response:
                self._store_attributes(response["TransactionAttributes"])
            if actions:
                return list(actions)
            # No actions: an empty list stops the remaining ones under emptyActions=stop, and
            # keeps them under keep; a NULL set (read only under stop) keeps them.
            return None if null_actions or readings["emptyActions"] == "keep" else []

    def _attributes_differ_by_reading(self, new: Any) -> bool:
        """Whether the stored attributes after a response's ``new`` ones depend on the
        attributes reading: it sets some, and some stored key is not among them."""
        if not (isinstance(new, dict) and new and self.attributes):
            return False
        return bool(set(self.attributes) - set(new))

    def _store_attributes(self, new: Mapping[str, str]) -> None:
        """``{}`` erases (clear-trans-attributes); other keys replace the stored set or are
        added to it, as the attributes reading says."""
        if new and self.options.readings["attributes"] == "merge":
            self.attributes = {**(self.attributes or {}), **new}
        else:
            self.attributes = dict(new)

    def _call_lambda(self, event: dict[str, Any]) -> Any:
        """One invocation as the SMA makes it (timeouts.html): no answer within 5 s is
        retried, and 20 s without one ends the call; a function error ends it at once
        (assumption functionErrorNotRetried: it is not one of the 4XX statuses retried once)."""
        timeout_s = float(self.setup.function.timeout_s)
        wait_s = min(timeout_s, RETRY_AFTER_S)
        first_attempt = self.now
        attempt = 0
        while True:
            attempt += 1
            result = self.invoker.invoke(event, wait_s)
            self._last_call = self._invocation_details(result, attempt)
            if result.ok:
                return result.response
            if result.timed_out:
                self._silence(ms_to_samples(wait_s * 1000), "waiting for the handler")
            slow = result.timed_out and timeout_s > RETRY_AFTER_S
            elapsed_s = samples_to_ms(self.now - first_attempt) / 1000
            marks: dict[str, Any] = {}
            if slow:
                # timeouts.html: the SMA waits 5 s "before retrying an invocation"; that it
                # keeps retrying every 5 s until 20 s have passed is inferred, not stated.
                marks = self._assumes("retriedEvery5sFor20s")
                retry = elapsed_s < HANG_UP_AFTER_S
                why = (
                    f"no answer within {RETRY_AFTER_S} s"
                    if retry
                    else f"no answer {HANG_UP_AFTER_S} s after the first attempt"
                )
            else:
                retry = False
                why = "a function error, not a 4XX status"
                marks = self._assumes("functionErrorNotRetried")
            self.transcript.add(
                "invocation-error",
                self.now,
                f"{event['InvocationEventType']} (Sequence {event['Sequence']}) attempt "
                f"{attempt}: {result.error_type}: {result.error_message}; {why}, "
                + ("the SMA retries" if retry else f"the SMA hangs up with {SMA_FAILURE_SIP_CODE}"),
                seq=event["Sequence"],
                errorType=result.error_type,
                errorMessage=result.error_message,
                retry=retry,
                doc=rules.DOCS["timeouts"],
                **self._last_call,
                **marks,
            )
            if not retry:
                self.failures.append(f"invocation:{result.error_type}")
                self._leg_hangs_up(SMA_FAILURE_SIP_CODE, "the SMA", notify=False)
                self._end(
                    Outcome.SMA_HANGUP,
                    f"the handler failed to answer {event['InvocationEventType']} ({why}: "
                    f"{result.error_type}); the SMA hung up with {SMA_FAILURE_SIP_CODE}",
                )

    def _invocation_details(self, result: InvokeResult, attempt: int) -> dict[str, Any]:
        """What the transcript keeps of one invocation; its metrics add to the call's."""
        counts, errors = emitted_metrics(result.logs)
        for name, value in counts.items():
            self.metrics[name] = self.metrics.get(name, 0) + value
        details: dict[str, Any] = {
            "durationMs": result.duration_ms,
            "coldStart": result.cold_start,
            "attempt": attempt,
            "logs": result.logs,
            "metrics": counts,
        }
        if errors:
            details["metricErrors"] = errors
        return details

    def _leg_hangs_up(self, code: int, by: str, *, notify: bool = True) -> None:
        """The leg is disconnected; the handler is told with HANGUP (its answer is ignored),
        unless the SMA ended the call itself (assumption noHangupAfterSmaEnds)."""
        self.participant["Status"] = "Disconnected"
        self.transcript.add(
            "hangup",
            self.now,
            f"{by} hangs up LEG-A (SipResponseCode {code})"
            + ("" if notify else "; no HANGUP event is sent"),
            by=by,
            code=code,
            **({} if notify else self._assumes("noHangupAfterSmaEnds")),
        )
        if not notify or self.sequence >= self.options.max_invocations:
            return
        self.sequence += 1
        event = self._event(
            HANGUP,
            {
                "Type": "Hangup",
                "Parameters": {
                    "SipResponseCode": code,
                    "CallId": self.participant["CallId"],
                    "ParticipantTag": "LEG-A",
                },
            },
        )
        self.transcript.add(
            "event",
            self.now,
            f"SMA -> handler: HANGUP (Sequence {self.sequence})",
            seq=self.sequence,
            type=HANGUP,
            event=event,
        )
        result = self.invoker.invoke(
            event, min(float(self.setup.function.timeout_s), RETRY_AFTER_S)
        )
        details = self._invocation_details(result, 1)
        if result.ok:
            self.transcript.add(
                "response",
                self.now,
                f"handler -> SMA: {_describe_response(result.response)} (ignored: one-leg call)"
                + _metrics_note(details),
                seq=self.sequence,
                response=result.response,
                ignored=True,
                **details,
            )
        else:
            self.transcript.add(
                "invocation-error",
                self.now,
                f"HANGUP (Sequence {self.sequence}): {result.error_type}: {result.error_message} "
                "(the call is over; not retried here)",
                seq=self.sequence,
                errorType=result.error_type,
                errorMessage=result.error_message,
                retry=False,
                **details,
            )

    # -- actions -----------------------------------------------------------------------------

    def _step(self, running: dict[str, Any] | str, step: Callable[[], _T]) -> _T | _Replaced:
        """``step()`` with ``running`` as what an update finds (:meth:`_due_update`); the
        :class:`_Replaced` of an update's answer that stopped it, if one did."""
        self._running = running
        try:
            return step()
        except _Replaced as replaced:
            return replaced
        finally:
            self._running = None

    def _run_actions(self, actions: list[dict[str, Any]]) -> None:
        pending = list(actions)
        while True:
            if not pending:
                idle = self._step("idle", self._idle)  # ends the call unless an update comes
                assert isinstance(idle, _Replaced)
                pending = idle.actions
                continue
            action = pending.pop(0)
            last = not pending
            result = self._step(action, functools.partial(self._execute, action))
            if isinstance(result, _Replaced):
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
            if isinstance(result, _Failed):
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
            elif isinstance(result, _Reported):
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
                pending = self._invoke(ACTION_SUCCESSFUL, _action_data(action)) or []

    def _execute(self, action: dict[str, Any]) -> _Failed | _Reported | None:
        kind = action["Type"]
        parameters: dict[str, Any] = action.get("Parameters", {})
        doc = rules.DOCS[
            {
                ACTION_PLAY_AUDIO: "play-audio",
                ACTION_PLAY_AUDIO_AND_GET_DIGITS: "play-audio-get-digits",
                ACTION_PAUSE: "pause",
                ACTION_HANGUP: "hangup",
            }[kind]
        ]
        target_failure = rules.check_target(parameters, [self.participant], doc)
        if target_failure is not None:
            return _Failed(target_failure, _failed_data(action, target_failure))
        if kind == ACTION_PLAY_AUDIO:
            if "CallId" not in parameters and "ParticipantTag" not in parameters:
                self.transcript.add(
                    "note",
                    self.now,
                    "PlayAudio names no CallId or ParticipantTag: it plays on the invoked leg",
                    **self._assumes("untargetedPlayAudio"),
                )
            return self._play_audio(action, doc)
        if kind == ACTION_PLAY_AUDIO_AND_GET_DIGITS:
            return self._play_and_get_digits(action, doc)
        if kind == ACTION_PAUSE:
            milliseconds = int(parameters["DurationInMilliseconds"])
            with self._span("pause", f"Pause {milliseconds} ms: the caller hears silence"):
                self._advance(ms_to_samples(milliseconds), "pause")
            return None
        code = str(parameters.get("SipResponseCode", "0"))
        self._leg_hangs_up(int(code), "the handler (Hangup action)")
        self._handler_hung_up(f"the handler hung up with SipResponseCode {code}")
        return None  # pragma: no cover - _handler_hung_up always raises

    def _source(
        self, action: dict[str, Any], name: str, doc: str
    ) -> rules.Playable | rules.ActionFailure:
        return rules.check_audio_source(
            action["Parameters"][name],
            self.setup.store,
            account=self.setup.sma.account,
            sma_arn=self.setup.sma.arn,
            doc=doc,
        )

    def _play_audio(self, action: dict[str, Any], doc: str) -> _Failed | None:
        parameters = action["Parameters"]
        playable = self._source(action, "AudioSource", doc)
        if isinstance(playable, rules.ActionFailure):
            return _Failed(playable, _failed_data(action, playable))
        pcm = self.loader.samples(playable.object, playable.info)
        terminators = set(parameters.get("PlaybackTerminators") or [])
        repeat = int(parameters.get("Repeat", 1))
        for index in range(repeat):
            stopped = self._play_prompt(playable, pcm, terminators, index + 1, repeat)
            if stopped:
                break
        return None

    def _play_prompt(
        self,
        playable: rules.Playable,
        pcm: bytes,
        terminators: set[str],
        index: int,
        repeat: int,
        *,
        role: str = "prompt",
    ) -> str | None:
        """Play ``pcm`` until it ends, a terminator key, a caller hang-up or the bound."""
        start = self.now
        full = len(pcm) // 2
        end = start + full
        stop_key = self._next_key(start, end, terminators)
        if stop_key is not None:
            end = ms_to_samples(self.keys[stop_key].at_ms)
        stopped_by = self.keys[stop_key].digit if stop_key is not None else None
        heard: dict[str, Any] = {
            "key": playable.object.key,
            "name": playable.object.name,
            "bucket": playable.object.bucket,
            "role": role,
            "startMs": samples_to_ms(start),
            "endMs": samples_to_ms(end),
            "fullMs": samples_to_ms(full),
            "repeat": f"{index}/{repeat}",
            "stoppedBy": stopped_by,
        }
        self.heard.append(heard)
        summary = (
            f"caller hears {playable.object.key} ({fmt_time(samples_to_ms(full))}"
            + (f", {index} of {repeat}" if repeat > 1 else "")
            + (f", {role}" if role != "prompt" else "")
            + ")"
        )
        record = self.transcript.add("play", start, summary, **heard)
        try:
            self._advance(end - start, "prompt", pcm)
        finally:
            played = self.now - start
            heard["endMs"] = record["endMs"] = samples_to_ms(self.now)
            if stop_key is not None and self.now == end:
                record["summary"] += (
                    f", stopped by '{stopped_by}' after {fmt_time(samples_to_ms(played))}"
                )
                self._key_state[stop_key] = "used"
            elif played < full:
                heard["stoppedBy"] = record["stoppedBy"] = None
                record["summary"] += f", cut off after {fmt_time(samples_to_ms(played))}"
        if stopped_by is not None:
            self.transcript.add(
                "key",
                end,
                f"caller presses '{stopped_by}': a PlaybackTerminator, playback stops"
                + (" and is not repeated" if index < repeat else ""),
                digit=stopped_by,
                effect="stopped playback",
            )
        return stopped_by

    def _play_and_get_digits(self, action: dict[str, Any], doc: str) -> _Failed | _Reported:
        parameters = action["Parameters"]
        main = self._source(action, "AudioSource", doc)
        if isinstance(main, rules.ActionFailure):
            return _Failed(main, _failed_data(action, main))
        failure_audio = self._source(action, "FailureAudioSource", doc)
        if isinstance(failure_audio, rules.ActionFailure):
            return _Failed(failure_audio, _failed_data(action, failure_audio))
        low = int(parameters.get("MinNumberOfDigits", DEFAULT_MIN_NUMBER_OF_DIGITS))
        high = int(parameters.get("MaxNumberOfDigits", DEFAULT_MAX_NUMBER_OF_DIGITS))
        terminators = set(parameters.get("TerminatorDigits") or ["#"])
        repeat_wait = ms_to_samples(int(parameters["RepeatDurationInMilliseconds"]))
        between = (
            ms_to_samples(int(parameters["InBetweenDigitsDurationInMilliseconds"]))
            if "InBetweenDigitsDurationInMilliseconds" in parameters
            else repeat_wait
        )
        regex = parameters.get("InputDigitsRegex")
        attempts = int(parameters.get("Repeat", 1))
        main_pcm = self.loader.samples(main.object, main.info)
        failure_pcm = self.loader.samples(failure_audio.object, failure_audio.info)
        received = ""
        regex_marks = self._assumes("digitsRegexInput") if regex else {}
        with_terminator = self.options.readings["digitsRegexInput"] == "with-terminator"
        for attempt in range(1, attempts + 1):
            received, ended_by = self._collect_digits(
                main, main_pcm, terminators, high, between, attempt
            )
            # digitsRegexInput: the guide's one regex, "^\d{2}#$" (play-audio-get-digits),
            # includes the terminator; ReceivedDigits never does.
            subject = received + ended_by if with_terminator else received
            matches = regex is None or re.search(str(regex), subject) is not None
            if received and len(received) >= low and matches:
                # Every documented ReceivedDigits is the digits alone ("123" with
                # TerminatorDigits ["#"], use-case-2): the terminator is not part of it.
                self.transcript.add(
                    "key",
                    self.now,
                    f"digits collected: {received!r} (attempt {attempt} of {attempts})",
                    digits=received,
                    effect="collected",
                    **regex_marks,
                )
                return _Reported({**_action_data(action), "ReceivedDigits": received})
            self.transcript.add(
                "key",
                self.now,
                f"attempt {attempt} of {attempts}: {received!r} is not a valid entry "
                f"(at least {low} digit(s)" + (f", matching {regex}" if regex else "") + ")",
                digits=received,
                effect="rejected",
                **regex_marks,
            )
            self._play_prompt(failure_audio, failure_pcm, set(), 1, 1, role="failure audio")
            if attempt < attempts:
                # play-audio-get-digits: RepeatDurationInMilliseconds is the "Time in
                # milliseconds to wait between Repeat attempts".
                summary = (
                    f"the caller hears silence for {fmt_time(samples_to_ms(repeat_wait))}: "
                    "RepeatDurationInMilliseconds between attempts"
                )
                marks = self._assumes("keysBetweenAttempts")
                with self._span("silence", summary, why="between attempts", **marks):
                    self._advance(repeat_wait, "between-attempts")
        failure = rules.ActionFailure(
            DIGITS_NOT_COLLECTED,
            f"no valid digits after {attempts} attempt(s) (last: {received!r}); the guide's "
            "example for this case carries InvalidAudioSource",
            doc,
        )
        return _Failed(
            failure, _failed_data(action, failure), is_error=False, assumes=("noInputErrorType",)
        )

    def _collect_digits(
        self,
        main: rules.Playable,
        pcm: bytes,
        terminators: set[str],
        high: int,
        between: int,
        attempt: int,
    ) -> tuple[str, str]:
        """One attempt: play the prompt while keys are collected, then wait between digits.
        The digits, and the TerminatorDigit that ended the entry ("" if none did)."""
        start = self.now
        received = ""
        ended_by = ""
        full_end = start + len(pcm) // 2
        heard: dict[str, Any] = {
            "key": main.object.key,
            "name": main.object.name,
            "bucket": main.object.bucket,
            "role": "digits prompt",
            "startMs": samples_to_ms(start),
            "endMs": samples_to_ms(full_end),
            "fullMs": samples_to_ms(full_end - start),
            "repeat": str(attempt),
            "stoppedBy": None,
        }
        self.heard.append(heard)
        record = self.transcript.add(
            "play",
            start,
            f"caller hears {main.object.key} and may enter digits (attempt {attempt})",
            **heard,
        )
        try:
            # Keys during the prompt are collected; the prompt stops once the entry is complete.
            deadline = full_end + between
            index = self._next_key(start, deadline, None)
            while index is not None:
                press = self.keys[index]
                at = ms_to_samples(press.at_ms)
                if at < full_end:
                    self._advance(at - self.now, "prompt", pcm[(self.now - start) * 2 :])
                else:
                    self._wait_for_digits(at)
                self._key_state[index] = "used"
                if press.digit in terminators:
                    self.transcript.add(
                        "key",
                        at,
                        f"caller presses '{press.digit}': a TerminatorDigit, the entry ends",
                        digit=press.digit,
                        effect="terminated",
                    )
                    ended_by = press.digit
                    break
                received += press.digit
                self.transcript.add(
                    "key",
                    at,
                    f"caller presses '{press.digit}': collected",
                    digit=press.digit,
                    effect="collected",
                )
                if len(received) >= high:
                    break
                deadline = max(full_end, at) + between
                index = self._next_key(self.now, deadline, None)
            else:
                if self.now < full_end:
                    self._advance(full_end - self.now, "prompt", pcm[(self.now - start) * 2 :])
                self._wait_for_digits(deadline)
        finally:
            heard["endMs"] = record["endMs"] = samples_to_ms(min(self.now, full_end))
        return received, ended_by

    def _wait_for_digits(self, until: int) -> None:
        if until > self.now:
            with self._span(
                "silence",
                "the SMA waits for digits",
                why="waiting for digits",
                **self._assumes("firstDigitWait"),
            ):
                self._advance(until - self.now, "digits")

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

    # -- time --------------------------------------------------------------------------------

    def _silence(self, samples: int, why: str) -> None:
        summary = f"the caller hears silence for {fmt_time(samples_to_ms(samples))}: {why}"
        with self._span("silence", summary, why=why):
            self._advance(samples, "silence")

    @contextlib.contextmanager
    def _span(self, kind: str, summary: str, **details: Any) -> Iterator[dict[str, Any]]:
        """A record of something that lasts: added when it starts, its end set when it ends."""
        start = samples_to_ms(self.now)
        record = self.transcript.add(kind, self.now, summary, startMs=start, endMs=start, **details)
        try:
            yield record
        finally:
            record["endMs"] = samples_to_ms(self.now)

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
            self._invoke(ACTION_INTERRUPTED, _action_data(running))
        raise _Replaced(new)

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


def _layers_record(layers: tuple[Path, ...]) -> dict[str, Any]:
    """The call record's ``layers`` (their folders, in merge order); none without layers,
    so a transcript of a function without layers is as it always was."""
    return {"layers": [str(layer) for layer in layers]} if layers else {}


def _action_data(action: Mapping[str, Any]) -> dict[str, Any]:
    return {"Type": action["Type"], "Parameters": copy.deepcopy(action.get("Parameters", {}))}


def _failed_data(action: Mapping[str, Any], failure: rules.ActionFailure) -> dict[str, Any]:
    return {
        **_action_data(action),
        "ErrorType": failure.error_type,
        "ErrorMessage": failure.error_message,
    }


def _metrics_note(details: Mapping[str, Any]) -> str:
    """`` [counted: ActionFailures 1, ...]`` for a response summary; empty if nothing was."""
    counted = [f"{name} {value:g}" for name, value in details.get("metrics", {}).items()]
    if details.get("metricErrors"):
        counted.append(f"{len(details['metricErrors'])} EMF error(s)")
    return f" [counted: {', '.join(counted)}]" if counted else ""


def _describe_response(response: Any) -> str:
    if not isinstance(response, dict):
        return f"a {type(response).__name__}, not a response object"
    actions = response.get("Actions")
    if not isinstance(actions, list):
        return "no Actions list"
    parts = []
    for action in actions[:12]:
        if not isinstance(action, dict):
            parts.append(repr(action)[:40])
            continue
        parameters = action.get("Parameters") if isinstance(action.get("Parameters"), dict) else {}
        assert isinstance(parameters, dict)
        source = parameters.get("AudioSource")
        if isinstance(source, dict):
            parts.append(f"{action.get('Type')} {source.get('Key')}")
        elif "SipResponseCode" in parameters:
            parts.append(f"{action.get('Type')} {parameters['SipResponseCode']}")
        elif "DurationInMilliseconds" in parameters:
            parts.append(f"{action.get('Type')} {parameters['DurationInMilliseconds']} ms")
        else:
            parts.append(str(action.get("Type")))
    text = ", ".join(parts) if parts else "no actions"
    if "TransactionAttributes" in response:
        text += f" + TransactionAttributes {response['TransactionAttributes']}"
    return text


def _invalid_response_type(response: Any, attribute_limit: int) -> str:
    """The ErrorType the SMA reports. Documented: SchemaVersionMismatch (a JSON string, a wrong
    SchemaVersion) and TransactionAttributesInvalidMapSize; anything else gets the simulator's
    label InvalidLambdaResponse (the guide names no other)."""
    if not isinstance(response, dict) or response.get("SchemaVersion") != SCHEMA_VERSION:
        return "SchemaVersionMismatch"
    attributes = response.get("TransactionAttributes")
    if isinstance(attributes, dict) and len(attributes) > attribute_limit:
        return "TransactionAttributesInvalidMapSize"
    return "InvalidLambdaResponse"


def write_outputs(result: CallResult, out_dir: Path) -> dict[str, Path]:
    """transcript.jsonl, call.wav and timeline.png in ``out_dir`` (the picture needs Pillow:
    the ``simulator`` extra; without it the picture is left out and a note says so)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {
        "transcript": out_dir / "transcript.jsonl",
        "audio": out_dir / "call.wav",
        "timeline": out_dir / "timeline.png",
    }
    try:
        from .timeline import render_timeline

        render_timeline(result, paths["timeline"])
    except ImportError as error:
        del paths["timeline"]
        result.transcript.add(
            "note",
            result.audio.length,
            f"no timeline.png: {error}; install the 'simulator' extra (Pillow)",
        )
    result.transcript.write(paths["transcript"])
    result.audio.write(paths["audio"])
    return paths
