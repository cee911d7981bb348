"""SipMediaApplication: the SMA, its endpoint, the invoke permission and the prompt grant."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import cfnlint
import pytest
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_codedeploy as codedeploy
from aws_cdk import aws_lambda as lambda_
from aws_cdk.assertions import Match, Template

from constructs_pkg import PromptBucket, SipMediaApplication, WavPrompts
from constructs_pkg.chime_facts import SMA_REGIONS, SMA_TYPE_REGIONS
from constructs_pkg.runtime import contract
from constructs_pkg.runtime.catalog import BUCKET_ENV, CATALOG_ENV
from tests.app.flag_matrix_app import user_function
from tests.audio import wavgen
from tests.conftest import cdk_json_context
from tests.templates import chime_statements

Build = Callable[..., tuple[cdk.Stack, SipMediaApplication]]


@pytest.fixture(scope="module")
def prompt_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("prompts")
    for name in ("welcome", "error", "closed"):
        wavgen.write(folder / f"{name}.wav", wavgen.pcm())
    return folder


@pytest.fixture(scope="module")
def build(make_bare_app: Callable[..., cdk.App], prompt_dir: Path) -> Build:
    """A stack with a prompt bucket, prompts and an SMA built with the given props."""

    def factory(
        region: str = "us-east-1", with_prompts: bool = True, **props: Any
    ) -> tuple[cdk.Stack, SipMediaApplication]:
        env = cdk.Environment(account="123456789012", region=region)
        stack = cdk.Stack(make_bare_app(), "TestStack", env=env)
        prompts = []
        if with_prompts:
            bucket = PromptBucket(stack, "Bucket")
            prompts = [WavPrompts(stack, "Prompts", prompt_bucket=bucket, source_dir=prompt_dir)]
        return stack, SipMediaApplication(stack, "Sma", prompts=prompts, **props)

    return factory


@pytest.fixture(scope="module")
def sample(build: Build) -> tuple[Template, SipMediaApplication]:
    stack, sma = build()
    return Template.from_stack(stack), sma


def logical_id(template: Template, resource_type: str, props: dict[str, Any] | None = None) -> str:
    (found,) = template.find_resources(resource_type, {"Properties": props} if props else None)
    return found


def test_sma_endpoint_is_the_live_alias_of_the_sample_handler(
    sample: tuple[Template, SipMediaApplication],
) -> None:
    template, sma = sample
    handler = logical_id(template, "AWS::Lambda::Function", {"Handler": "runtime.handler.handler"})
    version = logical_id(template, "AWS::Lambda::Version", {"FunctionName": {"Ref": handler}})
    alias = logical_id(
        template,
        "AWS::Lambda::Alias",
        {"FunctionName": {"Ref": handler}, "FunctionVersion": {"Fn::GetAtt": [version, "Version"]}},
    )
    assert template.find_resources("AWS::Lambda::Alias")[alias]["Properties"]["Name"] == "live"
    template.has_resource(
        "AWS::Chime::SipMediaApplication",
        {
            "Properties": {
                "AwsRegion": "us-east-1",
                "Name": sma.sma_name,
                "Endpoints": [{"LambdaArn": {"Ref": alias}}],
            },
            "DependsOn": [Match.string_like_regexp("ChimeInvoke")],
        },
    )


def test_a_handler_change_rolls_out_to_10_percent_of_calls_first(
    sample: tuple[Template, SipMediaApplication],
) -> None:
    template, sma = sample
    alias = logical_id(template, "AWS::Lambda::Alias")
    (group,) = template.find_resources("AWS::CodeDeploy::DeploymentGroup").values()
    assert group["Properties"]["DeploymentConfigName"] == (
        "CodeDeployDefault.LambdaCanary10Percent10Minutes"
    )
    assert group["Properties"]["DeploymentStyle"] == {
        "DeploymentOption": "WITH_TRAFFIC_CONTROL",
        "DeploymentType": "BLUE_GREEN",
    }
    # CodeDeploy shifts the alias: CloudFormation hands the alias update to it.
    update_policy = template.find_resources("AWS::Lambda::Alias")[alias]["UpdatePolicy"]
    assert set(update_policy["CodeDeployLambdaAliasUpdate"]) == {
        "ApplicationName",
        "DeploymentGroupName",
    }
    assert sma.rollout_group is not None


def test_chime_may_invoke_the_handler_from_this_account_only(
    sample: tuple[Template, SipMediaApplication],
) -> None:
    template, _ = sample
    alias = logical_id(template, "AWS::Lambda::Alias")
    assert len(template.find_resources("AWS::Lambda::Permission")) == 1
    template.has_resource_properties(
        "AWS::Lambda::Permission",
        {
            "Action": "lambda:InvokeFunction",
            "FunctionName": {"Ref": alias},
            "Principal": "voiceconnector.chime.amazonaws.com",
            "SourceAccount": "123456789012",
        },
    )


def test_handler_runtime_architecture_timeout_logging(
    sample: tuple[Template, SipMediaApplication],
) -> None:
    template, _ = sample
    log_group = logical_id(template, "AWS::Logs::LogGroup", {"RetentionInDays": 90})
    template.has_resource_properties(
        "AWS::Lambda::Function",
        {
            "Handler": "runtime.handler.handler",
            "Runtime": "python3.14",
            "Architectures": ["arm64"],
            "MemorySize": 128,
            "Timeout": 3,
            "LoggingConfig": {"LogFormat": "JSON", "LogGroup": {"Ref": log_group}},
            "Environment": {
                "Variables": Match.object_like(
                    {
                        "WELCOME_PROMPT": "welcome",
                        "FALLBACK_PROMPT": "error",
                        "PLAYBACK_TERMINATORS": "#",
                        "PLAYBACK_REPEAT": "1",
                    }
                )
            },
        },
    )


def test_handler_reads_the_catalog_from_its_layer_and_the_bucket(
    sample: tuple[Template, SipMediaApplication],
) -> None:
    template, sma = sample
    (function,) = template.find_resources(
        "AWS::Lambda::Function", {"Properties": {"Handler": "runtime.handler.handler"}}
    ).values()
    variables = function["Properties"]["Environment"]["Variables"]
    assert "PROMPTS_MANIFEST" not in variables
    prompts = sma.node.scope.node.find_child("Prompts")  # type: ignore[union-attr]
    assert variables["PROMPT_CATALOG"] == prompts.catalog_path
    (layer_id,) = template.find_resources(
        "AWS::Lambda::LayerVersion",
        {"Properties": {"Description": "PlayAudio prompt catalog of TestStack/Prompts"}},
    )
    assert function["Properties"]["Layers"] == [{"Ref": layer_id}]
    # The bucket name comes from the deployment, so the handler exists only after the prompts.
    assert "DestinationBucketArn" in json.dumps(variables["PROMPTS_BUCKET"])


def test_handler_role_may_only_write_its_own_logs(
    sample: tuple[Template, SipMediaApplication],
) -> None:
    template, _ = sample
    (policy,) = template.find_resources(
        "AWS::IAM::Policy", {"Properties": {"PolicyName": Match.string_like_regexp("HandlerRole")}}
    ).values()
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    assert [s["Action"] for s in statements] == [["logs:CreateLogStream", "logs:PutLogEvents"]]
    template.has_resource_properties(
        "AWS::IAM::Role", {"Description": Match.string_like_regexp("sample PlayAudio handler")}
    )
    for role in template.find_resources("AWS::IAM::Role").values():
        if "sample PlayAudio" in role["Properties"].get("Description", ""):
            assert "ManagedPolicyArns" not in role["Properties"]


def test_prompt_bucket_statement_is_pinned_to_this_sma(
    sample: tuple[Template, SipMediaApplication],
) -> None:
    template, _ = sample
    sma = logical_id(template, "AWS::Chime::SipMediaApplication")
    (statement,) = chime_statements(template)
    assert statement["Action"] == "s3:GetObject"
    assert statement["Condition"] == {
        "StringEquals": {
            "aws:SourceAccount": "123456789012",
            "aws:SourceArn": [{"Fn::GetAtt": [sma, "SipMediaApplicationArn"]}],
        }
    }


def test_only_the_runtime_is_shipped_to_lambda(
    sample: tuple[Template, SipMediaApplication],
) -> None:
    template, sma = sample
    (function,) = template.find_resources(
        "AWS::Lambda::Function", {"Properties": {"Handler": "runtime.handler.handler"}}
    ).values()
    asset_hash = function["Properties"]["Code"]["S3Key"].removesuffix(".zip")
    outdir = Path(cdk.Stage.of(sma).outdir)  # type: ignore[union-attr]
    asset = outdir / f"asset.{asset_hash}"
    shipped = sorted(p.relative_to(asset).as_posix() for p in asset.rglob("*"))
    assert shipped == [
        "runtime",
        "runtime/__init__.py",
        "runtime/_messages.py",
        "runtime/actions.py",
        "runtime/attributes.py",
        "runtime/catalog.py",
        "runtime/config.py",
        "runtime/contract.py",
        "runtime/events.py",
        "runtime/handler.py",
        "runtime/log.py",
        "runtime/metrics.py",
    ]


def test_sample_handler_settings_are_passed_and_validated(build: Build) -> None:
    stack, _ = build(
        welcome_prompt="closed",
        fallback_prompt="welcome",
        playback_terminators="#*0",
        playback_repeat=2,
    )
    Template.from_stack(stack).has_resource_properties(
        "AWS::Lambda::Function",
        {
            "Environment": {
                "Variables": Match.object_like(
                    {
                        "WELCOME_PROMPT": "closed",
                        "FALLBACK_PROMPT": "welcome",
                        "PLAYBACK_TERMINATORS": "#*0",
                        "PLAYBACK_REPEAT": "2",
                    }
                )
            }
        },
    )


def test_an_unknown_welcome_prompt_names_the_known_ones(build: Build) -> None:
    with pytest.raises(
        ValueError,
        match=r"welcome_prompt is 'hello', which .* does not hold .*; expected one of: closed, ",
    ):
        build(welcome_prompt="hello")


@pytest.mark.parametrize(
    ("props", "expected"),
    [
        (
            {"name": "bad/name"},
            r"name is 'bad/name'; expected 1-256 characters of \[a-zA-Z0-9 _.-\]",
        ),
        ({"name": "x" * 257}, "expected 1-256 characters"),
        (
            {"region": "eu-north-1"},
            "region is 'eu-north-1', where SIP media applications do not exist",
        ),
        (
            {"region": "us-west-2"},
            "region is 'us-west-2', where SIP media applications exist but CloudFormation has "
            "no AWS::Chime::SipMediaApplication type, so a deploy would fail; create that SMA "
            r"with the API or console .*; expected one of us-east-1, ca-central-1,",
        ),
        ({"with_prompts": False}, "the sample handler needs prompts"),
        ({"playback_terminators": "#A"}, r"playback_terminators=\['#', 'A'\] is invalid"),
        ({"playback_repeat": 0}, "playback_repeat=0 is invalid; allowed: an integer > 0"),
    ],
)
def test_misuse_is_one_clear_error(build: Build, props: dict[str, Any], expected: str) -> None:
    with pytest.raises(ValueError, match=expected):
        build(**props)


def test_your_own_function_alias_is_the_endpoint(make_bare_app: Callable[..., cdk.App]) -> None:
    stack = cdk.Stack(
        make_bare_app(), "Own", env=cdk.Environment(account="123456789012", region="eu-west-2")
    )
    function = user_function(stack)
    alias = lambda_.Alias(stack, "Live", alias_name="live", version=function.current_version)
    sma = SipMediaApplication(stack, "Sma", function=alias, name="My IVR")
    assert sma.function is alias
    template = Template.from_stack(stack)
    alias_id = logical_id(template, "AWS::Lambda::Alias")
    template.has_resource_properties(
        "AWS::Chime::SipMediaApplication",
        {
            "AwsRegion": "eu-west-2",
            "Name": "My IVR",
            "Endpoints": [{"LambdaArn": {"Ref": alias_id}}],
        },
    )
    template.has_resource_properties(
        "AWS::Lambda::Permission",
        {"FunctionName": {"Ref": alias_id}, "Principal": "voiceconnector.chime.amazonaws.com"},
    )
    assert sma.log_group is None
    assert sma.node.try_find_child("Handler") is None
    assert sma.rollout_group is None
    assert template.find_resources("AWS::CodeDeploy::DeploymentGroup") == {}


@pytest.mark.parametrize(
    "context",
    [
        {},
        {"@aws-cdk/aws-lambda:recognizeVersionProps": False},
        {"@aws-cdk/aws-lambda:recognizeLayerVersion": False},
        cdk_json_context(),
    ],
    ids=["no context", "recognizeVersionProps off", "recognizeLayerVersion off", "cdk.json"],
)
def test_every_handler_change_publishes_a_version_the_alias_rolls_out(
    tmp_path: Path, context: dict[str, Any]
) -> None:
    """A change the alias would not see (an old version) would keep calls on the old flow."""

    def version_ids(frames: int, **props: Any) -> set[str]:
        folder = tmp_path / f"prompts-{frames}"
        wavgen.write(folder / "welcome.wav", wavgen.pcm(frames=frames))
        wavgen.write(folder / "error.wav", wavgen.pcm())
        stack = cdk.Stack(
            cdk.App(context=context),
            "S",
            env=cdk.Environment(account="123456789012", region="us-east-1"),
        )
        prompts = WavPrompts(stack, "P", prompt_bucket=PromptBucket(stack, "B"), source_dir=folder)
        SipMediaApplication(stack, "Sma", prompts=[prompts], **props)
        return set(Template.from_stack(stack).find_resources("AWS::Lambda::Version"))

    before = version_ids(800)
    assert version_ids(800) == before
    assert version_ids(1600) != before  # another prompt duration: another manifest
    assert version_ids(800, playback_repeat=2) != before


def test_your_own_alias_opts_in_to_a_rollout(make_bare_app: Callable[..., cdk.App]) -> None:
    stack = cdk.Stack(
        make_bare_app(), "Own", env=cdk.Environment(account="123456789012", region="us-east-1")
    )
    function = user_function(stack)
    alias = lambda_.Alias(stack, "Prod", alias_name="prod", version=function.current_version)
    sma = SipMediaApplication(
        stack,
        "Sma",
        function=alias,
        rollout=codedeploy.LambdaDeploymentConfig.LINEAR_10_PERCENT_EVERY_1_MINUTE,
    )
    alarm = cloudwatch.Alarm(
        stack, "Errors", metric=alias.metric_errors(), threshold=1, evaluation_periods=1
    )
    sma.add_rollback_alarm(alarm)
    template = Template.from_stack(stack)
    template.has_resource_properties(
        "AWS::CodeDeploy::DeploymentGroup",
        {
            "DeploymentConfigName": "CodeDeployDefault.LambdaLinear10PercentEvery1Minute",
            "AlarmConfiguration": {
                "Alarms": [{"Name": {"Ref": Match.any_value()}}],
                "Enabled": True,
            },
            "AutoRollbackConfiguration": {
                "Enabled": True,
                "Events": Match.array_with(["DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM"]),
            },
        },
    )


def test_a_rollout_without_an_alias_is_refused(make_bare_app: Callable[..., cdk.App]) -> None:
    stack = cdk.Stack(make_bare_app(), "Own")
    function = lambda_.Function.from_function_arn(
        stack, "Imported", "arn:aws:lambda:us-east-1:123456789012:function:ivr"
    )
    with pytest.raises(
        ValueError,
        match=r"rollout is set, but function is .*expected function to "
        r"be a lambda.Alias",
    ):
        SipMediaApplication(
            stack, "Sma", function=function, rollout=codedeploy.LambdaDeploymentConfig.ALL_AT_ONCE
        )


def test_a_rollout_that_is_no_deployment_config_is_refused(build: Build) -> None:
    with pytest.raises(ValueError, match=r"rollout is 'canary'.*expected a codedeploy"):
        build(rollout="canary")


def test_handler_settings_with_your_own_function_are_refused(
    make_bare_app: Callable[..., cdk.App],
) -> None:
    stack = cdk.Stack(make_bare_app(), "Own")
    function = lambda_.Function.from_function_arn(
        stack, "Imported", "arn:aws:lambda:us-east-1:123456789012:function:ivr"
    )
    with pytest.raises(ValueError, match="playback_repeat, welcome_prompt configure the sample"):
        SipMediaApplication(stack, "Sma", function=function, welcome_prompt="hi", playback_repeat=2)


def test_region_token_passes(make_bare_app: Callable[..., cdk.App]) -> None:
    stack = cdk.Stack(make_bare_app(), "Agnostic")
    function = lambda_.Function.from_function_arn(
        stack, "Imported", "arn:aws:lambda:us-east-1:123456789012:function:ivr"
    )
    SipMediaApplication(stack, "Sma", function=function)
    Template.from_stack(stack).has_resource_properties(
        "AWS::Chime::SipMediaApplication", {"AwsRegion": {"Ref": "AWS::Region"}}
    )


def test_the_regions_it_accepts_are_those_where_cloudformation_has_the_sma_type() -> None:
    """SMA_TYPE_REGIONS against cfn-lint's per-region resource registry (its provider
    schemas), so that a cfn-lint upgrade that adds the type to us-west-2 fails here."""
    providers = Path(cfnlint.__file__).parent / "data" / "schemas" / "providers"
    with_type = [
        region
        for region in SMA_REGIONS
        if '"AWS::Chime::SipMediaApplication"' in (providers / f"{region}.json").read_text()
    ]
    assert with_type == list(SMA_TYPE_REGIONS)
    assert set(SMA_REGIONS) - set(SMA_TYPE_REGIONS) == {"us-west-2"}


def test_the_handler_knows_every_setting_the_construct_writes(
    make_bare_app: Callable[..., cdk.App], prompt_dir: Path
) -> None:
    """The construct's variables are the contract's (runtime/contract.py), which the sample
    handler reads, and an unset prop writes the contract's default."""
    stack = cdk.Stack(
        make_bare_app(), "S", env=cdk.Environment(account="123456789012", region="us-east-1")
    )
    prompts = WavPrompts(stack, "P", prompt_bucket=PromptBucket(stack, "B"), source_dir=prompt_dir)
    SipMediaApplication(stack, "Sma", prompts=[prompts])
    (function,) = (
        Template.from_stack(stack)
        .find_resources(
            "AWS::Lambda::Function", {"Properties": {"Handler": "runtime.handler.handler"}}
        )
        .values()
    )
    variables = function["Properties"]["Environment"]["Variables"]
    settings = {k: v for k, v in variables.items() if k not in (CATALOG_ENV, BUCKET_ENV)}
    # LANGUAGE_BY_NUMBER comes only with language_by_number (test_prompt_languages), and
    # CallMonitoring, not SipMediaApplication, writes METRICS_NAMESPACE (test_call_monitoring).
    optional = {contract.LANGUAGE_BY_NUMBER, contract.METRICS_NAMESPACE}
    assert set(settings) == set(contract.SETTINGS) - optional
    assert settings[contract.WELCOME_PROMPT] == contract.DEFAULT_WELCOME_PROMPT
    assert settings[contract.FALLBACK_PROMPT] == contract.DEFAULT_FALLBACK_PROMPT
    assert settings[contract.PLAYBACK_TERMINATORS] == contract.DEFAULT_PLAYBACK_TERMINATORS
    assert settings[contract.PLAYBACK_REPEAT] == str(contract.DEFAULT_PLAYBACK_REPEAT)
