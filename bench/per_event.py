"""2. Handler per-event latency, warm: four events, logging and metrics lines included.

One child process (the same interpreter as the cold-start benchmark) imports the
handler from a Lambda-like asset folder, installs a stand-in for the Lambda
runtime's JSON log handler on the root logger (writing to /dev/null; so does
``sys.stdout``, where the handler writes its metrics lines), then, for
each event, alternates batches of calls to:

- ours: ``runtime.handler.handler(event, context)``;
- the floor: a bare function returning the same response as a dict literal;
- Powertools (when installed): the reference handler, its Logger on /dev/null too.

Each figure is the median (min, max) over the batches of the mean time per call.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.common import POWERTOOLS_PYTHON, ROOT, RUNTIME_DIR, Row, Sample, Section, log, shown
from bench.lambda_like import base_python, install_lambda_logging, make_asset
from bench.sma_events import FakeContext, events, handler_environment, update_event

TARGET_US = 30.0
REFERENCE = Path(__file__).with_name("reference_powertools_handler.py")


def run(rounds: int, batch: int) -> Section:
    section = Section("2. Handler per-event latency, warm")
    have_reference = POWERTOOLS_PYTHON.exists()
    python = str(POWERTOOLS_PYTHON) if have_reference else base_python()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "POWERTOOLS_"))}
    with tempfile.TemporaryDirectory(prefix="bench-event-") as tmp:
        env.update(handler_environment(Path(tmp)), PYTHONDONTWRITEBYTECODE="1")
        asset = make_asset(Path(tmp) / "asset", RUNTIME_DIR, [REFERENCE], python, pyc=True)
        log(f"per-event: {rounds} rounds of {batch} calls per event and handler")
        options = ["--reference"] if have_reference else []
        results = run_child(python, asset, rounds, batch, env, options)
    quiet_notes: list[str] = []
    for name, cases in results.items():
        ours = Sample("us", cases["ours"])
        floor = Sample("us", cases["floor"])
        row = Row(
            section.title,
            name,
            ours.text(1),
            reference=f"floor {floor.text(2)}",
            ratio=f"ours/floor {ours.median / floor.median:.0f}x",
            target=f"<= {TARGET_US:g} us",
            verdict=_verdict(ours.median),
        )
        quiet = Sample("us", cases["ours, logger disabled"])
        quiet_notes.append(f"{name} {quiet.text(1)}")
        if "powertools" in cases:
            theirs = Sample("us", cases["powertools"])
            row.reference += f"; Powertools {theirs.text(0)}"
            row.ratio += f"; Powertools/ours {theirs.median / ours.median:.1f}x"
        section.rows.append(row)
    section.notes += [
        f"Interpreter: {shown(python)}; the handler's modules byte-compiled (warm: a warm Lambda "
        f"has long compiled them). {rounds} alternating rounds of {batch} calls per event "
        "and handler, one warm-up round; the figure is the mean per call of each batch.",
        "Logging included: our handler logs one structured ERROR line on ACTION_FAILED "
        "(and nothing on the other three), through a root handler that does the work of "
        "the Lambda runtime's JSON formatter (bench/lambda_like.py) into /dev/null; "
        "Powertools' Logger writes its own JSON to /dev/null.",
        "Metrics included: our handler writes one CloudWatch EMF line to stdout, flushed, on "
        "NEW_INBOUND_CALL (CallsStarted) and ACTION_FAILED (ActionFailures and "
        "FallbackPromptsPlayed), nothing on the other two; stdout is /dev/null here.",
        "Ours with the handler's logger disabled (measured in the same rounds; the "
        "difference is what the log line costs): " + "; ".join(quiet_notes) + ".",
    ]
    return section


def run_child(
    python: str, asset: Path, rounds: int, batch: int, env: dict[str, str], options: list[str]
) -> dict[str, dict[str, list[float]]]:
    """One child process's results: event -> case -> the mean microseconds of each batch."""
    done = subprocess.run(
        [python, "-m", "bench.per_event", "--child", str(asset), str(rounds), str(batch), *options],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"per-event child failed:\n{done.stderr[-4000:]}")
    results: dict[str, dict[str, list[float]]] = json.loads(done.stdout)
    return results


def _verdict(median: float) -> str:
    if median <= TARGET_US:
        return f"holds ({TARGET_US - median:.1f} us to spare)"
    return f"MISSES by {median - TARGET_US:.1f} us ({median / TARGET_US:.2f}x the target)"


def _literal_function(value: dict[str, Any]) -> Callable[[object, object], dict[str, Any]]:
    """``def floor(event, context): return <value as a literal>``: builds the dict per call."""
    namespace: dict[str, Any] = {}
    exec(f"def floor(event, context):\n    return {value!r}\n", namespace)
    function: Callable[[object, object], dict[str, Any]] = namespace["floor"]
    return function


def _batch(function: Callable[[object, object], object], event: object, n: int) -> float:
    context = FakeContext()
    start = time.perf_counter_ns()
    for _ in range(n):
        function(event, context)
    return (time.perf_counter_ns() - start) / n / 1000


def child(
    asset: str, rounds: int, batch: int, reference: bool, chosen: list[str] | None = None
) -> None:
    """In the child: import the handlers as Lambda would, time them, print JSON results.

    ``chosen``: the events to time (default: the four of events(); CALL_UPDATE_REQUESTED too).
    """
    out = sys.stdout
    sink = open(os.devnull, "w")  # noqa: SIM115 -- lives as long as the process
    sys.stdout = sink  # Powertools' Logger writes to sys.stdout
    install_lambda_logging(sink)
    sys.path.insert(0, asset)
    from runtime.handler import handler as ours  # type: ignore[import-not-found]

    handlers: dict[str, Callable[[object, object], Any]] = {"ours": ours}
    if reference:
        from reference_powertools_handler import (  # type: ignore[import-not-found]
            handler as theirs,
        )

        handlers["powertools"] = theirs
    from bench.common import alternate

    available = {**events(), "CALL_UPDATE_REQUESTED": update_event()}
    results: dict[str, dict[str, list[float]]] = {}
    for name in chosen or list(events()):
        event = available[name]
        expected = ours(event, FakeContext())
        assert "Actions" in expected, expected
        for other in handlers.values():
            assert other(event, FakeContext()) == expected, (name, other)
        cases = {key: _bound(function, event, batch) for key, function in handlers.items()}
        cases["floor"] = _bound(_literal_function(expected), event, batch)
        cases["ours, logger disabled"] = _without_logging(_bound(ours, event, batch))
        results[name] = alternate(cases, rounds)
    sys.stdout = out
    json.dump(results, out)


def _bound(
    function: Callable[[object, object], object], event: object, n: int
) -> Callable[[], float]:
    return lambda: _batch(function, event, n)


def _without_logging(case: Callable[[], float]) -> Callable[[], float]:
    """The same batch with the handler's logger disabled: what the log line costs, by difference."""
    import logging

    def once() -> float:
        logger = logging.getLogger("runtime.handler")
        logger.disabled = True
        try:
            return case()
        finally:
            logger.disabled = False

    return once


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--child", nargs=3, metavar=("ASSET", "ROUNDS", "BATCH"), required=True)
    parser.add_argument("--reference", action="store_true")
    parser.add_argument("--events", default="", help="comma-separated event names")
    arguments = parser.parse_args()
    asset_dir, rounds_text, batch_text = arguments.child
    names = [name for name in arguments.events.split(",") if name]
    child(asset_dir, int(rounds_text), int(batch_text), arguments.reference, names)
