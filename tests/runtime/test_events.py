"""Tolerant parsing of invocation events."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from runtime import events
from runtime.events import InvocationEvent

from .conftest import CALL_ID, TRANSACTION_ID

MakeEvent = Callable[..., dict[str, Any]]

# The AudioSource of the PlayAudio page's examples.
SEED_SOURCE = {"Type": "S3", "BucketName": "bucket-name", "Key": "audio-file.wav"}


def test_event_type_constants() -> None:
    assert events.EVENT_TYPES == (
        "NEW_INBOUND_CALL",
        "NEW_OUTBOUND_CALL",
        "RINGING",
        "CALL_ANSWERED",
        "ACTION_SUCCESSFUL",
        "ACTION_FAILED",
        "ACTION_INTERRUPTED",
        "DIGITS_RECEIVED",
        "CALL_UPDATE_REQUESTED",
        "INVALID_LAMBDA_RESPONSE",
        "HANGUP",
    )
    assert all(getattr(events, name) == name for name in events.EVENT_TYPES)


def test_seed_action_successful(make_event: MakeEvent) -> None:
    parameters = {"CallId": CALL_ID, "ParticipantTag": "LEG-A", "AudioSource": SEED_SOURCE}
    raw = make_event("ACTION_SUCCESSFUL", {"Type": "PlayAudio", "Parameters": parameters}, None, 3)
    event = InvocationEvent(raw)
    assert event.raw is raw
    assert event.event_type == events.ACTION_SUCCESSFUL
    assert event.sequence == 3
    assert event.action_type == "PlayAudio"
    assert event.action_parameters == parameters
    assert event.action_data == raw["ActionData"]
    assert (event.error_type, event.error_message) == (None, None)
    assert event.call_details == raw["CallDetails"]
    assert event.transaction_id == TRANSACTION_ID
    assert event.participants == raw["CallDetails"]["Participants"]
    assert event.participants[0]["Direction"] == "Inbound"
    assert event.participants[0]["Status"] == "Connected"
    assert (event.call_id, event.participant_tag) == (CALL_ID, "LEG-A")
    assert event.transaction_attributes == {}


def test_seed_action_failed(make_event: MakeEvent) -> None:
    action_data = {
        "Type": "PlayAudio",
        "Parameters": {"CallId": CALL_ID, "ParticipantTag": "LEG-A", "AudioSource": SEED_SOURCE},
        "ErrorType": "InvalidAudioSource",
        "ErrorMessage": "Audio Source parameter value is invalid.",
    }
    event = InvocationEvent(make_event("ACTION_FAILED", action_data, {"fallbackPlayed": "true"}))
    assert event.event_type == events.ACTION_FAILED
    assert event.sequence == 2
    assert event.action_type == "PlayAudio"
    assert event.action_parameters["AudioSource"] == SEED_SOURCE
    assert event.error_type == "InvalidAudioSource"
    assert event.error_message == "Audio Source parameter value is invalid."
    assert event.transaction_attributes == {"fallbackPlayed": "true"}


def test_invalid_lambda_response_errors_at_top_level(make_event: MakeEvent) -> None:
    raw = make_event("INVALID_LAMBDA_RESPONSE")
    raw["ErrorType"] = "TransactionAttributesInvalidMapSize"
    raw["ErrorMessage"] = "Transaction Attributes has too many mappings."
    event = InvocationEvent(raw)
    assert event.error_type == "TransactionAttributesInvalidMapSize"
    assert event.error_message == "Transaction Attributes has too many mappings."
    assert event.action_type is None
    assert event.action_parameters == {}


def test_call_update_requested(make_event: MakeEvent) -> None:
    action_data = {"Type": "CallUpdateRequest", "Parameters": {"Arguments": {"prompt": "closed"}}}
    event = InvocationEvent(make_event("CALL_UPDATE_REQUESTED", action_data))
    assert event.action_type == "CallUpdateRequest"
    assert event.action_parameters == {"Arguments": {"prompt": "closed"}}


def test_transaction_attributes_keep_only_string_pairs(make_event: MakeEvent) -> None:
    raw = make_event("HANGUP")
    raw["CallDetails"]["TransactionAttributes"] = {"a": "1", "b": 2, "c": None, "d": ""}
    assert InvocationEvent(raw).transaction_attributes == {"a": "1", "d": ""}


def test_second_leg_is_listed(make_event: MakeEvent) -> None:
    raw = make_event("HANGUP")
    leg_b = {"CallId": "call-id-2", "ParticipantTag": "LEG-B", "Direction": "Outbound"}
    raw["CallDetails"]["Participants"].append(leg_b)
    event = InvocationEvent(raw)
    assert [p["ParticipantTag"] for p in event.participants] == ["LEG-A", "LEG-B"]
    assert event.call_id == CALL_ID


@pytest.mark.parametrize(
    "raw",
    [
        None,
        [],
        ["NEW_INBOUND_CALL"],
        "NEW_INBOUND_CALL",
        '{"InvocationEventType": "NEW_INBOUND_CALL"}',
        0,
        {},
        {"InvocationEventType": 7, "Sequence": "2"},
        {"InvocationEventType": "", "Sequence": True},
        {"ActionData": [], "CallDetails": "x"},
        {"ActionData": {"Type": 1, "Parameters": "p", "ErrorType": {}, "ErrorMessage": 3}},
        {"CallDetails": {"Participants": "LEG-A", "TransactionAttributes": ["a"]}},
        {"CallDetails": {"Participants": [None, "x", 5]}},
        {"CallDetails": {"Participants": [{"CallId": 7, "ParticipantTag": ""}]}},
        {"CallDetails": {"TransactionId": ["t"], "Participants": [[{"CallId": "c"}]]}},
    ],
)
def test_malformed_input_never_raises(raw: object) -> None:
    event = InvocationEvent(raw)
    assert event.event_type is None
    assert event.sequence is None
    assert event.action_type is None
    assert event.error_type is None
    assert event.error_message is None
    assert event.transaction_id is None
    assert event.call_id is None
    assert event.participant_tag is None
    assert isinstance(event.action_parameters, dict)
    assert isinstance(event.call_details, dict)
    assert isinstance(event.participants, list)
    assert event.transaction_attributes == {}


def test_partial_event_keeps_what_is_valid() -> None:
    raw = {
        "InvocationEventType": "RINGING",
        "Sequence": 4,
        "CallDetails": {"Participants": [None, {"CallId": "c-2", "ParticipantTag": "LEG-B"}]},
    }
    event = InvocationEvent(raw)
    assert (event.event_type, event.sequence) == ("RINGING", 4)
    assert (event.call_id, event.participant_tag) == ("c-2", "LEG-B")


def test_slots() -> None:
    event = InvocationEvent({})
    with pytest.raises(AttributeError):
        event.extra = 1  # type: ignore[attr-defined]
