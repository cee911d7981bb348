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
