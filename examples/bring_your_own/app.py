#!/usr/bin/env python3
"""Bring your own bucket and function, and the compliance packs on your own app.

Two of the cases a user starts from, in one app because the second needs the first:

- **Your bucket, your function.** You create the prompt bucket (secure settings, its
  own access-log bucket) and the SMA's Lambda (inline code, its own role and encrypted
  log group), and pass them in: ``PromptBucket(existing_bucket=...)`` puts Chime's
  read statement on your bucket's policy, ``WavPrompts`` deploys ``prompts/`` into it,
  and ``SipMediaApplication(function=...)`` makes your function the SMA's endpoint and
  lets Chime invoke it.
- **The compliance packs.** ``add_compliance_packs`` runs the five cdk-nag 3 packs
  (AwsSolutions, HIPAA Security, NIST 800-53 rev 5, PCI DSS 3.2.1, Serverless) on
  every synth; a finding nobody acknowledged fails it. The constructs' own resources
  come out clean with nothing acknowledged by you; the findings on your bucket and
  function are yours: fixed here where that is easy, otherwise acknowledged on the
  exact resource with the reason (``acknowledge``, with the full finding id).

Run ``cdk synth`` in this folder, with the venv that has ``chime-playaudio-constructs``
and ``cdk-nag`` active. cdk.json turns on
``@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy`` (``cdk init`` does too): without
it aws-cdk-lib grants your log bucket's delivery by ACL, which bucket-owner-enforced
ownership forbids.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from cdk_nag import (
    AwsSolutionsChecks,
    HIPAASecurityChecks,
    NIST80053R5Checks,
    PCIDSS321Checks,
    ServerlessChecks,
)
from constructs import Construct, IConstruct

from constructs_pkg import PromptBucket, SipMediaApplication, WavPrompts

HERE = Path(__file__).resolve().parent

# Your own SMA handler: plays the welcome prompt, then hangs up; any other
# event gets a Hangup, and a finished Hangup or a HANGUP event gets no actions.
IVR_CODE = """
import os

def _source(key):
    return {"Type": "S3", "BucketName": os.environ["PROMPTS_BUCKET"], "Key": key}

def handler(event, context):
    event = event if isinstance(event, dict) else {}
    kind = event.get("InvocationEventType")
    data = event.get("ActionData") if isinstance(event.get("ActionData"), dict) else {}
    if kind in ("NEW_INBOUND_CALL", "CALL_ANSWERED"):
        welcome = _source(os.environ["WELCOME_KEY"])
        actions = [
            {"Type": "PlayAudio", "Parameters": {"AudioSource": welcome}},
            {"Type": "Hangup", "Parameters": {"SipResponseCode": "0"}},
        ]
    elif kind == "HANGUP" or data.get("Type") == "Hangup":
        actions = []
    else:
        actions = [{"Type": "Hangup", "Parameters": {"SipResponseCode": "0"}}]
    return {"SchemaVersion": "1.0", "Actions": actions}
"""


def acknowledge(scope: IConstruct, reason: str, *finding_ids: str) -> None:
    """Acknowledge findings (full ids, ``Pack::Rule``) on one construct, with one reason."""
    for finding_id in finding_ids:
        cdk.Validations.of(scope).acknowledge(cdk.Acknowledgment(id=finding_id, reason=reason))


def secure_bucket(
    scope: Construct,
    construct_id: str,
    *,
    access_logs: s3.IBucket | None = None,
    access_logs_prefix: str | None = None,
) -> s3.Bucket:
    """The settings every bucket of this app gets: SSE-S3, versioned, private, TLS only."""
    return s3.Bucket(
        scope,
        construct_id,
        encryption=s3.BucketEncryption.S3_MANAGED,
        versioned=True,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        enforce_ssl=True,
        object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        removal_policy=cdk.RemovalPolicy.RETAIN,
        server_access_logs_bucket=access_logs,
        server_access_logs_prefix=access_logs_prefix,
    )


class IvrStack(cdk.Stack):
    """An IVR built from the constructs around your own bucket and function."""

    def __init__(
        self, scope: Construct, construct_id: str, *, env: cdk.Environment | None = None
    ) -> None:
        super().__init__(scope, construct_id, env=env)

        # --- the bucket you bring -----------------------------------------------------
        self.access_logs = secure_bucket(self, "AccessLogs")
        self.bucket = secure_bucket(
            self, "Prompts", access_logs=self.access_logs, access_logs_prefix="prompts/"
        )
        both_buckets_reason = (
            "Prompts are rebuilt from source by every deployment and access logs are "
            "diagnostics, so a second-region replica is not needed; versioning and "
            "RETAIN already keep them from being lost."
        )
        for bucket in (self.bucket, self.access_logs):
            acknowledge(
                bucket,
                both_buckets_reason,
                "HIPAA.Security::HIPAA.Security-S3BucketReplicationEnabled",
                "NIST.800.53.R5::NIST.800.53.R5-S3BucketReplicationEnabled",
                "PCI.DSS.321::PCI.DSS.321-S3BucketReplicationEnabled",
            )
            acknowledge(
                bucket,
                "SSE-S3 (AES-256) encrypts every object; whether Chime PlayAudio can read "
                "SSE-KMS prompts is not documented, so the prompt bucket and its log bucket "
                "stay on SSE-S3.",
                "HIPAA.Security::HIPAA.Security-S3DefaultEncryptionKMS",
                "NIST.800.53.R5::NIST.800.53.R5-S3DefaultEncryptionKMS",
                "PCI.DSS.321::PCI.DSS.321-S3DefaultEncryptionKMS",
            )

        self.prompt_bucket = PromptBucket(self, "PromptBucket", existing_bucket=self.bucket)
        self.prompts = WavPrompts(
            self, "PromptFiles", prompt_bucket=self.prompt_bucket, source_dir=HERE / "prompts"
        )

        # --- the function you bring ---------------------------------------------------
        # An IVR's logs can carry callers' phone numbers: encrypted with a key of its own.
        self.log_key = kms.Key(
            self,
            "IvrLogsKey",
            description="Encrypts the IVR function's logs.",
            enable_key_rotation=True,
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        self.log_key.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[iam.ServicePrincipal(f"logs.{self.region}.amazonaws.com")],
                actions=[
                    "kms:Encrypt*",
                    "kms:Decrypt*",
                    "kms:ReEncrypt*",
                    "kms:GenerateDataKey*",
                    "kms:Describe*",
                ],
                resources=["*"],
                conditions={
                    "ArnLike": {
                        "kms:EncryptionContext:aws:logs:arn": self.format_arn(
                            service="logs",
                            resource="log-group",
                            resource_name="*",
                            arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
                        )
                    }
                },
            )
        )
        self.log_group = logs.LogGroup(
            self,
            "IvrLogs",
            retention=logs.RetentionDays.THREE_MONTHS,
            encryption_key=self.log_key,
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        role = iam.Role(
            self,
            "IvrRole",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description="Runs the IVR function: writes its own logs only.",
        )
        # A policy of its own, not the role's inline DefaultPolicy (IAMNoInlinePolicy).
        iam.ManagedPolicy(
            self,
            "IvrLogsWrite",
            description="Lets the IVR function write its own log group, and nothing else.",
            statements=[
                iam.PolicyStatement(
                    actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                    resources=[self.log_group.log_group_arn],
                )
            ],
            roles=[role],
        )
        self.function = lambda_.Function(
            self,
            "Ivr",
            runtime=lambda_.Runtime.PYTHON_3_14,
            architecture=lambda_.Architecture.ARM_64,
            handler="index.handler",
            code=lambda_.Code.from_inline(IVR_CODE),
            memory_size=128,
            # The SMA retries after 5 s without an answer: finish (or fail) well before.
            timeout=cdk.Duration.seconds(3),
            role=role,
            log_group=self.log_group,
            logging_format=lambda_.LoggingFormat.JSON,
            environment={
                "PROMPTS_BUCKET": self.bucket.bucket_name,
                "WELCOME_KEY": self.prompts.prompt("welcome").key,
            },
            description="The IVR: plays the welcome prompt, then hangs up.",
        )
        acknowledge(
            self.function,
            "Chime invokes the SMA handler synchronously and retries it itself; a dead-letter "
            "queue or failure destination only applies to asynchronous invocations.",
            "HIPAA.Security::HIPAA.Security-LambdaDLQ",
            "NIST.800.53.R5::NIST.800.53.R5-LambdaDLQ",
            "Serverless::Serverless-LambdaDLQ",
        )
        acknowledge(
            self.function,
            "The function reaches no private resource (it only returns actions to Chime), "
            "so a VPC would add network interfaces and cold-start time and no protection.",
            "HIPAA.Security::HIPAA.Security-LambdaInsideVPC",
            "NIST.800.53.R5::NIST.800.53.R5-LambdaInsideVPC",
            "PCI.DSS.321::PCI.DSS.321-LambdaInsideVPC",
        )
        acknowledge(
            self.function,
            "Reserved concurrency would cap simultaneous calls, and cannot be set at all in "
            "an account still at the default concurrency quota; account-level alarms cover "
            "runaway invocations.",
            "HIPAA.Security::HIPAA.Security-LambdaConcurrency",
            "NIST.800.53.R5::NIST.800.53.R5-LambdaConcurrency",
        )
        acknowledge(
            self.function,
            "Each invocation is one short in-memory decision with no downstream call to "
            "trace; Lambda's JSON logs and metrics cover it, and X-Ray would need a "
            "wildcard-resource grant on the role.",
            "Serverless::Serverless-LambdaTracing",
        )

        self.sma = SipMediaApplication(
            self, "Sma", prompts=[self.prompts], function=self.function, name="My IVR"
        )


def add_compliance_packs(app: cdk.App) -> None:
    """Run the five cdk-nag 3 packs on every synth of ``app``: a finding that is not
    acknowledged fails the synth."""
    cdk.Validations.of(app).add_plugins(
        AwsSolutionsChecks(app),
        HIPAASecurityChecks(app),
        NIST80053R5Checks(app),
        PCIDSS321Checks(app),
        ServerlessChecks(app),
    )


app = cdk.App()
# A region where CloudFormation can create SMAs, set here rather than taken from your AWS
# profile: a profile in us-west-2 or us-east-2 would make a stack the SMA cannot be in.
try:
    IvrStack(
        app,
        "IvrStack",
        env=cdk.Environment(
            account=os.environ.get("CDK_DEFAULT_ACCOUNT") or None, region="us-east-1"
        ),
    )
except ValueError as error:  # a misuse of the constructs: one message, not a traceback
    sys.exit(f"IvrStack: {error}")
add_compliance_packs(app)
app.synth()
