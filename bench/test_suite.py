"""6. Test suite: wall time of `make test` when already set up.

Runs ``make -k test`` from the repo root: the same recipes as ``make test``
(ruff, ruff format --check, mypy, pytest) in the same order; ``-k`` only means a
failing step does not hide the time of the others. The exit status is reported.
"""

from __future__ import annotations

import subprocess
import time

from bench.common import ROOT, Row, Sample, Section, log, tool_env

TARGET_S = 120.0


def run(rounds: int) -> Section:
    section = Section("6. Test suite")
    sample = Sample("s")
    failures: list[str] = []
    summary = ""
    for index in range(rounds):
        log(f"make test: run {index + 1} of {rounds}")
        start = time.perf_counter()
        done = subprocess.run(
            ["make", "-k", "test"],
            cwd=ROOT,
            env=tool_env(),
            capture_output=True,
            text=True,
            check=False,
        )
        sample.values.append(time.perf_counter() - start)
        lines = [
            line for line in done.stdout.splitlines() if " passed" in line or " failed" in line
        ]
        summary = lines[-1].strip() if lines else summary
        if done.returncode != 0:
            tail = (done.stdout + done.stderr).strip().splitlines()[-3:]
            failures.append(f"run {index + 1} exited {done.returncode}: {' | '.join(tail)}")
    median = sample.median
    verdict = (
        f"holds ({TARGET_S - median:.0f} s to spare)"
        if median < TARGET_S
        else f"MISSES by {median - TARGET_S:.0f} s"
    )
    if failures:
        verdict += "; the suite FAILED (see notes), so the time may not be a full run"
    section.rows.append(
        Row(
            section.title,
            "make test (ruff, ruff format --check, mypy, pytest), already set up",
            sample.text(1),
            target=f"< {TARGET_S:g} s",
            verdict=verdict,
        )
    )
    section.notes.append(
        f"{rounds} consecutive runs of `make -k test` (no reference); pytest said: "
        f"{summary or 'nothing'}."
    )
    section.notes += failures
    return section
