"""The SMA's rules, each checked against a deliberately broken handler or prompt.

GIVEN the hand-written assembly of conftest.py, WHEN the broken handler runs
in one MODE, THEN the call goes where Chime would take it, with the
documented event.
"""

from __future__ import annotations

import dataclasses
import io
import wave
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from playaudio_sim.call_setup import CallSetup
from playaudio_sim.engine import (
    Call,
    CallOptions,
    CallResult,
    Outcome,
    parse_keys,
    write_outputs,
)
from playaudio_sim.lambda_runner import InvokeResult
from tests.playaudio_sim.conftest import run


def events(result: CallResult) -> list[str]:
    return [r["type"] for r in result.transcript.of_kind("event")]


def last_event(result: CallResult, kind: str) -> dict[str, Any]:
    found = [r["event"] for r in result.transcript.of_kind("event") if r["type"] == kind]
    assert found, f"no {kind} event in {events(result)}"
    event: dict[str, Any] = found[-1]
    return event


def test_a_clean_call_plays_the_prompt_and_ends_in_the_handlers_hangup(
    broken_app: CallSetup, tmp_path: Path
) -> None:
    result = run(broken_app)
    assert (result.outcome, result.exit_code) == (Outcome.HANGUP, 0)
    assert events(result) == ["NEW_INBOUND_CALL", "HANGUP"]
    assert [h["key"] for h in result.heard] == ["prompts/welcome.wav"]
    first = last_event(result, "NEW_INBOUND_CALL")
    assert first["Sequence"] == 1
    details = first["CallDetails"]
    assert details["AwsAccountId"] == "123456789012"
    assert details["SipApplicationId"] == broken_app.sma.id  # the default smaIdField reading
    assert details["Participants"][0]["ParticipantTag"] == "LEG-A"
    hangup = last_event(result, "HANGUP")
    assert hangup["Sequence"] == 2
    assert hangup["ActionData"]["Parameters"]["SipResponseCode"] == 0
    assert hangup["CallDetails"]["Participants"][0]["Status"] == "Disconnected"

    paths = write_outputs(result, tmp_path / "out")
    with wave.open(str(paths["audio"])) as audio:
        assert (audio.getframerate(), audio.getnchannels(), audio.getsampwidth()) == (8000, 1, 2)
        assert audio.getnframes() == 8000  # exactly the 1 s prompt
    assert paths["timeline"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    lines = paths["transcript"].read_text().splitlines()
    assert len(lines) == len(result.transcript.records)


@pytest.mark.parametrize(
    ("mode", "error_type"),
    [
        ("eleven-actions", "InvalidLambdaResponse"),
        ("unknown-action", "InvalidLambdaResponse"),
        ("string-json", "SchemaVersionMismatch"),
        ("no-schema-version", "SchemaVersionMismatch"),
    ],
)
def test_a_response_that_breaks_the_schema_becomes_invalid_lambda_response(
    broken_app: CallSetup, mode: str, error_type: str
) -> None:
    result = run(broken_app, mode)
    assert events(result) == ["NEW_INBOUND_CALL", "INVALID_LAMBDA_RESPONSE", "HANGUP"]
    invalid = last_event(result, "INVALID_LAMBDA_RESPONSE")
    assert invalid["ErrorType"] == error_type
    assert invalid["ErrorMessage"]
    assert result.heard == []  # nothing of the rejected response was run
    assert result.outcome is Outcome.HANGUP_AFTER_ERROR
    assert result.exit_code == 1


def test_eleven_actions_are_refused_with_validate_responses_message(broken_app: CallSetup) -> None:
    result = run(broken_app, "eleven-actions")
    (rejected,) = result.transcript.of_kind("rejected")
    assert "Actions has 11 actions; allowed: at most 10" in rejected["errors"]


@pytest.mark.parametrize(
    ("mode", "reason"),
    [
        ("missing-key", "no deployment puts this key in the bucket"),
        ("other-bucket", "no bucket of that name is defined in this assembly"),
        ("mulaw", "mu-law (format 7) is not PCM"),
        ("too-big", "over Chime PlayAudio's limit of 50,000,000 bytes"),
    ],
)
def test_an_audio_source_chime_cannot_play_fails_with_invalid_audio_source(
    broken_app: CallSetup, mode: str, reason: str
) -> None:
    result = run(broken_app, mode)
    (failed,) = result.transcript.of_kind("action-failed")
    assert reason in failed["reason"]
    assert failed["doc"].endswith("/play-audio.html")
    event = last_event(result, "ACTION_FAILED")
    assert event["ActionData"]["Type"] == "PlayAudio"
    assert event["ActionData"]["ErrorType"] == "InvalidAudioSource"
    assert event["ActionData"]["ErrorMessage"] == "Audio Source parameter value is invalid."
    assert failed["dropped"] == [{"Type": "Hangup", "Parameters": {"SipResponseCode": "0"}}]
    assert result.outcome is Outcome.HANGUP_AFTER_ERROR


@pytest.mark.parametrize("mode", ["bad-call-id", "leg-b"])
def test_a_bad_call_id_or_participant_tag_fails_with_invalid_action_parameter(
    broken_app: CallSetup, mode: str
) -> None:
    result = run(broken_app, mode)
    event = last_event(result, "ACTION_FAILED")
    assert event["ActionData"]["ErrorType"] == "InvalidActionParameter"
    assert result.failures == ["InvalidActionParameter"]


def test_a_handler_exception_is_not_retried_the_sma_hangs_up_with_480_and_sends_no_hangup(
    broken_app: CallSetup,
) -> None:
    # timeouts.html retries a 4XX status once; an exception reaches the SMA as a function
    # error, which no page says is retried: the simulator assumes not, and says so.
    result = run(broken_app, "raise")
    (error,) = result.transcript.of_kind("invocation-error")
    assert (error["attempt"], error["retry"], error["errorType"]) == (1, False, "RuntimeError")
    assert error["assumes"] == ["functionErrorNotRetried"]
    (hangup,) = result.transcript.of_kind("hangup")
    assert hangup["code"] == 480
    assert hangup["assumes"] == ["noHangupAfterSmaEnds"]
    assert events(result) == ["NEW_INBOUND_CALL"]  # no HANGUP event: none is documented
    assert result.outcome is Outcome.SMA_HANGUP
    assert result.exit_code == 3
    assert "[assumes functionErrorNotRetried]" in "\n".join(result.transcript.summary_lines())


def test_a_failure_on_a_later_event_ends_the_call_after_what_was_heard(
    broken_app: CallSetup,
) -> None:
    result = run(broken_app, "raise-later")
    assert [h["key"] for h in result.heard] == ["prompts/welcome.wav"]
    assert events(result)[:2] == ["NEW_INBOUND_CALL", "ACTION_SUCCESSFUL"]
    assert result.outcome is Outcome.SMA_HANGUP
    assert result.duration_ms == 1000


def test_a_response_lambda_cannot_serialize_is_an_invocation_error(broken_app: CallSetup) -> None:
    result = run(broken_app, "not-serializable")
    assert result.transcript.of_kind("invocation-error")[0]["errorType"] == "Runtime.MarshalError"
    assert result.outcome is Outcome.SMA_HANGUP


def test_a_run_over_the_functions_timeout_is_killed_and_hung_up(
    make_setup: Callable[..., CallSetup],
) -> None:

    setup = make_setup(timeout=1)
    assert setup.function.timeout_s == 1  # the function's Timeout, from the template
    # A quarter of a second keeps the test fast; the rule is the same.
    setup = dataclasses.replace(setup, function=dataclasses.replace(setup.function, timeout_s=0.25))
    result = run(setup, "sleep")
    (error,) = result.transcript.of_kind("invocation-error")
    assert error["errorType"] == "Sandbox.Timedout"
    assert error["errorMessage"] == "Task timed out after 0.25 seconds"
    # Lambda answered within the SMA's 5 s, with a function error: not retried (assumed).
    assert error["retry"] is False
    # The caller heard the wait as silence, then the SMA hung up with 480.
    assert result.duration_ms == 250
    assert result.transcript.of_kind("hangup")[0]["code"] == 480
    assert result.outcome is Outcome.SMA_HANGUP


class _Slow:
    """An invoker that never answers in time: for a function whose Timeout is over 5 s."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    def invoke(self, event: dict[str, Any], timeout_s: float) -> InvokeResult:
        self.calls.append(timeout_s)
        return InvokeResult(ok=False, error_type="Sandbox.Timedout", timed_out=True)

    def close(self) -> None:
        pass


def test_a_slow_function_is_retried_every_5_s_and_the_call_ends_after_20_s(
    broken_app: CallSetup,
) -> None:

    function = dataclasses.replace(broken_app.function, timeout_s=30)
    setup = dataclasses.replace(broken_app, function=function)
    slow = _Slow()
    result = Call(setup, invoker=slow).run()
    assert slow.calls[:4] == [5, 5, 5, 5]
    assert result.duration_ms == 20_000
    assert result.outcome is Outcome.SMA_HANGUP
    assert "20 s after the first attempt" in result.reason
    # timeouts.html states the 5 s wait; retrying until 20 s is inferred, so it is marked.
    retries = result.transcript.of_kind("invocation-error")
    assert retries and all("retriedEvery5sFor20s" in r["assumes"] for r in retries)


def test_transaction_attributes_are_carried_replaced_and_erased(broken_app: CallSetup) -> None:
    result = run(broken_app, "attributes")
    successes = [
        r["event"] for r in result.transcript.of_kind("event") if r["type"] == "ACTION_SUCCESSFUL"
    ]
    assert successes[0]["CallDetails"]["TransactionAttributes"] == {"step": "welcome"}
    # The second response passed {} (erase): the next event carries none.
    assert "TransactionAttributes" not in successes[1]["CallDetails"]
    assert [h["key"] for h in result.heard] == ["prompts/welcome.wav", "prompts/error.wav"]
    assert result.outcome is Outcome.HANGUP


def test_playback_terminators_stop_the_prompt_and_it_is_not_repeated(
    broken_app: CallSetup,
) -> None:
    result = run(broken_app, "repeat", keys="5@0.5s,#@1.5s")
    heard = [(h["startMs"], h["endMs"], h["stoppedBy"]) for h in result.heard]
    assert heard == [(0, 1000, None), (1000, 1500, "#")]
    keys = {r["digit"]: r["effect"] for r in result.transcript.of_kind("key")}
    assert keys == {"5": "ignored", "#": "stopped playback"}
    assert result.audio.length == 1500 * 8


def test_repeat_plays_the_prompt_that_many_times(broken_app: CallSetup) -> None:
    result = run(broken_app, "repeat")
    assert len(result.heard) == 3
    assert result.duration_ms == 3000


def test_action_successful_follows_a_last_play_audio_only(broken_app: CallSetup) -> None:
    result = run(broken_app, "last-play")
    success = last_event(result, "ACTION_SUCCESSFUL")
    assert success["ActionData"]["Type"] == "PlayAudio"
    assert success["ActionData"]["Parameters"]["AudioSource"]["Key"] == "prompts/welcome.wav"
    assert "ACTION_SUCCESSFUL" not in events(run(broken_app, "ok"))


def test_pause_is_silence_in_the_call_audio(broken_app: CallSetup) -> None:
    result = run(broken_app, "pause")
    (pause,) = result.transcript.of_kind("pause")
    assert (pause["startMs"], pause["endMs"]) == (0, 500)
    assert result.heard[0]["startMs"] == 500
    assert result.duration_ms == 1500


def test_a_handler_that_leaves_the_call_idle_loses_the_caller(broken_app: CallSetup) -> None:
    # Outbound: CALL_ANSWERED comes once the call is answered, so no actions is silence.
    result = run(broken_app, "idle", caller_patience_ms=3000, outbound=True)
    assert result.outcome is Outcome.CALLER_HANGUP
    assert result.exit_code == 4
    assert result.duration_ms == 3000
    assert last_event(result, "HANGUP")["ActionData"]["Parameters"]["SipResponseCode"] == 0


def test_a_scripted_caller_hangup_cuts_the_prompt(broken_app: CallSetup) -> None:
    result = run(broken_app, "ok", hangup_at_ms=400)
    assert result.outcome is Outcome.CALLER_HANGUP
    assert result.heard[0]["endMs"] == 400
    assert result.audio.length == 400 * 8


def test_the_call_stops_at_1000_invocations(broken_app: CallSetup) -> None:
    result = run(broken_app, "loop")
    assert result.invocations == 1000
    assert result.outcome is Outcome.LIMIT
    assert result.exit_code == 5


def test_the_call_stops_at_the_call_length_bound(broken_app: CallSetup) -> None:
    result = run(broken_app, "long", max_call_ms=2500)
    assert result.outcome is Outcome.LIMIT
    assert result.duration_ms == 2500


def test_the_handlers_own_sip_code_ends_the_call(broken_app: CallSetup) -> None:
    result = run(broken_app, "hangup-486")
    assert result.outcome is Outcome.HANGUP
    assert result.transcript.of_kind("hangup")[0]["code"] == 486


def test_play_audio_and_get_digits_collects_scripted_digits(broken_app: CallSetup) -> None:
    result = run(broken_app, "digits", keys="4@0.5s,2@1.2s,#@1.4s")
    success = last_event(result, "ACTION_SUCCESSFUL")
    # Without the terminator, as every documented ReceivedDigits ("123" with ["#"]).
    assert success["ActionData"]["ReceivedDigits"] == "42"
    assert success["CallDetails"]["Participants"][0]["Status"] == "Connected"


def test_play_audio_and_get_digits_retries_with_the_failure_audio_then_fails(
    broken_app: CallSetup,
) -> None:
    result = run(broken_app, "digits", keys="7@0.5s")
    roles = [h["role"] for h in result.heard]
    assert roles == ["digits prompt", "failure audio", "digits prompt", "failure audio"]
    # 1 s prompt, 2 s wait for digits, 0.5 s failure audio, then RepeatDurationInMilliseconds
    # (2 s, "Time in milliseconds to wait between Repeat attempts") before the second attempt.
    assert [h["startMs"] for h in result.heard] == [0, 3000, 5500, 8500]
    failed = last_event(result, "ACTION_FAILED")
    assert failed["ActionData"]["Type"] == "PlayAudioAndGetDigits"
    # A caller who typed too little is a normal IVR path, not an error of the app.
    assert result.outcome is Outcome.HANGUP


def test_outbound_calls_ignore_the_answers_to_new_outbound_call_and_ringing(
    broken_app: CallSetup,
) -> None:
    options = CallOptions(
        outbound=True, environment={**broken_app.function.environment, "MODE": "ok"}
    )
    result = Call(broken_app, options).run()
    assert events(result) == ["NEW_OUTBOUND_CALL", "RINGING", "CALL_ANSWERED", "HANGUP"]
    ignored = [r["ignored"] for r in result.transcript.of_kind("response")]
    assert ignored == [True, True, False, True]
    answered = last_event(result, "CALL_ANSWERED")
    assert answered["CallDetails"]["Participants"][0]["Direction"] == "Outbound"
    assert answered["Sequence"] == 3


def test_without_an_invoke_permission_the_sma_cannot_call_the_handler(
    make_setup: Callable[..., CallSetup],
) -> None:
    result = run(make_setup(permission=False))
    assert events(result) == []
    assert result.outcome is Outcome.SMA_HANGUP
    assert "lambda:InvokeFunction" in result.reason


def test_the_handler_runs_isolated_with_only_its_environment(
    make_setup: Callable[..., CallSetup],
) -> None:
    code = """
import os, sys
def handler(event, context):
    import json
    found = {
        "credentials": "AWS_SECRET_ACCESS_KEY" in os.environ,
        "project": any(m.startswith("constructs_pkg") for m in sys.modules),
        "region": os.environ["AWS_REGION"],
        "remaining": context.get_remaining_time_in_millis() > 0,
    }
    try:
        import constructs_pkg  # noqa: F401
        found["importable"] = True
    except ImportError:
        found["importable"] = False
    print("hello from print")
    return {"SchemaVersion": "1.0", "Actions": [{"Type": "Hangup", "Parameters": {}}],
            "TransactionAttributes": {k: json.dumps(v) for k, v in found.items()}}
"""
    import os

    os.environ["AWS_SECRET_ACCESS_KEY"] = "must-not-leak"
    try:
        result = run(make_setup(handler_code=code))
    finally:
        del os.environ["AWS_SECRET_ACCESS_KEY"]
    (response, _) = result.transcript.of_kind("response")
    assert response["response"]["TransactionAttributes"] == {
        "credentials": "false",
        "project": "false",
        "region": '"us-east-1"',
        "remaining": "true",
        "importable": "false",
    }
    assert {"stream": "stdout/stderr", "message": "hello from print"} in response["logs"]


def test_keys_are_parsed_and_bad_ones_refused() -> None:
    assert [(k.digit, k.at_ms) for k in parse_keys("1@2.5s, #@4s,*@1500ms")] == [
        ("*", 1500),
        ("1", 2500),
        ("#", 4000),
    ]
    with pytest.raises(ValueError, match="is not DIGIT@TIME"):
        parse_keys("A@1s")


def test_a_prompt_that_is_not_8khz_mono_is_converted_for_call_wav(broken_app: CallSetup) -> None:
    result = run(broken_app, "stereo")
    assert result.heard[0]["fullMs"] == 1000
    assert result.audio.length == 8000  # 1 s at 8 kHz mono, whatever the prompt's format


def test_the_stdlib_fallback_conversion_keeps_the_duration() -> None:
    from constructs_pkg.audio.wav import check_prompt
    from playaudio_sim.media import _approximate
    from tests.audio import wavgen

    raw = wavgen.pcm(rate=22050, channels=2, bits=8, frames=22050)
    info = check_prompt(io.BytesIO(raw))
    pcm = _approximate(raw[info.data_offset : info.data_offset + info.data_bytes], info)
    assert len(pcm) == 8000 * 2
