"""Users' mistakes: each fails at synth with one error naming the prop, the value found and
what was expected, never a TypeError, a jsii dump or a silent wrong deployment.

Every App here is bare (no feature flags), as a user's ``cdk.App()`` without cdk.json.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Template

from app import build_app
from constructs_pkg import (
    CallMonitoring,
    PromptBucket,
    SipMediaApplication,
    SipMessageLogs,
    SipRule,
    SipRuleTarget,
    WavPrompts,
)
from tests.audio import wavgen
from tests.templates import chime_statements

ACCOUNT = "123456789012"
SMA = f"arn:aws:chime:us-east-1:{ACCOUNT}:sma/0f0e0d0c-0b0a-4000-8000-000000000001"
FUNCTION_ARN = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:ivr"

MakeStack = Callable[..., cdk.Stack]


@pytest.fixture(scope="module")
def prompt_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("prompts")
    wavgen.write(folder / "welcome.wav", wavgen.pcm(frames=400))
    wavgen.write(folder / "error.wav", wavgen.pcm(frames=400))
    wavgen.write(folder / "menu" / "main.wav", wavgen.pcm(frames=400))
    return folder


def stack_in(region: str = "us-east-1", account: str | None = ACCOUNT) -> cdk.Stack:
    return cdk.Stack(cdk.App(), "Stack", env=cdk.Environment(account=account, region=region))


def ivr(stack: cdk.Stack) -> lambda_.IFunction:
    return lambda_.Function.from_function_arn(stack, "Ivr", FUNCTION_ARN)


# --- the key prefix: what the catalog names is what the deployment writes -----------------


def test_a_prefix_without_slash_deploys_and_catalogs_the_same_folder(prompt_dir: Path) -> None:
    stack = stack_in()
    prompts = WavPrompts(
        stack,
        "P",
        prompt_bucket=PromptBucket(stack, "B"),
        source_dir=prompt_dir,
        key_prefix="prompts",
    )
    prompts.grant_play(SMA)
    # aws s3 sync to s3://bucket/prompts writes prompts/welcome.wav: the catalog says so too.
    assert prompts.key_prefix == "prompts/"
    assert prompts.prompt("menu/main").key == "prompts/menu/main.wav"
    assert prompts.audio_source("welcome")["Key"] == "prompts/welcome.wav"
    template = Template.from_stack(stack)
    (deployment,) = template.find_resources("Custom::CDKBucketDeployment").values()
    assert deployment["Properties"]["DestinationBucketKeyPrefix"] == "prompts/"
    (statement,) = chime_statements(template)
    resource = statement["Resource"]["Fn::Join"][1]
    assert resource[-1] == "/prompts/*"  # never prompts* (which would match prompts-old/)


@pytest.mark.parametrize(
    ("key_prefix", "expected"),
    [
        ("/prompts/", "key_prefix is '/prompts/'; expected no leading '/'"),
        ("prompts//menu/", "without empty, '.' or '..' segments"),
        ("../prompts/", "without empty, '.' or '..' segments"),
        ("prompts/*/", "expected no '*'"),
        (None, "key_prefix is None (NoneType); expected a string"),
        (7, "key_prefix is 7 (int); expected a string"),
    ],
)
def test_a_bad_key_prefix_is_refused(prompt_dir: Path, key_prefix: Any, expected: str) -> None:
    stack = stack_in()
    with pytest.raises(ValueError, match="WavPrompts 'P'") as raised:
        WavPrompts(
            stack,
            "P",
            prompt_bucket=PromptBucket(stack, "B"),
            source_dir=prompt_dir,
            key_prefix=key_prefix,
        )
    assert expected in str(raised.value)


def test_a_token_key_prefix_is_refused(prompt_dir: Path) -> None:
    stack = stack_in()
    with pytest.raises(
        ValueError,
        match="key_prefix is an unresolved token; expected a literal string such as 'prompts/', "
        "because the catalog's keys are computed at synth time",
    ):
        WavPrompts(
            stack,
            "P",
            prompt_bucket=PromptBucket(stack, "B"),
            source_dir=prompt_dir,
            key_prefix=cdk.Fn.import_value("Prefix"),
        )


def test_grant_play_refuses_a_token_key_prefix() -> None:
    stack = stack_in()
    bucket = PromptBucket(stack, "B")
    sma_arn = f"arn:aws:chime:us-east-1:{stack.account}:sma/abc"
    with pytest.raises(
        ValueError,
        match="grant_play: key_prefix is an unresolved token; expected a literal string such as "
        "'prompts/', so that the statement's resource can be checked",
    ):
        bucket.grant_play(sma_arn, key_prefix=cdk.Fn.import_value("Prefix"))


def test_a_key_over_1024_bytes_names_the_file(tmp_path: Path) -> None:
    deep = tmp_path / ("d" * 250) / ("e" * 250) / ("f" * 250) / ("g" * 250)
    wavgen.write(deep / ("h" * 200 + ".wav"), wavgen.pcm(frames=100))
    wavgen.write(tmp_path / "short.wav", wavgen.pcm(frames=100))
    stack = stack_in()
    with pytest.raises(
        ValueError, match=r"g/h+\.wav: its key is 1216 UTF-8 bytes; S3 allows at most 1024"
    ):
        WavPrompts(stack, "P", prompt_bucket=PromptBucket(stack, "B"), source_dir=tmp_path)


def test_grant_play_treats_a_prefix_as_a_folder() -> None:
    stack = stack_in()
    bucket = PromptBucket(stack, "B")
    bucket.grant_play(SMA, key_prefix="prompts")
    bucket.grant_play(SMA.replace("0001", "0002"), key_prefix="prompts/")
    (statement,) = chime_statements(Template.from_stack(stack))
    assert statement["Resource"]["Fn::Join"][1][-1] == "/prompts/*"
    assert len(statement["Condition"]["StringEquals"]["aws:SourceArn"]) == 2


# --- deployments that would overwrite or delete each other's prompts ----------------------


def two_deployments(
    prompt_dir: Path, tmp_path: Path, first: dict[str, Any], second: dict[str, Any]
) -> tuple[cdk.Stack, PromptBucket]:
    other = tmp_path / "other"
    wavgen.write(other / "main.wav", wavgen.pcm(frames=200))
    wavgen.write(other / "extra.wav", wavgen.pcm(frames=200))
    stack = stack_in()
    bucket = PromptBucket(stack, "B")
    WavPrompts(stack, "First", prompt_bucket=bucket, source_dir=prompt_dir, **first)
    WavPrompts(stack, "Second", prompt_bucket=bucket, source_dir=other, **second)
    return stack, bucket


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ({}, {}),
        ({"key_prefix": "prompts/"}, {"key_prefix": "prompts"}),
        ({"key_prefix": ""}, {"key_prefix": ""}),
    ],
)
def test_two_deployments_to_one_folder_are_refused(
    prompt_dir: Path, tmp_path: Path, first: dict[str, Any], second: dict[str, Any]
) -> None:
    with pytest.raises(ValueError, match="WavPrompts 'Second'") as raised:
        two_deployments(prompt_dir, tmp_path, first, second)
    message = str(raised.value)
    assert "as Stack/First (key_prefix" in message
    assert "each deploy would overwrite the other's prompts" in message


@pytest.mark.parametrize("pruner", ["first", "second"])
def test_nested_deployments_where_one_prunes_are_refused(
    prompt_dir: Path, tmp_path: Path, pruner: str
) -> None:
    # prune=True on prompts/ deletes what the other deployed under prompts/other/, and the
    # reverse: prune=True on prompts/other/ deletes prompts/other/* of the first.
    outer = {"key_prefix": "prompts/", "prune": pruner == "first"}
    inner = {"key_prefix": "prompts/other/", "prune": pruner == "second"}
    with pytest.raises(ValueError, match="prunes: that deletes the other deployment's prompts"):
        two_deployments(prompt_dir, tmp_path, outer, inner)


def test_nested_deployments_that_deploy_one_key_twice_are_refused(
    prompt_dir: Path, tmp_path: Path
) -> None:
    # The first deploys menu/main.wav at prompts/menu/main.wav; so does the second.
    with pytest.raises(ValueError, match=r"it deploys prompts/menu/main\.wav, which Stack/First"):
        two_deployments(prompt_dir, tmp_path, {}, {"key_prefix": "prompts/menu/"})


def test_nested_deployments_without_prune_or_shared_keys_compose(
    prompt_dir: Path, tmp_path: Path
) -> None:
    stack, _ = two_deployments(prompt_dir, tmp_path, {}, {"key_prefix": "prompts/other/"})
    Template.from_stack(stack).resource_count_is("Custom::CDKBucketDeployment", 2)


def test_two_imports_of_one_bucket_are_one_bucket(prompt_dir: Path) -> None:
    stack = stack_in()
    first = PromptBucket(
        stack, "B1", existing_bucket=s3.Bucket.from_bucket_name(stack, "I1", "my-prompts")
    )
    second = PromptBucket(
        stack, "B2", existing_bucket=s3.Bucket.from_bucket_name(stack, "I2", "my-prompts")
    )
    WavPrompts(stack, "First", prompt_bucket=first, source_dir=prompt_dir)
    with pytest.raises(ValueError, match=r"it deploys to s3://my-prompts/prompts/, as Stack/First"):
        WavPrompts(stack, "Second", prompt_bucket=second, source_dir=prompt_dir)


def test_one_folder_in_two_buckets_or_two_apps_is_fine(prompt_dir: Path) -> None:
    stack = stack_in()
    WavPrompts(stack, "First", prompt_bucket=PromptBucket(stack, "B1"), source_dir=prompt_dir)
    WavPrompts(stack, "Second", prompt_bucket=PromptBucket(stack, "B2"), source_dir=prompt_dir)
    # Another App (another synth) with the same paths knows nothing of this one.
    other = stack_in()
    WavPrompts(other, "First", prompt_bucket=PromptBucket(other, "B1"), source_dir=prompt_dir)


# --- type mistakes read like value mistakes, all at once ----------------------------------


def test_wav_prompts_reports_every_problem_at_once(prompt_dir: Path) -> None:
    stack = stack_in()
    bucket = s3.Bucket(stack, "Mine")
    with pytest.raises(ValueError) as raised:
        WavPrompts(
            stack,
            "P",
            prompt_bucket=bucket,  # type: ignore[arg-type]
            source_dir=prompt_dir,
            key_prefix="/abs/",
            normalize="false",  # type: ignore[arg-type]
            prune=1,  # type: ignore[arg-type]
        )
    message = str(raised.value)
    assert message.startswith("WavPrompts 'P' has 4 problems:")
    assert "prompt_bucket is a Bucket (Stack/Mine); expected a PromptBucket (wrap your bucket" in (
        message
    )
    assert "key_prefix is '/abs/'; expected no leading '/'" in message
    assert "normalize is 'false'; expected True or False" in message
    assert "prune is 1 (int); expected True or False" in message


def test_prompt_bucket_props_of_the_wrong_type(make_stack: MakeStack) -> None:
    stack = make_stack()
    with pytest.raises(ValueError) as raised:
        PromptBucket(
            stack,
            "B",
            bucket_name="My_Prompts",
            versioned="true",  # type: ignore[arg-type]
            removal_policy="retain",  # type: ignore[arg-type]
            server_access_logs_bucket="logs-bucket",  # type: ignore[arg-type]
        )
    message = str(raised.value)
    assert message.startswith("PromptBucket 'B' has 4 problems:")
    assert "server_access_logs_bucket is 'logs-bucket'; expected an s3.IBucket" in message
    assert "bucket_name is 'My_Prompts'; expected 3-63 characters of lower-case" in message
    assert "versioned is 'true'; expected True or False" in message
    assert "removal_policy is 'retain'; expected a cdk.RemovalPolicy" in message


def test_existing_bucket_given_as_a_name(make_stack: MakeStack) -> None:
    with pytest.raises(
        ValueError, match=r"existing_bucket is 'my-prompts'; expected an s3\.IBucket"
    ):
        PromptBucket(make_stack(), "B", existing_bucket="my-prompts")  # type: ignore[arg-type]


def test_grant_play_for_an_sma_of_another_account_is_refused(make_stack: MakeStack) -> None:
    bucket = PromptBucket(make_stack(), "B")
    other = SMA.replace(ACCOUNT, "210987654321")
    with pytest.raises(ValueError, match=r"is in account 210987654321, but the statement pins"):
        bucket.grant_play(other)


def test_grant_play_for_another_account_is_fine_when_the_stack_account_is_unknown() -> None:
    stack = stack_in(account=None)
    PromptBucket(stack, "B").grant_play(SMA.replace(ACCOUNT, "210987654321"))
    assert len(chime_statements(Template.from_stack(stack))) == 1


def test_grant_play_arguments_of_the_wrong_type(make_stack: MakeStack) -> None:
    bucket = PromptBucket(make_stack(), "B")
    with pytest.raises(ValueError) as raised:
        bucket.grant_play(42, key_prefix=["prompts/"])  # type: ignore[arg-type]
    message = str(raised.value)
    assert "sma_arn is 42 (int); expected a SIP media application ARN" in message
    assert "key_prefix is ['prompts/'] (list); expected a string" in message


def test_sma_reports_every_problem_at_once(prompt_dir: Path) -> None:
    stack = stack_in()
    prompts = WavPrompts(stack, "P", prompt_bucket=PromptBucket(stack, "B"), source_dir=prompt_dir)
    with pytest.raises(ValueError) as raised:
        SipMediaApplication(
            stack,
            "Sma",
            prompts=[prompts],
            welcome_prompt="hello",
            fallback_prompt="oops",
            playback_terminators=["#"],  # type: ignore[arg-type]
            playback_repeat="2",  # type: ignore[arg-type]
            log_retention=90,  # type: ignore[arg-type]
        )
    message = str(raised.value)
    assert message.startswith("SipMediaApplication 'Sma' has 5 problems:")
    assert "welcome_prompt is 'hello', which Stack/P does not hold" in message
    assert "fallback_prompt is 'oops', which Stack/P does not hold" in message
    assert "expected one of: error, menu/main, welcome" in message
    assert "playback_terminators is ['#'] (list); expected a string such as '#*'" in message
    assert "playback_repeat is '2'; expected a whole number from 1" in message
    assert "log_retention is 90 (int); expected a logs.RetentionDays" in message


def test_sma_props_that_are_not_lists_or_functions(prompt_dir: Path) -> None:
    stack = stack_in()
    prompts = WavPrompts(stack, "P", prompt_bucket=PromptBucket(stack, "B"), source_dir=prompt_dir)
    with pytest.raises(ValueError) as raised:
        SipMediaApplication(
            stack,
            "Sma",
            prompts=prompts,  # type: ignore[arg-type]
            function=FUNCTION_ARN,  # type: ignore[arg-type]
        )
    message = str(raised.value)
    assert "prompts is one WavPrompts; expected a list of them: prompts=[prompts]" in message
    assert f"function is {FUNCTION_ARN!r}; expected a lambda.IFunction" in message


def test_a_missing_default_prompt_is_named(tmp_path: Path) -> None:
    wavgen.write(tmp_path / "hello.wav", wavgen.pcm(frames=100))
    stack = stack_in()
    prompts = WavPrompts(stack, "P", prompt_bucket=PromptBucket(stack, "B"), source_dir=tmp_path)
    with pytest.raises(ValueError) as raised:
        SipMediaApplication(stack, "Sma", prompts=[prompts])
    assert "welcome_prompt defaults to 'welcome', which Stack/P does not hold" in str(raised.value)
    assert "fallback_prompt defaults to 'error'" in str(raised.value)


def test_sip_rule_reports_type_mistakes_like_value_mistakes() -> None:
    stack = stack_in()
    sma = SipMediaApplication(stack, "Sma", function=ivr(stack))
    with pytest.raises(ValueError) as raised:
        SipRule(
            stack,
            "Rule",
            sip_media_application=sma,
            phone_number=12065550100,  # type: ignore[arg-type]
            priority="2",  # type: ignore[arg-type]
            failover_targets=SipRuleTarget("abc", "us-west-2", 2),  # type: ignore[arg-type]
        )
    message = str(raised.value)
    assert message.startswith("SipRule 'Rule' has 3 problems:")
    assert "priority is '2'; expected a whole number >= 1" in message
    assert "phone_number is 12065550100 (int); expected an E.164 string" in message
    assert "failover_targets is SipRuleTarget(" in message
    assert "expected a list of SipRuleTarget" in message


def test_a_boolean_is_not_a_priority() -> None:
    stack = stack_in()
    sma = SipMediaApplication(stack, "Sma", function=ivr(stack))
    with pytest.raises(ValueError, match=r"priority is True \(bool\); expected a whole number"):
        SipRule(
            stack, "Rule", sip_media_application=sma, phone_number="+12065550100", priority=True
        )


def test_a_failover_target_given_as_an_arn_is_refused() -> None:
    stack = stack_in()
    sma = SipMediaApplication(stack, "Sma", function=ivr(stack))
    arn = "arn:aws:chime:us-west-2:123456789012:sma/0f0e0d0c-0b0a-4000-8000-000000000002"
    with pytest.raises(ValueError) as raised:
        SipRule(
            stack,
            "Rule",
            sip_media_application=sma,
            phone_number="+12065550100",
            failover_targets=[SipRuleTarget(arn, "us-west-2", 2)],
        )
    assert f"failover_targets[0].sip_media_application_id is {arn!r}; expected an SMA id" in str(
        raised.value
    )
    assert "it looks like an ARN: pass the id after 'sma/'" in str(raised.value)


@pytest.mark.parametrize("region", ["eu-west-2", "ap-southeast-2", "ca-central-1"])
def test_a_phone_number_rule_where_there_are_no_phone_numbers_is_refused(region: str) -> None:
    stack = stack_in(region=region)
    sma = SipMediaApplication(stack, "Sma", function=ivr(stack))
    with pytest.raises(ValueError, match=f"the stack's region is '{region}', expected one of"):
        SipRule(stack, "Rule", sip_media_application=sma, phone_number="+442071234567")
    # A Voice Connector host name routes there.
    SipRule(stack, "Host", sip_media_application=sma, request_uri_hostname="vc.example.com")


@pytest.mark.parametrize(
    ("first", "second", "other_region"),
    [
        # Phone numbers: only us-east-1 can hold both SMAs (no SMA type in us-west-2).
        ({"phone_number": "+12065550100"}, {"phone_number": "+12065550100"}, "us-east-1"),
        (
            {"request_uri_hostname": "vc.example.com"},
            {"request_uri_hostname": "VC.example.com"},
            "ca-central-1",
        ),
    ],
)
def test_two_rules_for_one_trigger_are_refused(
    first: dict[str, str], second: dict[str, str], other_region: str
) -> None:
    app = cdk.App()
    main = cdk.Stack(app, "Main", env=cdk.Environment(account=ACCOUNT, region="us-east-1"))
    other = cdk.Stack(app, "Other", env=cdk.Environment(account=ACCOUNT, region=other_region))
    SipRule(
        main,
        "Rule",
        sip_media_application=SipMediaApplication(main, "Sma", function=ivr(main)),
        **first,
    )
    with pytest.raises(ValueError, match="is routed by Main/Rule already; expected one SipRule"):
        SipRule(
            other,
            "Backup",
            sip_media_application=SipMediaApplication(other, "Sma", function=ivr(other)),
            **second,
        )


def test_sip_rule_for_something_that_is_not_an_sma(prompt_dir: Path) -> None:
    stack = stack_in()
    sma = SipMediaApplication(stack, "Sma", function=ivr(stack))
    with pytest.raises(ValueError, match=r"sip_media_application is a CfnSipMediaApplication"):
        SipRule(stack, "Rule", sip_media_application=sma.resource, phone_number="+12065550100")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "make",
    [
        lambda stack: SipRule(stack, "C", sip_media_application="sma", phone_number="+12065550100"),
        lambda stack: SipMessageLogs(stack, "C", sip_media_application="sma"),
        lambda stack: CallMonitoring(stack, "C", sip_media_application="sma"),
    ],
    ids=["SipRule", "SipMessageLogs", "CallMonitoring"],
)
def test_every_construct_on_an_sma_says_the_same_of_something_else(
    make: Callable[[cdk.Stack], object],
) -> None:
    with pytest.raises(ValueError) as raised:
        make(stack_in())
    assert "sip_media_application is 'sma'; expected a SipMediaApplication" in str(raised.value)


# --- the sample app's context ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("phoneNumber", ""),
        ("phoneNumber", "   "),
        ("sipHostname", ""),
        ("promptsDir", ""),
        ("phoneNumber", 12065550100),
        ("sipHostname", True),
    ],
)
def test_an_empty_or_mistyped_context_value_fails_instead_of_being_dropped(
    make_app: Callable[..., cdk.App], key: str, value: object
) -> None:
    # -c phoneNumber=$UNSET_VARIABLE must not silently deploy without the SIP rule.
    with pytest.raises(ValueError, match=f"context {key} is {value!r}; expected a non-empty text"):
        build_app(make_app(**{key: value}), {})


def test_a_malformed_phone_number_in_context_fails(make_app: Callable[..., cdk.App]) -> None:
    with pytest.raises(ValueError, match=r"phone_number is '2065550100'; expected E\.164"):
        build_app(make_app(phoneNumber="2065550100"), {})


def test_a_phone_number_in_a_region_without_numbers_fails(make_app: Callable[..., cdk.App]) -> None:
    with pytest.raises(ValueError, match="the stack's region is 'eu-west-2'"):
        build_app(make_app(phoneNumber="+12065550100"), {"CDK_DEFAULT_REGION": "eu-west-2"})


def test_log_retention_accepts_the_enum(prompt_dir: Path) -> None:
    stack = stack_in()
    prompts = WavPrompts(stack, "P", prompt_bucket=PromptBucket(stack, "B"), source_dir=prompt_dir)
    SipMediaApplication(stack, "Sma", prompts=[prompts], log_retention=logs.RetentionDays.ONE_WEEK)
    Template.from_stack(stack).has_resource_properties(
        "AWS::Logs::LogGroup", {"RetentionInDays": 7}
    )
