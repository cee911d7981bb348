"""Tolerant parsing of SIP media application invocation events.

:class:`InvocationEvent` never raises: any JSON-like input (None, lists,
strings, objects with fields of the wrong type) yields an event whose missing
or malformed fields read as None or as an empty dict/list.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

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
