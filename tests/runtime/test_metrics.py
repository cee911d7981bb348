"""Call-flow metrics: the EMF lines the sample handler writes, and the builders behind them.

Every line the handler writes is checked against the EMF specification by
``playaudio_sim.emf`` (its own rules, not the builders'), and each invocation must
count exactly the metrics the README promises, with bounded dimension values.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from runtime import handler as handler_module
from runtime import metrics
from runtime.actions import ACTION_TYPES, validate_response
from runtime.config import load_config
from runtime.handler import handler

from playaudio_sim import emf
from tests import hypothesis_profile  # noqa: F401  (deterministic CI profile)

from .conftest import BUCKET, CALL_ID, ENV, KEYS, PACKAGE_PARENT, TRANSACTION_ID
from .test_handler_properties import configs, json_values, mutated_events, typed_events

MakeEvent = Callable[..., dict[str, Any]]

SMA_ID = "e88f4e49-dd21-4a3f-b538-bc84eae11505"  # conftest's CallDetails
# A name as CloudFormation generates it (stack, logical id, suffix); set for every test.
FUNCTION_NAME = "PlayAudioStack-SmaHandler5F0A1B2C-Xy9Z8w7V6u5T"
# What the builders need besides the metric's own dimensions.
BASE = {"SipMediaApplicationId": "a", "FunctionName": "f"}
WELCOME_KEY = KEYS["welcome"]
ERROR_KEY = KEYS["error"]
CLOSED_KEY = KEYS["closed"]
# Nothing that identifies a call or a caller may reach a metrics line.
PRIVATE = (CALL_ID, TRANSACTION_ID, "+12065550100", "+15105550101", "123456789012")


FALLBACK_LINE_DIMENSION_SETS = {
    "ActionFailures": [
        ["SipMediaApplicationId"],
        ["SipMediaApplicationId", "ErrorType"],
        ["SipMediaApplicationId", "Action", "ErrorType"],
        ["FunctionName"],
        ["FunctionName", "ErrorType"],
    ],
    "FallbackPromptsPlayed": [["SipMediaApplicationId"], ["FunctionName"]],
}
"""The dimension sets of the line a failed prompt with a fallback writes: the contract."""


def failure(
    key: str = WELCOME_KEY,
    error_type: object = "InvalidAudioSource",
    action_type: object = "PlayAudio",
) -> dict[str, Any]:
    """ActionData of a failed action, as in test_handler.py."""
    return {
        "Type": action_type,
        "Parameters": {
            "CallId": CALL_ID,
            "AudioSource": {"Type": "S3", "BucketName": BUCKET, "Key": key},
        },
        "ErrorType": error_type,
        "ErrorMessage": "Audio Source parameter value is invalid.",
    }


def expected_function_name() -> str:
    """FunctionName as Lambda's AWS_LAMBDA_FUNCTION_NAME gives it, if it is a function name."""
    value = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "")
    return value if re.fullmatch(r"[A-Za-z0-9_-]{1,64}", value) else "unknown"


def check_dimensions(record: dict[str, Any]) -> None:
    """Only the contract's dimensions, with bounded values; nothing else in the record."""
    directives = record["_aws"]["CloudWatchMetrics"]
    names = {definition["Name"] for d in directives for definition in d["Metrics"]}
    dimensions = {key for d in directives for keys in d["Dimensions"] for key in keys}
    assert dimensions <= {"SipMediaApplicationId", "FunctionName", "Action", "ErrorType"}
    assert {"SipMediaApplicationId", "FunctionName"} <= dimensions
    assert set(record) == {"_aws"} | dimensions | names
    assert record["FunctionName"] == expected_function_name()
    sma_id = record["SipMediaApplicationId"]
    assert sma_id == "unknown" or re.fullmatch(r"[0-9A-Za-z_.:-]{1,64}", sma_id), sma_id
    if "Action" in record:
        assert record["Action"] in (*ACTION_TYPES, "Other")
    if "ErrorType" in record:
        assert record["ErrorType"] in metrics.ERROR_TYPES


def records_in(output: str, private: tuple[str, ...] = PRIVATE) -> list[dict[str, Any]]:
    """The EMF records in captured stdout; every line must be one, valid, without ``private``."""
    records = []
    for line in output.splitlines():
        record, errors = emf.parse_line(line)
        assert record is not None, f"not an EMF line: {line!r}"
        assert errors == [], errors
        for text in private:
            assert text not in line
        check_dimensions(record)
        records.append(record)
    return records


def counted(records: list[dict[str, Any]]) -> dict[str, float]:
    totals: dict[str, float] = {}
    for record in records:
        for name, value in emf.metric_counts(record).items():
            totals[name] = totals.get(name, 0) + value
    return totals


@pytest.fixture(autouse=True)
def sample_config(monkeypatch: pytest.MonkeyPatch) -> None:
    """handler() reads the module's CONFIG; a fresh one-time failure warning per test;
    the function name Lambda sets in every execution environment."""
    monkeypatch.setattr(handler_module, "CONFIG", load_config(ENV))
    monkeypatch.setattr(handler_module, "_METRICS_FAILED", False)
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", FUNCTION_NAME)


Invoke = Callable[[object], tuple[dict[str, Any], list[dict[str, Any]]]]


@pytest.fixture
def invoke(capsys: pytest.CaptureFixture[str]) -> Invoke:
    """Call handler(event) and return its response and the EMF records it wrote."""

    def call(event: object) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        capsys.readouterr()
        result = handler(event, None)
        assert validate_response(result) == []
        records = records_in(capsys.readouterr().out)
        assert len(records) <= 1, "at most one metrics line per invocation"
        return result, records

    return call


# --- the contract ----------------------------------------------------------------------


def test_contract_names_are_fixed() -> None:
    """Alarms and dashboards are built against these exact strings."""
    assert metrics.NAMESPACE == "ChimePlayAudio"
    assert (
        metrics.SMA_DIMENSION,
        metrics.FUNCTION_DIMENSION,
        metrics.ACTION_DIMENSION,
        metrics.ERROR_TYPE_DIMENSION,
    ) == ("SipMediaApplicationId", "FunctionName", "Action", "ErrorType")
    assert metrics.METRIC_NAMES == (
        "CallsStarted",
        "ActionFailures",
        "FallbackPromptsPlayed",
        "InvalidLambdaResponses",
        "MalformedEvents",
    )
    assert metrics.ERROR_TYPES == (
        "InvalidAudioSource",
        "SystemException",
        "InvalidActionParameter",
        "Other",
    )
    sma, function = "SipMediaApplicationId", "FunctionName"
    expected_sets = {
        "CallsStarted": ((sma,), (function,)),
        "ActionFailures": (
            (sma,),
            (sma, "ErrorType"),
            (sma, "Action", "ErrorType"),
            (function,),
            (function, "ErrorType"),
        ),
        "FallbackPromptsPlayed": ((sma,), (function,)),
        "InvalidLambdaResponses": ((sma,), (function,)),
        "MalformedEvents": ((sma,), (function,)),
    }
    assert expected_sets == metrics.DIMENSION_SETS


@pytest.mark.parametrize("name", metrics.METRIC_NAMES)
def test_each_metric_record_is_valid_emf_with_its_dimension_sets(name: str) -> None:
    dimensions = {
        "SipMediaApplicationId": SMA_ID,
        "FunctionName": FUNCTION_NAME,
        "Action": "PlayAudio",
        "ErrorType": "Other",
    }
    record = metrics.metric_record(name, dimensions, timestamp_ms=1_700_000_000_000)
    assert emf.validate_record(record) == []
    (directive,) = record["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == "ChimePlayAudio"
    assert directive["Metrics"] == [{"Name": name, "Unit": "Count"}]
    assert directive["Dimensions"] == [list(keys) for keys in metrics.DIMENSION_SETS[name]]
    assert record[name] == 1
    assert record["_aws"]["Timestamp"] == 1_700_000_000_000


# --- what the handler counts, event by event -------------------------------------------


@pytest.mark.parametrize(
    ("event_type", "direction"),
    [("NEW_INBOUND_CALL", "Inbound"), ("NEW_OUTBOUND_CALL", "Outbound")],
)
def test_a_new_call_counts_calls_started(
    event_type: str, direction: str, make_event: MakeEvent, invoke: Invoke
) -> None:
    _, records = invoke(make_event(event_type, sequence=1, direction=direction))
    assert counted(records) == {"CallsStarted": 1}
    (record,) = records
    assert record["SipMediaApplicationId"] == SMA_ID
    assert record["FunctionName"] == FUNCTION_NAME
    assert record["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [
        ["SipMediaApplicationId"],
        ["FunctionName"],
    ]
    # Small lines: the metadata, two dimensions, one value; nothing else.
    assert set(record) == {"_aws", "SipMediaApplicationId", "FunctionName", "CallsStarted"}


@pytest.mark.parametrize(
    ("event_type", "action_data"),
    [
        ("CALL_ANSWERED", None),
        ("RINGING", None),
        ("ACTION_SUCCESSFUL", {"Type": "PlayAudio", "Parameters": {"CallId": CALL_ID}}),
        ("ACTION_SUCCESSFUL", {"Type": "Hangup", "Parameters": {"SipResponseCode": "0"}}),
        ("HANGUP", {"Type": "Hangup", "Parameters": {"SipResponseCode": "0"}}),
        ("DIGITS_RECEIVED", {"Type": "ReceiveDigits", "Parameters": {}}),
        ("ACTION_INTERRUPTED", {"Type": "PlayAudio", "Parameters": {}}),
        (
            "CALL_UPDATE_REQUESTED",
            {"Type": "CallUpdateRequest", "Parameters": {"Arguments": {"prompt": "closed"}}},
        ),
        (
            "CALL_UPDATE_REQUESTED",
            {"Type": "CallUpdateRequest", "Parameters": {"Arguments": {"pin": "1234"}}},
        ),
    ],
)
def test_events_that_count_nothing_write_nothing(
    event_type: str, action_data: dict[str, Any] | None, make_event: MakeEvent, invoke: Invoke
) -> None:
    _, records = invoke(make_event(event_type, action_data))
    assert records == []


def test_audio_failure_counts_the_failure_and_the_fallback(
    make_event: MakeEvent, invoke: Invoke
) -> None:
    result, records = invoke(make_event("ACTION_FAILED", failure(WELCOME_KEY)))
    assert result["Actions"][0]["Parameters"]["AudioSource"]["Key"] == ERROR_KEY
    assert counted(records) == {"ActionFailures": 1, "FallbackPromptsPlayed": 1}
    (record,) = records
    assert record["ErrorType"] == "InvalidAudioSource"
    assert record["Action"] == "PlayAudio"
    assert record["SipMediaApplicationId"] == SMA_ID
    assert record["FunctionName"] == FUNCTION_NAME
    by_metric = {
        definition["Name"]: directive["Dimensions"]
        for directive in record["_aws"]["CloudWatchMetrics"]
        for definition in directive["Metrics"]
    }
    assert by_metric == FALLBACK_LINE_DIMENSION_SETS


def test_get_digits_audio_failure_counts_its_action(make_event: MakeEvent, invoke: Invoke) -> None:
    failed = failure(WELCOME_KEY, action_type="PlayAudioAndGetDigits")
    _, records = invoke(make_event("ACTION_FAILED", failed))
    # No fallback: the same failure is what a caller who entered no digits causes.
    assert counted(records) == {"ActionFailures": 1}
    assert records[0]["Action"] == "PlayAudioAndGetDigits"


@pytest.mark.parametrize(
    ("failed", "attributes"),
    [
        (failure(ERROR_KEY), None),  # the fallback itself failed
        (failure(CLOSED_KEY), {"fallbackPlayed": "true"}),  # a failure after the fallback
    ],
)
def test_failure_after_or_of_the_fallback_plays_no_second_fallback(
    failed: dict[str, Any], attributes: dict[str, str] | None, make_event: MakeEvent, invoke: Invoke
) -> None:
    result, records = invoke(make_event("ACTION_FAILED", failed, attributes))
    assert [action["Type"] for action in result["Actions"]] == ["Hangup"]
    assert counted(records) == {"ActionFailures": 1}
    assert records[0]["ErrorType"] == "InvalidAudioSource"


def test_fallback_leg_played_twice_in_a_call_counts_once_per_play(
    make_event: MakeEvent, invoke: Invoke
) -> None:
    """The welcome fails (fallback plays), then the fallback fails: one fallback in all."""
    _, first = invoke(make_event("ACTION_FAILED", failure(WELCOME_KEY)))
    _, second = invoke(make_event("ACTION_FAILED", failure(ERROR_KEY), {"fallbackPlayed": "true"}))
    assert counted(first + second) == {"ActionFailures": 2, "FallbackPromptsPlayed": 1}


@pytest.mark.parametrize(
    ("error_type", "expected"),
    [
        ("SystemException", "SystemException"),
        ("InvalidActionParameter", "InvalidActionParameter"),
        ("SomethingChimeAddsNextYear", "Other"),
        ("invalidaudiosource", "Other"),
        ("", "Other"),
        (None, "Other"),
        (5, "Other"),
        (["InvalidAudioSource"], "Other"),
        ("x" * 5000, "Other"),
        ("InvalidAudioSource\n", "Other"),
    ],
)
def test_error_type_dimension_is_one_of_four(
    error_type: object, expected: str, make_event: MakeEvent, invoke: Invoke
) -> None:
    _, records = invoke(make_event("ACTION_FAILED", failure(error_type=error_type)))
    assert counted(records) == {"ActionFailures": 1}
    assert records[0]["ErrorType"] == expected
    assert expected in metrics.ERROR_TYPES


def test_error_type_missing_from_action_data_is_other(
    make_event: MakeEvent, invoke: Invoke
) -> None:
    failed = failure()
    del failed["ErrorType"]
    _, records = invoke(make_event("ACTION_FAILED", failed))
    assert records[0]["ErrorType"] == "Other"


@pytest.mark.parametrize(
    ("action_type", "expected"),
    [
        ("Hangup", "Hangup"),
        ("Pause", "Pause"),
        ("Speak", "Other"),  # a real Chime action the runtime does not model
        ("CallAndBridge", "Other"),
        (None, "Other"),
        ({"Type": "PlayAudio"}, "Other"),
        (CALL_ID, "Other"),
    ],
)
def test_action_dimension_is_a_known_action_or_other(
    action_type: object, expected: str, make_event: MakeEvent, invoke: Invoke
) -> None:
    failed = failure(error_type="InvalidActionParameter", action_type=action_type)
    _, records = invoke(make_event("ACTION_FAILED", failed))
    assert counted(records) == {"ActionFailures": 1}
    assert records[0]["Action"] == expected


def test_invalid_lambda_response_counts(make_event: MakeEvent, invoke: Invoke) -> None:
    event = make_event("INVALID_LAMBDA_RESPONSE")
    event["ErrorType"] = "SchemaVersionMismatch"
    event["ErrorMessage"] = "Schema version is not supported."
    _, records = invoke(event)
    assert counted(records) == {"InvalidLambdaResponses": 1}
    # The service's error text is free text: never a dimension, never in the line.
    assert set(records[0]) == {
        "_aws",
        "SipMediaApplicationId",
        "FunctionName",
        "InvalidLambdaResponses",
    }


def test_unknown_event_type_counts_malformed(make_event: MakeEvent, invoke: Invoke) -> None:
    _, records = invoke(make_event("SOMETHING_NEW"))
    assert counted(records) == {"MalformedEvents": 1}
    assert records[0]["SipMediaApplicationId"] == SMA_ID
    assert records[0]["FunctionName"] == FUNCTION_NAME


@pytest.mark.parametrize(
    "event",
    [None, "NEW_INBOUND_CALL", [], 42, {}, {"Sequence": 1}, {"InvocationEventType": 7}],
)
def test_malformed_event_counts_malformed_for_an_unknown_sma(event: object, invoke: Invoke) -> None:
    result, records = invoke(event)
    assert result["Actions"] == [{"Type": "Hangup", "Parameters": {"SipResponseCode": "0"}}]
    assert counted(records) == {"MalformedEvents": 1}
    assert records[0]["SipMediaApplicationId"] == "unknown"
    assert records[0]["FunctionName"] == FUNCTION_NAME  # the function's, not the event's


def test_exception_counts_malformed_and_the_call_still_hangs_up(
    make_event: MakeEvent, invoke: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    def explode(event: object, config: object) -> dict[str, Any]:
        raise RuntimeError("boom")

    monkeypatch.setattr(handler_module, "handle", explode)
    result, records = invoke(make_event("ACTION_SUCCESSFUL", {"Type": "PlayAudio"}))
    assert result["Actions"] == [{"Type": "Hangup", "Parameters": {"SipResponseCode": "0"}}]
    assert counted(records) == {"MalformedEvents": 1}
    # The call did start even if the handler broke on it: both are counted.
    _, records = invoke(make_event("NEW_INBOUND_CALL"))
    assert counted(records) == {"CallsStarted": 1, "MalformedEvents": 1}


# --- nasty dimension values ------------------------------------------------------------


@pytest.mark.parametrize(
    "sma_id",
    [
        None,
        123,
        ["e88f4e49"],
        {"Id": SMA_ID},
        "",
        " ",
        "a" * 10_000,
        f"{SMA_ID}\n",
        f'{SMA_ID}\n{{"_aws": {{}}}}',
        "e88f4e49\r\nERROR forged log line",
        "sma id with spaces",
        "smä-ïd",
        "\x00",
    ],
)
def test_unusable_sma_id_becomes_unknown(
    sma_id: object, make_event: MakeEvent, invoke: Invoke
) -> None:
    event = make_event("NEW_INBOUND_CALL")
    event["CallDetails"]["SipMediaApplicationId"] = sma_id
    _, records = invoke(event)
    assert records[0]["SipMediaApplicationId"] == "unknown"


def test_missing_sma_id_or_call_details_is_unknown(make_event: MakeEvent, invoke: Invoke) -> None:
    event = make_event("NEW_INBOUND_CALL")
    del event["CallDetails"]["SipMediaApplicationId"]
    assert invoke(event)[1][0]["SipMediaApplicationId"] == "unknown"
    event["CallDetails"] = "not an object"
    assert invoke(event)[1][0]["SipMediaApplicationId"] == "unknown"


def test_the_sma_id_is_read_under_either_name_the_guide_gives_it(
    make_event: MakeEvent, invoke: Invoke
) -> None:
    # pstn-invocations.md: SipMediaApplicationId; case-1.md, use-cases.md: SipApplicationId.
    event = make_event("NEW_INBOUND_CALL")
    sma_id = event["CallDetails"].pop("SipMediaApplicationId")
    event["CallDetails"]["SipApplicationId"] = sma_id
    assert invoke(event)[1][0]["SipMediaApplicationId"] == sma_id


@pytest.mark.parametrize("empty", ["", None])
def test_an_empty_or_null_sma_id_falls_back_to_the_other_name(empty: object) -> None:
    details = {"SipMediaApplicationId": empty, "SipApplicationId": "e88f4e49-dd21"}
    assert metrics.sma_id_of({"CallDetails": details}) == "e88f4e49-dd21"


def test_id_like_sma_ids_are_kept_up_to_the_bound() -> None:
    longest = "a" * metrics.MAX_SMA_ID_LENGTH
    details = {"CallDetails": {"SipMediaApplicationId": longest}}
    assert metrics.sma_id_of(details) == longest
    details["CallDetails"]["SipMediaApplicationId"] = longest + "a"
    assert metrics.sma_id_of(details) == "unknown"


@pytest.mark.parametrize(
    "name",
    [FUNCTION_NAME, "f", "my_function-2", "A" * 64],
)
def test_function_name_comes_from_the_lambda_environment(
    name: str, make_event: MakeEvent, invoke: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", name)
    assert metrics.function_name() == name
    _, started = invoke(make_event("NEW_INBOUND_CALL"))
    _, failed = invoke(make_event("ACTION_FAILED", failure()))
    assert [record["FunctionName"] for record in started + failed] == [name, name]


@pytest.mark.parametrize(
    "name",
    [
        None,  # not set: not in Lambda
        "",
        "   ",
        "A" * 65,
        "x" * 10_000,
        "SmaHandler:live",  # a qualified name (alias), not the function's
        "arn:aws:lambda:us-east-1:123456789012:function:SmaHandler",
        "SmaHandler\n",
        'SmaHandler\n{"_aws": {}}',
        "SmaHandler\r\nERROR forged log line",
        "Sma Handler",
        " SmaHandler",
        "SmaHandler\t",
        "Sma/Handler",
        "Sma.Handler",
        'Sma"Handler',
        "Smä-Hándler",
        "\u2028",
    ],
)
def test_unusable_function_name_becomes_unknown(
    name: str | None, make_event: MakeEvent, invoke: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    if name is None:
        monkeypatch.delenv("AWS_LAMBDA_FUNCTION_NAME")
    else:
        monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", name)
    assert metrics.function_name() == "unknown"
    out = io.StringIO()
    for event in (make_event("NEW_INBOUND_CALL"), make_event("ACTION_FAILED", failure())):
        with contextlib.redirect_stdout(out):
            handler(event, None)
    records = records_in(out.getvalue())
    assert [record["FunctionName"] for record in records] == ["unknown", "unknown"]
    if name and name.strip():
        assert name not in out.getvalue()


def test_function_names_are_kept_up_to_the_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    longest = "f" * metrics.MAX_FUNCTION_NAME_LENGTH
    assert metrics.MAX_FUNCTION_NAME_LENGTH == 64  # Lambda's limit for a function name
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", longest)
    assert metrics.function_name() == longest
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", longest + "f")
    assert metrics.function_name() == "unknown"


def test_function_name_never_comes_from_the_event_or_the_context(
    make_event: MakeEvent, capsys: pytest.CaptureFixture[str]
) -> None:
    """Only Lambda's variable names the function: not a look-alike field, not the context."""

    class Context:
        function_name = "ContextName"
        invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:ContextName:live"

    event = make_event("ACTION_FAILED", {**failure(), "FunctionName": "ActionDataName"})
    event["FunctionName"] = "EventName"
    event["CallDetails"]["FunctionName"] = "CallDetailsName"
    capsys.readouterr()
    handler(event, Context())
    out = capsys.readouterr().out
    (record,) = records_in(out)
    assert record["FunctionName"] == FUNCTION_NAME
    for other in ("ActionDataName", "EventName", "CallDetailsName", "ContextName"):
        assert other not in out
    assert metrics.record_for_event(event, "CallsStarted")["FunctionName"] == FUNCTION_NAME


lambda_variable_values = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=80
) | st.from_regex(r"[A-Za-z0-9_-]{1,70}", fullmatch=True)


def test_any_function_name_gives_valid_lines_with_a_bounded_value(
    make_event: MakeEvent, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", FUNCTION_NAME)  # restored afterwards
    events = [
        make_event("NEW_INBOUND_CALL"),
        make_event("ACTION_FAILED", failure()),
        make_event("INVALID_LAMBDA_RESPONSE"),
        None,
    ]

    @settings(max_examples=300)
    @given(lambda_variable_values)
    def prop(name: str) -> None:
        os.environ["AWS_LAMBDA_FUNCTION_NAME"] = name
        out = io.StringIO()
        with contextlib.redirect_stdout(out), quiet_handler_logs():
            for event in events:
                handler(event, None)
        records = records_in(out.getvalue())  # valid EMF, FunctionName as expected
        assert len(records) == len(events)
        expected = expected_function_name()
        assert expected in (name, "unknown")
        assert all(record["FunctionName"] == expected for record in records)

    prop()


# --- stdout that will not take the line ------------------------------------------------


class BrokenStdout(io.TextIOBase):
    """A stdout whose write raises ``error``, as a closed pipe to the log agent would."""

    def __init__(self, error: Exception) -> None:
        self.error = error
        self.writes = 0

    def write(self, text: str) -> int:
        self.writes += 1
        raise self.error


def closed_stdout() -> io.StringIO:
    stream = io.StringIO()
    stream.close()
    return stream


@pytest.mark.parametrize(
    "stdout",
    [
        lambda: BrokenStdout(BrokenPipeError(32, "Broken pipe")),
        lambda: BrokenStdout(OSError(28, "No space left on device")),
        closed_stdout,
        lambda: None,
    ],
    ids=["broken-pipe", "disk-full", "closed", "none"],
)
def test_stdout_failure_never_breaks_the_call(
    stdout: Callable[[], Any],
    make_event: MakeEvent,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr(sys, "stdout", stdout())
    with caplog.at_level(logging.WARNING, "runtime.handler"):
        first = handler(make_event("NEW_INBOUND_CALL"), None)
        second = handler(make_event("ACTION_FAILED", failure()), None)
    assert [action["Type"] for action in first["Actions"]] == ["PlayAudio", "Hangup"]
    assert [action["Type"] for action in second["Actions"]] == ["PlayAudio", "Hangup"]
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1, "the first failure is logged, the next ones are not"
    assert "call metrics could not be written" in warnings[0].getMessage()


def test_flush_failure_is_a_failed_emit() -> None:
    class FlushFails(io.StringIO):
        def flush(self) -> None:
            raise BrokenPipeError(32, "Broken pipe")

    assert metrics.emit(metrics.metric_line("CallsStarted", BASE), FlushFails()) is False


# --- the namespace ---------------------------------------------------------------------


def test_metrics_namespace_comes_from_the_environment(
    make_event: MakeEvent, invoke: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = load_config({**ENV, "METRICS_NAMESPACE": " Contact/Center-1 "})
    assert (config.metrics_namespace, config.errors) == ("Contact/Center-1", ())
    monkeypatch.setattr(handler_module, "CONFIG", config)
    _, records = invoke(make_event("NEW_INBOUND_CALL"))
    assert records[0]["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "Contact/Center-1"


@pytest.mark.parametrize("raw", ["AWS/Chime", "x" * 256, "bad\nname", "ümlaut", "a;b"])
def test_bad_metrics_namespace_falls_back_to_the_default(
    raw: str, make_event: MakeEvent, invoke: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = load_config({**ENV, "METRICS_NAMESPACE": raw})
    assert config.metrics_namespace == "ChimePlayAudio"
    (error,) = config.errors
    assert error.startswith("METRICS_NAMESPACE: ") and error.endswith("using 'ChimePlayAudio'")
    monkeypatch.setattr(handler_module, "CONFIG", config)
    _, records = invoke(make_event("NEW_INBOUND_CALL"))
    assert records[0]["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "ChimePlayAudio"


@pytest.mark.parametrize("raw", ["", "   "])
def test_blank_metrics_namespace_means_default(raw: str) -> None:
    config = load_config({**ENV, "METRICS_NAMESPACE": raw})
    assert (config.metrics_namespace, config.errors) == ("ChimePlayAudio", ())


# --- the builders ----------------------------------------------------------------------


NAME_SETS = [
    *((name,) for name in metrics.METRIC_NAMES),
    ("ActionFailures", "FallbackPromptsPlayed"),
    ("CallsStarted", "MalformedEvents"),
]


@pytest.mark.parametrize("function", [FUNCTION_NAME, "bad:name"])
@pytest.mark.parametrize("names", NAME_SETS)
def test_metric_line_is_the_record_as_compact_json(
    names: tuple[str, ...], function: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", function)
    event = {
        "CallDetails": {"SipMediaApplicationId": SMA_ID},
        "ActionData": {"Type": "Pause", "ErrorType": "SystemException"},
    }
    record = metrics.record_for_event(event, names, timestamp_ms=1_700_000_000_123)
    line = metrics.line_for_event(event, names, timestamp_ms=1_700_000_000_123)
    assert line == json.dumps(record, separators=(",", ":"))
    assert metrics.to_json(record) == line
    assert emf.parse_line(line) == (record, [])
    assert emf.metric_counts(record) == dict.fromkeys(names, 1)
    check_dimensions(record)
    assert record["SipMediaApplicationId"] == SMA_ID
    assert record["FunctionName"] == (FUNCTION_NAME if function == FUNCTION_NAME else "unknown")
    failures = "ActionFailures" in names
    assert (record.get("Action"), record.get("ErrorType")) == (
        ("Pause", "SystemException") if failures else (None, None)
    )


def test_a_users_own_metric_gets_all_its_dimensions_as_one_set() -> None:
    record = metrics.metric_record(
        "PinRejected", {"SipMediaApplicationId": SMA_ID, "Menu": "billing"}, namespace="MyIvr"
    )
    assert emf.validate_record(record) == []
    assert record["_aws"]["CloudWatchMetrics"] == [
        {
            "Namespace": "MyIvr",
            "Dimensions": [["SipMediaApplicationId", "Menu"]],
            "Metrics": [{"Name": "PinRejected", "Unit": "Count"}],
        }
    ]


def test_percent_signs_in_names_and_values_are_written_as_they_are() -> None:
    """metric_line fills a %-template: its own pieces must not be read as placeholders."""
    args: dict[str, Any] = {"namespace": "Rates", "timestamp_ms": 1_700_000_000_000}
    dimensions = {"Menu%s": "%d%%", "Sip%": "100%"}
    line = metrics.metric_line(["Rejected%", "Hits%%"], dimensions, **args)
    record = metrics.metric_record(["Rejected%", "Hits%%"], dimensions, **args)
    assert line == json.dumps(record, separators=(",", ":"))
    assert emf.parse_line(line) == (record, [])


@pytest.mark.parametrize(
    ("names", "dimensions", "options", "message"),
    [
        ("CallsStarted", {**BASE, "SipMediaApplicationId": "a\nb"}, {}, "dimension SipMedia"),
        ("CallsStarted", {**BASE, "SipMediaApplicationId": ""}, {}, "dimension SipMedia"),
        ("CallsStarted", {**BASE, "SipMediaApplicationId": "é"}, {}, "dimension SipMedia"),
        ("CallsStarted", {**BASE, "SipMediaApplicationId": "a" * 1025}, {}, "dimension Sip"),
        ("CallsStarted", {**BASE, "SipMediaApplicationId": 5}, {}, "dimension SipMedia"),
        ("CallsStarted", {**BASE, "FunctionName": "a\nb"}, {}, "dimension FunctionName"),
        ("CallsStarted", {**BASE, "FunctionName": ""}, {}, "dimension FunctionName"),
        ("CallsStarted", {**BASE, "FunctionName": " "}, {}, "dimension FunctionName"),
        ("CallsStarted", {**BASE, "FunctionName": None}, {}, "dimension FunctionName"),
        ("CallsStarted", {}, {}, "needs dimension(s) ['FunctionName', 'SipMediaApplicationId']"),
        ("CallsStarted", {"SipMediaApplicationId": "a"}, {}, "needs dimension(s) ['FunctionName']"),
        ("CallsStarted", {"FunctionName": "f"}, {}, "needs dimension(s) ['SipMediaApplicationId']"),
        (
            "ActionFailures",
            {"SipMediaApplicationId": "a", "Action": "Pause", "ErrorType": "Other"},
            {},
            "metric 'ActionFailures' needs dimension(s) ['FunctionName']",
        ),
        ("ActionFailures", BASE, {}, "needs dimension(s) ['Action', 'ErrorType']"),
        (
            "ActionFailures",
            {"SipMediaApplicationId": "a"},
            {},
            "needs dimension(s) ['Action', 'ErrorType', 'FunctionName']",
        ),
        (
            ["CallsStarted", "MalformedEvents"],
            {"SipMediaApplicationId": "a"},
            {},
            "metric 'MalformedEvents' needs dimension(s) ['FunctionName']",
        ),
        ("CallsStarted", BASE, {"namespace": "AWS/Chime"}, "namespace"),
        ("CallsStarted", BASE, {"namespace": ""}, "namespace"),
        (["CallsStarted", "CallsStarted"], BASE, {}, "repeat"),
        ([], BASE, {}, "no metric names"),
        ("Menu", {"Menu": "a"}, {}, "both a metric and a dimension"),
        ("FunctionName", BASE, {}, "both a metric and a dimension"),
        ("", BASE, {}, "metric name ''"),
        ("CallsStarted", BASE, {"timestamp_ms": 1.5}, "timestamp_ms"),
        ("CallsStarted", BASE, {"timestamp_ms": True}, "timestamp_ms"),
    ],
)
def test_builders_refuse_what_cloudwatch_would_reject(
    names: Any, dimensions: dict[str, Any], options: dict[str, Any], message: str
) -> None:
    for build in (metrics.metric_record, metrics.metric_line):
        with pytest.raises(ValueError) as raised:
            build(names, dimensions, **options)
        assert message in str(raised.value)


def test_emit_writes_one_flushed_line() -> None:
    class Recorder(io.StringIO):
        flushes = 0

        def flush(self) -> None:
            self.flushes += 1
            super().flush()

    stream = Recorder()
    record = metrics.metric_record("CallsStarted", BASE)
    assert metrics.emit(record, stream) is True
    assert metrics.emit(metrics.to_json(record), stream) is True
    assert stream.getvalue() == (metrics.to_json(record) + "\n") * 2
    assert stream.flushes == 2


def test_emit_defaults_to_stdout_as_it_is_at_the_call() -> None:
    captured = io.StringIO()
    with contextlib.redirect_stdout(captured):
        assert metrics.emit(metrics.metric_line("CallsStarted", BASE))
    assert emf.parse_line(captured.getvalue())[1] == []


json_documents = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)


@settings(max_examples=500)
@given(json_documents)
def test_to_json_writes_what_json_dumps_writes(value: Any) -> None:
    assert metrics.to_json(value) == json.dumps(value, separators=(",", ":"))


@pytest.mark.parametrize("value", [float("nan"), float("inf"), {1: "a"}, {"a": object()}, b"x"])
def test_to_json_refuses_what_is_not_json(value: object) -> None:
    with pytest.raises((TypeError, ValueError)):
        metrics.to_json(value)


# --- the validator catches what it must ------------------------------------------------


def valid_record() -> dict[str, Any]:
    return metrics.metric_record(
        ["ActionFailures", "FallbackPromptsPlayed"],
        {
            "SipMediaApplicationId": SMA_ID,
            "FunctionName": FUNCTION_NAME,
            "Action": "PlayAudio",
            "ErrorType": "Other",
        },
        timestamp_ms=1_700_000_000_000,
    )


def broken(change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    record = valid_record()
    change(record)
    return record


def directive(record: dict[str, Any]) -> dict[str, Any]:
    first: dict[str, Any] = record["_aws"]["CloudWatchMetrics"][0]
    return first


@pytest.mark.parametrize(
    ("record", "complaint"),
    [
        ([], "not a JSON object"),
        (broken(lambda r: r.pop("_aws")), "_aws is missing"),
        (broken(lambda r: r["_aws"].update(Timestamp=1_700_000_000)), "Timestamp"),
        (broken(lambda r: r["_aws"].update(Timestamp="1700000000000")), "Timestamp"),
        (broken(lambda r: r["_aws"].update(CloudWatchMetrics=[])), "non-empty list"),
        (broken(lambda r: directive(r).update(Namespace="")), "Namespace"),
        (broken(lambda r: directive(r).update(Namespace="n" * 256)), "Namespace"),
        (broken(lambda r: directive(r).pop("Dimensions")), "lacks ['Dimensions']"),
        (broken(lambda r: directive(r).update(Extra=1)), "unknown member(s) ['Extra']"),
        (broken(lambda r: r.pop("ErrorType")), "'ErrorType' is not a member of the root"),
        (broken(lambda r: r.update(ErrorType=7)), "dimension ErrorType"),
        (broken(lambda r: r.update(ErrorType="a\nb")), "dimension ErrorType"),
        (broken(lambda r: r.update(ErrorType="x" * 1025)), "dimension ErrorType"),
        (broken(lambda r: r.pop("FunctionName")), "'FunctionName' is not a member of the root"),
        (broken(lambda r: r.update(FunctionName="")), "dimension FunctionName"),
        (broken(lambda r: r.update(FunctionName="a\nb")), "dimension FunctionName"),
        (
            broken(lambda r: directive(r).update(Dimensions=[[f"d{i}" for i in range(31)]])),
            "at most 30",
        ),
        (
            broken(lambda r: directive(r).update(Metrics=[{"Name": "ActionFailures"}] * 101)),
            "at most 100",
        ),
        (broken(lambda r: directive(r).update(Metrics=[])), "non-empty list"),
        (broken(lambda r: r.update(ActionFailures="1")), "metric ActionFailures"),
        (broken(lambda r: r.update(ActionFailures=True)), "metric ActionFailures"),
        (broken(lambda r: r.update(ActionFailures=[1] * 101)), "metric ActionFailures"),
        (broken(lambda r: r.pop("ActionFailures")), "'ActionFailures' is not a member"),
        (
            broken(lambda r: directive(r)["Metrics"][0].update(Unit="Calls")),
            "not a CloudWatch unit",
        ),
        (broken(lambda r: directive(r)["Metrics"][0].update(Value=1)), "unknown member(s)"),
        (
            broken(lambda r: directive(r).update(Metrics=[{"Name": "ErrorType"}])),
            "both a dimension and a metric",
        ),
    ],
)
def test_validator_rejects_broken_records(record: object, complaint: str) -> None:
    errors = emf.validate_record(record)
    assert any(complaint in error for error in errors), errors


def test_validator_accepts_lists_of_values_and_storage_resolution() -> None:
    record = broken(lambda r: r.update(ActionFailures=[1, 2.5]))
    directive(record)["Metrics"][0]["StorageResolution"] = 60
    assert emf.validate_record(record) == []
    assert emf.metric_counts(record)["ActionFailures"] == 3.5


@pytest.mark.parametrize(
    ("line", "is_emf", "complaint"),
    [
        ("START RequestId: 1 Version: $LATEST", False, None),
        ('{"level": "ERROR", "message": "boom"}', False, None),
        ('{"message": "{\\"_aws\\": {}}"}', False, None),  # EMF wrapped by a JSON logger
        (" " + metrics.to_json(valid_record()), True, "before or after"),
        (metrics.to_json({**valid_record(), "big": "x" * 262_144}), True, "at most 262144"),
    ],
)
def test_parse_line_tells_emf_from_other_log_lines(
    line: str, is_emf: bool, complaint: str | None
) -> None:
    record, errors = emf.parse_line(line)
    assert (record is not None) == is_emf
    if complaint is None:
        assert errors == []
    else:
        assert any(complaint in error for error in errors), errors


# --- any event at all ------------------------------------------------------------------


@contextlib.contextmanager
def quiet_handler_logs() -> Iterator[None]:
    logger = logging.getLogger(handler_module.__name__)
    was = logger.disabled
    logger.disabled = True
    try:
        yield
    finally:
        logger.disabled = was


def test_any_event_writes_at_most_one_valid_line_without_private_data() -> None:
    ran = 0

    @settings(max_examples=600)
    @given(json_values | typed_events | mutated_events(), configs)
    def prop(event: Any, config: Any) -> None:
        nonlocal ran
        ran += 1
        handler_module.CONFIG = config
        out = io.StringIO()
        with contextlib.redirect_stdout(out), quiet_handler_logs():
            handler(event, None)
        # (Generated events may carry the call id as their SMA id: no private-data check.)
        records = records_in(out.getvalue(), private=())
        assert len(records) <= 1
        for record in records:
            for value in record.values():
                if isinstance(value, str):
                    assert len(value) <= metrics.MAX_SMA_ID_LENGTH

    prop()
    assert ran >= 600


def test_cold_import_answers_a_call_with_one_line_and_no_json_or_logging() -> None:
    script = f"""
import sys
before = set(sys.modules)
sys.path.insert(0, {str(PACKAGE_PARENT)!r})
import runtime.handler as h
details = {{"SipMediaApplicationId": {SMA_ID!r}, "Participants": [{{"CallId": "c"}}]}}
event = {{"SchemaVersion": "1.0", "Sequence": 1, "InvocationEventType": "NEW_INBOUND_CALL",
         "CallDetails": details}}
assert h.handler(event, None)["Actions"][0]["Type"] == "PlayAudio"
print(*sorted(set(sys.modules) - before), file=sys.stderr)
"""
    done = subprocess.run(
        [sys.executable, "-c", script],
        env={**os.environ, **ENV},
        capture_output=True,
        text=True,
        check=True,
    )
    imported = set(done.stderr.split())
    assert "runtime.metrics" in imported
    assert imported.isdisjoint({"json", "logging", "re"}), imported
    records = records_in(done.stdout)
    assert counted(records) == {"CallsStarted": 1}
    assert records[0]["FunctionName"] == FUNCTION_NAME  # from the process's environment
