"""Upgrading a deployed sample app: what CloudFormation would do to resources that exist.

``tests/app/upgrades/play_audio_stack_before_alias.json`` is the sample app's template as it was
deployed before the SMA invoked the handler through its ``live`` alias (the snapshot of that
release). Moving to the alias must update the SMA in place: its logical id stays, and only
``Endpoints`` changes, which the ``AWS::Chime::SipMediaApplication`` schema updates without
replacement (only ``AwsRegion`` is create-only, per the resource schema cfn-lint ships).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from aws_cdk.assertions import Template

from app import build_app
from tests.snapshot_utils import normalize_template

BEFORE_ALIAS = Path(__file__).parent / "upgrades" / "play_audio_stack_before_alias.json"


def resources(template: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = template["Resources"]
    return found


def test_the_sma_is_updated_in_place_when_its_endpoint_becomes_the_alias(
    make_app: Callable[..., cdk.App],
) -> None:
    before = resources(json.loads(BEFORE_ALIAS.read_text()))
    after = resources(normalize_template(Template.from_stack(build_app(make_app(), {})).to_json()))
    (sma,) = [k for k, v in before.items() if v["Type"] == "AWS::Chime::SipMediaApplication"]

    assert after[sma]["Type"] == "AWS::Chime::SipMediaApplication"
    changed = {
        key
        for key in before[sma]["Properties"].keys() | after[sma]["Properties"].keys()
        if before[sma]["Properties"].get(key) != after[sma]["Properties"].get(key)
    }
    assert changed == {"Endpoints"}
    (alias,) = [k for k, v in after.items() if v["Type"] == "AWS::Lambda::Alias"]
    assert after[sma]["Properties"]["Endpoints"] == [{"LambdaArn": {"Ref": alias}}]
    # The handler, its logs and its role stay: no replacement, no lost log history.
    for kept in ("SmaHandler09BF2B4F", "SmaHandlerLogsBC16659B", "SmaHandlerRole003FCC97"):
        assert after[kept]["Type"] == before[kept]["Type"], kept


def test_endpoints_is_not_a_create_only_property_of_the_sma() -> None:
    """Read from the resource schema cfn-lint ships, so a schema change shows here."""
    import cfnlint  # type: ignore[import-untyped]

    schemas = Path(cfnlint.__file__).parent / "data" / "schemas"
    providers = json.loads((schemas / "providers" / "us-east-1.json").read_text())
    name = providers["AWS::Chime::SipMediaApplication"]
    schema = json.loads((schemas / "resources" / f"{name}.json").read_text())
    assert schema["createOnlyProperties"] == ["/properties/AwsRegion"]
    pattern = schema["definitions"]["SipMediaApplicationEndpoint"]["properties"]["LambdaArn"]
    assert pattern["pattern"].endswith("(:(\\$LATEST|[a-zA-Z0-9-_]+))?$"), "a qualifier is valid"
