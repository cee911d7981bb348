"""Deliberately broken stacks, built with the CDK and synthesized, then called.

Each stack is the sample handler (the constructs_pkg/runtime asset) behind a
SipMediaApplication, with prompts deployed by a plain s3deploy.BucketDeployment
into a PromptBucket, and one thing wrong. The three stacks share one App, so
they cost one synth. (The same shape done right is what the sample app's
scenarios call.)
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_chime as chime
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3_deployment as s3deploy

import constructs_pkg
from constructs_pkg import PromptBucket, SipMediaApplication
from playaudio_sim.call_setup import load_call_setup
from playaudio_sim.engine import Call, CallResult, Outcome
from tests.audio import wavgen

PACKAGE_DIR = Path(constructs_pkg.__file__).resolve().parent


def broken_stack(
    app: cdk.App,
    stack_id: str,
    prompts_dir: Path,
    *,
    content_type: str | None = "audio/wav",
    chime_principal: bool = True,
    deploy_prefix: str = "prompts/",
    granted_prefix: str = "prompts/",
    endpoint: str = "function",
) -> None:
    """``endpoint``: "function", "alias" (an alias, the permission on it), or
    "alias-without-permission" (an alias, the permission on the function only)."""
    stack = cdk.Stack(
        app, stack_id, env=cdk.Environment(account="123456789012", region="us-east-1")
    )
    prompts = PromptBucket(stack, "Prompts")
    s3deploy.BucketDeployment(
        stack,
        "Deploy",
        sources=[s3deploy.Source.asset(str(prompts_dir))],
        destination_bucket=prompts.bucket,
        destination_key_prefix=deploy_prefix,
        content_type=content_type,
    )
    # The catalog in a layer of the test's own (as a user without WavPrompts would ship it).
    catalog_dir = prompts_dir.parent / f"catalog-{stack_id}"
    catalog_dir.mkdir(exist_ok=True)
    (catalog_dir / "catalog.json").write_text(
        json.dumps(
            {
                "format": "playaudio-catalog/2",
                "catalog": stack_id,
                "keyPrefix": deploy_prefix,
                "prompts": {name: "1000,8000,1" for name in ("welcome", "error")},
            }
        )
    )
    function = lambda_.Function(
        stack,
        "Handler",
        runtime=lambda_.Runtime.PYTHON_3_12,
        handler="runtime.handler.handler",
        timeout=cdk.Duration.seconds(3),
        code=lambda_.Code.from_asset(
            str(PACKAGE_DIR),
            exclude=["*", "!runtime", "!runtime/*.py"],
            ignore_mode=cdk.IgnoreMode.GLOB,
        ),
        layers=[
            lambda_.LayerVersion(stack, "Catalog", code=lambda_.Code.from_asset(str(catalog_dir)))
        ],
        environment={
            "PROMPTS_BUCKET": prompts.bucket.bucket_name,
            "PROMPT_CATALOG": "/opt/catalog.json",
        },
    )
    alias = lambda_.Alias(stack, "Live", alias_name="live", version=function.current_version)
    sma = SipMediaApplication(stack, "Sma", function=alias if endpoint == "alias" else function)
    if endpoint == "alias-without-permission":
        sma.resource.endpoints = [
            chime.CfnSipMediaApplication.SipMediaApplicationEndpointProperty(
                lambda_arn=alias.function_arn
            )
        ]
    if chime_principal:
        prompts.grant_play(sma.sma_arn, key_prefix=granted_prefix)
    else:
        prompts.bucket.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[iam.AccountRootPrincipal()],
                actions=["s3:GetObject"],
                resources=[prompts.bucket.arn_for_objects(f"{granted_prefix}*")],
            )
        )


@pytest.fixture(scope="module")
def cdk_out(make_app: Callable[..., cdk.App], tmp_path_factory: pytest.TempPathFactory) -> Path:
    prompts_dir = tmp_path_factory.mktemp("prompts")
    for name in ("welcome", "error"):
        wavgen.write(prompts_dir / f"{name}.wav", wavgen.pcm(frames=8000))
    outdir = tmp_path_factory.mktemp("broken-stacks") / "cdk.out"
    app = make_app(outdir=str(outdir))
    broken_stack(app, "WrongContentType", prompts_dir, content_type=None)
    broken_stack(app, "NoChimePrincipal", prompts_dir, chime_principal=False)
    broken_stack(app, "OutsidePrefix", prompts_dir, deploy_prefix="audio/")
    broken_stack(app, "AliasEndpoint", prompts_dir, endpoint="alias")
    broken_stack(app, "AliasWithoutPermission", prompts_dir, endpoint="alias-without-permission")
    app.synth()
    return outdir


def call(cdk_out: Path, stack: str) -> CallResult:
    return Call(load_call_setup(cdk_out, stack=stack)).run()


def reasons(result: CallResult) -> list[str]:
    return [str(r["reason"]) for r in result.transcript.of_kind("action-failed")]


@pytest.mark.parametrize(
    ("stack", "reason"),
    [
        ("WrongContentType", "with Content-Type 'audio/x-wav'; PlayAudio needs 'audio/wav'"),
        ("NoChimePrincipal", "no statement allows it (implicit deny)"),
        ("OutsidePrefix", "no statement allows it (implicit deny)"),
    ],
)
def test_a_broken_stack_fails_both_prompts_and_the_handler_does_not_loop(
    cdk_out: Path, stack: str, reason: str
) -> None:
    result = call(cdk_out, stack)
    assert result.failures == ["InvalidAudioSource", "InvalidAudioSource"]
    assert all(reason in text for text in reasons(result)), reasons(result)
    assert result.heard == []
    assert result.outcome is Outcome.HANGUP_AFTER_ERROR
    assert result.invocations == 4


def test_the_outside_prefix_failure_names_the_key_and_the_sma(cdk_out: Path) -> None:
    setup = load_call_setup(cdk_out, stack="OutsidePrefix")
    result = Call(setup).run()
    first: dict[str, Any] = result.transcript.of_kind("action-failed")[0]
    assert "/audio/welcome.wav" in first["reason"]
    assert setup.sma.arn in first["reason"]


def test_an_alias_endpoint_is_invoked_through_the_permission_of_the_alias(cdk_out: Path) -> None:
    setup = load_call_setup(cdk_out, stack="AliasEndpoint")
    assert setup.function.qualifier == "live"
    assert setup.function.invoked_arn.endswith(":function:AliasEndpoint-Handler886CB40B:live")
    result = Call(setup).run()
    assert result.heard != [] and result.failures == []


def test_a_permission_of_the_function_does_not_let_chime_invoke_its_alias(cdk_out: Path) -> None:
    """Lambda: a permission without a qualifier covers unqualified invocations only."""
    result = call(cdk_out, "AliasWithoutPermission")
    assert result.outcome is Outcome.SMA_HANGUP
    assert result.invocations == 0
    (error,) = result.transcript.of_kind("invocation-error")
    assert "Chime may not invoke AliasWithoutPermission-Handler886CB40B:live" in error["summary"]
