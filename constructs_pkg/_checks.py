"""What the compliance checks are told about a resource they would flag, and why it is safe.

Three tools read the synthesized templates: the cdk-nag packs (at synth time), checkov
and cfn-lint (on the template). One setting a resource deliberately lacks (a DLQ, a
VPC, a KMS key) is usually flagged by several of them, so it is exempted as one
``Concern``: every cdk-nag finding is acknowledged on the resource (``_nag.acknowledge``)
and every checkov check is skipped in the resource's template Metadata
(``checkov: {skip: [{id, comment}]}``), all with the same reason. cfn-lint rules are
ignored per resource the same way (``cfn-lint: {config: {ignore_checks: [...]}}``).
Each exemption is added by the construct that creates the resource.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import aws_cdk as cdk
from constructs import IConstruct

from constructs_pkg._nag import (
    AWS_SOLUTIONS,
    HIPAA_SECURITY,
    NIST_800_53_R5,
    PCI_DSS_321,
    SERVERLESS,
    acknowledge,
    finding,
    narrowest,
)

_COMPLIANCE_PACKS = (HIPAA_SECURITY, NIST_800_53_R5, PCI_DSS_321)


@dataclass(frozen=True)
class Concern:
    """A setting a resource lacks: the cdk-nag finding ids and checkov check ids it draws."""

    findings: tuple[str, ...]
    checkov: tuple[str, ...] = ()


def _in(packs: Sequence[str], rule: str) -> tuple[str, ...]:
    return tuple(finding(pack, rule) for pack in packs)


RESERVED_CONCURRENCY = Concern(
    _in((HIPAA_SECURITY, NIST_800_53_R5), "LambdaConcurrency"), ("CKV_AWS_115",)
)
DEAD_LETTER_QUEUE = Concern(
    _in((HIPAA_SECURITY, NIST_800_53_R5, SERVERLESS), "LambdaDLQ"), ("CKV_AWS_116",)
)
INSIDE_VPC = Concern(_in(_COMPLIANCE_PACKS, "LambdaInsideVPC"), ("CKV_AWS_117",))
ACTIVE_TRACING = Concern(_in((SERVERLESS,), "LambdaTracing"))
ENVIRONMENT_KMS = Concern((), ("CKV_AWS_173",))
LATEST_RUNTIME = Concern((finding(AWS_SOLUTIONS, "L1"), finding(SERVERLESS, "LambdaLatestVersion")))
MEMORY_SIZE = Concern(_in((SERVERLESS,), "LambdaDefaultMemorySize"))
LOG_GROUP_KMS = Concern(_in(_COMPLIANCE_PACKS, "CloudWatchLogGroupEncrypted"), ("CKV_AWS_158",))
INLINE_POLICY = Concern(_in(_COMPLIANCE_PACKS, "IAMNoInlinePolicy"))
BUCKET_KMS = Concern(_in(_COMPLIANCE_PACKS, "S3DefaultEncryptionKMS"))
BUCKET_REPLICATION = Concern(_in(_COMPLIANCE_PACKS, "S3BucketReplicationEnabled"))
BASIC_EXECUTION_ROLE = Concern(
    (
        finding(AWS_SOLUTIONS, "IAM4")
        + "[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]",
    )
)
CODEDEPLOY_LAMBDA_ROLE = Concern(
    (
        finding(AWS_SOLUTIONS, "IAM4")
        + "[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
        + "AWSCodeDeployRoleForLambdaLimited]",
    )
)
# cdk-nag's S1 and S3BucketLoggingEnabled accept a bucket that other buckets log into;
# checkov does not.
BUCKET_ACCESS_LOGS = Concern((), ("CKV_AWS_18",))

# The cfn-lint rules a resource may ignore, each with why that is safe. cfn-lint's resource
# Metadata holds only rule ids, so the reasons live here.
CFN_LINT_IGNORABLE = {
    # On every Lambda function: aws-cdk-lib renders the function's dependency on its role
    # as a DependsOn next to the GetAtt of the role's ARN in Properties.Role.
    "W3005": "aws-cdk-lib adds the role to DependsOn besides the GetAtt of its ARN; the "
    "duplicate only restates an order CloudFormation already follows, and is harmless.",
}

# Functions that run only while CloudFormation creates, updates or deletes this stack.
DEPLOY_TIME_CONCURRENCY = (
    "It runs only while CloudFormation creates, updates or deletes this stack, a few events "
    "per operation, so there is no load to bound; a reservation would only take concurrency "
    "from the account's unreserved pool (Lambda refuses one leaving fewer than 100 "
    "unreserved, so low-quota accounts could not deploy)."
)


def exempt(resource: IConstruct, concern: Concern, reason: str) -> None:
    """Acknowledge every cdk-nag finding of ``concern`` on ``resource`` and skip its checkov
    checks there, all with ``reason`` (a sentence saying why it is safe for this resource)."""
    for finding_id in concern.findings:
        acknowledge(resource, finding_id, reason)
    for check_id in concern.checkov:
        skip_checkov(resource, check_id, reason)


@dataclass(frozen=True)
class FunctionExemptions:
    """Why a Lambda function is safe without each setting the checks ask of every function.

    :param concurrency: without reserved concurrency.
    :param dead_letter: without a dead-letter queue.
    :param vpc: outside a VPC.
    :param tracing: without X-Ray active tracing.
    :param environment: its environment variables under Lambda's AWS managed key instead
        of a customer-managed one; None when the function has no environment variables.
    """

    concurrency: str
    dead_letter: str
    vpc: str
    tracing: str
    environment: str | None = None


def exempt_function(function: IConstruct, reasons: FunctionExemptions) -> None:
    """Exempt a Lambda function (L2 or its CfnFunction) from what ``reasons`` covers, and
    from cfn-lint W3005 on the DependsOn that aws-cdk-lib writes for its role."""
    exempt(function, RESERVED_CONCURRENCY, reasons.concurrency)
    exempt(function, DEAD_LETTER_QUEUE, reasons.dead_letter)
    exempt(function, INSIDE_VPC, reasons.vpc)
    exempt(function, ACTIVE_TRACING, reasons.tracing)
    if reasons.environment is not None:
        exempt(function, ENVIRONMENT_KMS, reasons.environment)
    ignore_cfn_lint(function, "W3005")


def skip_checkov(resource: IConstruct, check_id: str, reason: str) -> None:
    """Skip checkov check ``check_id`` on this resource only, with ``reason`` as its comment."""
    cfn = _cfn_resource(resource)
    metadata = dict(cfn.get_metadata("checkov") or {})
    skips = list(metadata.get("skip", []))
    if all(skip["id"] != check_id for skip in skips):
        skips.append({"id": check_id, "comment": reason})
    metadata["skip"] = skips
    cfn.add_metadata("checkov", metadata)


def ignore_cfn_lint(resource: IConstruct, rule: str) -> None:
    """Ignore cfn-lint rule ``rule`` (one of ``CFN_LINT_IGNORABLE``) on this resource only."""
    if rule not in CFN_LINT_IGNORABLE:
        raise ValueError(f"cfn-lint rule {rule} has no reason in CFN_LINT_IGNORABLE")
    cfn = _cfn_resource(resource)
    metadata = dict(cfn.get_metadata("cfn-lint") or {})
    config = dict(metadata.get("config", {}))
    rules = list(config.get("ignore_checks", []))
    if rule not in rules:
        rules.append(rule)
    config["ignore_checks"] = rules
    metadata["config"] = config
    cfn.add_metadata("cfn-lint", metadata)


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


def _cfn_resource(resource: IConstruct) -> cdk.CfnResource:
    cfn = narrowest(resource)
    if not isinstance(cfn, cdk.CfnResource):
        raise TypeError(f"{resource.node.path} is not a CloudFormation resource")
    return cfn
