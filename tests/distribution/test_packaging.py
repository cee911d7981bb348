"""The wheel `make dist` builds: every runtime file (handler code, custom-resource code,
the simulator, py.typed) and nothing else (no tests, benchmarks, sample assets, examples
or the sample app), with the project's metadata."""

from __future__ import annotations

import email
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = (ROOT / "constructs_pkg", ROOT / "playaudio_sim")


@pytest.fixture(scope="module")
def wheel(built_dist: Path) -> zipfile.ZipFile:
    (built,) = built_dist.glob("chime_playaudio_constructs-*.whl")
    return zipfile.ZipFile(built)


def test_the_wheel_holds_every_runtime_file_and_nothing_else(wheel: zipfile.ZipFile) -> None:
    names = set(wheel.namelist())
    sources = {
        path.relative_to(ROOT).as_posix()
        for package in PACKAGES
        for path in package.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }
    package_files = {name for name in names if not name.startswith("chime_playaudio")}
    assert package_files == sources
    assert {"constructs_pkg/py.typed", "constructs_pkg/runtime/handler.py"} <= package_files
    assert {"playaudio_sim/py.typed", "playaudio_sim/_lambda_worker.py"} <= package_files
    assert {
        "constructs_pkg/runtime/catalog.py",
        "constructs_pkg/custom_resources/sip_rule.py",
    } <= names
    for outside in ("tests/", "bench/", "assets/", "examples/", "scripts/", "app.py"):
        assert not any(name.startswith(outside) for name in names), outside


def test_the_wheel_carries_the_projects_metadata(wheel: zipfile.ZipFile) -> None:
    (metadata_name,) = [n for n in wheel.namelist() if n.endswith(".dist-info/METADATA")]
    metadata = email.message_from_bytes(wheel.read(metadata_name))
    assert metadata["Name"] == "chime-playaudio-constructs"
    assert metadata["Requires-Python"] == ">=3.11"
    assert metadata["License-Expression"] == "Apache-2.0"
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in wheel.namelist())
    requires = metadata.get_all("Requires-Dist") or []
    assert any(r.startswith("aws-cdk-lib") for r in requires)
    assert any('extra == "normalize"' in r for r in requires)
    classifiers = metadata.get_all("Classifier") or []
    assert "Framework :: AWS CDK :: 2" in classifiers
    assert "Typing :: Typed" in classifiers
    entry_points = next(n for n in wheel.namelist() if n.endswith("entry_points.txt"))
    assert "playaudio-sim = playaudio_sim.cli:main" in wheel.read(entry_points).decode()
