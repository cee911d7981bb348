"""The sample PlayAudio handler, event by event."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import pytest
from runtime import handler as handler_module
from runtime.actions import validate_response
from runtime.config import Config, load_config
from runtime.handler import handle, handler

from .conftest import (
    BUCKET,
    CALL_ID,
    CATALOG,
    ENV,
    KEYS,
    PACKAGE_PARENT,
    TRANSACTION_ID,
    write_catalog,
    write_catalog_text,
)

MakeEvent = Callable[..., dict[str, Any]]

WELCOME_KEY = KEYS["welcome"]
ERROR_KEY = KEYS["error"]
CLOSED_KEY = KEYS["closed"]
LOGGER = "runtime.handler"


def play(key: str, call_id: str = CALL_ID) -> dict[str, Any]:
    """The PlayAudio the handler builds under ENV's defaults (terminator "#", repeat 1)."""
    source = {"Type": "S3", "BucketName": BUCKET, "Key": key}
    parameters = {
        "CallId": call_id,
        "PlaybackTerminators": ["#"],
        "Repeat": 1,
        "AudioSource": source,
    }
    return {"Type": "PlayAudio", "Parameters": parameters}


HANGUP_CALL = {"Type": "Hangup", "Parameters": {"CallId": CALL_ID, "SipResponseCode": "0"}}
HANGUP_BARE = {"Type": "Hangup", "Parameters": {"SipResponseCode": "0"}}


def reply(*actions: dict[str, Any], attributes: dict[str, str] | None = None) -> dict[str, Any]:
    expected: dict[str, Any] = {"SchemaVersion": "1.0", "Actions": list(actions)}
    if attributes is not None:
        expected["TransactionAttributes"] = attributes
    return expected


def respond(event: object, config: Config | None = None) -> dict[str, Any]:
    """handle() under ENV's configuration; every response must be valid."""
    result = handle(event, config if config is not None else load_config(ENV))
    assert validate_response(result) == []
    return result


def audio_failure(
    key: str,
    error_type: str = "InvalidAudioSource",
    action_type: str = "PlayAudio",
    failure_key: str | None = None,
) -> dict[str, Any]:
    parameters: dict[str, Any] = {
        "CallId": CALL_ID,
        "ParticipantTag": "LEG-A",
        "AudioSource": {"Type": "S3", "BucketName": BUCKET, "Key": key},
    }
    if failure_key is not None:
        parameters["FailureAudioSource"] = {"Type": "S3", "BucketName": BUCKET, "Key": failure_key}
        parameters["RepeatDurationInMilliseconds"] = 3000
    return {
        "Type": action_type,
        "Parameters": parameters,
        "ErrorType": error_type,
        "ErrorMessage": "Audio Source parameter value is invalid.",
    }


# --- configuration -------------------------------------------------------------------


def test_load_config_defaults() -> None:
    config = load_config(ENV)
    assert config.catalog is not None
    assert (config.catalog.bucket, config.catalog.names()) == (
        BUCKET,
        ["closed", "error", "welcome"],
    )
    assert (config.welcome, config.fallback) == ("welcome", "error")
    assert (config.terminators, config.repeat) == (["#"], 1)
    assert config.errors == ()
    assert config.audio_source("closed") == {"Type": "S3", "BucketName": BUCKET, "Key": CLOSED_KEY}
    assert config.audio_source("nope") is None


def test_load_config_overrides() -> None:
    config = load_config(
        {
            **ENV,
            "WELCOME_PROMPT": "closed",
            "FALLBACK_PROMPT": "welcome",
            "PLAYBACK_TERMINATORS": "#*",
            "PLAYBACK_REPEAT": " 3 ",
        }
    )
    assert (config.welcome, config.fallback) == ("closed", "welcome")
    assert (config.terminators, config.repeat) == (["#", "*"], 3)
    assert config.errors == ()


@pytest.mark.parametrize("raw", ["0", "-1", "1.5", "abc", "\u0663"])
def test_bad_playback_repeat_falls_back_to_1(
    raw: str, make_event: MakeEvent, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, LOGGER):
        config = load_config({**ENV, "PLAYBACK_REPEAT": raw})
    assert config.repeat == 1
    assert config.errors == (
        f"PLAYBACK_REPEAT={raw!r} is invalid; allowed: an integer > 0; using 1",
    )
    assert caplog.messages == [f"invalid configuration: {config.errors[0]}"]
    assert respond(make_event("NEW_INBOUND_CALL"), config) == reply(play(WELCOME_KEY), HANGUP_CALL)


@pytest.mark.parametrize("raw", ["#x", "##", "1 2"])
def test_bad_playback_terminators_fall_back_to_hash(raw: str) -> None:
    config = load_config({**ENV, "PLAYBACK_TERMINATORS": raw})
    assert config.terminators == ["#"]
    assert config.errors[0].startswith("PLAYBACK_TERMINATORS=")


def test_blank_playback_repeat_means_default() -> None:
    config = load_config({**ENV, "PLAYBACK_REPEAT": " "})
    assert (config.repeat, config.errors) == (1, ())


def test_empty_playback_terminators_mean_none(make_event: MakeEvent) -> None:
    config = load_config({**ENV, "PLAYBACK_TERMINATORS": ""})
    assert config.terminators is None
    result = respond(make_event("NEW_INBOUND_CALL"), config)
    assert "PlaybackTerminators" not in result["Actions"][0]["Parameters"]


@pytest.mark.parametrize(
    ("environ", "error"),
    [
        ({"PROMPTS_BUCKET": BUCKET}, "PROMPT_CATALOG is not set; expected PROMPT_CATALOG"),
        ({**ENV, "PROMPT_CATALOG": "/opt/none.json"}, "but there is no such file"),
        ({**ENV, "PROMPT_CATALOG": write_catalog_text("{not json")}, "is not valid UTF-8 JSON"),
        ({**ENV, "PROMPT_CATALOG": write_catalog_text('["welcome"]')}, "top level is list"),
        ({**ENV, "PROMPT_CATALOG": write_catalog_text("{} x")}, "is not valid UTF-8 JSON"),
        (
            {**ENV, "PROMPT_CATALOG": write_catalog({**CATALOG, "format": "other/2"})},
            "format is 'other/2'",
        ),
        (
            {
                **ENV,
                "PROMPT_CATALOG": write_catalog({**CATALOG, "prompts": {"error": "1,8000,1"}}),
            },
            "WELCOME_PROMPT 'welcome' is not in the prompt catalog; calls will hang up",
        ),
        ({"PROMPT_CATALOG": ENV["PROMPT_CATALOG"]}, "PROMPTS_BUCKET is not set"),
        ({**ENV, "PROMPTS_BUCKET": "  "}, "PROMPTS_BUCKET is not set"),
    ],
)
def test_unusable_configuration_hangs_up(
    environ: dict[str, str], error: str, make_event: MakeEvent, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, LOGGER):
        config = load_config(environ)
    assert any(error in e for e in config.errors), config.errors
    assert any(error in m for m in caplog.messages)
    assert respond(make_event("NEW_INBOUND_CALL"), config) == reply(HANGUP_CALL)


def test_missing_fallback_is_reported() -> None:
    config = load_config({**ENV, "FALLBACK_PROMPT": "sorry"})
    assert config.errors == (
        "FALLBACK_PROMPT 'sorry' is not in the prompt catalog; "
        "audio failures of calls hang up without it",
    )


# --- call start ----------------------------------------------------------------------


def test_new_inbound_call_plays_welcome_then_hangs_up(make_event: MakeEvent) -> None:
    assert respond(make_event("NEW_INBOUND_CALL", sequence=1)) == reply(
        play(WELCOME_KEY), HANGUP_CALL
    )


def test_call_answered_plays_welcome_then_hangs_up(make_event: MakeEvent) -> None:
    event = make_event("CALL_ANSWERED", direction="Outbound")
    assert respond(event) == reply(play(WELCOME_KEY), HANGUP_CALL)


def test_playback_settings_are_applied(make_event: MakeEvent) -> None:
    config = load_config({**ENV, "PLAYBACK_TERMINATORS": "*0", "PLAYBACK_REPEAT": "2"})
    (played, _) = respond(make_event("NEW_INBOUND_CALL"), config)["Actions"]
    assert played["Parameters"]["PlaybackTerminators"] == ["*", "0"]
    assert played["Parameters"]["Repeat"] == 2


def test_event_without_participants_targets_the_invoked_leg() -> None:
    event = {"SchemaVersion": "1.0", "Sequence": 1, "InvocationEventType": "NEW_INBOUND_CALL"}
    (played, hung_up) = respond(event)["Actions"]
    assert "CallId" not in played["Parameters"]
    assert hung_up == HANGUP_BARE


# --- events that need no actions -----------------------------------------------------


@pytest.mark.parametrize(
    "event_type", ["HANGUP", "RINGING", "NEW_OUTBOUND_CALL", "ACTION_INTERRUPTED"]
)
def test_events_whose_answer_the_service_ignores_get_no_actions(
    event_type: str, make_event: MakeEvent
) -> None:
    action_data = {"Type": "Hangup", "Parameters": {"SipResponseCode": "0"}}
    assert respond(make_event(event_type, action_data)) == reply()


def test_digits_received_on_a_live_call_hangs_up_rather_than_answer_with_no_actions(
    make_event: MakeEvent, caplog: pytest.LogCaptureFixture
) -> None:
    # This flow sends no ReceiveDigits; [] would stop the pending Hangup (use-cases.md).
    action_data = {"Type": "ReceiveDigits", "ReceivedDigits": "1"}
    with caplog.at_level(logging.INFO, LOGGER):
        assert respond(make_event("DIGITS_RECEIVED", action_data)) == reply(HANGUP_CALL)
    (record,) = caplog.records
    assert record.levelno == logging.WARNING


# --- ACTION_SUCCESSFUL ---------------------------------------------------------------


@pytest.mark.parametrize("action_type", ["PlayAudio", "PlayAudioAndGetDigits", "Pause"])
def test_action_successful_hangs_up(action_type: str, make_event: MakeEvent) -> None:
    action_data = {"Type": action_type, "Parameters": {"CallId": CALL_ID}}
    if action_type == "PlayAudioAndGetDigits":
        action_data["ReceivedDigits"] = "1234"
    assert respond(make_event("ACTION_SUCCESSFUL", action_data)) == reply(HANGUP_CALL)


def test_action_successful_after_hangup_does_nothing(make_event: MakeEvent) -> None:
    action_data = {"Type": "Hangup", "Parameters": {"SipResponseCode": "0"}}
    assert respond(make_event("ACTION_SUCCESSFUL", action_data)) == reply()


# --- ACTION_FAILED -------------------------------------------------------------------


def test_welcome_failure_plays_fallback_once(
    make_event: MakeEvent, caplog: pytest.LogCaptureFixture
) -> None:
    event = make_event("ACTION_FAILED", audio_failure(WELCOME_KEY), {"caller": "vip"})
    with caplog.at_level(logging.INFO, LOGGER):
        result = respond(event)
    assert result == reply(
        play(ERROR_KEY), HANGUP_CALL, attributes={"caller": "vip", "fallbackPlayed": "true"}
    )
    (record,) = caplog.records
    assert record.levelno == logging.ERROR
    assert record.getMessage() == (
        "PlayAudio failed with InvalidAudioSource: Audio Source parameter value is invalid. "
        "(recovery: fallback)"
    )
    assert record.__dict__["eventType"] == "ACTION_FAILED"
    assert record.__dict__["errorType"] == "InvalidAudioSource"
    assert record.__dict__["errorMessage"] == "Audio Source parameter value is invalid."
    assert record.__dict__["failedAction"] == {
        "Type": "PlayAudio",
        "Parameters": event["ActionData"]["Parameters"],
    }
    assert record.__dict__["callId"] == CALL_ID
    assert record.__dict__["transactionId"] == TRANSACTION_ID
    assert record.__dict__["recovery"] == "fallback"


def test_fallback_own_failure_hangs_up(make_event: MakeEvent) -> None:
    # Stateless safety: no fallbackPlayed attribute, but the failing key is the fallback's.
    event = make_event("ACTION_FAILED", audio_failure(ERROR_KEY))
    assert respond(event) == reply(HANGUP_BARE)


def test_second_failure_after_fallback_hangs_up(make_event: MakeEvent) -> None:
    event = make_event("ACTION_FAILED", audio_failure(CLOSED_KEY), {"fallbackPlayed": "true"})
    assert respond(event) == reply(HANGUP_BARE)


def test_a_get_digits_failure_is_not_taken_for_a_broken_prompt(
    make_event: MakeEvent, caplog: pytest.LogCaptureFixture
) -> None:
    # play-audio-get-digits.md's one example of "fails to collect the number of specified
    # digits" carries InvalidAudioSource: a caller who typed nothing may be all it means.
    failed = audio_failure(WELCOME_KEY, action_type="PlayAudioAndGetDigits", failure_key=CLOSED_KEY)
    with caplog.at_level(logging.INFO, LOGGER):
        assert respond(make_event("ACTION_FAILED", failed)) == reply(HANGUP_BARE)
    (record,) = caplog.records
    assert record.levelno == logging.WARNING
    assert record.getMessage().endswith(
        "(recovery: hangup); no valid digits, or broken audio: the service reports both so"
    )


def test_get_digits_failure_audio_being_the_fallback_hangs_up(make_event: MakeEvent) -> None:
    failed = audio_failure(WELCOME_KEY, action_type="PlayAudioAndGetDigits", failure_key=ERROR_KEY)
    assert respond(make_event("ACTION_FAILED", failed)) == reply(HANGUP_BARE)


def test_fallback_targets_the_failed_leg(make_event: MakeEvent) -> None:
    failed = audio_failure(WELCOME_KEY)
    failed["Parameters"]["CallId"] = "call-id-2"
    result = respond(make_event("ACTION_FAILED", failed))
    assert result["Actions"] == [
        play(ERROR_KEY, "call-id-2"),
        {"Type": "Hangup", "Parameters": {"CallId": "call-id-2", "SipResponseCode": "0"}},
    ]


def test_fallback_without_room_for_attributes_leaves_them_out(make_event: MakeEvent) -> None:
    full = {f"k{i}": "v" for i in range(10)}  # the 10 pairs the service takes: no room left
    result = respond(make_event("ACTION_FAILED", audio_failure(WELCOME_KEY), full))
    assert result == reply(play(ERROR_KEY), HANGUP_CALL)


def test_failure_without_configured_fallback_hangs_up(make_event: MakeEvent) -> None:
    config = load_config({**ENV, "FALLBACK_PROMPT": "missing"})
    assert respond(make_event("ACTION_FAILED", audio_failure(WELCOME_KEY)), config) == reply(
        HANGUP_BARE
    )


@pytest.mark.parametrize("error_type", ["SystemException", "InvalidActionParameter", None])
def test_other_failures_hang_up(
    error_type: str | None, make_event: MakeEvent, caplog: pytest.LogCaptureFixture
) -> None:
    failed = audio_failure(WELCOME_KEY, error_type=error_type or "")
    with caplog.at_level(logging.INFO, LOGGER):
        assert respond(make_event("ACTION_FAILED", failed)) == reply(HANGUP_BARE)
    (record,) = caplog.records
    assert record.levelno == logging.ERROR
    assert record.__dict__["errorType"] == error_type
    assert record.__dict__["recovery"] == "hangup"


def test_a_failed_hangup_aimed_at_a_leg_is_answered_with_a_bare_hangup(
    make_event: MakeEvent,
) -> None:
    # [] would leave the live call with no actions and no Hangup.
    failed = {
        "Type": "Hangup",
        "Parameters": {"CallId": "gone", "SipResponseCode": "0"},
        "ErrorType": "InvalidActionParameter",
        "ErrorMessage": "CallId or ParticipantTag parameter for action is invalid.",
    }
    assert respond(make_event("ACTION_FAILED", failed)) == reply(HANGUP_BARE)


FAILED_BARE_HANGUP = {
    **HANGUP_BARE,
    "ErrorType": "SystemException",
    "ErrorMessage": "System error while running action.",
}


def test_a_failed_bare_hangup_is_retried_once_marked_so_it_cannot_loop(
    make_event: MakeEvent,
) -> None:
    # [] on a live call leaves it with no actions under use-cases.md's reading: the one
    # action that ends the call gets a second chance, the caller's attributes kept.
    event = make_event("ACTION_FAILED", FAILED_BARE_HANGUP, {"caller": "vip"})
    assert respond(event) == reply(
        HANGUP_BARE, attributes={"caller": "vip", "hangupRetried": "true"}
    )


def test_a_bare_hangup_that_failed_again_gets_no_actions(
    make_event: MakeEvent, caplog: pytest.LogCaptureFixture
) -> None:
    event = make_event("ACTION_FAILED", FAILED_BARE_HANGUP, {"hangupRetried": "true"})
    with caplog.at_level(logging.INFO, LOGGER):
        assert respond(event) == reply()
    (record,) = caplog.records
    assert record.__dict__["recovery"] == "none"


def test_a_failed_bare_hangup_is_not_retried_without_room_for_the_mark(
    make_event: MakeEvent,
) -> None:
    # Ten attributes already: the mark would be an eleventh, and a retry without it could loop.
    full = {f"k{n}": "v" for n in range(10)}
    assert respond(make_event("ACTION_FAILED", FAILED_BARE_HANGUP, full)) == reply()


def test_malformed_failure_hangs_up(make_event: MakeEvent) -> None:
    failed = {"Type": "PlayAudio", "Parameters": {"AudioSource": {"Key": ["x"]}}, "ErrorType": 5}
    assert respond(make_event("ACTION_FAILED", failed)) == reply(HANGUP_BARE)


# --- CALL_UPDATE_REQUESTED -----------------------------------------------------------


def update(arguments: object) -> dict[str, Any]:
    return {"Type": "CallUpdateRequest", "Parameters": {"Arguments": arguments}}


def test_call_update_plays_named_prompt(make_event: MakeEvent) -> None:
    event = make_event("CALL_UPDATE_REQUESTED", update({"prompt": "closed"}))
    assert respond(event) == reply(play(CLOSED_KEY), HANGUP_CALL)


def test_call_update_hangup(make_event: MakeEvent) -> None:
    event = make_event("CALL_UPDATE_REQUESTED", update({"action": "hangup"}))
    assert respond(event) == reply(HANGUP_CALL)


def test_call_update_unknown_prompt_then_hangup(make_event: MakeEvent) -> None:
    event = make_event("CALL_UPDATE_REQUESTED", update({"prompt": "nope", "action": "hangup"}))
    assert respond(event) == reply(HANGUP_CALL)


@pytest.mark.parametrize(
    "arguments", [{"prompt": "goodby"}, {"action": "transfer"}, {}, "prompt=closed", None]
)
def test_call_update_without_known_request_plays_the_welcome_again_then_hangs_up(
    arguments: object, make_event: MakeEvent, caplog: pytest.LogCaptureFixture
) -> None:
    # A backend's typo must not drop a live call. [] would drop the pending Hangup
    # (use-cases.md: an empty set stops running actions), no Actions at all is invalid under
    # the other reading, and a bare Hangup cuts the caller off mid-welcome: any non-empty
    # list replaces the pending actions under both, so the welcome starts again.
    with caplog.at_level(logging.INFO, LOGGER):
        result = respond(make_event("CALL_UPDATE_REQUESTED", update(arguments)))
    assert result == reply(play(WELCOME_KEY), HANGUP_CALL)
    (record,) = caplog.records
    assert record.levelno == logging.WARNING
    assert record.getMessage().endswith("playing 'welcome' again, then hanging up")


def test_call_update_without_known_request_after_the_fallback_plays_the_fallback_again(
    make_event: MakeEvent,
) -> None:
    event = make_event("CALL_UPDATE_REQUESTED", update({"pin": "1"}), {"fallbackPlayed": "true"})
    assert respond(event) == reply(play(ERROR_KEY), HANGUP_CALL)


def test_call_update_does_not_log_argument_values(
    make_event: MakeEvent, caplog: pytest.LogCaptureFixture
) -> None:
    event = make_event("CALL_UPDATE_REQUESTED", update({"pin": "1234"}))
    with caplog.at_level(logging.INFO, LOGGER):
        respond(event)
    (record,) = caplog.records
    assert record.__dict__["argumentNames"] == ["pin"]
    assert "1234" not in repr(record.__dict__)


# --- errors from the service, unknown and malformed events ---------------------------


def test_invalid_lambda_response_hangs_up(
    make_event: MakeEvent, caplog: pytest.LogCaptureFixture
) -> None:
    event = make_event("INVALID_LAMBDA_RESPONSE")
    event["ErrorType"] = "SchemaVersionMismatch"
    event["ErrorMessage"] = "Schema version is not supported."
    with caplog.at_level(logging.INFO, LOGGER):
        assert respond(event) == reply(HANGUP_BARE)
    (record,) = caplog.records
    assert record.levelno == logging.ERROR
    assert record.__dict__["errorType"] == "SchemaVersionMismatch"
    assert record.__dict__["errorMessage"] == "Schema version is not supported."


def test_invalid_lambda_response_error_is_read_from_action_data_too(
    make_event: MakeEvent, caplog: pytest.LogCaptureFixture
) -> None:
    # pstn-invocations.md: "The ActionData includes these additional fields".
    errors = {"ErrorType": "TransactionAttributesInvalidMapSize", "ErrorMessage": "too many"}
    with caplog.at_level(logging.INFO, LOGGER):
        assert respond(make_event("INVALID_LAMBDA_RESPONSE", errors)) == reply(HANGUP_BARE)
    (record,) = caplog.records
    assert (record.__dict__["errorType"], record.__dict__["errorMessage"]) == (
        "TransactionAttributesInvalidMapSize",
        "too many",
    )


def test_unknown_event_type_hangs_up(
    make_event: MakeEvent, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, LOGGER):
        assert respond(make_event("SOMETHING_NEW")) == reply(HANGUP_BARE)
    assert caplog.messages == ["unknown or malformed event (SOMETHING_NEW); hanging up"]


@pytest.mark.parametrize("event", [None, "NEW_INBOUND_CALL", [], 42, {}, {"Sequence": 1}])
def test_malformed_event_hangs_up(
    event: object, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(handler_module, "CONFIG", load_config(ENV))
    with caplog.at_level(logging.INFO, LOGGER):
        result = handler(event, None)
    assert result == reply(HANGUP_BARE)
    assert len(caplog.records) == 1


def test_handler_uses_module_config(make_event: MakeEvent, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(handler_module, "CONFIG", load_config({**ENV, "WELCOME_PROMPT": "closed"}))
    result = handler(make_event("NEW_INBOUND_CALL"), object())
    assert isinstance(result, dict)
    assert result == reply(play(CLOSED_KEY), HANGUP_CALL)


def test_any_exception_hangs_up(
    make_event: MakeEvent, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def explode(event: object, config: Config) -> dict[str, Any]:
        raise RuntimeError("boom")

    monkeypatch.setattr(handler_module, "handle", explode)
    with caplog.at_level(logging.INFO, LOGGER):
        result = handler(make_event("NEW_INBOUND_CALL"), None)
    assert result == reply(HANGUP_BARE)
    assert validate_response(result) == []
    (record,) = caplog.records
    assert record.getMessage() == "unhandled error; hanging up"
    assert record.exc_info is not None
    assert isinstance(record.exc_info[1], RuntimeError)


def test_cold_import_stays_light() -> None:
    """Importing the handler and answering a call imports none of the slow modules."""
    script = f"""
import sys
before = set(sys.modules)
sys.path.insert(0, {str(PACKAGE_PARENT)!r})
import runtime.handler as h
event = {{"SchemaVersion": "1.0", "Sequence": 1, "InvocationEventType": "NEW_INBOUND_CALL",
         "CallDetails": {{"TransactionId": "t", "Participants": [{{"CallId": "c"}}]}}}}
assert h.handler(event, None)["Actions"][0]["Type"] == "PlayAudio"
print(*sorted(set(sys.modules) - before))
"""
    done = subprocess.run(
        [sys.executable, "-c", script],
        env={**os.environ, **ENV},
        capture_output=True,
        text=True,
        check=True,
    )
    imported = set(done.stdout.split())
    assert {"runtime.handler", "runtime.actions", "runtime.events"} <= imported, done.stderr
    slow = {"boto3", "botocore", "logging", "typing", "dataclasses", "inspect"}
    assert imported.isdisjoint(slow), imported
