"""Every public construct, alone and composed, in one App: what the feature-flag matrix synthesizes.

Stacks (us-east-1, account 123456789012):

- ``BucketOnly``: a PromptBucket and one grant_play.
- ``PromptsOnly``: a PromptBucket and WavPrompts, no SMA (bring your own).
- ``SmaOnly``: a SipMediaApplication around the user's function, no prompts.
- ``Own``: PromptBucket, WavPrompts, the sample handler's SMA (its alias and rollout), a
  phone-number SipRule, SipMessageLogs and CallMonitoring (its own topic, rollback alarms).
- ``Brought``: the user's bucket and function (bound to the prompt catalog), wrapped, with
  a host-name SipRule, SipMessageLogs into the user's existing log group
  (``create_log_group=False``) and CallMonitoring sending to the user's topic.

The user's own resources (``USER_PATHS``) are the user's to make compliant; the matrix
holds the constructs to every cdk-nag pack.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns

from app import add_compliance_packs
from constructs_pkg import (
    CallMonitoring,
    PromptBucket,
    SipMediaApplication,
    SipMessageLogs,
    SipRule,
    WavPrompts,
)

ENV = cdk.Environment(account="123456789012", region="us-east-1")
SMA_ARN = "arn:aws:chime:us-east-1:123456789012:sma/0f0e0d0c-0b0a-4000-8000-000000000001"
STACKS = ("BucketOnly", "PromptsOnly", "SmaOnly", "Own", "Brought")
# Construct paths of what the user brings: their findings are not the library's.
USER_PATHS = (
    "SmaOnly/UserFunction",
    "Brought/UserBucket",
    "Brought/UserFunction",
    "Brought/UserTopic",
)

USER_HANDLER = """
def handler(event, context):
    return {"SchemaVersion": "1.0", "Actions": [{"Type": "Hangup", "Parameters": {}}]}
"""


def user_function(stack: cdk.Stack) -> lambda_.Function:
    return lambda_.Function(
        stack,
        "UserFunction",
        runtime=lambda_.Runtime.PYTHON_3_13,
        handler="index.handler",
        code=lambda_.Code.from_inline(USER_HANDLER),
    )


def build(context: dict[str, Any], outdir: Path, prompts_dir: Path) -> cdk.App:
    """The matrix App under ``context``, with the five compliance packs."""
    app = cdk.App(outdir=str(outdir), context=context)

    bucket_only = cdk.Stack(app, "BucketOnly", env=ENV)
    PromptBucket(bucket_only, "Prompts").grant_play(SMA_ARN, key_prefix="prompts/")

    prompts_only = cdk.Stack(app, "PromptsOnly", env=ENV)
    WavPrompts(
        prompts_only,
        "PromptFiles",
        prompt_bucket=PromptBucket(prompts_only, "Prompts"),
        source_dir=prompts_dir,
    ).grant_play(SMA_ARN)

    sma_only = cdk.Stack(app, "SmaOnly", env=ENV)
    SipMediaApplication(sma_only, "Sma", function=user_function(sma_only))

    own = cdk.Stack(app, "Own", env=ENV)
    own_prompts = WavPrompts(
        own, "PromptFiles", prompt_bucket=PromptBucket(own, "Prompts"), source_dir=prompts_dir
    )
    own_sma = SipMediaApplication(own, "Sma", prompts=[own_prompts])
    SipRule(own, "Rule", sip_media_application=own_sma, phone_number="+12065550100")
    SipMessageLogs(own, "SipMessageLogs", sip_media_application=own_sma)
    CallMonitoring(own, "Monitoring", sip_media_application=own_sma)

    brought = cdk.Stack(app, "Brought", env=ENV)
    user_bucket = s3.Bucket(brought, "UserBucket", enforce_ssl=True)
    brought_prompts = WavPrompts(
        brought,
        "PromptFiles",
        prompt_bucket=PromptBucket(brought, "Prompts", existing_bucket=user_bucket),
        source_dir=prompts_dir,
    )
    brought_function = user_function(brought)
    brought_prompts.bind(brought_function)
    brought_sma = SipMediaApplication(
        brought, "Sma", prompts=[brought_prompts], function=brought_function
    )
    SipRule(
        brought,
        "Rule",
        sip_media_application=brought_sma,
        request_uri_hostname="abcdef1ghij2klmno3pqr4.voiceconnector.chime.aws",
    )
    SipMessageLogs(
        brought, "SipMessageLogs", sip_media_application=brought_sma, create_log_group=False
    )
    CallMonitoring(
        brought,
        "Monitoring",
        sip_media_application=brought_sma,
        alarm_topic=sns.Topic(brought, "UserTopic"),
    )

    add_compliance_packs(app)
    return app
