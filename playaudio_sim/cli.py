"""``playaudio-sim``: play a call against the synthesized app, before anything is deployed.

Only argparse (and :mod:`.readings`, for ``--reading``'s help) is imported at
start, so ``playaudio-sim --help`` is instant;
the engine (and, for the picture, Pillow) is imported when a call is made.
Nothing here imports the CDK: the cloud assembly is read as JSON.

Exit status (also in ``--help``): 0 the handler hung up and nothing failed on
the way; 1 the handler hung up after an action failed or a response was
rejected; 2 usage error (a bad option, or a --scenario file that cannot be
used); 3 the SMA ended the call (invocation errors, timeouts, no invoke
permission, an inbound call answered with no actions); 4 the caller hung up
(scripted, or after silence with no action); 5 a limit (1,000 invocations,
call length); 6 a scenario's expectations were not met; 7 cdk.out cannot be
used (missing, not synthesized, a manifest or template that is not what
``cdk synth`` writes, a prompt asset a deployment cannot extract, no SMA, not a
Python handler, a layer that is not in the assembly or cannot be merged); 8
the outputs cannot be written (--out is a file or cannot be created or
written); 70 an internal error (a bug in the simulator, printed with its
traceback); 130 interrupted (Ctrl-C).

A cdk.out, scenario file or --out folder that cannot be used is one line on
stderr, ``playaudio-sim: `` then the file, what was found there and what was
expected, and no call is played (argparse's own usage errors print the usage
first). The shapes are checked where each file is read: call_setup.py for
manifest.json, the templates and the asset manifests (buckets.py, once
intrinsics are resolved, for the prompt deployments, bucket policies and
prompt assets), scenario.py for scenarios, through jsonfile.read_json.
"""

from __future__ import annotations

import argparse
import math
import sys
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path

from .readings import CONFLICTS

EXIT_USAGE = 2
EXIT_SCENARIO_FAILED = 6
EXIT_SETUP_ERROR = 7
EXIT_OUTPUT_ERROR = 8
EXIT_INTERNAL_ERROR = 70  # sysexits.h EX_SOFTWARE: never mistaken for a call's outcome
EXIT_INTERRUPTED = 130
OUTPUT_FILES = ("transcript.jsonl", "call.wav", "timeline.png")

_EPILOG = """\
exit status:
  0  the handler hung up, nothing failed on the way
  1  the handler hung up after a failed action or a rejected response
  2  usage error: a bad option, or a --scenario file that cannot be used
  3  the SMA ended the call (handler errors or timeouts, then SIP 480; no invoke permission;
     NEW_INBOUND_CALL answered with no actions, unanswered after 30 s)
  4  the caller hung up (--hangup-at, or silence with no action for --caller-patience)
  5  a limit: 1,000 invocations, or --max-call-seconds
  6  --scenario: the call did not go as the scenario expects
  7  cdk.out cannot be used (missing, not synthesized, a manifest or template that is not
     what `cdk synth` writes, a prompt asset a deployment cannot extract, no SMA, not a
     Python handler, a layer that is not in the assembly or cannot be merged)
  8  the outputs cannot be written (--out is a file, or cannot be created or written)
 70  internal error: a bug in the simulator (printed with its traceback)
130  interrupted

writes to --out (default <cdk-out>/call/): transcript.jsonl (one JSON record per event,
response, action and key press), call.wav (8 kHz mono 16-bit: what the caller hears),
timeline.png (the call on a time axis).

examples:
  playaudio-sim call                                   # inbound call against ./cdk.out
  playaudio-sim call --keys "#@2.5s"                   # press # 2.5 s into the call
  playaudio-sim call --outbound -o other.out --out /tmp/call
  playaudio-sim call --sma-number +442071838750        # the caller dials this number
  playaudio-sim call --scenario scenarios/happy-path.json
  playaudio-sim call --reading emptyActions=keep      # the other reading of a conflict
  playaudio-sim call --update "2s:prompt=goodbye"     # CALL_UPDATE_REQUESTED 2 s in
"""


def _readings_help() -> str:
    """``--reading``'s help, from :data:`.readings.CONFLICTS`: each name and its choices."""
    choices = ", ".join(f"{name}={'|'.join(c.choices)}" for name, c in CONFLICTS.items())
    return (
        "where the guide's pages conflict, run the call under this reading (repeatable; a "
        f"scenario's readings win): {choices}; the first of each is the default"
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="playaudio-sim",
        description="A local Amazon Chime SDK SIP media application call simulator: plays a "
        "call against the Lambda handler of a synthesized CDK app (cdk.out), as the SMA would.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    call = commands.add_parser(
        "call",
        help="play one call against the synthesized SMA",
        description="Play one call against the SMA in cdk.out and write its transcript, "
        "call.wav and timeline.png.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    call.add_argument(
        "-o",
        "--cdk-out",
        type=Path,
        default=Path("cdk.out"),
        metavar="DIR",
        help="the cloud assembly `cdk synth` wrote (default: cdk.out)",
    )
    call.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help="where transcript.jsonl, call.wav and timeline.png go (default: <cdk-out>/call)",
    )
    call.add_argument(
        "--keys",
        default="",
        metavar="KEYS",
        help='scripted key presses, "DIGIT@TIME,...": e.g. "1@2.5s,#@4s" (also ms)',
    )
    call.add_argument(
        "--outbound",
        action="store_true",
        help="an outbound call: NEW_OUTBOUND_CALL, RINGING, then CALL_ANSWERED",
    )
    call.add_argument(
        "--caller-number",
        type=_phone_number("the caller number"),
        metavar="E164",
        help="the caller's number, e.g. +14155550123: From of an inbound call, To of an "
        "outbound one (default +12065550199; a scenario's call.callerNumber wins)",
    )
    call.add_argument(
        "--sma-number",
        type=_phone_number("the SMA number"),
        metavar="E164",
        help="the SMA's number, one of yours the caller dials: To of an inbound call, From of "
        "an outbound one (default +12065550100; a scenario's call.smaNumber wins)",
    )
    call.add_argument(
        "--hangup-at",
        type=_seconds(allow_zero=True),
        metavar="SECONDS",
        help="the caller hangs up this many seconds into the call",
    )
    call.add_argument(
        "--caller-patience",
        type=_seconds(allow_zero=False),
        default=10.0,
        metavar="SECONDS",
        help="with no action running, the caller hangs up after this much silence (default 10)",
    )
    call.add_argument(
        "--max-call-seconds",
        type=_seconds(allow_zero=False),
        default=600.0,
        metavar="SECONDS",
        help="stop the call at this length (default 600)",
    )
    call.add_argument(
        "--update",
        action="append",
        default=[],
        metavar="TIME:NAME=VALUE,...",
        help="UpdateSipMediaApplicationCall at TIME with these Arguments (repeatable): the "
        'handler gets CALL_UPDATE_REQUESTED, e.g. "2s:prompt=goodbye"',
    )
    call.add_argument(
        "--reading",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help=_readings_help(),
    )
    call.add_argument("--stack", metavar="NAME", help="the stack, if cdk.out has several SMAs")
    call.add_argument("--sma", metavar="LOGICAL_ID", help="the SMA, if a stack has several")
    call.add_argument(
        "--scenario",
        type=Path,
        metavar="FILE",
        help="run a scenario file (JSON: keys, environment overrides, expected prompts and "
        "end); exit 0 when the call goes as expected, 6 when not",
    )
    call.add_argument("-q", "--quiet", action="store_true", help="print only the outcome")
    return parser


def _seconds(*, allow_zero: bool) -> Callable[[str], float]:
    """An argparse type: a finite number of seconds, > 0 (or >= 0)."""
    expected = "0 or more" if allow_zero else "more than 0"

    def seconds(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not math.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
            raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds, {expected}")
        return value

    return seconds


def _phone_number(what: str) -> Callable[[str], str]:
    """An argparse type: an E.164 number (call_options' rule, imported only when used)."""

    def phone_number(text: str) -> str:
        from .call_options import check_phone_number

        try:
            return check_phone_number(text, what)
        except ValueError as error:
            raise argparse.ArgumentTypeError(str(error)) from None

    return phone_number


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return _call(parser, args)
    except KeyboardInterrupt:
        print("playaudio-sim: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception:
        # Last resort: every input and output problem has its own message above. This is a
        # bug, so the traceback is the report; the status is not a call outcome (1).
        traceback.print_exc()
        print(
            f"playaudio-sim: internal error (a bug in the simulator, exit {EXIT_INTERNAL_ERROR})",
            file=sys.stderr,
        )
        return EXIT_INTERNAL_ERROR


def _fail(message: str, status: int) -> int:
    print(f"playaudio-sim: {message}", file=sys.stderr)
    return status


def _call(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    from .call_setup import load_call_setup
    from .cloud_assembly import AssemblyError
    from .engine import Call, CallOptions, parse_keys, parse_update, write_outputs
    from .readings import Readings
    from .scenario import Scenario, ScenarioError

    try:
        keys = parse_keys(args.keys)
        updates = [parse_update(text) for text in args.update]
        readings = Readings.from_pairs(args.reading, "--reading")
    except ValueError as error:
        parser.error(str(error))
    scenario: Scenario | None = None
    if args.scenario is not None:
        try:
            scenario = Scenario.load(args.scenario)
        except ScenarioError as error:
            return _fail(str(error), EXIT_USAGE)
    try:
        setup = load_call_setup(args.cdk_out, stack=args.stack, sma=args.sma)
    except AssemblyError as error:
        return _fail(str(error), EXIT_SETUP_ERROR)
    numbers = {
        name: value
        for name, value in (("caller_number", args.caller_number), ("sma_number", args.sma_number))
        if value is not None
    }
    options = CallOptions(
        outbound=args.outbound,
        keys=keys,
        **numbers,
        hangup_at_ms=None if args.hangup_at is None else args.hangup_at * 1000,
        caller_patience_ms=args.caller_patience * 1000,
        max_call_ms=args.max_call_seconds * 1000,
        readings=readings,
        updates=updates,
    )
    if scenario is not None:
        try:
            options = scenario.options(setup, base=options)
        except ScenarioError as error:
            return _fail(str(error), EXIT_USAGE)
    out_dir: Path = args.out or args.cdk_out / "call"
    problem = prepare_out_dir(out_dir)
    if problem is not None:
        return _fail(problem, EXIT_OUTPUT_ERROR)
    try:
        call = Call(setup, options)
    except AssemblyError as error:  # a layer that cannot be merged into the simulated /opt
        return _fail(str(error), EXIT_SETUP_ERROR)
    result = call.run()
    try:
        paths = write_outputs(result, out_dir)
    except OSError as error:
        return _fail(
            f"{out_dir}: cannot write the outputs ({_os_error(error)}); expected a folder "
            "the simulator can write (--out)",
            EXIT_OUTPUT_ERROR,
        )
    if not args.quiet:
        print("\n".join(result.transcript.summary_lines()))
        picture = f", {paths['timeline']}" if "timeline" in paths else " (no timeline.png)"
        print(
            f"wrote {paths['transcript']}, {paths['audio']} "
            f"({result.duration_ms / 1000:.3f} s of audio){picture}"
        )
    print(f"{result.outcome.label}: {result.reason} (exit {result.exit_code})")
    if scenario is not None:
        problems = scenario.check(result)
        if problems:
            print(f"scenario {scenario.name!r} FAILED:", file=sys.stderr)
            for problem in problems:
                print(f"  - {problem}", file=sys.stderr)
            return EXIT_SCENARIO_FAILED
        print(f"scenario {scenario.name!r} passed")
        return 0
    return result.exit_code


def prepare_out_dir(out_dir: Path) -> str | None:
    """Make ``out_dir`` for the outputs before the call; None, or why it cannot be used."""
    expected = "expected a folder for transcript.jsonl, call.wav and timeline.png (--out)"
    try:
        if out_dir.exists() and not out_dir.is_dir():
            return f"{out_dir} is a file; {expected}"
        blocking = next((p for p in reversed(out_dir.parents) if p.is_file()), None)
        if blocking is not None:
            return f"{out_dir} cannot be created: {blocking} is a file; {expected}"
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        return f"{out_dir} cannot be created ({_os_error(error)}); {expected}"
    for name in OUTPUT_FILES:
        if (out_dir / name).is_dir():
            return f"{out_dir / name} is a folder; expected nothing there, or a file to replace"
    return None


def _os_error(error: OSError) -> str:
    """An OSError as a message shows it: the reason, and the file when it names one."""
    reason = error.strerror or str(error)
    return f"{reason}: {error.filename}" if error.filename else reason


if __name__ == "__main__":
    raise SystemExit(main())
