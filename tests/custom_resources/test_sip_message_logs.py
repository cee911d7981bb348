"""The SIP message logging handler against a stubbed chime-sdk-voice client (no network)."""

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
from custom_resources import _framework, sip_message_logs

SMA_ID = "8a912ad2-67aa-4852-a892-34a454d370c7"
OTHER_SMA_ID = "d82f98e7-7557-4b6b-a690-3dcfcbf8ab2e"
PUT = "put_sip_media_application_logging_configuration"

PROPS: dict[str, Any] = {
    "ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:provider",
    "SipMediaApplicationId": SMA_ID,
    "EnableSipMediaApplicationMessageLogs": "true",
}


def put_params(sma_id: str = SMA_ID, enabled: bool = True) -> dict[str, Any]:
    """What the handler must send: the names of botocore's chime-sdk-voice service model."""
    return {
        "SipMediaApplicationId": sma_id,
        "SipMediaApplicationLoggingConfiguration": {
            "EnableSipMediaApplicationMessageLogs": enabled
        },
    }


def put_answer(enabled: bool = True) -> dict[str, Any]:
    return {
        "SipMediaApplicationLoggingConfiguration": {"EnableSipMediaApplicationMessageLogs": enabled}
    }


def event(request_type: str, props: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    """A provider-framework event; ResourceProperties default to PROPS."""
    return {
        "RequestType": request_type,
        "RequestId": "5d9b5c1e-0000-4000-8000-000000000000",
        "LogicalResourceId": "SipMessageLogs",
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

    def runner(evt: dict[str, Any]) -> sip_message_logs.Response:
        return sip_message_logs.handle(evt, client, sleep=sleeps.append)

    return runner


def client_error(stubber: Stubber, code: str, status: int, params: dict[str, Any]) -> None:
    stubber.add_client_error(PUT, code, f"{code} message", status, expected_params=params)


# --- Create and Update ----------------------------------------------------------------------


def test_create_turns_logging_on_and_returns_the_sma_id(stubber: Stubber, run: Any) -> None:
    stubber.add_response(PUT, put_answer(True), put_params())

    assert run(event("Create")) == {
        "PhysicalResourceId": SMA_ID,
        "Data": {"SipMediaApplicationId": SMA_ID, "EnableSipMediaApplicationMessageLogs": "true"},
    }


def test_create_with_false_turns_logging_off(stubber: Stubber, run: Any) -> None:
    stubber.add_response(PUT, put_answer(False), put_params(enabled=False))
    props = {**PROPS, "EnableSipMediaApplicationMessageLogs": "false"}

    result = run(event("Create", props))

    assert result["Data"]["EnableSipMediaApplicationMessageLogs"] == "false"


@pytest.mark.parametrize(("raw", "sent"), [(True, True), (False, False)])
def test_a_direct_caller_may_pass_a_bool(stubber: Stubber, run: Any, raw: bool, sent: bool) -> None:
    stubber.add_response(PUT, put_answer(sent), put_params(enabled=sent))

    run(event("Create", {**PROPS, "EnableSipMediaApplicationMessageLogs": raw}))


def test_update_of_the_setting_puts_it_on_the_same_sma(stubber: Stubber, run: Any) -> None:
    stubber.add_response(PUT, put_answer(False), put_params(enabled=False))
    props = {**PROPS, "EnableSipMediaApplicationMessageLogs": "false"}

    result = run(event("Update", props, PhysicalResourceId=SMA_ID, OldResourceProperties=PROPS))

    assert result["PhysicalResourceId"] == SMA_ID


def test_update_to_another_sma_returns_its_id_so_cloudformation_deletes_the_old(
    stubber: Stubber, run: Any
) -> None:
    # Only the new SMA is called: the old one is turned off by the Delete that CloudFormation
    # sends for the old physical id once the stack update has succeeded.
    stubber.add_response(PUT, put_answer(True), put_params(OTHER_SMA_ID))
    props = {**PROPS, "SipMediaApplicationId": OTHER_SMA_ID}

    result = run(event("Update", props, PhysicalResourceId=SMA_ID, OldResourceProperties=PROPS))

    assert result["PhysicalResourceId"] == OTHER_SMA_ID


def test_a_put_answered_with_another_setting_fails(stubber: Stubber, run: Any) -> None:
    stubber.add_response(PUT, put_answer(False), put_params())

    with pytest.raises(sip_message_logs.SipMessageLogsError) as raised:
        run(event("Create"))

    assert str(raised.value) == (
        f"Could not turn on SIP message logging of SMA '{SMA_ID}': "
        "PutSipMediaApplicationLoggingConfiguration answered "
        "EnableSipMediaApplicationMessageLogs=False"
    )


def test_create_retries_an_sma_not_visible_yet(
    stubber: Stubber, run: Any, sleeps: list[float]
) -> None:
    client_error(stubber, "NotFoundException", 404, put_params())
    client_error(stubber, "ThrottledClientException", 429, put_params())
    stubber.add_response(PUT, put_answer(True), put_params())

    assert run(event("Create"))["PhysicalResourceId"] == SMA_ID
    assert sleeps == [1, 2]


def test_connection_errors_are_retried(client: Any, stubber: Stubber, run: Any) -> None:
    failures = [EndpointConnectionError(endpoint_url="https://voice-chime.us-east-1.amazonaws.com")]

    def fail_once(**kwargs: Any) -> None:
        if failures:
            raise failures.pop()

    client.meta.events.register_first("before-call.*.*", fail_once)
    stubber.add_response(PUT, put_answer(True), put_params())

    assert run(event("Create"))["PhysicalResourceId"] == SMA_ID


def test_a_non_retryable_error_fails_at_once_naming_the_sma(
    stubber: Stubber, run: Any, sleeps: list[float]
) -> None:
    client_error(stubber, "ForbiddenException", 403, put_params())

    with pytest.raises(sip_message_logs.SipMessageLogsError) as raised:
        run(event("Create"))

    assert str(raised.value) == (
        f"Could not turn on SIP message logging of SMA '{SMA_ID}': "
        "PutSipMediaApplicationLoggingConfiguration returned ForbiddenException: "
        "ForbiddenException message"
    )
    assert sleeps == []


# --- Delete ---------------------------------------------------------------------------------


def test_delete_turns_logging_off(stubber: Stubber, run: Any) -> None:
    stubber.add_response(PUT, put_answer(False), put_params(enabled=False))

    assert run(event("Delete", PhysicalResourceId=SMA_ID)) == {"PhysicalResourceId": SMA_ID}


def test_delete_of_an_sma_that_no_longer_exists_succeeds(
    stubber: Stubber, run: Any, sleeps: list[float]
) -> None:
    client_error(stubber, "NotFoundException", 404, put_params(enabled=False))

    assert run(event("Delete", PhysicalResourceId=SMA_ID)) == {"PhysicalResourceId": SMA_ID}
    assert sleeps == []


def test_delete_uses_the_physical_id_even_with_malformed_properties(
    stubber: Stubber, run: Any
) -> None:
    stubber.add_response(PUT, put_answer(False), put_params(enabled=False))

    run(
        event(
            "Delete", {"EnableSipMediaApplicationMessageLogs": "maybe"}, PhysicalResourceId=SMA_ID
        )
    )


@pytest.mark.parametrize(
    "physical_id",
    ["AWSCDK::CustomResourceProviderFramework::CREATE_FAILED", "", "arn:aws:chime:x:1:sma/y"],
)
def test_delete_with_a_physical_id_that_is_no_sma_id_calls_nothing(
    stubber: Stubber, run: Any, physical_id: str
) -> None:
    assert run(event("Delete", PhysicalResourceId=physical_id)) == {
        "PhysicalResourceId": physical_id
    }


def test_delete_retries_throttling(stubber: Stubber, run: Any, sleeps: list[float]) -> None:
    for _ in range(3):
        client_error(stubber, "ThrottledClientException", 429, put_params(enabled=False))
    stubber.add_response(PUT, put_answer(False), put_params(enabled=False))

    run(event("Delete", PhysicalResourceId=SMA_ID))

    assert sleeps == [1, 2, 4]


# --- Properties -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        (
            {"SipMediaApplicationId": None},
            "SipMediaApplicationId: expected the SMA id (not its ARN), got None",
        ),
        (
            {"SipMediaApplicationId": f"arn:aws:chime:us-east-1:123456789012:sma/{SMA_ID}"},
            "SipMediaApplicationId: expected the SMA id (not its ARN), got 'arn:",
        ),
        ({"SipMediaApplicationId": " "}, "SipMediaApplicationId: expected the SMA id"),
        (
            {"EnableSipMediaApplicationMessageLogs": None},
            "EnableSipMediaApplicationMessageLogs: expected 'true' or 'false', got None",
        ),
        (
            {"EnableSipMediaApplicationMessageLogs": "True"},
            "EnableSipMediaApplicationMessageLogs: expected 'true' or 'false', got 'True'",
        ),
        (
            {"EnableSipMediaApplicationMessageLogs": "yes"},
            "EnableSipMediaApplicationMessageLogs: expected 'true' or 'false', got 'yes'",
        ),
        (
            {"EnableSipMediaApplicationMessageLogs": 1},
            "EnableSipMediaApplicationMessageLogs: expected 'true' or 'false', got 1",
        ),
        ({"Enabled": "true"}, "unknown property 'Enabled'"),
    ],
)
@pytest.mark.parametrize("request_type", ["Create", "Update"])
def test_malformed_properties_fail_before_any_call(
    stubber: Stubber, run: Any, changes: dict[str, Any], expected: str, request_type: str
) -> None:
    props = {key: value for key, value in {**PROPS, **changes}.items() if value is not None}

    with pytest.raises(sip_message_logs.PropertyError) as raised:
        run(event(request_type, props, PhysicalResourceId=SMA_ID))

    assert str(raised.value).startswith("Invalid SIP message logging properties: ")
    assert expected in str(raised.value)


def test_all_property_problems_are_reported_together(stubber: Stubber, run: Any) -> None:
    with pytest.raises(sip_message_logs.PropertyError) as raised:
        run(event("Create", {"ServiceToken": "x", "Extra": "1"}))

    assert str(raised.value) == (
        "Invalid SIP message logging properties: unknown property 'Extra'; "
        "SipMediaApplicationId: expected the SMA id (not its ARN), got None; "
        "EnableSipMediaApplicationMessageLogs: expected 'true' or 'false', got None"
    )


def test_the_custom_resource_own_properties_are_accepted(stubber: Stubber, run: Any) -> None:
    stubber.add_response(PUT, put_answer(True), put_params())

    run(event("Create", {**PROPS, "ServiceTimeout": "300"}))


def test_unknown_request_type_is_rejected(stubber: Stubber, run: Any) -> None:
    with pytest.raises(ValueError, match="Unknown RequestType 'Replace'"):
        run(event("Replace"))


# --- One deadline per event -----------------------------------------------------------------


class FakeClock:
    """Simulated monotonic seconds: sleeps and API calls advance it; nothing waits."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.call_seconds = 0.2
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


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

    def runner(evt: dict[str, Any], seconds: float) -> sip_message_logs.Response:
        ctx = FakeContext(clock, seconds)
        return sip_message_logs.handle(evt, client, ctx, sleep=clock.sleep, clock=clock)

    return runner


def throttled(stub: Stubber, times: int, params: dict[str, Any]) -> None:
    for _ in range(times):
        stub.add_client_error(
            PUT, "ThrottledClientException", "Rate exceeded", 429, expected_params=params
        )


def test_throttling_within_the_deadline_still_succeeds(
    script: Stubber, clock: FakeClock, run_for: Any
) -> None:
    throttled(script, 5, put_params())
    script.add_response(PUT, put_answer(True), put_params())

    assert run_for(event("Create"), 60)["PhysicalResourceId"] == SMA_ID
    assert clock.sleeps == [1, 2, 4, 8, 16]


@pytest.mark.parametrize("call_seconds", [0.2, _framework.CALL_SECONDS])
def test_throttling_past_the_deadline_fails_in_time_with_the_cause(
    script: Stubber, clock: FakeClock, run_for: Any, call_seconds: float
) -> None:
    clock.call_seconds = call_seconds
    throttled(script, 7, put_params(enabled=False))
    start = clock()

    with pytest.raises(sip_message_logs.SipMessageLogsError) as raised:
        run_for(event("Delete", PhysicalResourceId=SMA_ID), 40)

    assert clock() - start <= 40 - _framework.RESPONSE_SECONDS
    assert re.fullmatch(
        rf"Could not turn off SIP message logging of SMA '{SMA_ID}': "
        r"PutSipMediaApplicationLoggingConfiguration returned ThrottledClientException: Rate "
        r"exceeded; stopped after \d attempts? in [0-9.]+ s of 40\.0 s, as a retry in \d+ s "
        r"might not finish before the Lambda timeout",
        str(raised.value),
    )


def test_the_exact_failure_of_a_throttled_create(
    script: Stubber, clock: FakeClock, run_for: Any
) -> None:
    throttled(script, 7, put_params())

    with pytest.raises(sip_message_logs.SipMessageLogsError) as raised:
        run_for(event("Create"), 30)

    # The last call may start 30 - 3 (to answer) - 15 (one call at most) = 12 s in. After
    # 4 calls of 0.2 s and sleeps of 1, 2 and 4 s, 7.8 s have passed: no room for 8 s more.
    assert str(raised.value) == (
        f"Could not turn on SIP message logging of SMA '{SMA_ID}': "
        "PutSipMediaApplicationLoggingConfiguration returned ThrottledClientException: "
        "Rate exceeded; stopped after 4 attempts in 7.8 s of 30.0 s, as a retry in 8 s "
        "might not finish before the Lambda timeout"
    )
    assert clock.sleeps == [1, 2, 4]


def test_too_little_time_for_one_call_fails_before_calling(script: Stubber, run_for: Any) -> None:
    with pytest.raises(sip_message_logs.SipMessageLogsError) as raised:
        run_for(event("Create"), _framework.CALL_SECONDS)

    assert str(raised.value) == (
        f"Could not turn on SIP message logging of SMA '{SMA_ID}': "
        "PutSipMediaApplicationLoggingConfiguration might not finish before the Lambda "
        "timeout (0.0 s of 15.0 s spent)"
    )


# --- Logging and the Lambda entry point -----------------------------------------------------


def test_each_api_call_logs_one_structured_line(
    stubber: Stubber, run: Any, caplog: pytest.LogCaptureFixture
) -> None:
    client_error(stubber, "ThrottledClientException", 429, put_params())
    stubber.add_response(PUT, put_answer(True), put_params())

    with caplog.at_level(logging.INFO, logger=sip_message_logs.logger.name):
        run(event("Create"))

    calls = [vars(r) for r in caplog.records if r.getMessage().startswith("api_call ")]
    assert [(c["name"], c["api"], c["sma"], c["outcome"]) for c in calls] == [
        (
            "custom_resources.sip_message_logs",
            "PutSipMediaApplicationLoggingConfiguration",
            SMA_ID,
            "ThrottledClientException",
        ),
        (
            "custom_resources.sip_message_logs",
            "PutSipMediaApplicationLoggingConfiguration",
            SMA_ID,
            "ok",
        ),
    ]


def test_on_event_takes_the_deadline_from_the_lambda_context(
    client: Any, stubber: Stubber, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sip_message_logs, "chime_voice_client", lambda: client)

    with pytest.raises(sip_message_logs.SipMessageLogsError, match=r"\(0\.0 s of 3\.0 s spent\)"):
        sip_message_logs.on_event(
            event("Delete", PhysicalResourceId=SMA_ID), FakeContext(time.monotonic, 3)
        )


def test_required_actions_are_exactly_the_calls_the_handler_makes() -> None:
    source = Path(sip_message_logs.__file__).read_text()
    methods = set(re.findall(r"self\._client\.(\w+)\(", source))
    actions = {"chime:" + "".join(part.title() for part in m.split("_")) for m in methods}

    assert set(sip_message_logs.REQUIRED_ACTIONS) == actions
    assert sip_message_logs.REQUIRED_ACTIONS is custom_resources.SIP_MESSAGE_LOGS_ACTIONS
    assert actions == {"chime:PutSipMediaApplicationLoggingConfiguration"}
