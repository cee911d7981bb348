"""The library as a user installs it: into a fresh venv outside the repo, with none of the
dev dependencies, then used through the pinned CDK CLI and `playaudio-sim`.

- ``oldest``: the wheel `make dist` builds, with its ``synth`` extra (cdk-nag, Node 24), on
  the oldest aws-cdk-lib pyproject.toml allows (requirements-oldest.lock). The sample app
  synthesizes with every compliance pack; examples/play_by_name synthesizes and a simulated
  call hears its prompts. The ``normalize`` and ``simulator`` extras are missing: each
  says which extra to install (the ``pip install`` the normalize error names then works),
  and nothing else breaks.
- ``from_git``: the package installed from a git URL with those two extras, on the pinned
  newest aws-cdk-lib (requirements.lock): prompts are normalized and the timeline drawn.
  pip clones the repo's committed HEAD, not the working tree.

The README's "Install" section shows these commands.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tests.app.test_compliance import PACKS
from tests.audio import wavgen
from tests.cli import CDK, ROOT, keys_heard, offline_environment

ENGLISH_CALL = [
    "prompts/en-US/welcome.wav",
    "prompts/en-US/menu/main.wav",
    "prompts/en-US/goodbye.wav",
]


def pins(lock: Path) -> dict[str, str]:
    """``name==version`` lines of a lock file, by normalized package name."""
    found = {}
    for line in lock.read_text().splitlines():
        if "==" in line and not line.startswith("#"):
            name = line.split("==")[0].strip()
            found[re.sub(r"[-_.]+", "-", name).lower()] = line.strip()
    return found


def constraints(tmp: Path, *, oldest: bool) -> Path:
    """requirements.lock, with requirements-oldest.lock's pins over it when ``oldest``."""
    chosen = pins(ROOT / "requirements.lock")
    if oldest:
        chosen |= pins(ROOT / "requirements-oldest.lock")
    path = tmp / "constraints.txt"
    path.write_text("\n".join(sorted(chosen.values())) + "\n")
    return path


def user_environment(venv: Path, home: Path) -> dict[str, str]:
    """The user's shell with their venv active: nothing of this repo on PATH or PYTHONPATH,
    no AWS credentials (offline), no CDK telemetry."""
    inherited = os.environ.get("PATH", "").split(os.pathsep)
    outside = [p for p in inherited if p and not Path(p).is_relative_to(ROOT)]
    env = offline_environment(
        home, [str(venv / "bin"), *outside], drop=("CDK_", "PYTHON", "VIRTUAL_ENV")
    )
    return env | {"VIRTUAL_ENV": str(venv)}


class UserVenv:
    """A venv in a temporary folder outside the repo, and commands run as its user."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.path = home / "venv"
        subprocess.run([sys.executable, "-m", "venv", str(self.path)], check=True, timeout=300)
        self.env = user_environment(self.path, home)
        self.as_installed: dict[str, str] = {}

    def run(
        self, *command: str | Path, cwd: Path | None = None
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(part) for part in command],
            cwd=cwd or self.home,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )

    def pip_install(self, constraint_file: Path, *requirements: str) -> None:
        done = self.run(
            "python", "-m", "pip", "install", "-q", "-c", constraint_file, *requirements
        )
        assert done.returncode == 0, done.stderr[-4000:]

    def installed(self) -> dict[str, str]:
        """The venv's packages and versions, by lower-case name."""
        done = self.run("python", "-m", "pip", "list", "--format=json")
        return {p["name"].lower(): p["version"] for p in json.loads(done.stdout)}

    def synth(self, app_dir: Path, *context: str) -> subprocess.CompletedProcess[str]:
        """`cdk synth` in ``app_dir`` through the pinned CLI, the app as its cdk.json says."""
        flags = [part for item in context for part in ("-c", item)]
        return self.run(
            CDK, "synth", "--quiet", "--no-notices", "-o", "cdk.out", *flags, cwd=app_dir
        )

    def call(self, cdk_out: Path, *options: str) -> tuple[subprocess.CompletedProcess[str], Path]:
        """`playaudio-sim call` on ``cdk_out``; the result and the folder of its outputs."""
        out = cdk_out / "call"
        return self.run("playaudio-sim", "call", "--cdk-out", cdk_out, "--out", out, *options), out


def copy_sample_app(destination: Path) -> Path:
    """app.py, its prompts and cdk.json's context, as a user who copies the sample app has
    them: cdk.json runs `python3 app.py` (the active venv's), as `cdk init` writes it."""
    destination.mkdir()
    shutil.copy2(ROOT / "app.py", destination / "app.py")
    shutil.copytree(ROOT / "assets", destination / "assets")
    cdk_json = json.loads((ROOT / "cdk.json").read_text()) | {"app": "python3 app.py"}
    (destination / "cdk.json").write_text(json.dumps(cdk_json, indent=2))
    return destination


@pytest.fixture(scope="module")
def oldest(tmp_path_factory: pytest.TempPathFactory, built_dist: Path) -> UserVenv:
    venv = UserVenv(tmp_path_factory.mktemp("oldest"))
    (wheel,) = built_dist.glob("chime_playaudio_constructs-*.whl")
    venv.pip_install(constraints(venv.home, oldest=True), f"{wheel}[synth]")
    # As installed, before any test adds an extra to it.
    venv.as_installed = venv.installed()
    return venv


@pytest.fixture(scope="module")
def from_git(tmp_path_factory: pytest.TempPathFactory) -> UserVenv:
    venv = UserVenv(tmp_path_factory.mktemp("from-git"))
    # `localhost`: pip 23 (Python 3.11's) refuses a URL without a host, file:/// included.
    url = f"chime-playaudio-constructs[normalize,simulator,synth] @ git+file://localhost{ROOT}"
    venv.pip_install(constraints(venv.home, oldest=False), url)
    return venv


def test_the_oldest_pins_are_pyprojects_floor() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    (requirement,) = [
        r for r in pyproject["project"]["dependencies"] if r.startswith("aws-cdk-lib")
    ]
    floor = re.search(r">=([\d.]+)", requirement)
    assert floor is not None, requirement
    oldest_pin = pins(ROOT / "requirements-oldest.lock")["aws-cdk-lib"]
    assert oldest_pin == f"aws-cdk-lib=={floor.group(1)}.0"


def test_the_installed_wheel_has_no_dev_dependencies_and_the_oldest_cdk(oldest: UserVenv) -> None:
    installed = oldest.as_installed
    assert installed["aws-cdk-lib"] == "2.272.0"
    assert installed["chime-playaudio-constructs"] == "0.1.0"
    for dev_only in ("pytest", "moto", "boto3", "numpy", "pillow", "cfn-lint"):
        assert dev_only not in installed, dev_only
    version = oldest.run("python", "-c", "import constructs_pkg; print(constructs_pkg.__version__)")
    assert version.stdout.strip() == "0.1.0", version.stderr


def test_the_constructs_never_import_cdk_nag(oldest: UserVenv) -> None:
    """The synth extra's cdk-nag is for the packs a user chooses to run, not a dependency."""
    script = (
        "import sys, constructs_pkg\n"
        "for name in constructs_pkg.__all__: getattr(constructs_pkg, name)\n"
        "import constructs_pkg.runtime.handler, playaudio_sim.cli\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'cdk_nag'))\n"
    )
    done = oldest.run("python", "-c", script)
    assert done.returncode == 0, done.stderr[-4000:]
    assert done.stdout.strip() == "[]"
    assert "cdk-nag" in oldest.as_installed  # installed, so its absence above means something


def test_the_sample_app_passes_every_pack_on_the_oldest_cdk(
    oldest: UserVenv, tmp_path: Path
) -> None:
    app = copy_sample_app(tmp_path / "sample")
    before = {p: p.read_bytes() for p in app.rglob("*") if p.is_file()}
    done = oldest.synth(app)
    assert done.returncode == 0, done.stderr[-4000:]
    template = json.loads((app / "cdk.out" / "PlayAudioStack.template.json").read_text())
    types = {resource["Type"] for resource in template["Resources"].values()}
    assert {"AWS::Chime::SipMediaApplication", "AWS::S3::BucketPolicy"} <= types
    report = json.loads((app / "cdk.out" / "validation-report.json").read_text())
    outcome = [(r["pluginName"], r["conclusion"], r["violations"]) for r in report["pluginReports"]]
    assert outcome == [(pack, "success", []) for pack in PACKS]
    assert {p: p.read_bytes() for p in before} == before


def test_an_example_synthesizes_and_a_simulated_call_hears_it_without_the_simulator_extra(
    oldest: UserVenv, tmp_path: Path
) -> None:
    example = shutil.copytree(ROOT / "examples" / "play_by_name", tmp_path / "play_by_name")
    done = oldest.synth(example)
    assert done.returncode == 0, done.stderr[-4000:]
    call, out = oldest.call(example / "cdk.out")
    assert call.returncode == 0, call.stdout + call.stderr
    assert keys_heard(out) == ENGLISH_CALL
    assert not (out / "timeline.png").exists()
    assert "install the 'simulator' extra (Pillow)" in call.stdout


def test_normalizing_without_its_extra_names_the_install_command_that_fixes_it(
    oldest: UserVenv, tmp_path: Path
) -> None:
    app = copy_sample_app(tmp_path / "sample")
    done = oldest.synth(app, "normalizePrompts=true")
    assert done.returncode != 0
    assert "normalize=True needs numpy, soundfile and soxr" in done.stderr
    assert not (app / "cdk.out" / "PlayAudioStack.template.json").exists()
    advice = re.search(r"pip install '([^']+)'", done.stderr)
    assert advice is not None, done.stderr
    assert advice.group(1) == "chime-playaudio-constructs[normalize]"
    # The command the message names, run as the user would, is all it takes.
    oldest.pip_install(constraints(oldest.home, oldest=True), advice.group(1))
    again = oldest.synth(app, "normalizePrompts=true")
    assert again.returncode == 0, again.stderr[-4000:]


def test_from_git_with_both_extras_prompts_are_normalized_and_the_timeline_drawn(
    from_git: UserVenv, tmp_path: Path
) -> None:
    app = copy_sample_app(tmp_path / "sample")
    folder = tmp_path / "studio"
    for name in ("welcome", "error"):
        wavgen.write(folder / f"{name}.wav", wavgen.pcm(rate=44100, channels=2, frames=4410))
    done = from_git.synth(app, "normalizePrompts=true", f"promptsDir={folder}")
    assert done.returncode == 0, done.stderr[-4000:]
    (catalog,) = (app / "cdk.out").glob("asset.*/playaudio/catalogs/PromptFiles-*.json")
    prompts = json.loads(catalog.read_text())["prompts"]
    assert {info.split(",", 1)[1] for info in prompts.values()} == {"8000,1"}
    call, out = from_git.call(app / "cdk.out")
    assert call.returncode == 0, call.stdout + call.stderr
    assert keys_heard(out) == ["prompts/welcome.wav"]
    assert (out / "timeline.png").read_bytes().startswith(b"\x89PNG")
