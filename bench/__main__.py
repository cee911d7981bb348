"""`python -m bench`: run the benchmarks, print the table, write BENCHMARKS.md."""

from __future__ import annotations

import argparse
import os
import sys
import time
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from bench import report
from bench.common import ROOT, Row, Section, log, machine

NAMES = ("cold", "event", "wav", "normalize", "synth", "tests", "catalog", "rehearsal")


def plan(quick: bool) -> dict[str, Callable[[], Section]]:
    """Each benchmark with its repeat counts: the full run fits in about 20 minutes here."""
    from bench import (
        catalog,
        cold_start,
        normalize_throughput,
        per_event,
        rehearsal,
        synth,
        test_suite,
        wav_check,
    )

    if quick:
        return {
            "cold": lambda: cold_start.run(rounds=3),
            "event": lambda: per_event.run(rounds=3, batch=200),
            "wav": lambda: wav_check.run(rounds=3, calls=50),
            "normalize": lambda: normalize_throughput.run(rounds=2, files=2, seconds=5),
            "synth": lambda: synth.run(1, {10: 1, 100: 1, 1000: 1}, 1),
            "tests": lambda: test_suite.run(rounds=1),
            "catalog": lambda: catalog.run({10: 1, 1000: 1, 5000: 1}, 3, 2, 2, 200),
            "rehearsal": lambda: rehearsal.run(count=1000, rounds=1),
        }
    return {
        "cold": lambda: cold_start.run(rounds=30),
        "event": lambda: per_event.run(rounds=15, batch=1000),
        "wav": lambda: wav_check.run(rounds=9, calls=200),
        "normalize": lambda: normalize_throughput.run(rounds=7, files=4, seconds=30),
        "synth": lambda: synth.run(5, {10: 3, 100: 3, 1000: 2}, 3),
        "tests": lambda: test_suite.run(rounds=3),
        "catalog": lambda: catalog.run({10: 3, 1000: 3, 5000: 2}, 30, 8, 3, 1000),
        "rehearsal": lambda: rehearsal.run(count=5000, rounds=1),
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "--only",
        default=",".join(NAMES),
        help=f"comma-separated benchmarks to run, of: {', '.join(NAMES)} (default: all)",
    )
    parser.add_argument(
        "--quick", action="store_true", help="a few repeats only: a smoke run, not figures"
    )
    parser.add_argument(
        "--output",
        default=str(ROOT / "BENCHMARKS.md"),
        help="where to write the report ('-' for nowhere; default: BENCHMARKS.md)",
    )
    arguments = parser.parse_args(argv)
    chosen = [name.strip() for name in arguments.only.split(",") if name.strip()]
    unknown = sorted(set(chosen) - set(NAMES))
    if unknown:
        parser.error(f"unknown benchmarks {unknown}; choose from {', '.join(NAMES)}")

    os.chdir(ROOT)
    started = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    about = machine()
    log(f"{about['cores']} cores, {about['python']}, Node {about['node']}, load {about['load']}")
    start = time.perf_counter()
    sections: list[Section] = []
    crashed = False
    for name, benchmark in plan(arguments.quick).items():
        if name not in chosen:
            continue
        log(f"--- {name}")
        began = time.perf_counter()
        try:
            section = benchmark()
        except Exception as error:  # a crash is reported, and fails the run at the end
            crashed = True
            traceback.print_exc()
            section = Section(name, [Row(name, name, f"FAILED: {error}".splitlines()[0])])
        section.seconds = time.perf_counter() - began
        sections.append(section)
        log(f"{name}: {section.seconds:.0f} s")
    seconds = time.perf_counter() - start
    load_after = machine()["load"]

    sections.sort(key=lambda section: section.title)  # run cheapest first, report by number
    print(report.table(report.rows_of(sections)))
    print(f"\nTotal: {seconds / 60:.1f} minutes.")
    if arguments.output != "-":
        flags = " ".join(argv)
        text = report.markdown(sections, about, load_after, seconds, started, flags)
        Path(arguments.output).write_text(text)
        log(f"wrote {arguments.output}")
    return 1 if crashed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
