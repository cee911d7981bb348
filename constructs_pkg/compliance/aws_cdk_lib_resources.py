"""Exemptions of the resources aws-cdk-lib makes inside its own constructs, with why each is safe.

The BucketDeployment handler, the custom-resource provider framework and CodeDeploy's
rollout role are aws-cdk-lib's, with few or no settings for what the checks ask; the
constructs that use them call one function here each. aws-cdk-lib's children are found
by what they are (``resources_of_type``), not by an id that depends on the app's
feature flags.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_codedeploy as codedeploy
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_deployment as s3deploy
from aws_cdk import custom_resources as cr
from constructs import IConstruct

from constructs_pkg.compliance.exemptions import (
    BASIC_EXECUTION_ROLE,
    CODEDEPLOY_LAMBDA_ROLE,
    DEPLOY_TIME_CONCURRENCY,
    INLINE_POLICY,
    LOG_GROUP_KMS,
    Concern,
    FunctionExemptions,
    exempt,
    exempt_function,
)
from constructs_pkg.compliance.nag import (
    AWS_SOLUTIONS,
    finding,
    identity,
    wildcard_resource_finding,
)

_IAM5 = finding(AWS_SOLUTIONS, "IAM5")

# aws-cdk-lib's BucketDeployment handler; the construct offers none of these settings but a VPC.
DEPLOYMENT_HANDLER_EXEMPTIONS = FunctionExemptions(
    concurrency=DEPLOY_TIME_CONCURRENCY,
    dead_letter="CloudFormation invokes aws-cdk-lib's BucketDeployment handler for a custom "
    "resource, and the handler answers CloudFormation's pre-signed response URL itself, FAILED "
    "included, so a failed copy fails the stack operation visibly; an event parked in a "
    "dead-letter queue could not be answered later.",
    vpc="aws-cdk-lib's BucketDeployment handler reaches only S3 (the CDK asset bucket, the "
    "prompt bucket, CloudFormation's pre-signed response URL); there is no VPC resource for it "
    "to reach, and inside a VPC it would need a NAT gateway or S3 endpoint to work at all.",
    tracing="aws-cdk-lib's BucketDeployment handler offers no tracing setting and carries no "
    "X-Ray SDK; it runs only at deploy time, each run recorded in the stack's events and its "
    "own log group.",
    environment="Its only variable is AWS_CA_BUNDLE, the path of the CA certificate file in "
    "the runtime: nothing secret, and Lambda encrypts it at rest with its AWS managed key.",
    runtime="aws-cdk-lib sets its BucketDeployment handler's runtime, a Python version Lambda "
    "still supports, and offers no setting for it; a newer one comes with an aws-cdk-lib "
    "upgrade.",
)
_DEPLOYMENT_LOGS = (
    "The BucketDeployment handler logs its CloudFormation events (without the pre-signed "
    "response URL) and the `aws s3 sync` of the prompts: bucket names and object keys, no "
    "caller data, no secrets. CloudWatch Logs encrypts all log data at rest already."
)
_DEPLOYMENT_POLICY = (
    "aws-cdk-lib keeps the BucketDeployment handler's S3 grants inline in the handler's own "
    "role: bound to that role alone, deleted with it, attachable to no other principal."
)
_DEPLOYMENT_ROLE = (
    "aws-cdk-lib gives its BucketDeployment handler's role AWSLambdaBasicExecutionRole, which "
    "allows only creating log groups and streams and putting log events: it reads no log and "
    "reaches no other service."
)
_DEPLOYMENT_ACTIONS = (
    "aws-cdk-lib's BucketDeployment grant: read of the asset bucket, read-write of the prompt "
    "bucket, which `aws s3 sync` needs; no other bucket."
)
_DEPLOYMENT_OBJECTS = (
    "The deployment copies whole folders of prompts, so it reads the asset zip's bucket and "
    "writes object keys it cannot list in advance."
)
_READ_WRITE_ACTIONS = (
    "s3:GetObject*",
    "s3:GetBucket*",
    "s3:List*",
    "s3:Abort*",
    "s3:DeleteObject*",
)

# aws-cdk-lib's provider framework function: the questions every function is asked.
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
    memory_size="aws-cdk-lib's provider framework only relays one CloudFormation event to the "
    "handler and posts the answer; Lambda's default 128 MB is ample for that, and the "
    "Provider offers no memory setting.",
)
_FRAMEWORK_LOGS = (
    "The provider framework logs at level FATAL only, so this group holds Lambda's start, end "
    "and report lines and fatal errors: no caller data and no secrets. CloudWatch Logs "
    "encrypts all log data at rest already."
)
_FRAMEWORK_GET = (
    "aws-cdk-lib's provider framework adds lambda:GetFunction on this construct's handler "
    "only, inline in its own role: bound to that role alone and deleted with it."
)
_FRAMEWORK_INVOKE = (
    "aws-cdk-lib's provider framework keeps lambda:InvokeFunction (and, unless "
    "@aws-cdk/aws-lambda:createNewPoliciesWithAddToRolePolicy is on, lambda:GetFunction) on "
    "this construct's handler inline in its own role: bound to that role alone and deleted "
    "with it."
)
_FRAMEWORK_ROLE = (
    "aws-cdk-lib gives its provider framework's role AWSLambdaBasicExecutionRole, which allows "
    "only creating log groups and streams and putting log events: it reads no log and reaches "
    "no other service."
)
_FRAMEWORK_HANDLER_VERSIONS = (
    "The provider framework may invoke any version of this construct's own handler function, "
    "and nothing else."
)

_CODEDEPLOY_ROLE = (
    "CodeDeploy's rollout role has AWSCodeDeployRoleForLambdaLimited, which AWS maintains for "
    "Lambda deployments: read alarms, get and update aliases, read provisioned concurrency, "
    "invoke CodeDeployHook_* functions. Only codedeploy.amazonaws.com may assume the role, "
    "and it acts only in deployments of this group (a rollout of this alias)."
)


def exempt_bucket_deployment_handler(
    deployment: s3deploy.BucketDeployment, *, source: s3.IBucket, destination: s3.IBucket
) -> None:
    """The findings on ``deployment``'s handler (aws-cdk-lib's singleton, shared by every
    BucketDeployment of the stack like it), its log group, role and policy; ``source`` and
    ``destination`` are the buckets it copies between."""
    role = deployment.handler_role
    function = role.node.scope
    assert function is not None, "a role inside a Lambda function always has a scope"
    policy = role.node.find_child("DefaultPolicy")
    exempt_function(function, DEPLOYMENT_HANDLER_EXEMPTIONS)
    # With @aws-cdk/aws-lambda:useCdkManagedLogGroup (read at the stack, where the
    # singleton handler lives) aws-cdk-lib adds a log group resource; without it the
    # handler logs to the group Lambda creates on first use, outside the template.
    for log_group in resources_of_type(function, "AWS::Logs::LogGroup"):
        exempt(log_group, {LOG_GROUP_KMS: _DEPLOYMENT_LOGS})
    exempt(role, {BASIC_EXECUTION_ROLE: _DEPLOYMENT_ROLE})
    actions = Concern(tuple(f"{_IAM5}[Action::{action}]" for action in _READ_WRITE_ACTIONS))
    objects = Concern(
        tuple(
            wildcard_resource_finding(policy, _IAM5, bucket.arn_for_objects("*"))
            for bucket in (source, destination)
        )
    )
    exempt(
        policy,
        {
            INLINE_POLICY: _DEPLOYMENT_POLICY,
            actions: _DEPLOYMENT_ACTIONS,
            objects: _DEPLOYMENT_OBJECTS,
        },
    )


def exempt_provider_framework(provider: cr.Provider, log_group: logs.ILogGroup) -> None:
    """The findings on ``provider``'s framework function, its role and policies, and on
    ``log_group``, the group it logs to."""
    framework = provider.node.find_child("framework-onEvent")
    exempt_function(framework, FRAMEWORK_EXEMPTIONS)
    exempt(log_group, {LOG_GROUP_KMS: _FRAMEWORK_LOGS})
    role = framework.node.find_child("ServiceRole")
    # lambda:GetFunction on the handler goes to a policy of its own with
    # @aws-cdk/aws-lambda:createNewPoliciesWithAddToRolePolicy, else to DefaultPolicy, which
    # holds lambda:InvokeFunction too.
    default_policy_resource = role.node.find_child("DefaultPolicy").node.default_child
    assert default_policy_resource is not None, "an iam.Policy always has its CfnPolicy"
    default_policy = identity(default_policy_resource)
    for policy in resources_of_type(framework, "AWS::IAM::Policy"):
        reason = _FRAMEWORK_INVOKE if identity(policy) == default_policy else _FRAMEWORK_GET
        exempt(policy, {INLINE_POLICY: reason})
    exempt(role, {BASIC_EXECUTION_ROLE: _FRAMEWORK_ROLE})
    handler_arn = provider.on_event_handler.function_arn
    versions = Concern((wildcard_resource_finding(role, _IAM5, f"{handler_arn}:*"),))
    exempt(role.node.find_child("DefaultPolicy"), {versions: _FRAMEWORK_HANDLER_VERSIONS})


def exempt_codedeploy_role(group: codedeploy.LambdaDeploymentGroup) -> None:
    """The managed policy on the role CodeDeploy rolls a Lambda alias out with."""
    exempt(group.role, {CODEDEPLOY_LAMBDA_ROLE: _CODEDEPLOY_ROLE})


def resources_of_type(scope: IConstruct, cfn_type: str) -> list[cdk.CfnResource]:
    """The CloudFormation resources of ``cfn_type`` at or under ``scope``, in tree order.

    For finding what aws-cdk-lib made inside its own constructs by what it is, not by a
    child id: which children exist (a function's ``LogGroup``, a policy's construct id)
    depends on the app's feature flags.
    """
    return [
        node
        for node in scope.node.find_all()
        if isinstance(node, cdk.CfnResource) and node.cfn_resource_type == cfn_type
    ]
