"""The transcript counts the call metrics each invocation wrote, as CloudWatch Logs would."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from playaudio_sim.call_setup import CallSetup
from playaudio_sim.engine import Call, CallOptions, CallResult
from playaudio_sim.lambda_runner import lambda_environment
from playaudio_sim.readings import Readings
from playaudio_sim.scenario import Scenario
from tests.playaudio_sim.conftest import run
from tests.runtime import conftest  # noqa: F401  (puts runtime/ on sys.path, as in Lambda)
from tests.runtime.test_metrics import FALLBACK_LINE_DIMENSION_SETS

ROOT = Path(__file__).resolve().parents[2]


def metrics_by_event(result: CallResult) -> list[tuple[str, dict[str, float]]]:
    """(event type, metrics of its response) for each invocation, in order."""
    types = {r["seq"]: r["type"] for r in result.transcript.of_kind("event")}
    return [
        (types[r["seq"]], r["metrics"])
        for r in result.transcript.of_kind("response", "invocation-error")
    ]


def emf_lines(record: dict[str, Any]) -> list[dict[str, Any]]:
    lines = [entry["message"] for entry in record["logs"] if "stream" in entry]
    return [json.loads(line) for line in lines if line.startswith('{"_aws"')]


@pytest.mark.parametrize("sma_id_field", ["SipApplicationId", "SipMediaApplicationId"])
def test_sample_handler_metrics_per_invocation_when_the_welcome_is_missing(
    sample_setup: CallSetup, sma_id_field: str
) -> None:
    scenario = Scenario.load(ROOT / "scenarios" / "missing-prompt-key.json")
    base = CallOptions(readings=Readings({"smaIdField": sma_id_field}))
    result = Call(sample_setup, scenario.options(sample_setup, base=base)).run()
    assert scenario.check(result) == []
    assert metrics_by_event(result) == [
        ("NEW_INBOUND_CALL", {"CallsStarted": 1}),
        ("ACTION_FAILED", {"ActionFailures": 1, "FallbackPromptsPlayed": 1}),
        ("HANGUP", {}),
    ]
    (end,) = result.transcript.of_kind("end")
    assert end["metrics"] == {"CallsStarted": 1, "ActionFailures": 1, "FallbackPromptsPlayed": 1}
    responses = result.transcript.of_kind("response")
    assert all("metricErrors" not in r for r in responses)
    assert responses[1]["summary"].endswith("[counted: ActionFailures 1, FallbackPromptsPlayed 1]")
    # The dimensions come from the event the simulated SMA sent and, for FunctionName, from
    # AWS_LAMBDA_FUNCTION_NAME, which the worker's environment carries as Lambda's does.
    (failure_line,) = emf_lines(responses[1])
    assert failure_line["SipMediaApplicationId"] == sample_setup.sma.id
    assert failure_line["FunctionName"] == sample_setup.function.name != "unknown"
    assert (failure_line["Action"], failure_line["ErrorType"]) == (
        "PlayAudio",
        "InvalidAudioSource",
    )
    by_metric = {
        definition["Name"]: directive["Dimensions"]
        for directive in failure_line["_aws"]["CloudWatchMetrics"]
        for definition in directive["Metrics"]
    }
    assert by_metric == FALLBACK_LINE_DIMENSION_SETS


def test_an_outbound_call_counts_its_start_once(sample_setup: CallSetup) -> None:
    result = Call(sample_setup, CallOptions(outbound=True)).run()
    assert metrics_by_event(result) == [
        ("NEW_OUTBOUND_CALL", {"CallsStarted": 1}),
        ("RINGING", {}),
        ("CALL_ANSWERED", {}),
        ("HANGUP", {}),
    ]
    (start,) = emf_lines(result.transcript.of_kind("response")[0])
    assert start["FunctionName"] == sample_setup.function.name


def test_function_name_survives_an_environment_override(sample_setup: CallSetup) -> None:
    """Overriding the function's variables keeps Lambda's reserved ones, the name among them."""
    name = sample_setup.function.name
    reserved = lambda_environment(sample_setup.function, Path("/var/task"), "us-east-1")
    assert reserved["AWS_LAMBDA_FUNCTION_NAME"] == name
    environment = {**sample_setup.function.environment, "AWS_LAMBDA_FUNCTION_NAME": "Forged"}
    result = Call(sample_setup, CallOptions(environment=environment)).run()
    (start,) = emf_lines(result.transcript.of_kind("response")[0])
    assert start["CallsStarted"] == 1
    assert start["FunctionName"] == name


HANDLER_WITH_METRICS = """
import json, logging, sys, time

def emf(**values):
    return {"_aws": {"Timestamp": int(time.time() * 1000), "CloudWatchMetrics": [{
        "Namespace": "Test", "Dimensions": [["Sma"]],
        "Metrics": [{"Name": k, "Unit": "Count"} for k in values if k != "Sma"]}]}, **values}

def handler(event, context):
    print(json.dumps(emf(Sma="a", Calls=1, Retries=[1, 2])))          # counted
    sys.stderr.write(json.dumps(emf(Sma="a", Calls=1)) + "\\n")        # stderr reaches logs too
    print(json.dumps({"_aws": {"Timestamp": 5, "CloudWatchMetrics": []}}))  # broken EMF
    logging.getLogger().warning(json.dumps(emf(Sma="a", Logged=1)))    # wrapped by Lambda
    print("just a line")
    return {"SchemaVersion": "1.0", "Actions": [{"Type": "Hangup", "Parameters": {}}]}
"""


def test_only_valid_emf_written_to_stdout_or_stderr_counts(
    make_setup: Callable[..., CallSetup],
) -> None:
    result = run(make_setup(handler_code=HANDLER_WITH_METRICS))
    first = result.transcript.of_kind("response")[0]
    assert first["metrics"] == {"Calls": 2, "Retries": 3}
    errors = first["metricErrors"]
    assert any("Timestamp" in error for error in errors), errors
    assert any("CloudWatchMetrics" in error for error in errors), errors
    assert "2 EMF error(s)" in first["summary"]
    (end,) = result.transcript.of_kind("end")
    assert end["metrics"] == {"Calls": 4, "Retries": 6}  # the HANGUP's invocation too
