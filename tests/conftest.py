"""Shared test set-up: the venv's Node for jsii, and app factories with and without
cdk.json's feature flags."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

# jsii starts `node` from PATH: the venv's Node 24, not the machine's end-of-life Node 20.
os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"

# Imported only after the PATH fix above.
import aws_cdk as cdk
import pytest

ROOT = Path(__file__).resolve().parent.parent


def cdk_json_context() -> dict[str, Any]:
    """The context of cdk.json; `cdk.App()` under pytest does not read it by itself."""
    context: dict[str, Any] = json.loads((ROOT / "cdk.json").read_text())["context"]
    return context


@pytest.fixture(scope="session")
def make_app() -> Callable[..., cdk.App]:
    """Apps as the sample app runs: cdk.json's feature flags, plus extra context.

    For tests of app.py. Construct tests use ``make_bare_app``: a user's app has its own
    flags or none, and the constructs must not depend on ours.
    """

    def factory(outdir: str | None = None, **extra_context: Any) -> cdk.App:
        return cdk.App(outdir=outdir, context={**cdk_json_context(), **extra_context})

    return factory


@pytest.fixture(scope="session")
def make_bare_app() -> Callable[..., cdk.App]:
    """Apps as ``cdk.App()`` gives a user without a cdk.json: no feature flags set."""

    def factory(outdir: str | None = None, **extra_context: Any) -> cdk.App:
        return cdk.App(outdir=outdir, context=extra_context)

    return factory


@pytest.fixture(scope="session")
def make_stack(make_bare_app: Callable[..., cdk.App]) -> Callable[..., cdk.Stack]:
    """Factory for an empty stack in us-east-1 with a fixed account, in its own bare App."""

    def factory(stack_id: str = "TestStack") -> cdk.Stack:
        env = cdk.Environment(account="123456789012", region="us-east-1")
        return cdk.Stack(make_bare_app(), stack_id, env=env)

    return factory


@pytest.fixture(scope="session")
def built_dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The folder holding the sdist and the wheel, built as `make dist` builds them: an sdist,
    then the wheel from it in a temporary folder (build's default), so the wheel proves the
    sdist complete and no build/ folder is left in the repo (only setuptools' egg-info
    scratch, which git ignores)."""
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(out), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )
    return out
