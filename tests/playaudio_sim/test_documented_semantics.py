"""The simulator follows the guide's pages, and runs a call under either side of a conflict.

Each test names the page (and phrase) it holds the simulator to; where two pages
disagree, the call is run under both readings (:mod:`playaudio_sim.readings`)
and the transcript must mark the step that rests on the reading.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from constructs_pkg.runtime.events import SYSTEM_EXCEPTION
from playaudio_sim import rules
from playaudio_sim.call_setup import CallSetup
from playaudio_sim.engine import CallResult, CallUpdate, Outcome
from playaudio_sim.readings import CONFLICTS, Readings, conflict_page
from playaudio_sim.scenario import Scenario, ScenarioError
from tests.playaudio_sim.conftest import run

GUIDE_PAGES = Path(__file__).with_name("data") / "guide_pages.txt"


def guide_pages() -> set[str]:
    lines = GUIDE_PAGES.read_text(encoding="utf-8").splitlines()
    return {line for line in lines if line and not line.startswith("#")}


def events(result: CallResult) -> list[dict[str, Any]]:
    return [r["event"] for r in result.transcript.of_kind("event")]


def event_types(result: CallResult) -> list[str]:
    return [e["InvocationEventType"] for e in events(result)]


def marked(result: CallResult, label: str) -> list[dict[str, Any]]:
    """The records that say they rest on ``label``."""
    return [r for r in result.transcript.records if label in r.get("assumes", [])]


def test_every_cited_page_is_a_page_of_the_guide() -> None:
    # case-3.html, once cited for failing actions, is not a page of the guide.
    pages = guide_pages()
    cited = [*rules.DOCS.values()]
    cited += [conflict_page(c, i) for c in CONFLICTS.values() for i in range(len(c.choices))]
    missing = [
        url
        for url in cited
        if re.fullmatch(r"https://docs\.aws\.amazon\.com/chime-sdk/latest/dg/(.+)\.html", url)
        is None
        or url.rsplit("/", 1)[1].removesuffix(".html") not in pages
    ]
    assert missing == []


def test_a_system_exception_carries_the_message_play_audio_documents() -> None:
    # play-audio's error table (8031d12): "System error while running action."; never
    # "executing".
    doc = rules.DOCS["play-audio"]
    failure = rules.ActionFailure(SYSTEM_EXCEPTION, "the SMA failed", doc)
    assert failure.error_message == "System error while running action."


# -- NULL versus empty action list (invoke-on-call-leg, use-cases) -------------------------


def test_an_empty_action_list_stops_the_remaining_actions_by_default(broken_app: CallSetup) -> None:
    # use-cases: "If you want to stop running actions ... respond with an empty set of
    # actions". The digits handler answers ACTION_SUCCESSFUL with [] while a Hangup remains.
    result = run(broken_app, "digits", keys="4@0.5s,2@1.2s,#@1.4s", caller_patience_ms=2000)
    assert result.outcome is Outcome.CALLER_HANGUP  # the Hangup was dropped: silence
    assert result.duration_ms == 1400 + 2000
    (response,) = [r for r in marked(result, "emptyActions=stop") if r["kind"] == "response"]
    assert response["response"]["Actions"] == []


def test_under_the_other_reading_an_empty_list_keeps_the_remaining_actions(
    broken_app: CallSetup,
) -> None:
    readings = Readings({"emptyActions": "keep"})
    result = run(broken_app, "digits", keys="4@0.5s,2@1.2s,#@1.4s", readings=readings)
    assert result.outcome is Outcome.HANGUP
    assert result.duration_ms == 1400
    assert marked(result, "emptyActions=keep")


def test_a_null_action_set_keeps_the_remaining_actions(broken_app: CallSetup) -> None:
    # invoke-on-call-leg: "If the SIP media application receives a NULL action set, it keeps
    # the existing actions": a response without Actions is valid, the Hangup still runs.
    result = run(broken_app, "digits-null", keys="4@0.5s,2@1.2s,#@1.4s")
    assert result.outcome is Outcome.HANGUP
    assert result.failures == []
    assert "NULL action set" in marked(result, "emptyActions=stop")[0]["summary"]


def test_under_the_other_reading_a_missing_actions_list_is_an_invalid_response(
    broken_app: CallSetup,
) -> None:
    readings = Readings({"emptyActions": "keep"})
    result = run(broken_app, "digits-null", keys="4@0.5s,2@1.2s,#@1.4s", readings=readings)
    assert "INVALID_LAMBDA_RESPONSE" in event_types(result)
    assert marked(result, "emptyActions=keep")[0]["kind"] == "response"


def test_a_new_inbound_call_answered_with_no_actions_is_not_answered_and_times_out(
    broken_app: CallSetup,
) -> None:
    # case-1: "Do nothing, the call attempt times out after 30 seconds".
    result = run(broken_app, "idle", caller_patience_ms=3000)
    assert result.outcome is Outcome.SMA_HANGUP
    assert result.duration_ms == 30_000
    assert event_types(result) == ["NEW_INBOUND_CALL"]
    # Documented, so cited rather than marked as an assumption.
    (span,) = [r for r in result.transcript.of_kind("silence") if r.get("why") == "not answered"]
    assert span["doc"].endswith("/case-1.html")
    assert "times out after 30 seconds" in span["cites"]
    assert "assumes" not in span
    assert "not answered" in span["summary"]


# -- TransactionAttributes (transaction-attributes, update-trans-attributes) ---------------


@pytest.mark.parametrize(
    ("reading", "stored"),
    [("replace", {"b": "2"}), ("merge", {"a": "1", "b": "2"})],
)
def test_attributes_with_other_keys_replace_or_add_as_the_reading_says(
    broken_app: CallSetup, reading: str, stored: dict[str, str]
) -> None:
    readings = Readings({"attributes": reading})
    result = run(broken_app, "attributes-other-keys", readings=readings)
    successes = [e for e in events(result) if e["InvocationEventType"] == "ACTION_SUCCESSFUL"]
    assert successes[1]["CallDetails"]["TransactionAttributes"] == stored
    assert [r["kind"] for r in marked(result, f"attributes={reading}")] == ["response"]


def test_replace_is_the_default_reading_of_attributes(broken_app: CallSetup) -> None:
    result = run(broken_app, "attributes-other-keys")
    successes = [e for e in events(result) if e["InvocationEventType"] == "ACTION_SUCCESSFUL"]
    assert successes[1]["CallDetails"]["TransactionAttributes"] == {"b": "2"}


def test_eleven_attribute_pairs_are_refused_by_default_as_the_service_was_seen_to(
    broken_app: CallSetup,
) -> None:
    # attribute-trans-invalid: 11 pairs -> "Maximum number of mappings is 10".
    result = run(broken_app, "eleven-attributes")
    assert result.failures == ["INVALID_LAMBDA_RESPONSE:TransactionAttributesInvalidMapSize"]
    assert marked(result, "attributeLimit=10")
    allowed = run(broken_app, "eleven-attributes", readings=Readings({"attributeLimit": "100"}))
    assert allowed.failures == []
    assert allowed.outcome is Outcome.HANGUP
    assert marked(allowed, "attributeLimit=100")[0]["kind"] == "response"


# -- PlayAudioAndGetDigits (play-audio-get-digits, use-case-2) -----------------------------


def test_a_mid_list_digits_success_invokes_the_handler_by_default(broken_app: CallSetup) -> None:
    # play-audio-get-digits: "always invokes its AWS Lambda function after running" it.
    result = run(broken_app, "digits", keys="4@0.5s,2@1.2s,#@1.4s")
    assert event_types(result)[:2] == ["NEW_INBOUND_CALL", "ACTION_SUCCESSFUL"]
    (event,) = marked(result, "digitsSuccess=always")
    assert event["kind"] == "event"


@pytest.mark.parametrize("field", ["SipApplicationId", "SipMediaApplicationId"])
def test_the_sma_id_is_sent_under_the_name_the_reading_gives_it(
    broken_app: CallSetup, field: str
) -> None:
    result = run(broken_app, readings=Readings({"smaIdField": field}))
    other = {"SipApplicationId", "SipMediaApplicationId"} - {field}
    for event in events(result):
        assert event["CallDetails"][field] == broken_app.sma.id
        assert other.isdisjoint(event["CallDetails"])
    # Named in the call record; not a mark on every event, which would bury the ones that
    # matter (an event's outcome does not rest on the name its field has).
    assert result.transcript.of_kind("call")[0]["readings"]["smaIdField"] == field
    assert marked(result, f"smaIdField={field}") == []
    assert all("assumes" not in r for r in result.transcript.of_kind("event"))


def test_under_the_other_reading_a_mid_list_digits_success_is_not_reported(
    broken_app: CallSetup,
) -> None:
    # use-case-2: "only returns ACTION_SUCCESSFUL if all the actions on the list succeed".
    readings = Readings({"digitsSuccess": "end-of-list"})
    result = run(broken_app, "digits", keys="4@0.5s,2@1.2s,#@1.4s", readings=readings)
    assert event_types(result) == ["NEW_INBOUND_CALL", "HANGUP"]  # the Hangup ran next
    assert result.outcome is Outcome.HANGUP
    assert marked(result, "digitsSuccess=end-of-list")[0]["kind"] == "note"


def test_no_valid_digits_fails_with_the_documented_example_and_says_it_is_assumed(
    broken_app: CallSetup,
) -> None:
    result = run(broken_app, "digits", keys="7@0.5s")
    (failed,) = marked(result, "noInputErrorType")
    assert (failed["kind"], failed["errorType"]) == ("action-failed", "InvalidAudioSource")
    assert marked(result, "firstDigitWait")


def test_the_terminator_is_not_part_of_received_digits(broken_app: CallSetup) -> None:
    result = run(broken_app, "digits", keys="1@0.2s,2@0.4s,3@0.6s,#@0.8s")
    (success,) = [e for e in events(result) if e["InvocationEventType"] == "ACTION_SUCCESSFUL"]
    assert success["ActionData"]["ReceivedDigits"] == "123"


@pytest.mark.parametrize(
    ("reading", "outcome"),
    [("with-terminator", "ACTION_SUCCESSFUL"), ("without-terminator", "ACTION_FAILED")],
)
def test_input_digits_regex_sees_the_terminator_as_the_reading_says(
    broken_app: CallSetup, reading: str, outcome: str
) -> None:
    # play-audio-get-digits's one example, "^\d{2}#$", matches "42#" but not "42".
    readings = Readings({"digitsRegexInput": reading})
    result = run(broken_app, "digits-regex", keys="4@0.5s,2@0.8s,#@1s", readings=readings)
    assert outcome in event_types(result)
    (key,) = [r for r in result.transcript.of_kind("key") if r.get("effect") != "terminated"][-1:]
    assert f"digitsRegexInput={reading}" in key["assumes"]


def test_input_digits_regex_sees_the_terminator_by_default() -> None:
    # The default breaks the handler that writes its regex for ReceivedDigits ("^\d{2}$").
    assert Readings()["digitsRegexInput"] == "with-terminator"


# -- INVALID_LAMBDA_RESPONSE (attribute-trans-invalid, pstn-invocations) -------------------


@pytest.mark.parametrize("reading", ["top-level", "action-data"])
def test_invalid_lambda_response_carries_its_error_where_the_reading_says(
    broken_app: CallSetup, reading: str
) -> None:
    readings = Readings({"invalidResponseErrors": reading})
    result = run(broken_app, "eleven-actions", readings=readings)
    (event,) = [e for e in events(result) if e["InvocationEventType"] == "INVALID_LAMBDA_RESPONSE"]
    holder = event if reading == "top-level" else event["ActionData"]
    other = event.get("ActionData", {}) if reading == "top-level" else event
    assert holder["ErrorType"] == "InvalidLambdaResponse"
    assert "ErrorType" not in other
    assert marked(result, f"invalidResponseErrors={reading}")[0]["kind"] == "event"


# -- the readings themselves ---------------------------------------------------------------


def test_the_default_readings_are_the_first_choices_and_every_combination_is_listed() -> None:
    assert dict(Readings()) == {
        "emptyActions": "stop",
        "attributes": "replace",
        "attributeLimit": "10",
        "digitsSuccess": "always",
        "digitsRegexInput": "with-terminator",
        "smaIdField": "SipApplicationId",
        "invalidResponseErrors": "top-level",
    }
    combinations = Readings.every_combination()
    assert len(combinations) == 2 ** len(CONFLICTS)
    assert dict(combinations[0]) == dict(Readings())


@pytest.mark.parametrize(
    ("choices", "message"),
    [
        ({"emptyList": "keep"}, r"'emptyList' is not a conflict the simulator models; expected"),
        ({"attributes": "append"}, r"attributes is 'append'; expected one of 'replace', 'merge'"),
    ],
)
def test_a_reading_that_does_not_exist_is_refused_by_name(
    choices: dict[str, str], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        Readings(choices)


def test_reading_pairs_are_parsed_and_bad_ones_refused() -> None:
    assert Readings.from_pairs(["emptyActions=keep"], "--reading")["emptyActions"] == "keep"
    with pytest.raises(ValueError, match=r"--reading 'emptyActions' is not NAME=VALUE"):
        Readings.from_pairs(["emptyActions"], "--reading")
    with pytest.raises(ValueError, match=r"--reading: digitsSuccess is 'never'; expected one"):
        Readings.from_pairs(["digitsSuccess=never"], "--reading")


# -- CALL_UPDATE_REQUESTED (update-sip-call) -------------------------------------------------

UPDATE_AT_HALF_A_SECOND = [CallUpdate(500, {"pin": "1234"})]


def test_an_update_answered_with_actions_interrupts_play_audio(broken_app: CallSetup) -> None:
    # update-sip-call: PlayAudio is interruptible; "If something interrupts an action, the
    # Lambda function is invoked with an ACTION_INTERRUPTED event" whose answer is ignored.
    result = run(broken_app, updates=UPDATE_AT_HALF_A_SECOND)
    assert event_types(result) == [
        "NEW_INBOUND_CALL",
        "CALL_UPDATE_REQUESTED",
        "ACTION_INTERRUPTED",
        "HANGUP",
    ]
    update, interrupted = events(result)[1:3]
    assert update["ActionData"] == {
        "Type": "CallUpdateRequest",
        "Parameters": {"Arguments": {"pin": "1234"}},
    }
    assert interrupted["ActionData"]["Type"] == "PlayAudio"
    assert (result.outcome, result.duration_ms, result.heard[0]["endMs"]) == (
        Outcome.HANGUP,
        500,
        500,
    )


def test_an_update_answered_with_no_actions_leaves_the_caller_in_silence_by_default(
    broken_app: CallSetup,
) -> None:
    result = run(
        broken_app, "update-empty", updates=UPDATE_AT_HALF_A_SECOND, caller_patience_ms=2000
    )
    assert (result.outcome, result.duration_ms) == (Outcome.CALLER_HANGUP, 2500)
    kept = run(
        broken_app,
        "update-empty",
        updates=UPDATE_AT_HALF_A_SECOND,
        readings=Readings({"emptyActions": "keep"}),
    )
    assert (kept.outcome, kept.duration_ms) == (Outcome.HANGUP, 1000)
    assert "ACTION_INTERRUPTED" not in event_types(kept)


def test_an_update_answered_with_a_null_action_set_keeps_the_prompt(broken_app: CallSetup) -> None:
    result = run(broken_app, "update-null", updates=UPDATE_AT_HALF_A_SECOND)
    assert (result.outcome, result.duration_ms, result.failures) == (Outcome.HANGUP, 1000, [])


def test_an_update_waits_for_play_audio_and_get_digits_to_complete(broken_app: CallSetup) -> None:
    # Not interruptible: it "completes before the new Action 1 starts".
    result = run(broken_app, "digits", keys="4@0.6s,2@0.8s,#@0.9s", updates=UPDATE_AT_HALF_A_SECOND)
    assert event_types(result) == ["NEW_INBOUND_CALL", "CALL_UPDATE_REQUESTED", "HANGUP"]
    assert (result.outcome, result.duration_ms) == (Outcome.HANGUP, 900)
    assert marked(result, "noResultAfterUpdate")[0]["kind"] == "note"


def test_an_update_after_the_call_is_noted_as_not_delivered(broken_app: CallSetup) -> None:
    result = run(broken_app, updates=[CallUpdate(5000, {})])
    assert "CALL_UPDATE_REQUESTED" not in event_types(result)
    assert any("was not delivered" in r["summary"] for r in result.transcript.of_kind("note"))


@pytest.mark.parametrize(
    ("updates", "message"),
    [
        ({"at": "1s"}, "call.updates is an object; expected a list like"),
        ([{"arguments": {}}], "call.updates[0] is an object; expected an object like"),
        ([{"at": "1s", "when": 1}], "call.updates[0] has unknown field(s) ['when']"),
        ([{"at": "soon"}], "call.updates[0].at: time 'soon' is not like '2.5s'"),
        (
            [{"at": "1s", "arguments": {"n": 1}}],
            "call.updates[0]: the arguments of the update at 1.000s are {'n': 1}; expected",
        ),
        (
            [{"at": "1s", "arguments": {f"k{i}": "v" for i in range(21)}}],
            "expected an object of 0 to 20 string keys to string values",
        ),
    ],
)
def test_a_bad_update_in_a_scenario_names_it(updates: object, message: str, tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match=re.escape(message)):
        Scenario.parse({"call": {"updates": updates}}, tmp_path / "s.json")


def test_a_play_audio_without_a_target_is_marked_as_resting_on_an_assumption(
    broken_app: CallSetup,
) -> None:
    # The broken handler's PlayAudio names no leg; the sample handler's names its CallId.
    assert marked(run(broken_app), "untargetedPlayAudio")[0]["kind"] == "note"
