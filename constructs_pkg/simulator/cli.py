"""``playaudio-sim``: play a call against the synthesized app, before anything is deployed.

Only argparse is imported at start, so ``playaudio-sim --help`` is instant;
the engine (and, for the picture, Pillow) is imported when a call is made.
Nothing here imports the CDK: the cloud assembly is read as JSON.

Exit status (also in ``--help``): 0 the handler hung up and nothing failed on
the way; 1 the handler hung up after an action failed or a response was
rejected; 2 usage error; 3 the SMA ended the call (invocation errors,
timeouts, no invoke permission); 4 the caller hung up (scripted, or after
silence with no action); 5 a limit (1,000 invocations, call length); 6 a
scenario's expectations were not met; 7 cdk.out cannot be used.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

EXIT_SCENARIO_FAILED = 6
EXIT_SETUP_ERROR = 7

_EPILOG = """\
exit status:
  0  the handler hung up, nothing failed on the way
  1  the handler hung up after a failed action or a rejected response
  2  usage error
  3  the SMA ended the call (handler errors or timeouts, then SIP 480; no invoke permission)
  4  the caller hung up (--hangup-at, or silence with no action for --caller-patience)
  5  a limit: 1,000 invocations, or --max-call-seconds
  6  --scenario: the call did not go as the scenario expects
  7  cdk.out cannot be used (not synthesized, no SMA, not a Python handler)

writes to --out (default <cdk-out>/call/): transcript.jsonl (one JSON record per event,
response, action and key press), call.wav (8 kHz mono 16-bit: what the caller hears),
timeline.png (the call on a time axis).

examples:
  playaudio-sim call                                   # inbound call against ./cdk.out
  playaudio-sim call --keys "#@2.5s"                   # press # 2.5 s into the call
  playaudio-sim call --outbound -o other.out --out /tmp/call
  playaudio-sim call --scenario scenarios/happy-path.json
"""


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
        "--hangup-at",
        type=float,
        metavar="SECONDS",
        help="the caller hangs up this many seconds into the call",
    )
    call.add_argument(
        "--caller-patience",
        type=float,
        default=10.0,
        metavar="SECONDS",
        help="with no action running, the caller hangs up after this much silence (default 10)",
    )
    call.add_argument(
        "--max-call-seconds",
        type=float,
        default=600.0,
        metavar="SECONDS",
        help="stop the call at this length (default 600)",
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


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    from .assembly import AssemblyError, load_call_setup
    from .engine import Call, CallOptions, parse_keys, write_outputs
    from .scenario import Scenario, ScenarioError

    try:
        keys = parse_keys(args.keys)
    except ValueError as error:
        parser.error(str(error))
    try:
        setup = load_call_setup(args.cdk_out, stack=args.stack, sma=args.sma)
    except AssemblyError as error:
        print(f"playaudio-sim: {error}", file=sys.stderr)
        return EXIT_SETUP_ERROR
    scenario: Scenario | None = None
    options = CallOptions(
        outbound=args.outbound,
        keys=keys,
        hangup_at_ms=None if args.hangup_at is None else args.hangup_at * 1000,
        caller_patience_ms=args.caller_patience * 1000,
        max_call_ms=args.max_call_seconds * 1000,
    )
    if args.scenario is not None:
        try:
            scenario = Scenario.load(args.scenario)
            options = scenario.options(setup, base=options)
        except ScenarioError as error:
            print(f"playaudio-sim: {error}", file=sys.stderr)
            return EXIT_SETUP_ERROR
    result = Call(setup, options).run()
    out_dir = args.out or args.cdk_out / "call"
    paths = write_outputs(result, out_dir)
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


if __name__ == "__main__":
    raise SystemExit(main())
