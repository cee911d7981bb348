"""Reading cdk.out as JSON: stand-ins for CloudFormation references, the SMA, its Lambda, S3."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from playaudio_sim.call_setup import CallSetup, load_call_setup
from playaudio_sim.cloud_assembly import AssemblyError
from playaudio_sim.intrinsics import Resolver, UnresolvableError
from tests.playaudio_sim.conftest import BUCKET, STACK, write_assembly

TEMPLATE: dict[str, Any] = {
    "Parameters": {"Env": {"Type": "String", "Default": "prod"}},
    "Conditions": {
        "IsProd": {"Fn::Equals": [{"Ref": "Env"}, "prod"]},
        "IsDev": {"Fn::Not": [{"Condition": "IsProd"}]},
    },
    "Mappings": {"Sizes": {"prod": {"Memory": 256}}},
    "Resources": {
        "Bucket": {"Type": "AWS::S3::Bucket"},
        "Named": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": "my-prompts"}},
        "Sma": {"Type": "AWS::Chime::SipMediaApplication", "Properties": {}},
        "Fn": {"Type": "AWS::Lambda::Function", "Properties": {}},
        "Deploy": {
            "Type": "Custom::CDKBucketDeployment",
            "Properties": {"DestinationBucketArn": {"Fn::GetAtt": ["Named", "Arn"]}},
        },
    },
}


@pytest.fixture
def resolver() -> Resolver:
    return Resolver(TEMPLATE, stack_name="Stack", account="123456789012", region="eu-west-1")


def test_refs_and_attributes_resolve_to_stable_stand_ins(resolver: Resolver) -> None:
    assert resolver.resolve({"Ref": "Bucket"}) == "stack-bucket"
    assert resolver.resolve({"Ref": "Named"}) == "my-prompts"
    assert resolver.resolve({"Fn::GetAtt": ["Named", "Arn"]}) == "arn:aws:s3:::my-prompts"
    sma_arn = resolver.resolve({"Fn::GetAtt": "Sma.SipMediaApplicationArn"})
    assert sma_arn == f"arn:aws:chime:eu-west-1:123456789012:sma/{resolver.sma_id('Sma')}"
    assert resolver.resolve({"Ref": "Sma"}) == resolver.sma_id("Sma")
    assert resolver.resolve({"Fn::GetAtt": ["Fn", "Arn"]}) == (
        "arn:aws:lambda:eu-west-1:123456789012:function:Stack-Fn"
    )
    # A custom resource attribute is the property of the same name (as BucketDeployment returns).
    assert resolver.resolve({"Fn::GetAtt": ["Deploy", "DestinationBucketArn"]}) == (
        "arn:aws:s3:::my-prompts"
    )
    again = Resolver(TEMPLATE, stack_name="Stack", account="123456789012", region="eu-west-1")
    assert again.sma_id("Sma") == resolver.sma_id("Sma")


def test_functions_resolve(resolver: Resolver) -> None:
    arn = {"Fn::GetAtt": ["Named", "Arn"]}
    assert (
        resolver.resolve(
            {
                "Fn::Select": [
                    0,
                    {"Fn::Split": ["/", {"Fn::Select": [5, {"Fn::Split": [":", arn]}]}]},
                ]
            }
        )
        == "my-prompts"
    )
    assert resolver.resolve({"Fn::Join": ["-", ["a", {"Ref": "AWS::Region"}]]}) == "a-eu-west-1"
    assert resolver.resolve({"Fn::Sub": "${AWS::AccountId}/${Named}/${Named.Arn}/${!Literal}"}) == (
        "123456789012/my-prompts/arn:aws:s3:::my-prompts/${Literal}"
    )
    assert resolver.resolve({"Fn::Sub": ["${X}-${AWS::Partition}", {"X": {"Ref": "Env"}}]}) == (
        "prod-aws"
    )
    assert resolver.resolve({"Fn::If": ["IsDev", "dev", "prod"]}) == "prod"
    assert resolver.resolve({"Fn::FindInMap": ["Sizes", {"Ref": "Env"}, "Memory"]}) == 256
    assert resolver.resolve({"a": {"Ref": "AWS::NoValue"}, "b": 1}) == {"b": 1}
    with pytest.raises(UnresolvableError, match="Fn::Cidr is not modelled"):
        resolver.resolve({"Fn::Cidr": ["10.0.0.0/16", 2, 8]})
    with pytest.raises(UnresolvableError, match="not in the template"):
        resolver.resolve({"Ref": "Nothing"})


def test_the_call_setup_finds_sma_function_deployments_and_policy(broken_app: CallSetup) -> None:
    assert broken_app.sma.logical_id == "Sma"
    assert broken_app.sma.arn.startswith("arn:aws:chime:us-east-1:123456789012:sma/")
    function = broken_app.function
    assert (function.logical_id, function.handler, function.timeout_s) == (
        "Handler",
        "index.handler",
        3,
    )
    assert function.environment["PROMPTS_BUCKET"] == BUCKET
    assert function.code_dir is not None and (function.code_dir / "index.py").is_file()
    welcome = broken_app.store.get(BUCKET, "prompts/welcome.wav")
    assert welcome is not None
    assert (welcome.content_type, welcome.name, welcome.deployment) == (
        "audio/wav",
        "welcome",
        "PromptDeployment",
    )
    statements = broken_app.store.policies[BUCKET]["Statement"]
    assert statements[1]["Condition"]["StringEquals"]["aws:SourceArn"] == [broken_app.sma.arn]
    assert broken_app.invoke_policy["Statement"][0]["Principal"] == {
        "Service": "voiceconnector.chime.amazonaws.com"
    }


def test_a_deployment_without_system_metadata_gets_what_aws_s3_sync_guesses(
    make_setup: Callable[..., CallSetup],
) -> None:
    setup = make_setup(content_type=None)
    stored = setup.store.get(BUCKET, "prompts/welcome.wav")
    assert stored is not None and stored.content_type == "audio/x-wav"


def test_an_unsynthesized_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(AssemblyError, match=r"has no manifest\.json; synthesize first"):
        load_call_setup(tmp_path)


def test_several_smas_must_be_chosen_by_stack_or_logical_id(tmp_path: Path) -> None:
    root = write_assembly(tmp_path / "cdk.out")
    template_path = root / f"{STACK}.template.json"
    template = json.loads(template_path.read_text())
    template["Resources"]["Sma2"] = template["Resources"]["Sma"]
    template_path.write_text(json.dumps(template))
    with pytest.raises(AssemblyError, match=r"2 SIP media applications .*--sma"):
        load_call_setup(root)
    assert load_call_setup(root, sma="Sma2").sma.logical_id == "Sma2"
    with pytest.raises(AssemblyError, match="matching 'Nope'"):
        load_call_setup(root, sma="Nope")


def test_a_non_python_function_is_refused(tmp_path: Path) -> None:
    root = write_assembly(tmp_path / "cdk.out")
    template_path = root / f"{STACK}.template.json"
    template = json.loads(template_path.read_text())
    template["Resources"]["Handler"]["Properties"]["Runtime"] = "nodejs22.x"
    template_path.write_text(json.dumps(template))
    with pytest.raises(AssemblyError, match=r"runs nodejs22\.x; the simulator runs Python"):
        load_call_setup(root)
