"""Exemptions of the resources this library's constructs create, with why each is safe.

Each construct names what it exempts in one line (``exempt_prompt_bucket(bucket)``,
``package_function(..., exemptions=SAMPLE_HANDLER_EXEMPTIONS)``); the reasons are here.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3

from constructs_pkg.compliance.exemptions import (
    ANY_RESOURCE,
    BUCKET_ACCESS_LOGS,
    BUCKET_KMS,
    BUCKET_REPLICATION,
    DEPLOY_TIME_CONCURRENCY,
    INLINE_POLICY,
    LOG_GROUP_KMS,
    FunctionExemptions,
    exempt,
    exempt_function,
)

_PROMPT_BUCKET_SSE_S3 = (
    "Prompts are encrypted at rest with SSE-S3 (AES-256) on purpose: whether Chime PlayAudio, "
    "which reads them as a service principal through the bucket policy, can read SSE-KMS "
    "objects is unverified, and a prompt Chime cannot read fails live calls. They are "
    "announcements played to every caller, not caller data."
)
_PROMPT_BUCKET_NOT_REPLICATED = (
    "Prompts are published audio, not records: the deployed ones are rebuilt from the source "
    "folder by every deploy, and versioning plus RETAIN keep every version of every object, "
    "hand-uploaded prompts included. Replication needs a bucket in another region, which this "
    "single-region construct cannot create; an SMA in another region gets its own stack."
)
_LOG_BUCKET_SSE_S3 = (
    "S3 server access logging delivers only to target buckets whose default encryption is "
    "SSE-S3; SSE-KMS default encryption is not supported on a log target bucket, so the logs "
    "are encrypted at rest with SSE-S3 (AES-256)."
)
_LOG_BUCKET_NOT_REPLICATED = (
    "Access logs are versioned and RETAINed, so no stack operation overwrites or deletes "
    "them. Replication needs a bucket in another region that this single-region construct "
    "cannot create; to keep a second copy, pass a server_access_logs_bucket that replicates."
)
_LOG_BUCKET_NO_ACCESS_LOGS = (
    "This is the access-log destination; logging it into itself would write a log record "
    "for every log record delivered."
)
_SIP_MESSAGES_ENCRYPTION = (
    "The Amazon Chime SDK service writes this group itself, and documents no way to give it "
    "a customer-managed KMS key for SIP media application logs, so a key could lock the "
    "service out of its own log group. CloudWatch Logs encrypts all log data at rest "
    "already; the group's retention bounds how long the callers' numbers are kept."
)
_SIP_RULE_API_ON_ANY_RESOURCE = (
    "GetSipRule and DeleteSipRule support no resource-level permissions, and SIP rules have "
    "no resource type; the actions are limited to the SIP rule API."
)
_OWN_ROLE_INLINE_POLICY = (
    "The function's own role keeps its permissions in its inline default policy: bound "
    "one-to-one to this role, deleted with it and attachable to no other principal, the "
    "case AWS recommends inline policies for. It holds only what this function needs."
)


@dataclass(frozen=True)
class OwnFunctionExemptions:
    """Why a function of this library (``_lambda.package_function``) is safe without what
    the checks ask: of every function (``function``), and of its log group, without a
    customer-managed KMS key (``logs``: say what the function logs)."""

    function: FunctionExemptions
    logs: str


SAMPLE_HANDLER_EXEMPTIONS = OwnFunctionExemptions(
    FunctionExemptions(
        concurrency="The SMA invokes the handler synchronously for each call event and waits "
        "for its actions, so a reserved-concurrency cap would throttle live calls (the caller "
        "hears a failed call) exactly when traffic peaks; its resource policy lets only Chime, "
        "for this account, invoke it, so its load is the SMA's call events and nothing else.",
        dead_letter="Chime invokes the handler synchronously and acts on its response; Lambda "
        "sends only asynchronous invocations to a dead-letter queue, so one would stay empty. "
        "The handler never raises (it answers Hangup), and the SMA itself handles a failed "
        "invocation.",
        vpc="The handler makes no network call: it returns PlayAudio and Hangup actions built "
        "from its environment, and Chime, not the handler, reads the audio from S3. There is "
        "no VPC resource to reach, and a handler that must answer in milliseconds gains "
        "nothing from network interfaces in subnets.",
        tracing="The handler calls no other service, so an X-Ray trace would show only its own "
        "duration, which Lambda's REPORT log line and metrics already record; active tracing "
        "would also need xray:PutTraceSegments on every resource in its role.",
        environment="Its variables are the bucket name, the prompt catalog's path in its "
        "layer, prompt names, the languages of your phone numbers and playback settings, all "
        "visible in the template anyway; nothing secret, and Lambda encrypts them at rest "
        "with its AWS managed key.",
    ),
    logs="The handler logs only on failures: event type, call and transaction ids, the failed "
    "action (it issues only PlayAudio and Hangup) with its prompt key, and Chime's error "
    "message; no phone numbers, argument values or audio. CloudWatch Logs encrypts all log "
    "data at rest already.",
)

# A chime-sdk-voice custom-resource handler (custom_resources/), behind the provider framework.
_CHIME_API_HANDLER = FunctionExemptions(
    concurrency=DEPLOY_TIME_CONCURRENCY,
    dead_letter="The provider framework invokes the handler synchronously and reports its "
    "error to CloudFormation, which fails and rolls back the stack operation; Lambda sends "
    "only asynchronous invocations to a dead-letter queue, so one would stay empty.",
    vpc="The handler calls only the public chime-sdk-voice API; there is no VPC resource for "
    "it to reach, and inside a VPC it would need a route out (a NAT gateway) just to reach "
    "that API.",
    tracing="A deploy-time custom-resource handler without the X-Ray SDK: active tracing would "
    "record only the invocation, while the handler already logs every API call with its "
    "outcome and duration.",
)
SIP_RULE_HANDLER_EXEMPTIONS = OwnFunctionExemptions(
    _CHIME_API_HANDLER,
    logs="The handler logs one line per chime-sdk-voice call (operation, rule name, outcome, "
    "milliseconds) and the rule ids it adopts or replaces: deployment facts with no caller "
    "data and no secrets. CloudWatch Logs encrypts all log data at rest already.",
)
SIP_MESSAGE_LOGS_HANDLER_EXEMPTIONS = OwnFunctionExemptions(
    _CHIME_API_HANDLER,
    logs="The handler logs one line per chime-sdk-voice call (operation, SMA id, outcome, "
    "milliseconds): deployment facts with no caller data and no secrets. CloudWatch Logs "
    "encrypts all log data at rest already.",
)


def exempt_own_function(
    function: lambda_.Function,
    *,
    log_group: logs.LogGroup,
    role: iam.Role,
    exemptions: OwnFunctionExemptions,
) -> None:
    """A function of ``_lambda.package_function``, its own log group and its own role's
    inline default policy."""
    exempt(log_group, {LOG_GROUP_KMS: exemptions.logs})
    exempt(role.node.find_child("DefaultPolicy"), {INLINE_POLICY: _OWN_ROLE_INLINE_POLICY})
    exempt_function(function, exemptions.function)


def exempt_prompt_bucket(bucket: s3.Bucket) -> None:
    """PromptBucket's bucket: SSE-S3, not replicated."""
    exempt(
        bucket,
        {BUCKET_KMS: _PROMPT_BUCKET_SSE_S3, BUCKET_REPLICATION: _PROMPT_BUCKET_NOT_REPLICATED},
    )


def exempt_access_log_bucket(bucket: s3.Bucket) -> None:
    """PromptBucket's access-log bucket: no access logs of its own, SSE-S3, not replicated."""
    exempt(
        bucket,
        {
            BUCKET_ACCESS_LOGS: _LOG_BUCKET_NO_ACCESS_LOGS,
            BUCKET_KMS: _LOG_BUCKET_SSE_S3,
            BUCKET_REPLICATION: _LOG_BUCKET_NOT_REPLICATED,
        },
    )


def exempt_sip_messages_log_group(log_group: logs.LogGroup) -> None:
    """The log group the Chime SDK writes an SMA's SIP messages to: no customer-managed key."""
    exempt(log_group, {LOG_GROUP_KMS: _SIP_MESSAGES_ENCRYPTION})


def exempt_sip_rule_api(role: iam.IRole) -> None:
    """The SIP rule handler's role: the chime:*SipRule actions on Resource "*"."""
    exempt(role.node.find_child("DefaultPolicy"), {ANY_RESOURCE: _SIP_RULE_API_ON_ANY_RESOURCE})
