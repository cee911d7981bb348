"""SipRule: the custom resource's properties, its handler's permissions, and misuse."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_lambda as lambda_
from aws_cdk.assertions import Match, Template

from app import build_app
from constructs_pkg import SipMediaApplication, SipRule, SipRuleTarget
from constructs_pkg.custom_resources import SIP_RULE_ACTIONS

FAILOVER = SipRuleTarget("b1f1e2d3-0000-4000-8000-000000000002", "us-west-2", 2)


def sma_stack(make_bare_app: Callable[..., cdk.App]) -> tuple[cdk.Stack, SipMediaApplication]:
    stack = cdk.Stack(
        make_bare_app(),
        "RuleStack",
        env=cdk.Environment(account="123456789012", region="us-east-1"),
    )
    function = lambda_.Function.from_function_arn(
        stack, "Ivr", "arn:aws:lambda:us-east-1:123456789012:function:ivr"
    )
    return stack, SipMediaApplication(stack, "Sma", function=function)


@pytest.fixture(scope="module")
def rule_template(make_bare_app: Callable[..., cdk.App]) -> Template:
    stack, sma = sma_stack(make_bare_app)
    SipRule(
        stack,
        "Rule",
        sip_media_application=sma,
        phone_number="+12065550100",
        failover_targets=[FAILOVER],
        name="ivr main number",
    )
    return Template.from_stack(stack)


def test_rule_routes_the_number_to_the_sma_then_the_failover(rule_template: Template) -> None:
    (sma,) = rule_template.find_resources("AWS::Chime::SipMediaApplication")
    rule_template.has_resource_properties(
        "Custom::ChimeSipRule",
        {
            "Name": "ivr main number",
            "TriggerType": "ToPhoneNumber",
            "TriggerValue": "+12065550100",
            "TargetApplications": [
                {
                    "SipMediaApplicationId": {"Fn::GetAtt": [sma, "SipMediaApplicationId"]},
                    "Priority": "1",
                    "AwsRegion": "us-east-1",
                },
                {
                    "SipMediaApplicationId": FAILOVER.sip_media_application_id,
                    "Priority": "2",
                    "AwsRegion": "us-west-2",
                },
            ],
        },
    )


def test_handler_may_call_the_sip_rule_api_and_nothing_else(rule_template: Template) -> None:
    rule_template.has_resource_properties(
        "AWS::IAM::Policy",
        {
            "PolicyName": Match.string_like_regexp("RuleHandlerRole"),
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [{"Action": list(SIP_RULE_ACTIONS), "Effect": "Allow", "Resource": "*"}]
                )
            },
        },
    )
    assert SIP_RULE_ACTIONS == (
        "chime:CreateSipRule",
        "chime:DeleteSipRule",
        "chime:GetSipRule",
        "chime:ListSipRules",
        "chime:UpdateSipRule",
    )


def test_handler_is_current_python_with_room_for_its_retries(rule_template: Template) -> None:
    rule_template.has_resource_properties(
        "AWS::Lambda::Function",
        {
            "Handler": "custom_resources.sip_rule.on_event",
            "Runtime": "python3.14",
            "Architectures": ["arm64"],
            "Timeout": 120,
            "LoggingConfig": Match.object_like({"LogFormat": "JSON"}),
        },
    )


@pytest.mark.parametrize(
    ("props", "expected"),
    [
        ({}, "pass exactly one of phone_number"),
        (
            {"phone_number": "+12065550100", "request_uri_hostname": "a.example.com"},
            "pass exactly one of phone_number",
        ),
        ({"phone_number": "2065550100"}, "phone_number is '2065550100'; expected E.164"),
        ({"phone_number": "+1206555010012345"}, "at most 15 digits"),
        ({"request_uri_hostname": "not a host"}, "request_uri_hostname is 'not a host'"),
        (
            {
                "phone_number": "+12065550100",
                "failover_targets": [SipRuleTarget("x", "us-west-2", 1)],
            },
            r"priorities are \[1, 1\]; expected distinct",
        ),
        (
            {
                "phone_number": "+12065550100",
                "failover_targets": [SipRuleTarget("x", "us-east-1", 2)],
            },
            "expected one target per region",
        ),
        (
            {
                "phone_number": "+12065550100",
                "failover_targets": [SipRuleTarget("x", "sa-east-1", 2)],
            },
            r"target regions \['sa-east-1'\] have no SIP media applications",
        ),
        ({"phone_number": "+12065550100", "name": "a/b"}, "name is 'a/b'"),
    ],
)
def test_misuse_is_one_clear_error(
    make_bare_app: Callable[..., cdk.App], props: dict[str, Any], expected: str
) -> None:
    stack, sma = sma_stack(make_bare_app)
    with pytest.raises(ValueError, match=expected):
        SipRule(stack, "Rule", sip_media_application=sma, **props)


def test_only_the_handlers_are_shipped(make_bare_app: Callable[..., cdk.App]) -> None:
    stack, sma = sma_stack(make_bare_app)
    rule = SipRule(stack, "Rule", sip_media_application=sma, request_uri_hostname="a.example.com")
    (function,) = (
        Template.from_stack(stack)
        .find_resources(
            "AWS::Lambda::Function",
            {"Properties": {"Handler": "custom_resources.sip_rule.on_event"}},
        )
        .values()
    )
    asset_hash = function["Properties"]["Code"]["S3Key"].removesuffix(".zip")
    asset = Path(cdk.Stage.of(rule).outdir) / f"asset.{asset_hash}"  # type: ignore[union-attr]
    assert sorted(p.relative_to(asset).as_posix() for p in asset.rglob("*")) == [
        "custom_resources",
        "custom_resources/__init__.py",
        "custom_resources/_framework.py",
        "custom_resources/sip_message_logs.py",
        "custom_resources/sip_rule.py",
    ]


def test_app_adds_a_rule_only_when_asked(make_app: Callable[..., cdk.App]) -> None:
    assert build_app(make_app(), {}).sip_rule is None
    by_number = build_app(make_app(phoneNumber="+12065550100"), {})
    assert by_number.sip_rule is not None
    assert by_number.sip_rule.trigger_type == "ToPhoneNumber"
    by_host = build_app(make_app(sipHostname="abc.voiceconnector.chime.aws"), {})
    assert by_host.sip_rule is not None
    assert (by_host.sip_rule.trigger_type, by_host.sip_rule.trigger_value) == (
        "RequestUriHostname",
        "abc.voiceconnector.chime.aws",
    )
    Template.from_stack(by_host).resource_count_is("Custom::ChimeSipRule", 1)
