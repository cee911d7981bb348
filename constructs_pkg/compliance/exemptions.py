"""What the compliance checks are told about a resource they would flag, and why it is safe.

Three tools read the synthesized templates: the cdk-nag packs (at synth time), checkov
and cfn-lint (on the template). One setting a resource deliberately lacks (a DLQ, a
VPC, a KMS key) is usually flagged by several of them, so it is exempted as one
``Concern``: every cdk-nag finding is acknowledged on the resource (``nag.acknowledge``)
and every checkov check is skipped in the resource's template Metadata
(``checkov: {skip: [{id, comment}]}``), all with the same reason. cfn-lint rules are
ignored per resource the same way (``cfn-lint: {config: {ignore_checks: [...]}}``).
The template Metadata written is kept here too, so it is read from Node once per resource.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import aws_cdk as cdk
from constructs import IConstruct

from constructs_pkg.compliance.nag import (
    AWS_SOLUTIONS,
    HIPAA_SECURITY,
    NIST_800_53_R5,
    PCI_DSS_321,
    SERVERLESS,
    acknowledge,
    finding,
    identity,
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
# An IAM statement on Resource "*".
ANY_RESOURCE = Concern((finding(AWS_SOLUTIONS, "IAM5") + "[Resource::*]",), ("CKV_AWS_111",))

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

# By identity(CloudFormation resource): its template Metadata as this package wrote it.
_METADATA: dict[str, dict[str, dict[str, Any]]] = {}


def exempt(resource: IConstruct, reasons: Mapping[Concern, str]) -> None:
    """Acknowledge every cdk-nag finding of each concern on ``resource`` and skip its checkov
    checks there, with the concern's reason (a sentence saying why it is safe for this
    resource). A finding or check of two concerns keeps the first one's reason."""
    findings: dict[str, str] = {}
    checks: dict[str, str] = {}
    for concern, reason in reasons.items():
        for finding_id in concern.findings:
            findings.setdefault(finding_id, reason)
        for check_id in concern.checkov:
            checks.setdefault(check_id, reason)
    if findings:
        acknowledge(resource, findings)
    if checks:
        skip_checkov(resource, checks)


@dataclass(frozen=True)
class FunctionExemptions:
    """Why a Lambda function is safe without each setting the checks ask of every function.

    :param concurrency: without reserved concurrency.
    :param dead_letter: without a dead-letter queue.
    :param vpc: outside a VPC.
    :param tracing: without X-Ray active tracing.
    :param environment: its environment variables under Lambda's AWS managed key instead
        of a customer-managed one; None when the function has no environment variables.
    :param memory_size: with Lambda's default memory size; None when it sets one.
    :param runtime: on a runtime older than the newest; None when it has the newest.
    """

    concurrency: str
    dead_letter: str
    vpc: str
    tracing: str
    environment: str | None = None
    memory_size: str | None = None
    runtime: str | None = None

    def by_concern(self) -> dict[Concern, str]:
        """Each concern these reasons answer, with its reason."""
        optional = {
            ENVIRONMENT_KMS: self.environment,
            MEMORY_SIZE: self.memory_size,
            LATEST_RUNTIME: self.runtime,
        }
        return {
            RESERVED_CONCURRENCY: self.concurrency,
            DEAD_LETTER_QUEUE: self.dead_letter,
            INSIDE_VPC: self.vpc,
            ACTIVE_TRACING: self.tracing,
            **{concern: reason for concern, reason in optional.items() if reason is not None},
        }


def exempt_function(function: IConstruct, reasons: FunctionExemptions) -> None:
    """Exempt a Lambda function (L2 or its CfnFunction) from what ``reasons`` covers, and
    from cfn-lint W3005 on the DependsOn that aws-cdk-lib writes for its role."""
    exempt(function, reasons.by_concern())
    ignore_cfn_lint(function, "W3005")


def skip_checkov(resource: IConstruct, checks: Mapping[str, str]) -> None:
    """Skip each checkov check (id -> reason, the skip's comment) on this resource only."""
    skips = list(_metadata(resource, "checkov").get("skip", []))
    for check_id, reason in checks.items():
        if all(skip["id"] != check_id for skip in skips):
            skips.append({"id": check_id, "comment": reason})
    _set_metadata(resource, "checkov", skip=skips)


def ignore_cfn_lint(resource: IConstruct, rule: str) -> None:
    """Ignore cfn-lint rule ``rule`` (one of ``CFN_LINT_IGNORABLE``) on this resource only."""
    if rule not in CFN_LINT_IGNORABLE:
        raise ValueError(f"cfn-lint rule {rule} has no reason in CFN_LINT_IGNORABLE")
    config = dict(_metadata(resource, "cfn-lint").get("config", {}))
    rules = list(config.get("ignore_checks", []))
    if rule not in rules:
        rules.append(rule)
    config["ignore_checks"] = rules
    _set_metadata(resource, "cfn-lint", config=config)


def _metadata(resource: IConstruct, key: str) -> dict[str, Any]:
    """The template Metadata ``key`` of the resource: read from Node the first time only."""
    cfn = _cfn_resource(resource)
    written = _METADATA.setdefault(identity(cfn), {})
    if key not in written:
        written[key] = dict(cfn.get_metadata(key) or {})
    return written[key]


def _set_metadata(resource: IConstruct, key: str, **entries: Any) -> None:
    """Set ``entries`` in the resource's template Metadata ``key``."""
    cfn = _cfn_resource(resource)
    metadata = _METADATA[identity(cfn)][key]
    metadata.update(entries)
    cfn.add_metadata(key, dict(metadata))


def _cfn_resource(resource: IConstruct) -> cdk.CfnResource:
    cfn = narrowest(resource)
    if not isinstance(cfn, cdk.CfnResource):
        raise TypeError(f"{resource.node.path} is not a CloudFormation resource")
    return cfn
