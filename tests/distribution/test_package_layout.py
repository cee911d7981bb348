"""Which package may import which: the construct library never imports the call simulator
beside it, and the simulator (test tooling, its own extra) never loads the CDK."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def imported_modules(source: Path) -> set[str]:
    """Every absolute module ``source`` imports, at any depth (function-level imports too)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
    return found


def test_the_construct_library_never_imports_the_simulator() -> None:
    importers = {
        path.relative_to(ROOT).as_posix(): sorted(
            m for m in imported_modules(path) if m.split(".")[0] == "playaudio_sim"
        )
        for path in (ROOT / "constructs_pkg").rglob("*.py")
    }
    assert {path: found for path, found in importers.items() if found} == {}


def test_every_simulator_module_imports_without_the_cdk_or_cdk_nag() -> None:
    modules = sorted(
        f"playaudio_sim.{path.stem}"
        for path in (ROOT / "playaudio_sim").glob("*.py")
        if path.stem not in ("__init__", "_lambda_worker")  # the worker runs as a script
    )
    assert "playaudio_sim.engine" in modules
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('aws_cdk', 'cdk_nag', 'jsii', 'constructs'))\n"
        "assert not loaded, loaded\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=False
    )
    assert completed.returncode == 0, completed.stderr
