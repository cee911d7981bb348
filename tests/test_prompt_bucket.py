"""PromptBucket: secure, data-keeping defaults and the exact statement Chime gets."""

from __future__ import annotations

from collections.abc import Callable

import aws_cdk as cdk
import pytest
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Annotations, Match, Template

from constructs_pkg import PromptBucket
from tests.templates import chime_statements

SMA_A = "arn:aws:chime:us-east-1:123456789012:sma/aaaaaaaa-1111-2222-3333-444444444444"
SMA_B = "arn:aws:chime:us-east-1:123456789012:sma/bbbbbbbb-1111-2222-3333-444444444444"


@pytest.fixture(scope="module")
def default_template(make_stack: Callable[..., cdk.Stack]) -> Template:
    stack = make_stack()
    PromptBucket(stack, "Prompts")
    return Template.from_stack(stack)


@pytest.fixture(scope="module")
def granted(make_stack: Callable[..., cdk.Stack]) -> Template:
    """Two SMAs granted the same prefix (one twice), and a second prefix for one of them."""
    stack = make_stack()
    prompts = PromptBucket(stack, "Prompts")
    prompts.grant_play(SMA_A, key_prefix="prompts/")
    prompts.grant_play(SMA_B, key_prefix="prompts/")
    prompts.grant_play(SMA_A, key_prefix="prompts/")
    prompts.grant_play(SMA_B, key_prefix="other/")
    return Template.from_stack(stack)


def test_prompt_bucket_defaults_are_secure_and_keep_data(default_template: Template) -> None:
    default_template.has_resource(
        "AWS::S3::Bucket",
        {
            "DeletionPolicy": "Retain",
            "UpdateReplacePolicy": "Retain",
            "Properties": Match.object_like(
                {
                    "BucketEncryption": {
                        "ServerSideEncryptionConfiguration": [
                            {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
                        ]
                    },
                    "VersioningConfiguration": {"Status": "Enabled"},
                    "PublicAccessBlockConfiguration": {
                        "BlockPublicAcls": True,
                        "BlockPublicPolicy": True,
                        "IgnorePublicAcls": True,
                        "RestrictPublicBuckets": True,
                    },
                    "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
                    "LoggingConfiguration": {
                        "DestinationBucketName": {"Ref": Match.string_like_regexp("AccessLogs")},
                        "LogFilePrefix": "prompt-bucket/",
                    },
                }
            ),
        },
    )


def test_both_buckets_retain_and_enforce_tls(default_template: Template) -> None:
    buckets = default_template.find_resources("AWS::S3::Bucket")
    assert len(buckets) == 2
    for bucket in buckets.values():
        assert bucket["DeletionPolicy"] == "Retain"
        assert "AES256" in str(bucket["Properties"]["BucketEncryption"])
    for policy in default_template.find_resources("AWS::S3::BucketPolicy").values():
        statements = policy["Properties"]["PolicyDocument"]["Statement"]
        assert any(
            s["Effect"] == "Deny"
            and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
            and s["Principal"] == {"AWS": "*"}
            for s in statements
        )


def test_no_chime_access_without_a_grant(default_template: Template) -> None:
    assert chime_statements(default_template) == []


def prompt_bucket_logical_id(template: Template) -> str:
    """The logical id of the bucket that logs to the other one: the prompt bucket."""
    (logical_id,) = template.find_resources(
        "AWS::S3::Bucket", {"Properties": {"LoggingConfiguration": Match.any_value()}}
    )
    return logical_id


def test_grant_play_writes_exactly_the_statement_chime_needs(granted: Template) -> None:
    statements = {s["Sid"]: s for s in chime_statements(granted)}
    bucket_id = prompt_bucket_logical_id(granted)
    assert statements["ChimePlayAudioRead1"] == {
        "Sid": "ChimePlayAudioRead1",
        "Effect": "Allow",
        "Principal": {"Service": "voiceconnector.chime.amazonaws.com"},
        "Action": "s3:GetObject",
        "Resource": {"Fn::Join": ["", [{"Fn::GetAtt": [bucket_id, "Arn"]}, "/prompts/*"]]},
        "Condition": {
            "StringEquals": {
                "aws:SourceAccount": "123456789012",
                "aws:SourceArn": [SMA_A, SMA_B],
            }
        },
    }


def test_grant_play_for_another_prefix_is_its_own_statement(granted: Template) -> None:
    statements = {s["Sid"]: s for s in chime_statements(granted)}
    assert set(statements) == {"ChimePlayAudioRead1", "ChimePlayAudioRead2"}
    other = statements["ChimePlayAudioRead2"]
    assert other["Resource"]["Fn::Join"][1][1] == "/other/*"
    assert other["Condition"]["StringEquals"]["aws:SourceArn"] == [SMA_B]


def test_chime_gets_no_list_put_or_wildcard_action(granted: Template) -> None:
    for statement in chime_statements(granted):
        assert statement["Action"] == "s3:GetObject"
        assert statement["Effect"] == "Allow"
        assert set(statement["Condition"]["StringEquals"]) == {
            "aws:SourceAccount",
            "aws:SourceArn",
        }


def test_grant_play_without_prefix_covers_the_bucket(make_stack: Callable[..., cdk.Stack]) -> None:
    stack = make_stack()
    PromptBucket(stack, "Prompts").grant_play(SMA_A)
    (statement,) = chime_statements(Template.from_stack(stack))
    assert statement["Resource"]["Fn::Join"][1][1] == "/*"


def test_grant_play_accepts_token_arn_and_account(make_bare_app: Callable[..., cdk.App]) -> None:
    stack = cdk.Stack(make_bare_app(), "Agnostic")
    sma_arn = cdk.Fn.import_value("SmaArn")
    PromptBucket(stack, "Prompts").grant_play(sma_arn)
    (statement,) = chime_statements(Template.from_stack(stack))
    assert statement["Condition"]["StringEquals"] == {
        "aws:SourceAccount": {"Ref": "AWS::AccountId"},
        "aws:SourceArn": [{"Fn::ImportValue": "SmaArn"}],
    }


@pytest.mark.parametrize(
    ("bad_arn", "expected"),
    [
        ("arn:aws:s3:::bucket", "expected a SIP media application ARN"),
        ("sma-1234", "sma_arn is 'sma-1234'"),
    ],
)
def test_grant_play_rejects_a_non_sma_arn(
    make_stack: Callable[..., cdk.Stack], bad_arn: str, expected: str
) -> None:
    prompts = PromptBucket(make_stack(), "Prompts")
    with pytest.raises(ValueError, match=expected):
        prompts.grant_play(bad_arn)


@pytest.mark.parametrize("bad_prefix", ["/prompts/", "prompts/*", "p?"])
def test_grant_play_rejects_wildcard_or_rooted_prefix(
    make_stack: Callable[..., cdk.Stack], bad_prefix: str
) -> None:
    prompts = PromptBucket(make_stack(), "Prompts")
    with pytest.raises(ValueError, match=r"grant_play: key_prefix is '.*'; expected no "):
        prompts.grant_play(SMA_A, key_prefix=bad_prefix)


def test_existing_bucket_with_settings_is_one_error(make_stack: Callable[..., cdk.Stack]) -> None:
    stack = make_stack()
    existing = s3.Bucket.from_bucket_name(stack, "Existing", "my-prompts")
    with pytest.raises(ValueError) as raised:
        PromptBucket(
            stack,
            "Prompts",
            existing_bucket=existing,
            versioned=False,
            removal_policy=cdk.RemovalPolicy.DESTROY,
        )
    message = str(raised.value)
    assert "existing_bucket was passed together with bucket settings" in message
    assert "(removal_policy, versioned)" in message


def test_imported_bucket_gets_a_warning_with_the_statement(
    make_stack: Callable[..., cdk.Stack],
) -> None:
    stack = make_stack()
    # CloudFormation refuses a template without resources; this stack's only one is a stand-in.
    cdk.CfnResource(stack, "StandIn", type="AWS::CloudFormation::WaitConditionHandle")
    existing = s3.Bucket.from_bucket_name(stack, "Existing", "my-prompts")
    prompts = PromptBucket(stack, "Prompts", existing_bucket=existing)
    prompts.grant_play(SMA_A, key_prefix="prompts/")
    assert prompts.bucket is existing
    assert prompts.log_bucket is None
    template = Template.from_stack(stack)
    template.resource_count_is("AWS::S3::Bucket", 0)
    template.resource_count_is("AWS::S3::BucketPolicy", 0)
    warnings = Annotations.from_stack(stack).find_warning(
        "/TestStack/Prompts", Match.string_like_regexp("cannot be changed by this stack")
    )
    assert len(warnings) == 1
    text = str(warnings[0].entry.data)
    assert '"Service": "voiceconnector.chime.amazonaws.com"' in text
    assert '"Action": "s3:GetObject"' in text
    assert '"arn:aws:s3:::my-prompts/prompts/*"' in text
    assert SMA_A in text
    assert "constructs-pkg:prompt-bucket-policy-not-managed" in text


def test_existing_managed_bucket_gets_the_statement_without_warning(
    make_stack: Callable[..., cdk.Stack],
) -> None:
    stack = make_stack()
    existing = s3.Bucket(stack, "Mine", enforce_ssl=True)
    PromptBucket(stack, "Prompts", existing_bucket=existing).grant_play(SMA_A)
    assert len(chime_statements(Template.from_stack(stack))) == 1
    Annotations.from_stack(stack).has_no_warning("*", Match.any_value())


def test_settings_override_the_defaults(make_stack: Callable[..., cdk.Stack]) -> None:
    stack = make_stack()
    logs = s3.Bucket(stack, "SharedLogs")
    prompts = PromptBucket(
        stack,
        "Prompts",
        removal_policy=cdk.RemovalPolicy.DESTROY,
        server_access_logs_bucket=logs,
        server_access_logs_prefix="chime/",
        versioned=False,
    )
    assert prompts.log_bucket is logs
    template = Template.from_stack(stack)
    template.resource_count_is("AWS::S3::Bucket", 2)
    bucket = template.find_resources(
        "AWS::S3::Bucket", {"Properties": {"LoggingConfiguration": Match.any_value()}}
    )
    (resource,) = bucket.values()
    assert resource["DeletionPolicy"] == "Delete"
    assert resource["Properties"]["LoggingConfiguration"]["LogFilePrefix"] == "chime/"
    assert "VersioningConfiguration" not in resource["Properties"]
