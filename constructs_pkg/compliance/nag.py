"""Acknowledging cdk-nag findings on the narrowest construct, with the finding's full id.

cdk-nag 3 matches an acknowledgment by exact id (``Pack::Rule[Finding]``) on the
flagged resource or one of its ancestors. ``acknowledge`` puts it on the flagged
CloudFormation resource itself (an L2's default child), so it covers nothing else.

What is acknowledged where is also kept here, in Python, by the identity of the Node
object (``identity``): a construct's metadata lives in Node, and reading it back to
skip a duplicate cost a jsii round trip per entry, O(k^2) for k findings on one
resource. So a batch of acknowledgments costs one jsii call (the first batch on a
resource three more: finding it and ``Validations.of``). The metadata written is the
same: one ``aws:cdk:acknowledged-rules`` entry per finding id, in order.

Resource findings name CloudFormation references in a flattened form
(``<LogicalId.Arn>/*``); ``flatten_reference`` renders a resolved value the same way,
so ids are computed, not copied from a log.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import aws_cdk as cdk
from constructs import IConstruct

# The cdk-nag 3 packs the sample app runs, by the name their finding ids start with.
AWS_SOLUTIONS = "AwsSolutions"
HIPAA_SECURITY = "HIPAA.Security"
NIST_800_53_R5 = "NIST.800.53.R5"
PCI_DSS_321 = "PCI.DSS.321"
SERVERLESS = "Serverless"
PACKS = (AWS_SOLUTIONS, HIPAA_SECURITY, NIST_800_53_R5, PCI_DSS_321, SERVERLESS)

# By identity(resource): the finding ids acknowledged on it (id -> reason), and its
# Validations. jsii never frees a Node object, so an identity is never reused.
_ACKNOWLEDGED: dict[str, dict[str, str]] = {}
_VALIDATIONS: dict[str, cdk.Validations] = {}
# By identity(scope): narrowest(scope), once scope has a default child (it keeps it).
_NARROWEST: dict[str, IConstruct] = {}


def finding(pack: str, rule: str) -> str:
    """The full id of ``rule`` in ``pack``, e.g. ``HIPAA.Security::HIPAA.Security-LambdaDLQ``."""
    return f"{pack}::{pack}-{rule}"


def identity(construct: IConstruct) -> str:
    """The Node object behind a jsii proxy, the same for every proxy of it: its jsii
    reference, read in Python without a round trip."""
    return str(construct.__jsii_ref__.ref)  # type: ignore[attr-defined]


def narrowest(scope: IConstruct) -> IConstruct:
    """The CloudFormation resource of an L2 construct (its default child), else ``scope``."""
    if isinstance(scope, cdk.CfnResource):
        return scope
    key = identity(scope)
    found = _NARROWEST.get(key)
    if found is None:
        found = scope.node.default_child
        if found is None:
            return scope
        _NARROWEST[key] = found
    return found


def acknowledge(scope: IConstruct, findings: Mapping[str, str]) -> None:
    """Acknowledge each finding (full id, e.g. ``AwsSolutions::AwsSolutions-L1``, -> reason).

    They are recorded on ``narrowest(scope)``, in order, in one jsii call. An id
    acknowledged there already (a shared singleton set up by two constructs) is skipped.
    """
    target = narrowest(scope)
    key = identity(target)
    done = _ACKNOWLEDGED.setdefault(key, {})
    new = {
        finding_id: reason
        for finding_id, reason in findings.items()
        if _recorded_id(finding_id) not in done
    }
    if not new:
        return
    validations = _VALIDATIONS.get(key)
    if validations is None:
        validations = _VALIDATIONS[key] = cdk.Validations.of(target)
    validations.acknowledge(
        *(cdk.Acknowledgment(id=finding_id, reason=reason) for finding_id, reason in new.items())
    )
    done.update((_recorded_id(finding_id), reason) for finding_id, reason in new.items())


def _recorded_id(finding_id: str) -> str:
    """``finding_id`` as aws-cdk-lib records it in the metadata (spaces become '-'); a
    finding of a pack not in ``PACKS`` is refused, since aws-cdk-lib would qualify it."""
    pack = finding_id.partition("::")[0]
    if pack not in PACKS:
        raise ValueError(f"{finding_id!r} is not a finding of a pack in {PACKS}")
    return finding_id.replace(" ", "-")


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
