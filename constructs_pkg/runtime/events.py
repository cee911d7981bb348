"""SIP media application invocation events: their type names, builders, and tolerant parsing.

The event-type names and the builders (:func:`participant`,
:func:`call_details`, :func:`invocation_event`, and :func:`example_call_details`
for tests and benchmarks) are the one copy that the
handler, the simulator, the bench and the tests use. This module imports
nothing from the package, so the bench's other interpreters can load it by
its path.

:class:`InvocationEvent` never raises: any JSON-like input (None, lists,
strings, objects with fields of the wrong type) yields an event whose missing
or malformed fields read as None or as an empty dict/list.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

# The version every event and every response carries (invoke-on-call-leg).
SCHEMA_VERSION = "1.0"

NEW_INBOUND_CALL = "NEW_INBOUND_CALL"
NEW_OUTBOUND_CALL = "NEW_OUTBOUND_CALL"
RINGING = "RINGING"
CALL_ANSWERED = "CALL_ANSWERED"
ACTION_SUCCESSFUL = "ACTION_SUCCESSFUL"
ACTION_FAILED = "ACTION_FAILED"
ACTION_INTERRUPTED = "ACTION_INTERRUPTED"
DIGITS_RECEIVED = "DIGITS_RECEIVED"
CALL_UPDATE_REQUESTED = "CALL_UPDATE_REQUESTED"
INVALID_LAMBDA_RESPONSE = "INVALID_LAMBDA_RESPONSE"
HANGUP = "HANGUP"

EVENT_TYPES = (
    NEW_INBOUND_CALL,
    NEW_OUTBOUND_CALL,
    RINGING,
    CALL_ANSWERED,
    ACTION_SUCCESSFUL,
    ACTION_FAILED,
    ACTION_INTERRUPTED,
    DIGITS_RECEIVED,
    CALL_UPDATE_REQUESTED,
    INVALID_LAMBDA_RESPONSE,
    HANGUP,
)

IGNORED_RESPONSE_EVENTS = (NEW_OUTBOUND_CALL, RINGING, HANGUP, ACTION_INTERRUPTED)
"""Events whose response the SMA ignores: RINGING and NEW_OUTBOUND_CALL (use-create-call-api.md:
"Any response ... is ignored"), ACTION_INTERRUPTED (update-sip-call.md) and HANGUP (the call
is over; on a one-leg call use-cases.md says the response is ignored)."""

# The participant tags of a call's legs (CallDetails.Participants, and an action's target).
LEG_A = "LEG-A"
LEG_B = "LEG-B"

# CallDetails' field with the SIP media application's id (pstn-invocations.md, the event
# reference), and the name several of the guide's examples (case-1.md, use-cases.md) give it.
SMA_ID_FIELD = "SipMediaApplicationId"
SMA_ID_EXAMPLES_FIELD = "SipApplicationId"

# The ErrorType of a failed action (ACTION_FAILED's ActionData): those the guide's pages name.
INVALID_AUDIO_SOURCE = "InvalidAudioSource"
SYSTEM_EXCEPTION = "SystemException"
INVALID_ACTION_PARAMETER = "InvalidActionParameter"
ACTION_ERROR_TYPES = (INVALID_AUDIO_SOURCE, SYSTEM_EXCEPTION, INVALID_ACTION_PARAMETER)
# Their ErrorMessage, as the guide's examples write it (for the simulator and the bench).
ACTION_ERROR_MESSAGES = {
    INVALID_AUDIO_SOURCE: "Audio Source parameter value is invalid.",
    INVALID_ACTION_PARAMETER: "CallId or ParticipantTag parameter for action is invalid.",
    SYSTEM_EXCEPTION: "System error while running action.",  # play-audio.md, its error table
}


def participant(
    call_id: str,
    *,
    to: str,
    from_: str,
    direction: str,
    start_ms: str,
    status: str | None = None,
    tag: str = LEG_A,
) -> dict[str, Any]:
    """One entry of ``CallDetails.Participants``; ``Status`` only when given."""
    entry: dict[str, Any] = {
        "CallId": call_id,
        "ParticipantTag": tag,
        "To": to,
        "From": from_,
        "Direction": direction,
        "StartTimeInMilliseconds": start_ms,
    }
    if status is not None:
        entry["Status"] = status
    return entry


def call_details(
    transaction_id: str,
    *,
    account: str,
    region: str,
    sma_id: str,
    participants: list[dict[str, Any]],
    attributes: dict[str, str] | None = None,
    sma_id_field: str = SMA_ID_FIELD,
    sip_rule_id: str | None = None,
) -> dict[str, Any]:
    """``CallDetails``: ``TransactionAttributes`` only when not None, ``SipRuleId`` only
    when given; the SMA's id under ``sma_id_field`` (pages name it two ways)."""
    details: dict[str, Any] = {"TransactionId": transaction_id}
    if attributes is not None:
        details["TransactionAttributes"] = attributes
    details["AwsAccountId"] = account
    details["AwsRegion"] = region
    if sip_rule_id is not None:
        details["SipRuleId"] = sip_rule_id
    details[sma_id_field] = sma_id
    details["Participants"] = participants
    return details


# A one-leg inbound call with fixed stand-in ids, for the tests and benchmarks of handlers.
EXAMPLE_CALL_ID = "6a7d6ac6-8b1e-4b8f-9a1e-1b2c3d4e5f60"
EXAMPLE_TRANSACTION_ID = "0e3f6b0a-4c3e-4d1a-9f4e-7c5d2b8a9e10"


def example_call_details(
    attributes: dict[str, str] | None = None, direction: str = "Inbound"
) -> dict[str, Any]:
    """``CallDetails`` of that example call (LEG-A connected), ``attributes`` if not None."""
    leg_a = participant(
        EXAMPLE_CALL_ID,
        to="+12065550100",
        from_="+15105550101",
        direction=direction,
        start_ms="1700000000000",
        status="Connected",
    )
    return call_details(
        EXAMPLE_TRANSACTION_ID,
        account="123456789012",
        region="us-east-1",
        sip_rule_id="aafbd402-b7a2-4992-92f8-496b4563c492",
        sma_id="e88f4e49-dd21-4a3f-b538-bc84eae11505",
        participants=[leg_a],
        attributes=attributes,
    )


def invocation_event(
    event_type: str,
    sequence: int,
    details: dict[str, Any],
    action_data: dict[str, Any] | None = None,
    top_level: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """An invocation event as the SMA sends it; ``top_level`` fields (INVALID_LAMBDA_RESPONSE's
    ``ErrorType``/``ErrorMessage`` under one reading) come last."""
    event: dict[str, Any] = {
        "SchemaVersion": SCHEMA_VERSION,
        "Sequence": sequence,
        "InvocationEventType": event_type,
    }
    if action_data is not None:
        event["ActionData"] = action_data
    event["CallDetails"] = details
    if top_level:
        event.update(top_level)
    return event


def _object(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _text(value: object) -> str | None:
    """A non-empty string, or None."""
    return value if isinstance(value, str) and value else None


class InvocationEvent:
    """The fields of one invocation event that a handler needs.

    ``error_type``/``error_message`` come from ``ActionData`` (ACTION_FAILED)
    or, failing that, from the top level of the event, where
    INVALID_LAMBDA_RESPONSE carries them. ``call_id``/``participant_tag`` are
    those of the first participant in ``CallDetails.Participants``.
    """

    __slots__ = (
        "action_data",
        "action_parameters",
        "action_type",
        "call_details",
        "call_id",
        "error_message",
        "error_type",
        "event_type",
        "participant_tag",
        "participants",
        "raw",
        "sequence",
        "transaction_attributes",
        "transaction_id",
    )

    def __init__(self, event: object) -> None:
        root = _object(event)
        self.raw = event
        self.event_type = _text(root.get("InvocationEventType"))
        sequence = root.get("Sequence")
        self.sequence = (
            sequence if isinstance(sequence, int) and not isinstance(sequence, bool) else None
        )

        data = _object(root.get("ActionData"))
        self.action_data = data
        self.action_type = _text(data.get("Type"))
        self.action_parameters = _object(data.get("Parameters"))
        self.error_type = _text(data.get("ErrorType")) or _text(root.get("ErrorType"))
        self.error_message = _text(data.get("ErrorMessage")) or _text(root.get("ErrorMessage"))

        details = _object(root.get("CallDetails"))
        self.call_details = details
        self.transaction_id = _text(details.get("TransactionId"))
        participants = details.get("Participants")
        self.participants: list[dict[str, Any]] = (
            [p for p in participants if isinstance(p, dict)]
            if isinstance(participants, list)
            else []
        )
        attributes = _object(details.get("TransactionAttributes"))
        self.transaction_attributes = {
            key: value
            for key, value in attributes.items()
            if isinstance(key, str) and isinstance(value, str)
        }
        first = self.participants[0] if self.participants else {}
        self.call_id = _text(first.get("CallId"))
        self.participant_tag = _text(first.get("ParticipantTag"))
