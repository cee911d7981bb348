"""Acknowledging cdk-nag findings on the narrowest construct, with the finding's full id.

cdk-nag 3 matches an acknowledgment by exact id (``Pack::Rule[Finding]``) on the
flagged resource or one of its ancestors. Resource findings name CloudFormation
references in a flattened form (``<LogicalId.Arn>/*``); ``flatten_reference``
renders a resolved value the same way, so ids are computed, not copied from a log.
"""

from __future__ import annotations

import json
from typing import Any

import aws_cdk as cdk
from constructs import IConstruct


def acknowledge(scope: IConstruct, finding_id: str, reason: str) -> None:
    """Acknowledge one finding (full id, e.g. ``AwsSolutions::AwsSolutions-L1``) on ``scope``."""
    cdk.Validations.of(scope).acknowledge(cdk.Acknowledgment(id=finding_id, reason=reason))


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
