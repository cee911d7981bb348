"""The real CDK CLI, as a user runs it, for tests that synthesize apps through it.

Offline: no AWS credentials, config or account reach the CLI or the app, Node is the
venv's, telemetry is off.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CDK = ROOT / "node_modules" / ".bin" / "cdk"


def offline_environment(
    tmp_path: Path, path: list[str], drop: tuple[str, ...] = ()
) -> dict[str, str]:
    """This process's environment with ``path`` as PATH and no AWS credentials, config or
    account (offline proof), no CDK telemetry, and no variable starting with ``drop``."""
    dropped = ("AWS_", "CDK_DEFAULT_", "CDK_CONTEXT", *drop)
    env = {key: value for key, value in os.environ.items() if not key.startswith(dropped)}
    env.update(
        PATH=os.pathsep.join(path),
        AWS_CONFIG_FILE=str(tmp_path / "no-aws-config"),
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "no-aws-credentials"),
        AWS_EC2_METADATA_DISABLED="true",
        CDK_DISABLE_CLI_TELEMETRY="true",
    )
    return env


def cli_environment(tmp_path: Path) -> dict[str, str]:
    """Offline, with this repo's venv (its Node 24) and CLI first on PATH."""
    path = [str(ROOT / ".venv" / "bin"), str(CDK.parent), os.environ.get("PATH", "")]
    return offline_environment(tmp_path, path)


def cli_synth(
    app: str | None, cwd: Path, outdir: Path, context: dict[str, str], tmp_path: Path
) -> subprocess.CompletedProcess[str]:
    """``cdk synth`` in ``cwd`` with ``-c key=value`` for each of ``context``; ``app`` None
    runs the app of ``cwd``'s cdk.json, as a user's ``cdk synth`` does."""
    flags = [part for key, value in context.items() for part in ("-c", f"{key}={value}")]
    app_flags = [] if app is None else ["--app", app]
    return subprocess.run(
        [str(CDK), "synth", *app_flags, "-o", str(outdir), "--quiet", "--no-notices", *flags],
        cwd=cwd,
        env=cli_environment(tmp_path),
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )


def keys_heard(call_dir: Path) -> list[str]:
    """The prompt keys a simulated call played, in order, from the transcript.jsonl that
    ``playaudio-sim call --out call_dir`` wrote."""
    lines = (call_dir / "transcript.jsonl").read_text().splitlines()
    records = [json.loads(line) for line in lines]
    return [record["key"] for record in records if record["kind"] == "play"]
