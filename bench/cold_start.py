"""1. Handler cold start: a fresh interpreter imports the handler and answers NEW_INBOUND_CALL.

Figure: wall time of that interpreter minus the floor, a fresh interpreter that
runs the same driver (sys.path, the event literal, the context object) without
importing the handler. Reference: the same handler on Powertools' Logger and event
parser (bench/reference_powertools_handler.py), in the same run, alternating.

Four variants, subject and reference alike:
- interpreter: bare (nothing imported but what Python imports at start-up), or
  with ``json`` and ``logging`` imported first, as the Lambda runtime has done by
  the time it imports a handler module (its floor imports them too);
- bytecode: the asset folder as the construct ships it (``.py`` only: Lambda's
  code folder is read-only, so every cold start compiles it), or byte-compiled.
  Installed packages (Powertools, pydantic) keep the bytecode pip wrote.
"""

from __future__ import annotations

import ast
import os
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

from bench.common import (
    POWERTOOLS_PYTHON,
    ROOT,
    RUNTIME_DIR,
    Row,
    Sample,
    Section,
    alternate,
    log,
    measured_run,
    shown,
    verdict_at_least,
    verdict_at_most,
)
from bench.lambda_like import base_python, make_asset
from bench.sma_events import FakeContext, events, handler_environment

TARGET_MS = 15.0
TARGET_RATIO = 5.0
REFERENCE = Path(__file__).with_name("reference_powertools_handler.py")
OURS = "runtime.handler"
THEIRS = "reference_powertools_handler"

_CONTEXT_SOURCE = "class Context:\n" + "".join(
    f"    {name} = {value!r}\n"
    for name, value in vars(FakeContext).items()
    if not name.startswith("_") and not callable(value)
)


def driver(asset: Path, module: str | None, preload: bool, show: bool = False) -> str:
    """The -c program: the floor without ``module``, else import it and handle one event."""
    lines = ["import sys", f"sys.path.insert(0, {str(asset)!r})"]
    if preload:
        lines.append("import json, logging")
    lines.append(f"event = {events()['NEW_INBOUND_CALL']!r}")
    lines.append(_CONTEXT_SOURCE + "context = Context()")
    if module is not None:
        lines.append(f"import {module} as handler_module")
        lines.append("result = handler_module.handler(event, context)")
        if show:
            lines.append("print(repr(result))")
    return "\n".join(lines)


def child_env(folder: Path, extra_prompts: int = 0) -> dict[str, str]:
    """The children's environment: the handler's (its catalog written into ``folder``)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "POWERTOOLS_"))}
    handler = handler_environment(folder, extra_prompts)
    return {**env, **handler, "PYTHONDONTWRITEBYTECODE": "1"}


def run(rounds: int) -> Section:
    section = Section("1. Handler cold start")
    have_reference = POWERTOOLS_PYTHON.exists()
    python = str(POWERTOOLS_PYTHON) if have_reference else base_python()
    with tempfile.TemporaryDirectory(prefix="bench-cold-") as tmp:
        env = child_env(Path(tmp))
        assets = {
            pyc: make_asset(
                Path(tmp) / ("pyc" if pyc else "src"), RUNTIME_DIR, [REFERENCE], python, pyc
            )
            for pyc in (False, True)
        }
        modules = [OURS, THEIRS] if have_reference else [OURS]
        # Correctness first: every variant answers, and the reference answers the same.
        answers = {}
        for pyc, asset in assets.items():
            for module in modules:
                done = subprocess.run(
                    [python, "-c", driver(asset, module, False, show=True)],
                    env=env,
                    capture_output=True,
                    text=True,
                    check=True,
                )
                # The last line: our handler writes its metrics line to stdout first.
                answers[(module, pyc)] = ast.literal_eval(done.stdout.strip().splitlines()[-1])
        first = answers[(OURS, False)]
        assert first["Actions"][0]["Type"] == "PlayAudio", first
        assert all(answer == first for answer in answers.values()), answers

        cases: dict[tuple[str, bool, bool], list[str]] = {}
        for preload in (False, True):
            floor = [python, "-c", driver(assets[False], None, preload)]
            cases[("floor", preload, False)] = floor
            for pyc, asset in assets.items():
                for module in modules:
                    cases[(module, preload, pyc)] = [python, "-c", driver(asset, module, preload)]
        log(f"cold start: {len(cases)} interpreters per round, {rounds} rounds, with {python}")
        cpu: dict[str, list[float]] = {repr(key): [] for key in cases}
        keyed = {repr(key): runner(command, env, cpu[repr(key)]) for key, command in cases.items()}
        results = alternate(keyed, rounds)
    samples = {key: Sample("ms", [v * 1000 for v in results[repr(key)]]) for key in cases}
    cpu_samples = {key: Sample("ms", [v * 1000 for v in cpu[repr(key)][1:]]) for key in cases}

    cpu_notes: list[str] = []
    for preload in (False, True):
        floor = samples[("floor", preload, False)]
        cpu_floor = cpu_samples[("floor", preload, False)].median
        for pyc in (False, True):
            label = (
                f"{'json+logging preloaded' if preload else 'bare interpreter'}, "
                f"{'.pyc present' if pyc else '.py only (as shipped)'}"
            )
            ours = samples[(OURS, preload, pyc)].shifted(floor.median)
            row = Row(section.title, f"over the floor: {label}", ours.text(1))
            row.target = f"<= {TARGET_MS:g} ms; >= {TARGET_RATIO:g}x less"
            verdicts = [verdict_at_most(ours.median, TARGET_MS, "ms")]
            cpu_note = (
                f"{label}: ours {cpu_samples[(OURS, preload, pyc)].shifted(cpu_floor).text(1)}"
            )
            if not have_reference:
                row.reference = "not measured: make .tools/powertools/.installed"
            else:
                theirs = samples[(THEIRS, preload, pyc)].shifted(floor.median)
                row.reference = f"Powertools {theirs.text(0)}"
                if ours.median > 0:
                    ratio = theirs.median / ours.median
                    row.ratio = f"Powertools/ours {ratio:.1f}x"
                    verdicts.append(verdict_at_least(ratio, TARGET_RATIO, "x"))
                else:
                    row.ratio = "n/a: ours is within the floor's noise"
                theirs_cpu = cpu_samples[(THEIRS, preload, pyc)].shifted(cpu_floor)
                cpu_note += f", Powertools {theirs_cpu.text(0)}"
            row.verdict = "; ".join(verdicts)
            section.rows.append(row)
            cpu_notes.append(cpu_note)
    section.notes += [
        f"Interpreter: {shown(python)} (one interpreter for the floor, ours and the reference; "
        f"{rounds} alternating rounds, order rotated each round, one warm-up round).",
        "CPU time (user+system of the child, over the CPU floor; it hardly moves when other "
        "processes compete for the cores, so it cross-checks the wall figures): "
        + "; ".join(cpu_notes)
        + ".",
        "Floors (a fresh interpreter running the driver without the import): bare "
        f"{samples[('floor', False, False)].text(1)}, json+logging preloaded "
        f"{samples[('floor', True, False)].text(1)}.",
        "The issue's target (a fresh interpreter that imports the handler module) is the "
        "'bare interpreter, .py only' row: that is what the construct ships (sources only; "
        "a .pyc would have to match Lambda's Python 3.14 exactly, and synth runs on another "
        "Python). In Lambda itself the runtime has already imported json and logging, so the "
        "'preloaded' rows are what a real cold start adds to the runtime's own start.",
    ]
    return section


def runner(command: list[str], env: dict[str, str], cpu: list[float]) -> Callable[[], float]:
    """A case for alternate(): returns wall seconds, appends CPU seconds to ``cpu``."""

    def once() -> float:
        wall, used = measured_run(command, env=env, cwd=ROOT)
        cpu.append(used)
        return wall

    return once
