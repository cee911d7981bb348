"""The call's phone numbers: CallOptions, --caller-number/--sma-number, scenario call fields.

Inbound, the caller dials the SMA's number (To) from theirs (From); outbound, the reverse.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from playaudio_sim.call_setup import CallSetup
from playaudio_sim.cli import main
from playaudio_sim.engine import CALLER_NUMBER, SMA_NUMBER, CallOptions, CallResult
from playaudio_sim.scenario import Scenario, ScenarioError
from tests.playaudio_sim.conftest import run, write_assembly

CALLER = "+4915112345678"
SMA = "+442071838750"
# "+012...": no country code starts with 0 (chime_facts.E164_NUMBER, as SipRule checks it).
BAD_NUMBERS = [
    "12065550100",
    "+1",
    "+1234567890123456",
    "+1 206 555 0100",
    "",
    "+1206555O100",
    "+012065550100",
]
EXPECTED = "expected '+' and 2 to 15 digits, the first not 0"


def participants(result: CallResult) -> list[tuple[str, str, str]]:
    """(event type, To, From) of every invocation."""
    return [
        (
            record["type"],
            *(record["event"]["CallDetails"]["Participants"][0][k] for k in ("To", "From")),
        )
        for record in result.transcript.of_kind("event")
    ]


def test_by_default_the_numbers_are_the_simulators(broken_app: CallSetup) -> None:
    events = participants(run(broken_app))
    assert events[0] == ("NEW_INBOUND_CALL", SMA_NUMBER, CALLER_NUMBER)


def test_inbound_the_caller_dials_the_sma_number(broken_app: CallSetup) -> None:
    events = participants(run(broken_app, "last-play", caller_number=CALLER, sma_number=SMA))
    assert [e[0] for e in events] == ["NEW_INBOUND_CALL", "ACTION_SUCCESSFUL", "HANGUP"]
    assert {e[1:] for e in events} == {(SMA, CALLER)}


def test_outbound_the_sma_number_calls_the_caller(broken_app: CallSetup) -> None:
    events = participants(run(broken_app, outbound=True, caller_number=CALLER, sma_number=SMA))
    assert events[0][0] == "NEW_OUTBOUND_CALL"
    assert {e[1:] for e in events} == {(CALLER, SMA)}


@pytest.mark.parametrize("number", ["+12", "+123456789012345"])
def test_two_to_fifteen_digits_are_a_number(number: str) -> None:
    assert CallOptions(caller_number=number, sma_number=number).sma_number == number


@pytest.mark.parametrize("field", ["caller_number", "sma_number"])
@pytest.mark.parametrize("number", BAD_NUMBERS)
def test_call_options_refuse_a_number_that_is_not_e164(field: str, number: str) -> None:
    what = "the caller number" if field == "caller_number" else "the SMA number"
    message = f"{what} {number!r} is not an E.164 phone number; {EXPECTED}"
    with pytest.raises(ValueError, match=re.escape(message)):
        CallOptions(**{field: number})


def test_the_cli_numbers_reach_the_handler(tmp_path: Path) -> None:
    root = write_assembly(tmp_path / "cdk.out")
    numbers = ["--caller-number", CALLER, "--sma-number", SMA]
    assert main(["call", "-o", str(root), "-q", *numbers]) == 0
    records = [json.loads(line) for line in (root / "call" / "transcript.jsonl").open()]
    first = next(r for r in records if r["kind"] == "event")
    participant = first["event"]["CallDetails"]["Participants"][0]
    assert (participant["To"], participant["From"]) == (SMA, CALLER)


@pytest.mark.parametrize("option", ["--caller-number", "--sma-number"])
@pytest.mark.parametrize("number", BAD_NUMBERS)
def test_a_cli_number_that_is_not_e164_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], option: str, number: str
) -> None:
    with pytest.raises(SystemExit) as exit:
        main(["call", "-o", str(tmp_path), option, number])
    assert exit.value.code == 2
    err = capsys.readouterr().err
    assert f"argument {option}: " in err
    assert (
        f"{number!r} is not an E.164 phone number; expected '+' and 2 to 15 digits, the first not 0"
        in err
    )


def test_the_help_shows_the_engines_default_numbers(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["call", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert f"(default {CALLER_NUMBER};" in help_text
    assert f"(default {SMA_NUMBER};" in help_text


def scenario(tmp_path: Path, call: dict[str, Any]) -> Scenario:
    return Scenario.parse({"call": call}, tmp_path / "numbers.json")


def test_a_scenarios_numbers_win_over_the_command_lines(
    broken_app: CallSetup, tmp_path: Path
) -> None:
    base = CallOptions(caller_number="+15550001", sma_number="+15550002")
    options = scenario(tmp_path, {"callerNumber": CALLER, "smaNumber": SMA}).options(
        broken_app, base=base
    )
    assert (options.caller_number, options.sma_number) == (CALLER, SMA)
    only_sma = scenario(tmp_path, {"smaNumber": SMA}).options(broken_app, base=base)
    assert (only_sma.caller_number, only_sma.sma_number) == ("+15550001", SMA)
    default = scenario(tmp_path, {}).options(broken_app)
    assert (default.caller_number, default.sma_number) == (CALLER_NUMBER, SMA_NUMBER)


@pytest.mark.parametrize("field", ["callerNumber", "smaNumber"])
@pytest.mark.parametrize("number", [*BAD_NUMBERS, 12065550100])
def test_a_scenario_number_that_is_not_e164_names_the_field(
    tmp_path: Path, field: str, number: object
) -> None:
    message = f"numbers.json: call.{field} {number!r} is not an E.164 phone number; expected"
    with pytest.raises(ScenarioError, match=re.escape(message)):
        scenario(tmp_path, {field: number})
