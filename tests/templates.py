"""Helpers that read synthesized templates the way the tests need them."""

from __future__ import annotations

from typing import Any

from aws_cdk.assertions import Template


def chime_statements(template: Template) -> list[dict[str, Any]]:
    """Every bucket-policy statement whose principal is the Chime service."""
    found = []
    for policy in template.find_resources("AWS::S3::BucketPolicy").values():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            if statement.get("Principal") == {"Service": "voiceconnector.chime.amazonaws.com"}:
                found.append(statement)
    return found


def literal_partition(value: Any) -> Any:
    """``value`` with ``{"Ref": "AWS::Partition"}`` as "aws" and joins of strings joined, so
    that templates with and without @aws-cdk/core:enablePartitionLiterals compare equal."""
    if isinstance(value, list):
        return [literal_partition(item) for item in value]
    if not isinstance(value, dict):
        return value
    if value == {"Ref": "AWS::Partition"}:
        return "aws"
    rendered = {key: literal_partition(item) for key, item in value.items()}
    join = rendered.get("Fn::Join")
    if len(rendered) == 1 and isinstance(join, list) and all(isinstance(x, str) for x in join[1]):
        return str(join[0]).join(join[1])
    return rendered


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _canonical(value: Any) -> str:
    """JSON with sorted keys and sorted lists: equal for the same set of values."""
    if isinstance(value, list):
        return "[" + ",".join(sorted(_canonical(item) for item in value)) + "]"
    if isinstance(value, dict):
        return "{" + ",".join(f"{k!r}:{_canonical(v)}" for k, v in sorted(value.items())) + "}"
    return repr(value)


def statement_atoms(statements: list[dict[str, Any]]) -> list[tuple[str, ...]]:
    """Each statement as (effect, principal, action, resource, condition) tuples, one per
    action and resource: what the statements allow or deny, however they are merged."""
    atoms = set()
    for statement in statements:
        for action in _listed(statement.get("Action")):
            for resource in _listed(statement.get("Resource")):
                atoms.add(
                    (
                        statement["Effect"],
                        _canonical(statement.get("Principal")),
                        str(action),
                        _canonical(resource),
                        _canonical(statement.get("Condition")),
                    )
                )
    return sorted(atoms)


def security_content(template: dict[str, Any]) -> dict[tuple[str, str], Any]:
    """What decides who may do what and how long logs are kept, by resource logical id:
    bucket policies, every role's effective permissions (its managed policies, inline
    policies and the AWS::IAM::Policy resources attached to it), Lambda invoke
    permissions, log groups' retention and deletion policy, and each function's log group."""
    resources = literal_partition(template["Resources"])
    content: dict[tuple[str, str], Any] = {}
    for logical_id, resource in resources.items():
        kind, properties = resource["Type"], resource.get("Properties", {})
        if kind == "AWS::S3::BucketPolicy":
            statements = properties["PolicyDocument"]["Statement"]
            content[("bucket policy", logical_id)] = statement_atoms(statements)
        elif kind == "AWS::IAM::Role":
            statements = [
                s for p in properties.get("Policies", []) for s in p["PolicyDocument"]["Statement"]
            ]
            for policy in resources.values():
                if policy["Type"] == "AWS::IAM::Policy" and {"Ref": logical_id} in policy[
                    "Properties"
                ].get("Roles", []):
                    statements += policy["Properties"]["PolicyDocument"]["Statement"]
            content[("role", logical_id)] = {
                "trust": statement_atoms(properties["AssumeRolePolicyDocument"]["Statement"]),
                "managed": sorted(
                    _canonical(arn) for arn in properties.get("ManagedPolicyArns", [])
                ),
                "allows": statement_atoms(statements),
            }
        elif kind == "AWS::Lambda::Permission":
            content[("invoke permission", logical_id)] = _canonical(properties)
        elif kind == "AWS::Logs::LogGroup":
            content[("log group", logical_id)] = (
                properties.get("RetentionInDays"),
                resource.get("DeletionPolicy"),
            )
        elif kind == "AWS::Lambda::Function":
            content[("function logs", logical_id)] = _canonical(properties.get("LoggingConfig"))
    return content
