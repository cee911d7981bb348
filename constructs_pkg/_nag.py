"""Acknowledging cdk-nag findings on the narrowest construct, with the finding's full id.

cdk-nag 3 matches an acknowledgment by exact id (``Pack::Rule[Finding]``) on the
flagged resource or one of its ancestors. ``acknowledge`` puts it on the flagged
CloudFormation resource itself (an L2's default child), so it covers nothing else.
Resource findings name CloudFormation references in a flattened form
(``<LogicalId.Arn>/*``); ``flatten_reference`` renders a resolved value the same way,
so ids are computed, not copied from a log.
"""

from __future__ import annotations

import json
from typing import Any

import aws_cdk as cdk
from constructs import IConstruct

# The cdk-nag 3 packs the sample app runs, by the name their finding ids start with.
AWS_SOLUTIONS = "AwsSolutions"
HIPAA_SECURITY = "HIPAA.Security"
NIST_800_53_R5 = "NIST.800.53.R5"
PCI_DSS_321 = "PCI.DSS.321"
SERVERLESS = "Serverless"


def finding(pack: str, rule: str) -> str:
    """The full id of ``rule`` in ``pack``, e.g. ``HIPAA.Security::HIPAA.Security-LambdaDLQ``."""
    return f"{pack}::{pack}-{rule}"


def narrowest(scope: IConstruct) -> IConstruct:
    """The CloudFormation resource of an L2 construct (its default child), else ``scope``."""
    return scope.node.default_child or scope


def acknowledge(scope: IConstruct, finding_id: str, reason: str) -> None:
    """Acknowledge one finding (full id, e.g. ``AwsSolutions::AwsSolutions-L1``).

    It is recorded on ``narrowest(scope)``. Acknowledging the same id there twice (a
    shared singleton set up by two constructs) records it once.
    """
    target = narrowest(scope)
    if finding_id in acknowledged(target):
        return
    cdk.Validations.of(target).acknowledge(cdk.Acknowledgment(id=finding_id, reason=reason))


def acknowledged(scope: IConstruct) -> dict[str, str]:
    """The findings acknowledged on ``scope`` itself (not its ancestors): id -> reason."""
    found: dict[str, str] = {}
    for entry in scope.node.metadata:
        if entry.type == cdk.Validations.ACKNOWLEDGED_RULES_METADATA_KEY:
            found.update(entry.data)
    return found


def wildcard_resource_finding(scope: IConstruct, rule: str, resource: str) -> str:
    """The id of a ``Resource::`` finding of an IAM wildcard rule for the ARN ``resource``."""
    flattened = flatten_reference(cdk.Stack.of(scope).resolve(resource))
    return f"{rule}[Resource::{flattened}]"


def flatten_reference(value: Any) -> str:
    """A resolved CloudFormation value as cdk-nag prints it in finding ids."""
    if isinstance(value, str):
        return value.replace("${", "<").replace("}", ">")
    if isinstance(value, dict):
        if "Fn::Join" in value:
            delimiter, items = value["Fn::Join"]
            return str(delimiter).join(flatten_reference(item) for item in items)
        if "Fn::Sub" in value:
            return flatten_reference(value["Fn::Sub"])
        if "Fn::GetAtt" in value:
            resource, attribute = value["Fn::GetAtt"]
            return f"<{flatten_reference(resource)}.{flatten_reference(attribute)}>"
        if "Fn::ImportValue" in value:
            return flatten_reference(value["Fn::ImportValue"])
        if "Ref" in value:
            return f"<{flatten_reference(value['Ref'])}>"
    return json.dumps(value, separators=(",", ":"))
