"""A custom-resource provider for a chime-sdk-voice handler, with its compliance answers.

``SipRule`` and ``SipMessageLogs`` each put the CDK provider framework in front of one of
the handlers in ``constructs_pkg/handlers``. What they share is built here once: the
handler function (``Handler``, with ``HandlerLogs`` and ``HandlerRole``), the framework's
log group (``ProviderLogs``) and the ``Provider``, under the caller's scope with those
construct ids, and every cdk-nag and checkov finding on them acknowledged with why it is
safe. aws-cdk-lib's own children are found by what they are (``resources_of_type``), not
by an id that depends on the app's feature flags.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import custom_resources as cr
from constructs import Construct

from constructs_pkg._checks import (
    BASIC_EXECUTION_ROLE,
    DEPLOY_TIME_CONCURRENCY,
    INLINE_POLICY,
    LOG_GROUP_KMS,
    MEMORY_SIZE,
    FunctionExemptions,
    exempt,
    exempt_function,
    resources_of_type,
)
from constructs_pkg._lambda import package_function
from constructs_pkg._nag import acknowledge, wildcard_resource_finding

# The handlers keep one deadline per event, from the Lambda context's remaining time
# (handlers/_deadline.py: CALL_SECONDS, RESPONSE_SECONDS): they fail with the cause before this.
HANDLER_TIMEOUT = cdk.Duration.minutes(2)

# Why a chime-sdk-voice handler is safe without what the compliance checks ask of every function.
HANDLER_EXEMPTIONS = FunctionExemptions(
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
# aws-cdk-lib's provider framework function: the same questions, answered for it.
FRAMEWORK_EXEMPTIONS = FunctionExemptions(
    concurrency=DEPLOY_TIME_CONCURRENCY,
    dead_letter="aws-cdk-lib's provider framework answers CloudFormation's pre-signed response "
    "URL itself, FAILED with the handler's error included, so a failure fails the stack "
    "operation visibly; an event parked in a dead-letter queue could not be answered later.",
    vpc="aws-cdk-lib's provider framework only invokes this construct's handler through the "
    "Lambda API and answers CloudFormation's pre-signed S3 URL; there is no VPC resource for "
    "it to reach.",
    tracing="aws-cdk-lib's provider framework offers no tracing setting; each run is one "
    "CloudFormation event, recorded in the stack's events and in the ProviderLogs group.",
    environment="Its only variable is USER_ON_EVENT_FUNCTION_ARN, the ARN of this construct's "
    "handler, which the template shows anyway; Lambda encrypts it at rest with its AWS "
    "managed key.",
)


@dataclass(frozen=True)
class ChimeApiProvider:
    """What ``chime_api_provider`` made: the handler, its role, and the provider."""

    handler: lambda_.Function
    role: iam.IRole
    provider: cr.Provider


def chime_api_provider(
    scope: Construct,
    *,
    handler: str,
    description: str,
    role_description: str,
    handler_logs: str,
    statements: Sequence[iam.PolicyStatement],
) -> ChimeApiProvider:
    """The handler ``handler`` (``handlers.<module>.on_event``) behind a provider framework.

    :param description: the function's description.
    :param role_description: the description of the handler's own role.
    :param handler_logs: why the handler's log group needs no customer-managed KMS key
        (say what the handler logs).
    :param statements: what the handler may call, added to its role's default policy
        before the provider is made.
    """
    function = package_function(
        scope,
        "Handler",
        folder="handlers",
        handler=handler,
        memory_size=256,
        timeout=HANDLER_TIMEOUT,
        log_retention=logs.RetentionDays.THREE_MONTHS,
        description=description,
        role_description=role_description,
        exemptions=HANDLER_EXEMPTIONS,
        log_encryption=handler_logs,
    )
    role = function.role
    assert role is not None, "package_function always gives the function a role"
    for statement in statements:
        role.add_to_principal_policy(statement)
    provider_logs = logs.LogGroup(scope, "ProviderLogs", retention=logs.RetentionDays.THREE_MONTHS)
    provider = cr.Provider(scope, "Provider", on_event_handler=function, log_group=provider_logs)
    _acknowledge_provider(provider, provider_logs)
    return ChimeApiProvider(function, role, provider)


def _acknowledge_provider(provider: cr.Provider, log_group: logs.LogGroup) -> None:
    """Findings on aws-cdk-lib's provider framework function, each with why it is safe."""
    framework = provider.node.find_child("framework-onEvent")
    exempt_function(framework, FRAMEWORK_EXEMPTIONS)
    exempt(
        framework,
        MEMORY_SIZE,
        "aws-cdk-lib's provider framework only relays one CloudFormation event to the "
        "handler and posts the answer; Lambda's default 128 MB is ample for that, and the "
        "Provider offers no memory setting.",
    )
    exempt(
        log_group,
        LOG_GROUP_KMS,
        "The provider framework logs at level FATAL only, so this group holds Lambda's "
        "start, end and report lines and fatal errors: no caller data and no secrets. "
        "CloudWatch Logs encrypts all log data at rest already.",
    )
    role = framework.node.find_child("ServiceRole")
    # lambda:GetFunction on the handler goes to a policy of its own with
    # @aws-cdk/aws-lambda:createNewPoliciesWithAddToRolePolicy, else to DefaultPolicy.
    default_policy = role.node.find_child("DefaultPolicy").node.default_child
    for policy in resources_of_type(framework, "AWS::IAM::Policy"):
        if policy is not default_policy:
            exempt(
                policy,
                INLINE_POLICY,
                "aws-cdk-lib's provider framework adds lambda:GetFunction on this "
                "construct's handler only, inline in its own role: bound to that role "
                "alone and deleted with it.",
            )
    exempt(
        role,
        BASIC_EXECUTION_ROLE,
        "aws-cdk-lib gives its provider framework's role AWSLambdaBasicExecutionRole, which "
        "allows only creating log groups and streams and putting log events: it reads no "
        "log and reaches no other service.",
    )
    handler_arn = provider.on_event_handler.function_arn
    acknowledge(
        role.node.find_child("DefaultPolicy"),
        wildcard_resource_finding(role, "AwsSolutions::AwsSolutions-IAM5", f"{handler_arn}:*"),
        "The provider framework may invoke any version of this construct's own handler "
        "function, and nothing else.",
    )
    exempt(
        role.node.find_child("DefaultPolicy"),
        INLINE_POLICY,
        "aws-cdk-lib's provider framework keeps lambda:InvokeFunction on this construct's "
        "handler inline in its own role: bound to that role alone and deleted with it.",
    )
