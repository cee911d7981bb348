"""Sample SIP media application handler: play a welcome prompt, then hang up.

Configuration: the environment, read once at import into :data:`CONFIG` by
:func:`.config.load_config`, whose module lists the variables, their defaults and what a
bad value does. Bad configuration never breaks the import; each problem is logged at
ERROR. All prompts (welcome, fallback, CALL_UPDATE_REQUESTED) play with the same
terminators and repeat count.

Event handling (every response passes ``actions.validate_response``). The
guide reads an empty action list two ways (use-cases.md: it stops the running
actions; the simulator's old reading: it keeps them), so the handler answers
``[]`` only where the answer does not matter -- the service ignores it, or the
call is over -- or where nothing is left to try (a bare Hangup that failed
twice, below). Any other live call gets actions that end in a Hangup: any
non-empty list replaces the pending actions under both readings, so it never
ends up with no actions and no Hangup, in silence until the caller gives up.

* NEW_INBOUND_CALL, CALL_ANSWERED: PlayAudio(welcome), Hangup "0".
* ACTION_SUCCESSFUL: the flow is over once any of our actions has finished,
  so Hangup "0" -- a call left with no actions would sit in silence until
  the caller gives up. A finished Hangup gets no actions (the call is over).
* ACTION_FAILED: one structured log line. InvalidAudioSource on PlayAudio
  plays the fallback prompt once, then hangs up, unless the failing audio
  *is* the fallback or TransactionAttributes say ``fallbackPlayed`` -- the
  key comparison keeps this loop-free even if the attributes were lost.
  InvalidAudioSource on PlayAudioAndGetDigits is also what the guide's one
  example shows for a caller who entered no valid digits
  (play-audio-get-digits.md), so it cannot be told from a broken prompt:
  no fallback apology, a WARNING, and Hangup. Everything else: Hangup "0"
  without CallId (the failed action's CallId may be what was invalid). A
  failed Hangup aimed at a CallId or ParticipantTag is answered with a bare
  Hangup (the invoked leg). A failed bare Hangup is retried once (a
  SystemException may pass a second time), guarded by the transaction
  attribute ``hangupRetried``; when the retry fails too, or the attribute has
  no room, it gets no actions (``[]``): nothing else ends the call, and a
  retry without the guard could loop.
* CALL_UPDATE_REQUESTED: Arguments ``prompt`` naming a known prompt plays it
  (in Arguments ``language`` if given, else the call's language) then hangs
  up; ``action`` = ``hangup`` hangs up; anything else (a backend's typo such
  as ``{"prompt": "goodby"}``) is logged at WARNING and answered with the
  call's welcome again, in the call's language (the fallback prompt instead
  once TransactionAttributes say ``fallbackPlayed``), then a Hangup. The
  answer replaces the pending actions (and stops an interruptible PlayAudio,
  update-sip-call.md), so the caller hears the prompt restart rather than
  being cut off. ``[]`` would drop the pending Hangup under use-cases.md's
  reading, and leaving ``Actions`` out (a NULL set keeps the actions,
  invoke-on-call-leg.md) is an invalid response under the other; a non-empty
  list means the same under both. It is loop-free: each replay answers one
  update and ends in a Hangup. Not counted in a metric: the one that fits
  nearest, MalformedEvents, alarms at 1 and rolls a canary back, and a
  backend's typo is not the handler's fault.
* INVALID_LAMBDA_RESPONSE: logged with ErrorType/ErrorMessage from
  ``ActionData`` (pstn-invocations.md) or the top level
  (attribute-trans-invalid.md's example), then a bare Hangup "0".
* DIGITS_RECEIVED: it only follows ReceiveDigits, which this flow never
  sends (PlaybackTerminators are handled by the service itself); logged at
  WARNING and answered with a Hangup, as the call is live.
* HANGUP: no actions; the call is already ending (on a one-leg call the
  service ignores the response, use-cases.md).
* RINGING, NEW_OUTBOUND_CALL: no actions; the service ignores the response
  (use-create-call-api.md), and CALL_ANSWERED starts the prompt.
* ACTION_INTERRUPTED: no actions; the service ignores this response
  (update-sip-call.md).
* Unknown or malformed events, and any exception: logged, bare Hangup "0".

Metrics (:mod:`.metrics` has the names, dimensions and the AWS documents they
follow): after answering, the handler writes at most one CloudWatch Embedded
Metric Format line per invocation straight to stdout and flushes it -- not
through :mod:`logging`, since Lambda's JSON log format (which the construct
sets) would wrap a logged record in its ``message`` field and CloudWatch Logs
would extract nothing; output written to stdout reaches CloudWatch Logs as
is ("Using the embedded metric format with Lambda", Lambda's "Log and monitor
Python Lambda functions"). Counted, by SipMediaApplicationId:

* CallsStarted: NEW_INBOUND_CALL, NEW_OUTBOUND_CALL.
* ActionFailures: ACTION_FAILED, also by ErrorType and by Action + ErrorType.
* FallbackPromptsPlayed: an ACTION_FAILED answered with the fallback prompt.
* InvalidLambdaResponses: INVALID_LAMBDA_RESPONSE.
* MalformedEvents: an unknown or malformed event, and any exception caught.

A metric that cannot be written (stdout closed, a broken pipe) is dropped:
the response goes back all the same, and the first such failure is logged.

TransactionAttributes: a response without them keeps the stored ones, so
they are left out unless the handler sets one; then the incoming attributes
are sent with it, so the result is the same whether the service replaces the
stored set (transaction-attributes.md) or adds to it (update-trans-attributes.md).
If that would break the 10-pair (the limit the service was seen to enforce,
attribute-trans-invalid.md) or 20 KB limits, the attributes are left out.

Languages: a call's language comes from ``LANGUAGE_BY_NUMBER`` (the number of
yours it is on), else it is the catalog's default. Every prompt is looked up in
the call's language, then the default language (logged once per prompt and
language per cold start), as :meth:`.catalog.Catalog.resolve` does; the
fallback prompt after a failure plays in the language of the audio that failed.

Cold start: the happy path imports neither :mod:`logging` nor :mod:`json`
(json pulls in :mod:`re`, :mod:`enum` and friends: together about two thirds
of a bare cold import of this module). Logging is imported on first use, and
the catalog is parsed with the C scanner that :func:`json.loads` itself uses
(:func:`.catalog.parse_json`); metric lines are written by :mod:`.metrics`,
which quotes strings with json's C encoder and needs nothing more. The Lambda
runtime has already imported both modules, so there this saves nothing; it
matters where the handler is imported by a fresh interpreter (tests, tools,
`make bench`).
"""

from __future__ import annotations

import os

from . import metrics
from .actions import (
    ACTION_HANGUP,
    ACTION_PLAY_AUDIO,
    ACTION_PLAY_AUDIO_AND_GET_DIGITS,
    hangup,
    play_audio,
    response,
)
from .config import Config, load_config
from .events import (
    ACTION_FAILED,
    ACTION_SUCCESSFUL,
    CALL_ANSWERED,
    CALL_UPDATE_REQUESTED,
    DIGITS_RECEIVED,
    EVENT_TYPES,
    IGNORED_RESPONSE_EVENTS,
    INVALID_AUDIO_SOURCE,
    INVALID_LAMBDA_RESPONSE,
    NEW_INBOUND_CALL,
    NEW_OUTBOUND_CALL,
    SCHEMA_VERSION,
    InvocationEvent,
)
from .log import handler_logger as _logger

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

FALLBACK_PLAYED = "fallbackPlayed"
HANGUP_RETRIED = "hangupRetried"


CONFIG = load_config(os.environ)


def _prompt_then_hangup(
    config: Config, source: dict[str, str], call_id: str | None
) -> list[dict[str, Any]]:
    return [
        play_audio(
            source,
            call_id=call_id,
            playback_terminators=config.terminators,
            repeat=config.repeat,
        ),
        hangup(call_id=call_id),
    ]


def call_language(config: Config, event: InvocationEvent) -> str | None:
    """The call's language: LANGUAGE_BY_NUMBER's for the number of yours the call is on (an
    inbound call's To, an outbound call's From); None (the default) for any other."""
    if not config.language_by_number or not event.participants:
        return None
    first = event.participants[0]
    ours = first.get("From") if first.get("Direction") == "Outbound" else first.get("To")
    return config.language_by_number.get(ours) if isinstance(ours, str) else None


def _play_prompt(
    config: Config, name: str, event: InvocationEvent, language: str | None = None
) -> dict[str, Any]:
    source = config.audio_source(name, language)
    if source is None:
        _logger().error(
            "prompt %r is not in the prompt catalog; hanging up",
            name,
            extra={
                "eventType": event.event_type,
                "prompt": name,
                "language": language,
                "callId": event.call_id,
            },
        )
        return response([hangup(call_id=event.call_id)])
    return response(_prompt_then_hangup(config, source, event.call_id))


def _failing_keys(parameters: dict[str, Any]) -> set[str]:
    """The S3 keys of the audio a failed PlayAudio/PlayAudioAndGetDigits used."""
    sources = (parameters.get("AudioSource"), parameters.get("FailureAudioSource"))
    keys = (source.get("Key") for source in sources if isinstance(source, dict))
    return {key for key in keys if isinstance(key, str)}


def _failure_language(config: Config, event: InvocationEvent, failing: set[str]) -> str | None:
    """The language to apologise in: that of the audio that failed when it was played in
    a language of its own (a CALL_UPDATE_REQUESTED may ask for one), else the call's."""
    languages = {config.language_of_key(key) for key in failing} - {None}
    default = config.catalog.default_language if config.catalog is not None else None
    if len(languages) == 1 and languages != {default}:
        return languages.pop()
    return call_language(config, event)


def _on_action_failed(event: InvocationEvent, config: Config) -> dict[str, Any]:
    parameters = event.action_parameters
    actions: list[dict[str, Any]] = []
    broken_audio = event.error_type == INVALID_AUDIO_SOURCE
    # A PlayAudioAndGetDigits failure with InvalidAudioSource is also the guide's example of
    # "fails to collect the number of specified digits": maybe no prompt is broken at all.
    maybe_no_input = broken_audio and event.action_type == ACTION_PLAY_AUDIO_AND_GET_DIGITS
    if (
        broken_audio
        and event.action_type == ACTION_PLAY_AUDIO
        and event.transaction_attributes.get(FALLBACK_PLAYED) != "true"
    ):
        failing = _failing_keys(parameters)
        fallback = config.audio_source(config.fallback, _failure_language(config, event, failing))
        if fallback is not None and not failing & config.fallback_keys:
            call_id = parameters.get("CallId")
            target = call_id if isinstance(call_id, str) and call_id else event.call_id
            actions = _prompt_then_hangup(config, fallback, target)
    retry: dict[str, Any] | None = None
    if actions:
        recovery = "fallback"
    elif event.action_type == ACTION_HANGUP and not _targets_a_leg(parameters):
        retry = _hangup_retry(event.transaction_attributes)
        recovery = "none" if retry is None else "retry"
    else:
        recovery = "hangup"
    logger = _logger()
    (logger.warning if maybe_no_input else logger.error)(
        "%s failed with %s: %s (recovery: %s)%s",
        event.action_type,
        event.error_type,
        event.error_message,
        recovery,
        "; no valid digits, or broken audio: the service reports both so" if maybe_no_input else "",
        extra={
            "eventType": event.event_type,
            "errorType": event.error_type,
            "errorMessage": event.error_message,
            "failedAction": {"Type": event.action_type, "Parameters": parameters},
            "callId": event.call_id,
            "transactionId": event.transaction_id,
            "recovery": recovery,
        },
    )
    if recovery == "none":
        return response([])
    if retry is not None:
        return retry
    if recovery == "hangup":
        return response([hangup()])
    attributes = {**event.transaction_attributes, FALLBACK_PLAYED: "true"}
    try:
        return response(actions, attributes)
    except ValueError:
        # No room next to the caller's attributes; the key comparison above
        # still stops the fallback from being played twice.
        return response(actions)


def _hangup_retry(attributes: Mapping[str, str]) -> dict[str, Any] | None:
    """A bare Hangup again, marked ``hangupRetried`` so it is retried once only; None when it
    was retried already, or the mark has no room next to the caller's attributes."""
    if attributes.get(HANGUP_RETRIED) == "true":
        return None
    try:
        return response([hangup()], {**attributes, HANGUP_RETRIED: "true"})
    except ValueError:
        return None


def _targets_a_leg(parameters: Mapping[str, Any]) -> bool:
    """Whether an action named its leg (CallId or ParticipantTag); a bare Hangup ends the
    invoked leg instead, so a stale CallId cannot fail it again."""
    return "CallId" in parameters or "ParticipantTag" in parameters


def _on_call_update(event: InvocationEvent, config: Config) -> dict[str, Any]:
    arguments = event.action_parameters.get("Arguments")
    arguments = arguments if isinstance(arguments, dict) else {}
    prompt = arguments.get("prompt")
    language = arguments.get("language")
    if not isinstance(language, str) or not language:
        language = call_language(config, event)
    if isinstance(prompt, str) and config.audio_source(prompt, language) is not None:
        return _play_prompt(config, prompt, event, language)
    if arguments.get("action") == "hangup":
        return response([hangup(call_id=event.call_id)])
    # Not a Hangup: a backend's typo must not cut a caller off. Whatever was playing is
    # replaced either way, so the call's prompt starts again, then the call ends as planned.
    in_fallback = event.transaction_attributes.get(FALLBACK_PLAYED) == "true"
    replay = config.fallback if in_fallback else config.welcome
    _logger().warning(
        "CALL_UPDATE_REQUESTED without a known prompt or action; playing %r again, then hanging up",
        replay,
        extra={
            "eventType": event.event_type,
            # Argument values may be sensitive (the AWS SDKs redact them): names only.
            "argumentNames": sorted(str(name) for name in arguments),
            "callId": event.call_id,
            "transactionId": event.transaction_id,
        },
    )
    return _play_prompt(config, replay, event, call_language(config, event))


def handle(event: object, config: Config) -> dict[str, Any]:
    """The response to one invocation event under the given configuration."""
    parsed = InvocationEvent(event)
    kind = parsed.event_type
    if kind in (NEW_INBOUND_CALL, CALL_ANSWERED):
        return _play_prompt(config, config.welcome, parsed, call_language(config, parsed))
    if kind == ACTION_SUCCESSFUL:
        if parsed.action_type == ACTION_HANGUP:
            return response([])
        return response([hangup(call_id=parsed.call_id)])
    if kind == ACTION_FAILED:
        return _on_action_failed(parsed, config)
    if kind == CALL_UPDATE_REQUESTED:
        return _on_call_update(parsed, config)
    if kind in IGNORED_RESPONSE_EVENTS:
        # The service ignores the answer, or the call is over: [] is safe.
        return response([])
    if kind == DIGITS_RECEIVED:
        _logger().warning(
            "DIGITS_RECEIVED, but this flow sends no ReceiveDigits; hanging up",
            extra={"eventType": kind, "callId": parsed.call_id},
        )
        return response([hangup(call_id=parsed.call_id)])
    if kind == INVALID_LAMBDA_RESPONSE:
        _logger().error(
            "the previous response was rejected: %s: %s; hanging up",
            parsed.error_type,
            parsed.error_message,
            extra={
                "eventType": kind,
                "errorType": parsed.error_type,
                "errorMessage": parsed.error_message,
                "callId": parsed.call_id,
                "transactionId": parsed.transaction_id,
            },
        )
    else:
        _logger().error(
            "unknown or malformed event (%s); hanging up",
            kind if kind is not None else type(event).__name__,
            extra={"eventType": kind, "transactionId": parsed.transaction_id},
        )
    return response([hangup()])


def _safe_hangup() -> dict[str, Any]:
    """A valid bare Hangup response built without any code that could fail: a literal, not
    the builders (only plain str constants)."""
    return {
        "SchemaVersion": SCHEMA_VERSION,
        "Actions": [{"Type": ACTION_HANGUP, "Parameters": {"SipResponseCode": "0"}}],
    }


def metric_names(event: object, result: dict[str, Any] | None) -> tuple[str, ...]:
    """The call metrics one invocation counts; ``result`` is None when handling it raised."""
    kind = event.get("InvocationEventType") if isinstance(event, dict) else None
    names: tuple[str, ...] = ()
    if kind in (NEW_INBOUND_CALL, NEW_OUTBOUND_CALL):
        names = (metrics.CALLS_STARTED,)
    elif kind == ACTION_FAILED:
        names = (metrics.ACTION_FAILURES,)
        # The only prompt this handler answers a failure with is the fallback.
        actions = result.get("Actions") if result is not None else None
        if actions and actions[0].get("Type") == ACTION_PLAY_AUDIO:
            names += (metrics.FALLBACK_PROMPTS_PLAYED,)
    elif kind == INVALID_LAMBDA_RESPONSE:
        names = (metrics.INVALID_LAMBDA_RESPONSES,)
    elif not (isinstance(kind, str) and kind in EVENT_TYPES):
        names = (metrics.MALFORMED_EVENTS,)
    if result is None and metrics.MALFORMED_EVENTS not in names:
        names += (metrics.MALFORMED_EVENTS,)
    return names


_METRICS_FAILED = False


def _count(event: object, result: dict[str, Any] | None, namespace: str) -> None:
    """Emit this invocation's metrics; never raises, logs only the first failure."""
    global _METRICS_FAILED
    try:
        names = metric_names(event, result)
        if not names or metrics.emit(metrics.line_for_event(event, names, namespace=namespace)):
            return
        problem = "stdout did not take the line"
    except Exception as error:
        problem = f"{type(error).__name__}: {error}"
    if not _METRICS_FAILED:
        _METRICS_FAILED = True
        _logger().warning(
            "call metrics could not be written (%s); they are dropped, and further "
            "failures are not logged",
            problem,
        )


def handler(event: object, context: object) -> dict[str, Any]:
    """Lambda entry point: never raises, always returns a response object."""
    config = CONFIG
    try:
        result = handle(event, config)
    except Exception:
        _logger().exception("unhandled error; hanging up")
        _count(event, None, config.metrics_namespace)
        return _safe_hangup()
    _count(event, result, config.metrics_namespace)
    return result
