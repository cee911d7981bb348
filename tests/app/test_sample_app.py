"""The sample app: its stack, its environment, and the nag gate (five packs) on every synth."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import aws_s3 as s3

from app import build_app, stack_environment
from tests.audio import wavgen
from tests.source_tree import left_as_it_was


def test_environment_defaults_to_us_east_1_and_agnostic_account() -> None:
    env = stack_environment({})
    assert env.region == "us-east-1"
    assert env.account is None


def test_environment_follows_cdk_default_variables() -> None:
    env = stack_environment(
        {"CDK_DEFAULT_REGION": "eu-west-2", "CDK_DEFAULT_ACCOUNT": "210987654321"}
    )
    assert (env.region, env.account) == ("eu-west-2", "210987654321")


def test_play_audio_stack_passes_all_five_nag_packs_with_no_finding(
    make_app: Callable[..., cdk.App],
) -> None:
    app = make_app()
    stack = build_app(app, {})
    assembly = app.synth()
    report = json.loads((Path(assembly.directory) / "validation-report.json").read_text())
    assert [
        (nag["pluginName"], nag["conclusion"], nag["violations"]) for nag in report["pluginReports"]
    ] == [
        (name, "success", [])
        for name in (
            "AwsSolutions",
            "HIPAA.Security",
            "NIST.800.53.R5",
            "PCI.DSS.321",
            "Serverless",
        )
    ]
    assert stack.stack_name == "PlayAudioStack"
    assert stack.region == "us-east-1"
    assert cdk.Token.is_unresolved(stack.account)


def test_an_unacknowledged_finding_fails_the_synth(make_app: Callable[..., cdk.App]) -> None:
    app = make_app()
    stack = build_app(app, {})
    s3.Bucket(stack, "Careless")
    with pytest.raises(RuntimeError, match=r"AwsSolutions::AwsSolutions-S1"):
        app.synth()


def test_prompts_dir_and_normalize_come_from_context(
    make_app: Callable[..., cdk.App], tmp_path: Path
) -> None:
    for name in ("welcome", "error"):
        wavgen.write(tmp_path / f"{name}.wav", wavgen.pcm(rate=16000))
    app = make_app(promptsDir=str(tmp_path), normalizePrompts="true")
    with left_as_it_was(tmp_path):
        stack = build_app(app, {})
        app.synth()
    assert set(stack.prompts.prompts) == {"welcome", "error"}
    assert stack.prompts.normalize is True
    assert stack.prompts.prompts["welcome"].sample_rate == 8000


def test_default_prompts_are_the_shipped_8khz_mono_ones(make_app: Callable[..., cdk.App]) -> None:
    app = make_app()
    with left_as_it_was(Path(__file__).resolve().parents[2] / "assets"):
        stack = build_app(app, {})
        app.synth()
    assert {"welcome", "goodbye", "error"} <= set(stack.prompts.prompts)
    assert all(p.sample_rate == 8000 and p.channels == 1 for p in stack.prompts.prompts.values())


def test_a_context_flag_that_is_not_a_boolean_is_refused(make_app: Callable[..., cdk.App]) -> None:
    with pytest.raises(
        ValueError, match=r"context normalizePrompts is 'yes'; expected true or false"
    ):
        build_app(make_app(normalizePrompts="yes"), {})
