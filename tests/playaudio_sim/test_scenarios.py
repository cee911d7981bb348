"""The sample app's scenarios (scenarios/*.json) against the synthesized sample app."""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from playaudio_sim.call_setup import CallSetup
from playaudio_sim.engine import Call, CallOptions
from playaudio_sim.lambda_runner import InvokeResult, LambdaRunner
from playaudio_sim.readings import CONFLICTS, Readings
from playaudio_sim.scenario import Scenario, ScenarioError, merge_patch
from tests.audio import wavgen

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = sorted((ROOT / "scenarios").glob("*.json"))


def test_the_sample_app_has_the_scenarios_the_issue_asks_for() -> None:
    assert {p.stem for p in SCENARIOS} >= {
        "happy-path",
        "missing-prompt-key",
        "fallback-missing",
        "terminator-mid-prompt",
    }


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_scenario(sample_setup: CallSetup, path: Path) -> None:
    scenario = Scenario.load(path)
    result = Call(sample_setup, scenario.options(sample_setup)).run()
    assert scenario.check(result) == [], "\n".join(result.transcript.summary_lines())


READINGS = Readings.every_combination()


class _OneEnvironment:
    """The invoker of a scenario's calls under every reading: one warm execution
    environment for all of them (a cold start each would cost most of the time), closed
    by the test, not by each call."""

    def __init__(self, runner: LambdaRunner) -> None:
        self.runner = runner

    def invoke(self, event: dict[str, Any], timeout_s: float) -> InvokeResult:
        return self.runner.invoke(event, timeout_s)

    def close(self) -> None:
        """Kept open for the scenario's next call."""


def failures_under_every_reading(setup: CallSetup, scenario: Scenario) -> dict[str, list[str]]:
    """How the call differs from the scenario, under each combination of readings it fails."""
    environment = scenario.options(setup).environment
    function = dataclasses.replace(setup.function, environment=environment or {})
    failed = {}
    with LambdaRunner(function, region=setup.sma.region) as runner:
        for readings in READINGS:
            options = scenario.options(setup, base=CallOptions(readings=readings))
            result = Call(setup, options, invoker=_OneEnvironment(runner)).run()
            problems = scenario.check(result)
            if problems:
                failed[", ".join(readings.label(name) for name in readings)] = problems
    return failed


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_the_sample_handler_passes_every_scenario_under_every_reading(
    sample_setup: CallSetup, path: Path
) -> None:
    # Where the guide's pages conflict the sample handler must not depend on which is right.
    assert len(READINGS) == 2 ** len(CONFLICTS) == 128
    assert failures_under_every_reading(sample_setup, Scenario.load(path)) == {}


def test_a_handler_that_leans_on_one_reading_fails_under_the_other(
    broken_app: CallSetup, tmp_path: Path
) -> None:
    # MODE=digits answers a mid-list ACTION_SUCCESSFUL with [] and counts on the Hangup after:
    # lost when that invocation happens (digitsSuccess=always) and [] stops (emptyActions=stop).
    scenario = Scenario.parse(
        {
            "call": {"keys": "4@0.5s,2@1.2s,#@1.4s"},
            "environment": {"MODE": "digits"},
            "expect": {"end": "hangup"},
        },
        tmp_path / "digits.json",
    )
    failed = failures_under_every_reading(broken_app, scenario)
    assert len(failed) == len(READINGS) // 4
    assert all("emptyActions=stop" in r and "digitsSuccess=always" in r for r in failed)


def test_a_scenarios_readings_win_over_the_command_lines(
    sample_setup: CallSetup, tmp_path: Path
) -> None:
    scenario = Scenario.parse({"readings": {"attributes": "merge"}}, tmp_path / "s.json")
    base = CallOptions(readings=Readings({"attributes": "replace", "emptyActions": "keep"}))
    readings = scenario.options(sample_setup, base=base).readings
    assert (readings["attributes"], readings["emptyActions"]) == ("merge", "keep")


def test_a_scenario_that_is_not_met_says_what_differs(
    sample_setup: CallSetup, tmp_path: Path
) -> None:
    path = tmp_path / "wrong.json"
    path.write_text(
        json.dumps(
            {
                "expect": {
                    "prompts": ["goodbye"],
                    "failures": ["InvalidAudioSource"],
                    "end": "sma-hangup",
                    "maxInvocations": 1,
                }
            }
        )
    )
    scenario = Scenario.load(path)
    problems = scenario.check(Call(sample_setup, scenario.options(sample_setup)).run())
    assert problems == [
        "prompts heard: [welcome]; expected: [goodbye]",
        "failures: []; expected: ['InvalidAudioSource']",
        "end: hangup (the handler hung up with SipResponseCode 0); expected: sma-hangup",
        "invocations: 2; expected at most 1",
    ]


def test_environment_overrides_replace_remove_and_merge_patch(tmp_path: Path) -> None:
    scenario = Scenario.parse(
        {
            "environment": {
                "A": "new",
                "B": None,
                "M": {"mergePatch": {"welcome": {"key": "x.wav"}, "error": None}},
            }
        },
        tmp_path / "s.json",
    )
    manifest = {"welcome": {"key": "w.wav", "durationMs": 5}, "error": {"key": "e.wav"}}
    result = scenario.apply_environment({"A": "old", "B": "gone", "M": json.dumps(manifest)})
    assert result["A"] == "new" and "B" not in result
    assert json.loads(result["M"]) == {"welcome": {"key": "x.wav", "durationMs": 5}}
    assert merge_patch({"a": {"b": 1}}, {"a": {"c": 2}}) == {"a": {"b": 1, "c": 2}}
    assert merge_patch({"a": 1}, [1, 2]) == [1, 2]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"expect": {"end": "fine"}}, "expect.end is 'fine'; expected one of hangup"),
        ({"call": {"keys": "x@1s"}}, "call.keys: key press 'x@1s' is not DIGIT@TIME"),
        ({"surprise": 1}, "unknown field(s) ['surprise']"),
        ({"environment": {"A": 1}}, "environment.A must be a string, null, or"),
        ({"call": {"hangupAt": "soon"}}, "time 'soon' is not like '2.5s'"),
        ({"expect": {"prompts": [{"name": "x"}]}}, "is not a name, a key or"),
        ({"bucket": []}, "bucket is a list; expected an object"),
        ({"bucket": {"delete": ["a.wav"]}}, "bucket has unknown field(s) ['delete']"),
        (
            {"bucket": {"remove": "prompts/welcome.wav"}},
            "bucket.remove is the string 'prompts/welcome.wav'; expected a list of deployed "
            'object keys, e.g. ["prompts/welcome.wav"]',
        ),
        ({"bucket": {"remove": [""]}}, "bucket.remove is a list; expected a list of deployed"),
        ({"bucket": {"remove": [7]}}, "bucket.remove is a list; expected a list of deployed"),
    ],
)
def test_a_bad_scenario_file_names_the_field(
    tmp_path: Path, data: dict[str, object], message: str
) -> None:
    with pytest.raises(ScenarioError, match=re.escape(message)) as error:
        Scenario.parse(data, tmp_path / "bad.json")
    assert str(error.value).startswith(str(tmp_path / "bad.json"))


def removal(tmp_path: Path, keys: list[str], **fields: object) -> Scenario:
    path = tmp_path / "removal.json"
    path.write_text(json.dumps({"bucket": {"remove": keys}, **fields}))
    return Scenario.load(path)


def test_a_scenario_removes_a_deployed_prompt_before_the_call(
    sample_setup: CallSetup, tmp_path: Path
) -> None:
    """As if the welcome prompt had been deleted by hand: PlayAudio fails, the fallback plays."""
    expect = {"prompts": ["error"], "failures": ["InvalidAudioSource"], "end": "hangup-after-error"}
    scenario = removal(tmp_path, ["prompts/welcome.wav"], expect=expect)
    result = Call(sample_setup, scenario.options(sample_setup)).run()
    assert scenario.check(result) == [], "\n".join(result.transcript.summary_lines())
    failed = result.transcript.of_kind("action-failed")[0]
    assert failed["errorType"] == "InvalidAudioSource"
    assert "prompts/welcome.wav" in failed["reason"]
    bucket = sample_setup.function.environment["PROMPTS_BUCKET"]
    notes = result.transcript.of_kind("call")[0]["notes"]
    assert f"s3://{bucket}/prompts/welcome.wav was removed before the call" in notes
    # The shared setup keeps the object: the removal is the scenario's call only.
    assert sample_setup.store.get(bucket, "prompts/welcome.wav") is not None
    assert Call(sample_setup).run().heard[0]["key"] == "prompts/welcome.wav"


def test_removing_a_key_that_is_not_deployed_names_it_and_a_few_deployed_keys(
    make_setup: Callable[..., CallSetup], tmp_path: Path
) -> None:
    setup = make_setup(extra_prompts={f"p{i}.wav": wavgen.pcm(frames=80) for i in range(5)})
    scenario = removal(tmp_path, ["prompts/welcome.wav", "welcome.wav"])
    with pytest.raises(ScenarioError) as error:
        scenario.options(setup)
    assert str(error.value) == (
        f"{tmp_path / 'removal.json'}: bucket.remove: 'welcome.wav' is not deployed; expected "
        "the exact key (prefix included) of a deployed object: the deployed keys are "
        "prompts/error.wav, prompts/p0.wav, prompts/p1.wav, prompts/p2.wav, prompts/p3.wav "
        "and 2 more"
    )


def test_a_misspelled_update_restarts_the_welcome_and_the_call_lasts_for_it(
    sample_setup: CallSetup,
) -> None:
    # {"prompt": "goodby"} 2 s in: the welcome stops there and is heard again in full, then
    # the Hangup; a bare Hangup would end the call at 2 s, mid-welcome.
    scenario = Scenario.load(ROOT / "scenarios" / "update-with-unknown-arguments.json")
    result = Call(sample_setup, scenario.options(sample_setup)).run()
    first, again = result.heard
    assert first["name"] == again["name"] == "welcome"
    assert first["endMs"] == 2000 < first["fullMs"]
    assert (again["startMs"], again["endMs"]) == (2000, 2000 + again["fullMs"])
    assert result.duration_ms == 2000 + again["fullMs"]
