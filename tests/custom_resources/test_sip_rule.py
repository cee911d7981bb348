"""The SIP rule custom-resource handler against a stubbed chime-sdk-voice client (no network)."""

from __future__ import annotations

import copy
import logging
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import custom_resources
import pytest
from botocore.exceptions import EndpointConnectionError
from botocore.stub import Stubber
from custom_resources import _framework, sip_message_logs, sip_rule

RULE_ID = "3f5f6ec1-6004-494a-b514-1673d62cb8c5"
NEW_RULE_ID = "7c06ea33-b310-4534-9660-207f13284187"
OTHER_RULE_ID = "aafbd402-b7a2-4992-92f8-496b4563c492"
SMA_ID = "8a912ad2-67aa-4852-a892-34a454d370c7"
SMA_WEST_ID = "d82f98e7-7557-4b6b-a690-3dcfcbf8ab2e"
PHONE = "+12065550100"

PROPS: dict[str, Any] = {
    "ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:provider",
    "Name": "play-audio",
    "TriggerType": "ToPhoneNumber",
    "TriggerValue": PHONE,
    "TargetApplications": [
        {"SipMediaApplicationId": SMA_ID, "Priority": "1", "AwsRegion": "us-east-1"}
    ],
}
TARGETS = [{"SipMediaApplicationId": SMA_ID, "Priority": 1, "AwsRegion": "us-east-1"}]
CREATE_PARAMS = {
    "Name": "play-audio",
    "TriggerType": "ToPhoneNumber",
    "TriggerValue": PHONE,
    "Disabled": False,
    "TargetApplications": TARGETS,
}


def rule(rule_id: str = RULE_ID, **overrides: Any) -> dict[str, Any]:
    """A SipRule as the API returns it."""
    return {
        "SipRuleId": rule_id,
        "Name": "play-audio",
        "Disabled": False,
        "TriggerType": "ToPhoneNumber",
        "TriggerValue": PHONE,
        "TargetApplications": TARGETS,
        **overrides,
    }


def event(request_type: str, props: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    """A provider-framework event; ResourceProperties default to PROPS."""
    return {
        "RequestType": request_type,
        "RequestId": "5d9b5c1e-0000-4000-8000-000000000000",
        "LogicalResourceId": "SipRule",
        "ResourceProperties": copy.deepcopy(PROPS if props is None else props),
        **extra,
    }


@pytest.fixture
def client() -> Any:
    return boto3.client("chime-sdk-voice", region_name="us-east-1")


@pytest.fixture
def stubber(client: Any) -> Iterator[Stubber]:
    with Stubber(client) as stub:
        yield stub
        stub.assert_no_pending_responses()


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def run(client: Any, sleeps: list[float]) -> Any:
    """Run the handler with the stubbed client, recording sleeps instead of sleeping."""

    def runner(evt: dict[str, Any]) -> sip_rule.Response:
        return sip_rule.handle(evt, client, sleep=sleeps.append)

    return runner


def not_found(stubber: Stubber, method: str, params: dict[str, Any]) -> None:
    stubber.add_client_error(
        method, "NotFoundException", "Resource not found", 404, expected_params=params
    )


# --- Create ---------------------------------------------------------------------------------


def test_create_makes_an_enabled_rule_and_returns_its_id(stubber: Stubber, run: Any) -> None:
    stubber.add_response("list_sip_rules", {"SipRules": []}, {})
    stubber.add_response("create_sip_rule", {"SipRule": rule(NEW_RULE_ID)}, CREATE_PARAMS)

    assert run(event("Create")) == {
        "PhysicalResourceId": NEW_RULE_ID,
        "Data": {"SipRuleId": NEW_RULE_ID},
    }


def test_create_replay_adopts_the_existing_rule_across_pages(stubber: Stubber, run: Any) -> None:
    other = rule(OTHER_RULE_ID, Name="other", TriggerValue="+12065550199")
    stubber.add_response("list_sip_rules", {"SipRules": [other], "NextToken": "page-2"}, {})
    stubber.add_response(
        "list_sip_rules", {"SipRules": [rule(Disabled=True)]}, {"NextToken": "page-2"}
    )
    stubber.add_response(
        "update_sip_rule",
        {"SipRule": rule()},
        {
            "SipRuleId": RULE_ID,
            "Name": "play-audio",
            "Disabled": False,
            "TargetApplications": TARGETS,
        },
    )

    assert run(event("Create")) == {"PhysicalResourceId": RULE_ID, "Data": {"SipRuleId": RULE_ID}}


def test_create_does_not_adopt_a_rule_with_another_name(stubber: Stubber, run: Any) -> None:
    stubber.add_response("list_sip_rules", {"SipRules": [rule(OTHER_RULE_ID, Name="other")]}, {})
    stubber.add_response("create_sip_rule", {"SipRule": rule(NEW_RULE_ID)}, CREATE_PARAMS)

    assert run(event("Create"))["PhysicalResourceId"] == NEW_RULE_ID


def test_the_custom_resource_own_properties_are_accepted(stubber: Stubber, run: Any) -> None:
    stubber.add_response("list_sip_rules", {"SipRules": []}, {})
    stubber.add_response("create_sip_rule", {"SipRule": rule(NEW_RULE_ID)}, CREATE_PARAMS)

    run(event("Create", {**PROPS, "ServiceTimeout": "300"}))


def test_string_priorities_become_integers(stubber: Stubber, run: Any) -> None:
    props = copy.deepcopy(PROPS)
    props["TargetApplications"] = [
        {"SipMediaApplicationId": SMA_ID, "Priority": "1", "AwsRegion": "us-east-1"},
        {"SipMediaApplicationId": SMA_WEST_ID, "Priority": "10", "AwsRegion": "us-west-2"},
    ]
    targets = [
        {"SipMediaApplicationId": SMA_ID, "Priority": 1, "AwsRegion": "us-east-1"},
        {"SipMediaApplicationId": SMA_WEST_ID, "Priority": 10, "AwsRegion": "us-west-2"},
    ]
    stubber.add_response("list_sip_rules", {"SipRules": []}, {})
    stubber.add_response(
        "create_sip_rule",
        {"SipRule": rule(NEW_RULE_ID, TargetApplications=targets)},
        {**CREATE_PARAMS, "TargetApplications": targets},
    )

    run(event("Create", props))


# --- Update ---------------------------------------------------------------------------------


def test_update_of_targets_updates_the_same_rule(stubber: Stubber, run: Any) -> None:
    new_props = copy.deepcopy(PROPS)
    new_props["Name"] = "play-audio-v2"
    new_props["TargetApplications"] = [
        {"SipMediaApplicationId": SMA_WEST_ID, "Priority": "2", "AwsRegion": "us-west-2"}
    ]
    new_targets = [{"SipMediaApplicationId": SMA_WEST_ID, "Priority": 2, "AwsRegion": "us-west-2"}]
    stubber.add_response("get_sip_rule", {"SipRule": rule(Disabled=True)}, {"SipRuleId": RULE_ID})
    stubber.add_response(
        "update_sip_rule",
        {"SipRule": rule(Name="play-audio-v2", TargetApplications=new_targets)},
        {
            "SipRuleId": RULE_ID,
            "Name": "play-audio-v2",
            "Disabled": False,
            "TargetApplications": new_targets,
        },
    )

    result = run(
        event("Update", new_props, PhysicalResourceId=RULE_ID, OldResourceProperties=PROPS)
    )

    assert result == {"PhysicalResourceId": RULE_ID, "Data": {"SipRuleId": RULE_ID}}


def test_update_of_the_trigger_creates_a_new_rule(stubber: Stubber, run: Any) -> None:
    new_props = {**copy.deepcopy(PROPS), "TriggerValue": "+12065550111"}
    stubber.add_response("list_sip_rules", {"SipRules": [rule()]}, {})
    stubber.add_response(
        "create_sip_rule",
        {"SipRule": rule(NEW_RULE_ID, TriggerValue="+12065550111")},
        {**CREATE_PARAMS, "TriggerValue": "+12065550111"},
    )

    result = run(
        event("Update", new_props, PhysicalResourceId=RULE_ID, OldResourceProperties=PROPS)
    )

    assert result == {"PhysicalResourceId": NEW_RULE_ID, "Data": {"SipRuleId": NEW_RULE_ID}}


def test_update_recreates_a_rule_deleted_out_of_band(stubber: Stubber, run: Any) -> None:
    not_found(stubber, "get_sip_rule", {"SipRuleId": RULE_ID})
    stubber.add_response("list_sip_rules", {"SipRules": []}, {})
    stubber.add_response("create_sip_rule", {"SipRule": rule(NEW_RULE_ID)}, CREATE_PARAMS)

    result = run(event("Update", PhysicalResourceId=RULE_ID, OldResourceProperties=PROPS))

    assert result["PhysicalResourceId"] == NEW_RULE_ID


# --- Delete ---------------------------------------------------------------------------------


def test_delete_disables_then_deletes(stubber: Stubber, run: Any) -> None:
    stubber.add_response("get_sip_rule", {"SipRule": rule()}, {"SipRuleId": RULE_ID})
    stubber.add_response(
        "update_sip_rule",
        {"SipRule": rule(Disabled=True)},
        {"SipRuleId": RULE_ID, "Name": "play-audio", "Disabled": True},
    )
    stubber.add_response("delete_sip_rule", {}, {"SipRuleId": RULE_ID})

    assert run(event("Delete", PhysicalResourceId=RULE_ID)) == {"PhysicalResourceId": RULE_ID}


def test_delete_of_a_disabled_rule_skips_the_disable(stubber: Stubber, run: Any) -> None:
    stubber.add_response("get_sip_rule", {"SipRule": rule(Disabled=True)}, {"SipRuleId": RULE_ID})
    stubber.add_response("delete_sip_rule", {}, {"SipRuleId": RULE_ID})

    run(event("Delete", PhysicalResourceId=RULE_ID))


@pytest.mark.parametrize("gone_at", ["get_sip_rule", "update_sip_rule", "delete_sip_rule"])
def test_delete_of_a_rule_already_gone_succeeds(stubber: Stubber, run: Any, gone_at: str) -> None:
    calls = [
        ("get_sip_rule", {"SipRule": rule()}, {"SipRuleId": RULE_ID}),
        (
            "update_sip_rule",
            {"SipRule": rule(Disabled=True)},
            {"SipRuleId": RULE_ID, "Name": "play-audio", "Disabled": True},
        ),
        ("delete_sip_rule", {}, {"SipRuleId": RULE_ID}),
    ]
    for method, response, params in calls:
        if method == gone_at:
            not_found(stubber, method, params)
            break
        stubber.add_response(method, response, params)

    assert run(event("Delete", PhysicalResourceId=RULE_ID)) == {"PhysicalResourceId": RULE_ID}


def test_delete_retries_a_conflict_while_the_disable_settles(
    stubber: Stubber, run: Any, sleeps: list[float]
) -> None:
    stubber.add_response("get_sip_rule", {"SipRule": rule(Disabled=True)}, {"SipRuleId": RULE_ID})
    stubber.add_client_error("delete_sip_rule", "ConflictException", "Rule is enabled", 409)
    stubber.add_response("delete_sip_rule", {}, {"SipRuleId": RULE_ID})

    run(event("Delete", PhysicalResourceId=RULE_ID))
    assert sleeps == [1.0]


@pytest.mark.parametrize(
    "physical_id",
    [
        "AWSCDK::CustomResourceProviderFramework::CREATE_FAILED",
        "AWSCDK::CustomResourceProviderFramework::MISSING_PHYSICAL_ID",
        "2026/01/01/[$LATEST]0123456789abcdef",
        "",
    ],
)
def test_delete_with_a_non_rule_physical_id_calls_nothing(
    stubber: Stubber, run: Any, physical_id: str
) -> None:
    # The stubber has no responses queued: any API call would raise.
    assert run(event("Delete", PhysicalResourceId=physical_id)) == {
        "PhysicalResourceId": physical_id
    }


# --- Retries and errors ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "status", "message"),
    [
        ("BadRequestException", 400, "SIP media application 8a912ad2 does not exist"),
        ("BadRequestException", 400, f"Invalid target {SMA_ID}"),
        ("NotFoundException", 404, "Not found"),
        ("ThrottledClientException", 429, "Rate exceeded"),
        ("ServiceUnavailableException", 503, "Unavailable"),
        ("ServiceFailureException", 500, "Internal failure"),
    ],
)
def test_create_retries_eventual_consistency_and_transient_errors(
    stubber: Stubber, run: Any, sleeps: list[float], code: str, status: int, message: str
) -> None:
    stubber.add_response("list_sip_rules", {"SipRules": []}, {})
    stubber.add_client_error(
        "create_sip_rule", code, message, status, expected_params=CREATE_PARAMS
    )
    stubber.add_response("list_sip_rules", {"SipRules": []}, {})
    stubber.add_response("create_sip_rule", {"SipRule": rule(NEW_RULE_ID)}, CREATE_PARAMS)

    assert run(event("Create"))["PhysicalResourceId"] == NEW_RULE_ID
    assert sleeps == [1.0]


def test_a_retried_create_adopts_the_rule_an_unanswered_attempt_made(
    stubber: Stubber, run: Any, sleeps: list[float]
) -> None:
    stubber.add_response("list_sip_rules", {"SipRules": []}, {})
    stubber.add_client_error("create_sip_rule", "ServiceFailureException", "boom", 500)
    stubber.add_response("list_sip_rules", {"SipRules": [rule()]}, {})
    stubber.add_response(
        "update_sip_rule",
        {"SipRule": rule()},
        {
            "SipRuleId": RULE_ID,
            "Name": "play-audio",
            "Disabled": False,
            "TargetApplications": TARGETS,
        },
    )

    assert run(event("Create"))["PhysicalResourceId"] == RULE_ID
    assert sleeps == [1.0]


def test_update_retries_a_target_sma_not_found(
    stubber: Stubber, run: Any, sleeps: list[float]
) -> None:
    update_params = {
        "SipRuleId": RULE_ID,
        "Name": "play-audio",
        "Disabled": False,
        "TargetApplications": TARGETS,
    }
    stubber.add_response("get_sip_rule", {"SipRule": rule()}, {"SipRuleId": RULE_ID})
    not_found(stubber, "update_sip_rule", update_params)
    stubber.add_response("update_sip_rule", {"SipRule": rule()}, update_params)

    run(event("Update", PhysicalResourceId=RULE_ID, OldResourceProperties=PROPS))
    assert sleeps == [1.0]


def test_connection_errors_are_retried(
    client: Any, stubber: Stubber, run: Any, sleeps: list[float], monkeypatch: pytest.MonkeyPatch
) -> None:
    stubbed_list = client.list_sip_rules
    failures = [EndpointConnectionError(endpoint_url="https://voice-chime.us-east-1.amazonaws.com")]

    def flaky_list(**kwargs: Any) -> Any:
        if failures:
            raise failures.pop()
        return stubbed_list(**kwargs)

    monkeypatch.setattr(client, "list_sip_rules", flaky_list)
    stubber.add_response("list_sip_rules", {"SipRules": []}, {})
    stubber.add_response("create_sip_rule", {"SipRule": rule(NEW_RULE_ID)}, CREATE_PARAMS)

    assert run(event("Create"))["PhysicalResourceId"] == NEW_RULE_ID
    assert sleeps == [1.0]


def test_retries_are_bounded_then_fail_naming_the_rule(
    stubber: Stubber, run: Any, sleeps: list[float]
) -> None:
    for _ in range(len(sip_rule.BACKOFF_SECONDS) + 1):
        stubber.add_client_error("list_sip_rules", "ThrottledClientException", "Rate exceeded", 429)

    with pytest.raises(sip_rule.SipRuleError) as raised:
        run(event("Create"))

    assert str(raised.value) == (
        "Could not create SIP rule 'play-audio' after 7 attempts: "
        "ListSipRules returned ThrottledClientException: Rate exceeded"
    )
    assert sleeps == list(sip_rule.BACKOFF_SECONDS)


def test_one_step_can_use_all_its_retries_within_the_default_budget() -> None:
    margin = sip_rule.RESPONSE_SECONDS + sip_rule.CALL_SECONDS
    assert sum(sip_rule.BACKOFF_SECONDS) <= sip_rule.DEFAULT_REMAINING_SECONDS - margin


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("ResourceLimitExceededException", "SIP rule limit reached"),
        ("ConflictException", "Trigger value already in use"),
        ("BadRequestException", "TriggerValue is not a phone number in this account"),
        ("AccessDeniedException", "not authorized to perform chime:CreateSipRule"),
    ],
)
def test_a_non_retryable_error_fails_at_once_with_the_rule_and_api_error(
    stubber: Stubber, run: Any, sleeps: list[float], code: str, message: str
) -> None:
    stubber.add_response("list_sip_rules", {"SipRules": []}, {})
    stubber.add_client_error("create_sip_rule", code, message, 400, expected_params=CREATE_PARAMS)

    with pytest.raises(sip_rule.SipRuleError) as raised:
        run(event("Create"))

    assert str(raised.value) == (
        f"Could not create SIP rule 'play-audio': CreateSipRule returned {code}: {message}"
    )
    assert sleeps == []


def test_unknown_request_type_is_rejected(stubber: Stubber, run: Any) -> None:
    with pytest.raises(ValueError, match="Unknown RequestType 'Replace'"):
        run(event("Replace"))


# --- One deadline per event -----------------------------------------------------------------

GET_PARAMS = {"SipRuleId": RULE_ID}
DISABLE_PARAMS = {"SipRuleId": RULE_ID, "Name": "play-audio", "Disabled": True}
# How long before the end of the invocation the last API call may start.
MARGIN = sip_rule.RESPONSE_SECONDS + sip_rule.CALL_SECONDS


class FakeClock:
    """Simulated monotonic seconds: sleeps and API calls advance it; nothing waits."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.call_seconds = 0.2
        self.oversleep = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds + self.oversleep


class FakeContext:
    """A Lambda context whose remaining time runs down on ``clock``."""

    def __init__(self, clock: Any, seconds: float) -> None:
        self._clock = clock
        self._end = clock() + seconds

    def get_remaining_time_in_millis(self) -> int:
        return int((self._end - self._clock()) * 1000)


@pytest.fixture
def clock(client: Any) -> FakeClock:
    """A fake clock on which every call of ``client`` takes ``call_seconds``."""
    fake = FakeClock()

    def take_time(**kwargs: Any) -> None:
        fake.now += fake.call_seconds

    client.meta.events.register_first("before-call.*.*", take_time)
    return fake


@pytest.fixture
def script(client: Any) -> Iterator[Stubber]:
    """A stubber whose queue may be left unfinished: the handler stops at its deadline."""
    with Stubber(client) as stub:
        yield stub


@pytest.fixture
def run_for(client: Any, clock: FakeClock) -> Any:
    """Run the handler on the fake clock, with a context that has ``seconds`` left."""

    def runner(evt: dict[str, Any], seconds: float, context: object = ...) -> sip_rule.Response:
        ctx = FakeContext(clock, seconds) if context is ... else context
        return sip_rule.handle(evt, client, ctx, sleep=clock.sleep, clock=clock)

    return runner


def throttled(
    stub: Stubber, method: str, times: int, response: dict[str, Any], params: dict[str, Any]
) -> None:
    """``times`` ThrottledClientException answers to ``method``, then ``response``."""
    for _ in range(times):
        stub.add_client_error(
            method, "ThrottledClientException", "Rate exceeded", 429, expected_params=params
        )
    stub.add_response(method, response, params)


def throttled_delete(stub: Stubber, times: int) -> None:
    """A Delete whose three calls (get, disable, delete) are each throttled ``times`` times."""
    throttled(stub, "get_sip_rule", times, {"SipRule": rule()}, GET_PARAMS)
    throttled(stub, "update_sip_rule", times, {"SipRule": rule(Disabled=True)}, DISABLE_PARAMS)
    throttled(stub, "delete_sip_rule", times, {}, GET_PARAMS)


@pytest.mark.parametrize("call_seconds", [0.2, sip_rule.CALL_SECONDS])
def test_a_delete_throttled_past_the_timeout_fails_in_time_with_the_cause(
    script: Stubber, clock: FakeClock, run_for: Any, call_seconds: float
) -> None:
    # The issue: 3 x 47 s of backoff is past a 120 s timeout. Calls are quick, or all as
    # slow as the client's timeouts allow.
    clock.call_seconds = call_seconds
    throttled_delete(script, 6)
    start = clock()

    with pytest.raises(sip_rule.SipRuleError) as raised:
        run_for(event("Delete", PhysicalResourceId=RULE_ID), 120)

    assert clock() - start <= 120 - sip_rule.RESPONSE_SECONDS
    assert re.fullmatch(
        r"Could not (read|disable|delete) SIP rule '\S+': (Get|Update|Delete)SipRule returned "
        r"ThrottledClientException: Rate exceeded; stopped after \d attempts in [0-9.]+ s of "
        r"120\.0 s, as a retry in \d+ s might not finish before the Lambda timeout",
        str(raised.value),
    )


def test_the_issue_case_stops_at_the_delete_step(
    script: Stubber, clock: FakeClock, run_for: Any
) -> None:
    throttled_delete(script, 6)

    with pytest.raises(sip_rule.SipRuleError) as raised:
        run_for(event("Delete", PhysicalResourceId=RULE_ID), 120)

    assert str(raised.value) == (
        "Could not delete SIP rule 'play-audio': DeleteSipRule returned "
        "ThrottledClientException: Rate exceeded; stopped after 3 attempts in 100.4 s of "
        "120.0 s, as a retry in 4 s might not finish before the Lambda timeout"
    )
    assert clock.sleeps == [*sip_rule.BACKOFF_SECONDS, *sip_rule.BACKOFF_SECONDS, 1, 2]


def test_a_create_throttled_within_the_deadline_still_succeeds(
    stubber: Stubber, clock: FakeClock, run_for: Any
) -> None:
    throttled(stubber, "list_sip_rules", 5, {"SipRules": []}, {})
    stubber.add_response("create_sip_rule", {"SipRule": rule(NEW_RULE_ID)}, CREATE_PARAMS)

    assert run_for(event("Create"), 60)["PhysicalResourceId"] == NEW_RULE_ID
    assert clock.sleeps == [1, 2, 4, 8, 16]


def test_the_deadline_is_shared_by_the_steps_of_an_event(
    script: Stubber, clock: FakeClock, run_for: Any
) -> None:
    # The read and the disable each fit in 70 s alone (31 s of backoff), not together.
    throttled(script, "get_sip_rule", 5, {"SipRule": rule()}, GET_PARAMS)
    throttled(script, "update_sip_rule", 5, {"SipRule": rule(Disabled=True)}, DISABLE_PARAMS)
    script.add_response("delete_sip_rule", {}, GET_PARAMS)

    with pytest.raises(sip_rule.SipRuleError) as raised:
        run_for(event("Delete", PhysicalResourceId=RULE_ID), 70)

    assert str(raised.value).startswith(
        "Could not disable SIP rule 'play-audio': UpdateSipRule returned "
        "ThrottledClientException: Rate exceeded; stopped after 5 attempts in "
    )
    assert clock.sleeps == [1, 2, 4, 8, 16, 1, 2, 4, 8]


@pytest.mark.parametrize("seconds", [0.0, 3.0, MARGIN - 0.01])
def test_too_little_time_for_one_call_fails_before_calling(
    stubber: Stubber, clock: FakeClock, run_for: Any, seconds: float
) -> None:
    # The stubber has no responses queued: any API call would raise.
    with pytest.raises(sip_rule.SipRuleError) as raised:
        run_for(event("Delete", PhysicalResourceId=RULE_ID), seconds)

    assert str(raised.value) == (
        f"Could not read SIP rule '{RULE_ID}': GetSipRule might not finish before the "
        f"Lambda timeout (0.0 s of {seconds:.1f} s spent)"
    )
    assert clock.sleeps == []


@pytest.mark.parametrize(
    ("code", "status", "message"),
    [
        ("ThrottledClientException", 429, "Rate exceeded"),
        ("ServiceUnavailableException", 503, "Unavailable"),
        ("ServiceFailureException", 500, "Internal failure"),
        ("NotFoundException", 404, "SIP media application not found"),
    ],
)
def test_a_short_budget_fails_fast_with_the_api_error_instead_of_sleeping(
    stubber: Stubber,
    clock: FakeClock,
    run_for: Any,
    code: str,
    status: int,
    message: str,
) -> None:
    # 20 s leave 2 s to start calls in: one retry after 1 s, not the 2 s one.
    for _ in range(2):
        stubber.add_response("list_sip_rules", {"SipRules": []}, {})
        stubber.add_client_error("create_sip_rule", code, message, status, CREATE_PARAMS)

    with pytest.raises(sip_rule.SipRuleError) as raised:
        run_for(event("Create"), 20)

    assert str(raised.value) == (
        f"Could not create SIP rule 'play-audio': CreateSipRule returned {code}: {message}; "
        "stopped after 2 attempts in 1.8 s of 20.0 s, as a retry in 2 s might not finish "
        "before the Lambda timeout"
    )
    assert clock.sleeps == [1.0]


def test_a_later_call_of_a_step_is_not_started_when_it_might_not_finish(
    stubber: Stubber, clock: FakeClock, run_for: Any
) -> None:
    # Calls as slow as the timeouts allow: after the list there is no time for the create.
    clock.call_seconds = sip_rule.CALL_SECONDS
    stubber.add_response("list_sip_rules", {"SipRules": []}, {})

    with pytest.raises(sip_rule.SipRuleError) as raised:
        run_for(event("Create"), 30)

    assert str(raised.value) == (
        "Could not create SIP rule 'play-audio': CreateSipRule might not finish before the "
        "Lambda timeout (15.0 s of 30.0 s spent)"
    )


def test_an_oversleep_past_the_deadline_stops_before_the_next_call(
    stubber: Stubber, clock: FakeClock, run_for: Any
) -> None:
    clock.oversleep = 5.0
    stubber.add_client_error("list_sip_rules", "ThrottledClientException", "Rate exceeded", 429)

    with pytest.raises(sip_rule.SipRuleError) as raised:
        run_for(event("Create"), 20)

    assert str(raised.value) == (
        "Could not create SIP rule 'play-audio': ListSipRules returned "
        "ThrottledClientException: Rate exceeded; stopped after 1 attempt in 6.2 s of "
        "20.0 s, as ListSipRules might not finish before the Lambda timeout"
    )


def test_a_connection_error_out_of_time_names_the_operation(
    client: Any,
    stubber: Stubber,
    clock: FakeClock,
    run_for: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def unreachable(**kwargs: Any) -> Any:
        clock.now += sip_rule.CALL_SECONDS
        raise EndpointConnectionError(endpoint_url="https://voice-chime.us-east-1.amazonaws.com")

    monkeypatch.setattr(client, "get_sip_rule", unreachable)

    with pytest.raises(sip_rule.SipRuleError) as raised:
        run_for(event("Delete", PhysicalResourceId=RULE_ID), 30)

    assert str(raised.value) == (
        f"Could not read SIP rule '{RULE_ID}': GetSipRule failed: EndpointConnectionError: "
        'Could not connect to the endpoint URL: "https://voice-chime.us-east-1.amazonaws.com"; '
        "stopped after 1 attempt in 15.0 s of 30.0 s, as a retry in 1 s might not finish "
        "before the Lambda timeout"
    )


def test_a_non_retryable_error_still_fails_at_once_under_the_deadline(
    stubber: Stubber, clock: FakeClock, run_for: Any
) -> None:
    stubber.add_client_error(
        "get_sip_rule", "AccessDeniedException", "not authorized", 403, expected_params=GET_PARAMS
    )
    start = clock()

    with pytest.raises(sip_rule.SipRuleError) as raised:
        run_for(event("Delete", PhysicalResourceId=RULE_ID), 120)

    assert str(raised.value) == (
        f"Could not read SIP rule '{RULE_ID}': GetSipRule returned AccessDeniedException: "
        "not authorized"
    )
    assert clock.sleeps == []
    assert clock() - start == pytest.approx(clock.call_seconds)


class NotACallable:
    """A context-like object whose remaining time is not a method."""

    get_remaining_time_in_millis = 3000


@pytest.mark.parametrize("context", [None, object(), NotACallable()])
def test_a_context_that_cannot_tell_gets_the_default_budget(
    script: Stubber, clock: FakeClock, run_for: Any, context: object
) -> None:
    throttled_delete(script, 6)

    with pytest.raises(sip_rule.SipRuleError, match=r" of 120\.0 s, as ") as raised:
        run_for(event("Delete", PhysicalResourceId=RULE_ID), 0, context)

    assert str(raised.value).startswith("Could not delete SIP rule 'play-audio'")


# --- Property validation --------------------------------------------------------------------


def with_target(**target: Any) -> dict[str, Any]:
    base = {"SipMediaApplicationId": SMA_ID, "Priority": "1", "AwsRegion": "us-east-1"}
    return {**copy.deepcopy(PROPS), "TargetApplications": [{**base, **target}]}


@pytest.mark.parametrize(
    ("props", "expected"),
    [
        ({k: v for k, v in PROPS.items() if k != "Name"}, "Name: expected 1-256 characters"),
        ({**PROPS, "Name": "play/audio"}, "Name: expected 1-256 characters"),
        ({**PROPS, "Name": "x" * 257}, "Name: expected 1-256 characters"),
        ({**PROPS, "TriggerType": "FromPhoneNumber"}, "TriggerType: expected one of"),
        ({**PROPS, "TriggerValue": "2065550100"}, "TriggerValue: expected E.164: '+'"),
        (
            {**PROPS, "TriggerType": "RequestUriHostname", "TriggerValue": "not a host"},
            "TriggerValue: expected a host name",
        ),
        ({**PROPS, "TargetApplications": []}, "TargetApplications: expected a list of 1-25"),
        ({**PROPS, "TargetApplications": "sma"}, "TargetApplications: expected a list of 1-25"),
        (with_target(Priority="0"), "TargetApplications[0].Priority: expected a whole number >= 1"),
        (with_target(Priority="one"), "TargetApplications[0].Priority: expected a whole number"),
        (with_target(Priority=True), "TargetApplications[0].Priority: expected a whole number"),
        (
            with_target(SipMediaApplicationId=f"arn:aws:chime:us-east-1:123456789012:sma/{SMA_ID}"),
            "TargetApplications[0].SipMediaApplicationId: expected the SMA id (not its ARN)",
        ),
        (with_target(AwsRegion="US East"), "TargetApplications[0].AwsRegion: expected a region"),
        (with_target(Weight="1"), "TargetApplications[0]: expected exactly ['AwsRegion', "),
        ({**PROPS, "Disabled": "true"}, "unknown property 'Disabled'"),
        (
            {
                **PROPS,
                "TargetApplications": [
                    {"SipMediaApplicationId": SMA_ID, "Priority": "1", "AwsRegion": "us-east-1"},
                    {
                        "SipMediaApplicationId": SMA_WEST_ID,
                        "Priority": "2",
                        "AwsRegion": "us-east-1",
                    },
                ],
            },
            "one target per region allowed, repeated ['us-east-1']",
        ),
    ],
)
def test_bad_properties_are_rejected_before_any_call(
    stubber: Stubber, run: Any, props: dict[str, Any], expected: str
) -> None:
    for request_type, extra in (
        ("Create", {}),
        ("Update", {"PhysicalResourceId": RULE_ID, "OldResourceProperties": PROPS}),
    ):
        with pytest.raises(sip_rule.PropertyError) as raised:
            run(event(request_type, props, **extra))
        assert expected in str(raised.value)


@pytest.mark.parametrize("sma_id", ["a/b", "x:y", "x" * 257, "x" * 300])
def test_a_target_id_that_is_no_sma_id_is_refused_as_by_the_other_handler(
    stubber: Stubber, run: Any, sma_id: str
) -> None:
    # Once accepted (anything without blanks not starting with 'arn:'); SipRule refuses
    # these ids at synth and the message-logs handler at deploy, so this one does too.
    with pytest.raises(sip_rule.PropertyError) as raised:
        run(event("Create", with_target(SipMediaApplicationId=sma_id)))
    assert "TargetApplications[0].SipMediaApplicationId: expected the SMA id" in str(raised.value)
    with pytest.raises(sip_message_logs.PropertyError):
        sip_message_logs.parse_properties(
            {"SipMediaApplicationId": sma_id, "EnableSipMediaApplicationMessageLogs": "true"}
        )


def test_all_property_problems_are_reported_together(stubber: Stubber, run: Any) -> None:
    props = {**with_target(Priority="-1"), "Name": "", "TriggerValue": "555"}

    with pytest.raises(sip_rule.PropertyError) as raised:
        run(event("Create", props))

    message = str(raised.value)
    for fragment in ("Name:", "TriggerValue:", "TargetApplications[0].Priority:"):
        assert fragment in message


def test_a_hostname_trigger_is_accepted(stubber: Stubber, run: Any) -> None:
    host = "abcdef1ghij2klmno3pqr4.voiceconnector.chime.aws"
    props = {**copy.deepcopy(PROPS), "TriggerType": "RequestUriHostname", "TriggerValue": host}
    stubber.add_response("list_sip_rules", {"SipRules": []}, {})
    stubber.add_response(
        "create_sip_rule",
        {"SipRule": rule(NEW_RULE_ID, TriggerType="RequestUriHostname", TriggerValue=host)},
        {**CREATE_PARAMS, "TriggerType": "RequestUriHostname", "TriggerValue": host},
    )

    run(event("Create", props))


# --- Logging and the Lambda entry point -----------------------------------------------------


def test_each_api_call_logs_one_structured_line(
    stubber: Stubber, run: Any, caplog: pytest.LogCaptureFixture
) -> None:
    stubber.add_response("list_sip_rules", {"SipRules": []}, {})
    stubber.add_client_error("create_sip_rule", "ThrottledClientException", "Slow down", 429)
    stubber.add_response("list_sip_rules", {"SipRules": []}, {})
    stubber.add_response("create_sip_rule", {"SipRule": rule(NEW_RULE_ID)}, CREATE_PARAMS)

    with caplog.at_level(logging.INFO, logger=sip_rule.logger.name):
        run(event("Create"))

    calls = [r for r in caplog.records if r.getMessage().startswith("api_call ")]
    fields = [vars(r) for r in calls]
    assert [(f["api"], f["rule"], f["outcome"]) for f in fields] == [
        ("ListSipRules", "play-audio", "ok"),
        ("CreateSipRule", "play-audio", "ThrottledClientException"),
        ("ListSipRules", "play-audio", "ok"),
        ("CreateSipRule", "play-audio", "ok"),
    ]
    assert calls[0].getMessage().startswith("api_call api=ListSipRules rule=play-audio outcome=ok")


def test_both_handlers_share_one_client_made_on_first_use(
    client: Any, stubber: Stubber, monkeypatch: pytest.MonkeyPatch
) -> None:
    made: list[tuple[str, Any]] = []

    def fake_client(service: str, config: Any = None) -> Any:
        made.append((service, config))
        return client

    monkeypatch.setattr(_framework.boto3, "client", fake_client)
    _framework.chime_voice_client.cache_clear()
    try:
        for _ in range(2):
            sip_rule.on_event(event("Delete", PhysicalResourceId="not-a-rule"), None)
            sip_message_logs.on_event(
                {"RequestType": "Delete", "PhysicalResourceId": "not:an-sma"}, None
            )
    finally:
        _framework.chime_voice_client.cache_clear()

    assert [service for service, _ in made] == ["chime-sdk-voice"]
    config = made[0][1]
    assert config.retries == {"total_max_attempts": 1}
    assert config.connect_timeout + config.read_timeout == sip_rule.CALL_SECONDS


def test_on_event_takes_the_deadline_from_the_lambda_context(
    client: Any, stubber: Stubber, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sip_rule, "chime_voice_client", lambda: client)

    with pytest.raises(sip_rule.SipRuleError, match=r"\(0\.0 s of 3\.0 s spent\)"):
        sip_rule.on_event(
            event("Delete", PhysicalResourceId=RULE_ID), FakeContext(time.monotonic, 3)
        )


def test_required_actions_are_exactly_the_calls_the_handler_makes() -> None:
    source = Path(sip_rule.__file__).read_text()
    methods = set(re.findall(r"self\._client\.(\w+)\(", source))
    actions = {"chime:" + "".join(part.title() for part in m.split("_")) for m in methods}

    assert set(sip_rule.REQUIRED_ACTIONS) == actions
    assert sip_rule.REQUIRED_ACTIONS is custom_resources.SIP_RULE_ACTIONS
