"""playaudio-sim call: outputs, exit status, and a --help that never loads the CDK."""

from __future__ import annotations

import json
import subprocess
import sys
import wave
from pathlib import Path

import pytest

from playaudio_sim.call_setup import CallSetup
from playaudio_sim.cli import main
from playaudio_sim.readings import CONFLICTS
from tests.playaudio_sim.conftest import write_assembly

ROOT = Path(__file__).resolve().parents[2]


def test_help_is_fast_and_loads_neither_the_cdk_nor_the_engine() -> None:
    code = (
        "import sys\n"
        "from playaudio_sim.cli import main\n"
        "try:\n"
        "    main(['call', '--help'])\n"
        "except SystemExit as exit:\n"
        "    assert exit.code == 0\n"
        "assert 'aws_cdk' not in sys.modules and 'PIL' not in sys.modules\n"
        "import playaudio_sim.engine, playaudio_sim.scenario\n"
        "assert 'aws_cdk' not in sys.modules\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=False
    )
    assert completed.returncode == 0, completed.stderr
    for option in ("--cdk-out", "--keys", "--outbound", "--scenario", "--out", "exit status"):
        assert option in completed.stdout


def test_a_call_against_the_sample_app_writes_transcript_audio_and_timeline(
    sample_cdk_out: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "call"
    assert main(["call", "--cdk-out", str(sample_cdk_out), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "caller hears prompts/welcome.wav" in printed
    assert "hangup: the handler hung up with SipResponseCode 0 (exit 0)" in printed
    records = [json.loads(line) for line in (out / "transcript.jsonl").read_text().splitlines()]
    assert [r["kind"] for r in records][:3] == ["call", "event", "response"]
    assert all({"t", "kind", "summary"} <= set(r) for r in records)
    with wave.open(str(out / "call.wav")) as audio:
        assert (audio.getframerate(), audio.getnchannels()) == (8000, 1)
        welcome = sample_cdk_out.glob("asset.*/welcome.wav")
        with wave.open(str(next(welcome))) as prompt:
            assert audio.readframes(audio.getnframes()) == prompt.readframes(prompt.getnframes())
    assert (out / "timeline.png").read_bytes()[:4] == b"\x89PNG"


def test_a_scenario_run_exits_0_when_met_and_6_when_not(
    sample_cdk_out: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scenario = ROOT / "scenarios" / "missing-prompt-key.json"
    args = ["call", "-o", str(sample_cdk_out), "--out", str(tmp_path), "-q"]
    assert main([*args, "--scenario", str(scenario)]) == 0
    # Without the scenario, the same broken flow is an error path: exit 1.
    wrong = tmp_path / "wrong.json"
    wrong.write_text(json.dumps({"expect": {"end": "caller-hangup"}}))
    assert main([*args, "--scenario", str(wrong)]) == 6
    assert "expected: caller-hangup" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("kwargs", "extra", "status"),
    [
        ({}, ["--keys", "#@0.5s"], 0),
        ({"permission": False}, [], 3),
        ({}, ["--hangup-at", "0.2"], 4),
        ({}, ["--max-call-seconds", "0.5"], 5),
    ],
)
def test_exit_status_follows_the_end_of_the_call(
    tmp_path: Path, kwargs: dict[str, bool], extra: list[str], status: int
) -> None:
    root = write_assembly(tmp_path / "cdk.out", **kwargs)
    assert main(["call", "-o", str(root), "-q", *extra]) == status
    assert (root / "call" / "call.wav").is_file()


def test_an_unusable_cdk_out_exits_7(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["call", "-o", str(tmp_path)]) == 7
    assert "synthesize first" in capsys.readouterr().err


def test_a_reading_from_the_command_line_changes_the_call_and_is_recorded(tmp_path: Path) -> None:
    # The MODE=digits handler answers a mid-list ACTION_SUCCESSFUL with []: by default that
    # drops the Hangup after it (exit 4, the caller gives up); with keep the Hangup runs.
    root = write_assembly(tmp_path / "cdk.out")
    args = ["call", "-o", str(root), "-q", "--caller-patience", "1"]
    # A scenario's call (its keys too) replaces the command line's: the keys go here.
    call = {"keys": "1@0.5s,2@0.55s,#@0.6s"}
    scenario = tmp_path / "digits.json"
    expect = {"end": "hangup"}
    scenario.write_text(
        json.dumps({"call": call, "environment": {"MODE": "digits"}, "expect": expect})
    )
    assert main([*args, "--scenario", str(scenario)]) == 6
    first = json.loads((root / "call" / "transcript.jsonl").read_text().splitlines()[0])
    assert first["readings"]["emptyActions"] == "stop"
    assert main([*args, "--scenario", str(scenario), "--reading", "emptyActions=keep"]) == 0
    first = json.loads((root / "call" / "transcript.jsonl").read_text().splitlines()[0])
    assert first["readings"]["emptyActions"] == "keep"


def test_the_reading_help_names_every_conflict_and_its_choices(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "2000")  # no wrapping (argparse breaks lines at hyphens)
    with pytest.raises(SystemExit):
        main(["call", "--help"])
    text = capsys.readouterr().out
    for name, conflict in CONFLICTS.items():
        assert f"{name}={'|'.join(conflict.choices)}" in text


def test_a_bad_reading_is_a_usage_error_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit:
        main(["call", "-o", str(tmp_path), "--reading", "emptyActions=never"])
    assert exit.value.code == 2
    assert "--reading: emptyActions is 'never'; expected one of 'stop', 'keep'" in (
        capsys.readouterr().err
    )


def test_an_update_from_the_command_line_reaches_the_handler(
    sample_cdk_out: Path, tmp_path: Path
) -> None:
    out = tmp_path / "call"
    args = ["call", "-o", str(sample_cdk_out), "--out", str(out), "-q"]
    assert main([*args, "--update", "2s:prompt=goodbye,language=en-US"]) == 0
    records = [json.loads(line) for line in (out / "transcript.jsonl").read_text().splitlines()]
    (update,) = [r for r in records if r.get("type") == "CALL_UPDATE_REQUESTED"]
    assert update["event"]["ActionData"]["Parameters"]["Arguments"] == {
        "prompt": "goodbye",
        "language": "en-US",
    }
    assert [r["name"] for r in records if r["kind"] == "play"] == ["welcome", "goodbye"]


@pytest.mark.parametrize("update", ["soon:prompt=goodbye", "2s:prompt"])
def test_a_bad_update_is_a_usage_error(
    update: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit:
        main(["call", "-o", str(tmp_path), "--update", update])
    assert exit.value.code == 2
    assert f"update {update!r} is not TIME:NAME=VALUE,..." in capsys.readouterr().err


def test_bad_keys_are_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as exit:
        main(["call", "-o", str(tmp_path), "--keys", "x@1s"])
    assert exit.value.code == 2


def test_the_sample_setup_resolves_the_handlers_bucket(sample_setup: CallSetup) -> None:
    bucket = sample_setup.function.environment["PROMPTS_BUCKET"]
    assert bucket in sample_setup.store.buckets
    assert sample_setup.store.get(bucket, "prompts/welcome.wav") is not None


def test_make_call_target_is_what_the_cli_expects() -> None:
    makefile = (ROOT / "Makefile").read_text()
    assert "playaudio-sim call --cdk-out $(CDK_OUT) $(CALL_ARGS)" in makefile


def test_a_scenario_bucket_removal_plays_the_call_without_the_object(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = write_assembly(tmp_path / "cdk.out")
    scenario = tmp_path / "gone.json"
    expect = {"prompts": [], "failures": ["InvalidAudioSource"], "end": "hangup-after-error"}
    scenario.write_text(
        json.dumps({"bucket": {"remove": ["prompts/welcome.wav"]}, "expect": expect})
    )
    assert main(["call", "-o", str(root), "-q", "--scenario", str(scenario)]) == 0
    assert "passed" in capsys.readouterr().out


def test_a_scenario_removing_an_object_that_is_not_deployed_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = write_assembly(tmp_path / "cdk.out")
    scenario = tmp_path / "typo.json"
    scenario.write_text(json.dumps({"bucket": {"remove": ["prompts/welcom.wav"]}}))
    assert main(["call", "-o", str(root), "--scenario", str(scenario)]) == 2
    assert capsys.readouterr().err == (
        f"playaudio-sim: {scenario}: bucket.remove: 'prompts/welcom.wav' is not deployed; "
        "expected the exact key (prefix included) of a deployed object: the deployed keys are "
        "prompts/error.wav, prompts/welcome.wav\n"
    )
    assert not (root / "call").exists()
