"""SipMessageLogs: the custom resource, the log group it prepares, its handler's permissions,
the five cdk-nag packs without feature flags, and misuse."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk.assertions import Match, Template

from app import add_compliance_packs, build_app
from constructs_pkg import SipMediaApplication, SipMessageLogs
from constructs_pkg.custom_resources import SIP_MESSAGE_LOGS_ACTIONS
from constructs_pkg.sip_message_logs import DEFAULT_RETENTION, SIP_MESSAGES_LOG_GROUP_PREFIX

PACKS = ["AwsSolutions", "HIPAA.Security", "NIST.800.53.R5", "PCI.DSS.321", "Serverless"]
LOG_GROUP_NAME = {
    "Fn::Join": [
        "",
        [
            "/aws/ChimeSipMediaApplicationSipMessages/",
            {"Fn::GetAtt": [Match.any_value(), "SipMediaApplicationId"]},
        ],
    ]
}


def sma_stack(
    make_stack: Callable[..., cdk.Stack], stack_id: str = "LogsStack"
) -> tuple[cdk.Stack, SipMediaApplication]:
    """A stack of a bare App (no feature flags) with an SMA around an imported function."""
    stack = make_stack(stack_id)
    function = lambda_.Function.from_function_arn(
        stack, "Ivr", "arn:aws:lambda:us-east-1:123456789012:function:ivr"
    )
    return stack, SipMediaApplication(stack, "Sma", function=function)


def only(template: Template, resource_type: str) -> tuple[str, dict[str, Any]]:
    (found,) = template.find_resources(resource_type).items()
    return found


@pytest.fixture(scope="module")
def logs_template(make_stack: Callable[..., cdk.Stack]) -> Template:
    stack, sma = sma_stack(make_stack)
    SipMessageLogs(stack, "SipLogs", sip_media_application=sma)
    return Template.from_stack(stack)


def test_the_custom_resource_turns_logging_on_for_the_sma(logs_template: Template) -> None:
    (sma, _) = only(logs_template, "AWS::Chime::SipMediaApplication")
    logs_template.has_resource_properties(
        "Custom::ChimeSipMessageLogs",
        {
            "SipMediaApplicationId": {"Fn::GetAtt": [sma, "SipMediaApplicationId"]},
            "EnableSipMediaApplicationMessageLogs": "true",
        },
    )


def test_the_log_group_is_the_services_name_with_retention_and_retain(
    logs_template: Template,
) -> None:
    (sma, _) = only(logs_template, "AWS::Chime::SipMediaApplication")
    groups = logs_template.find_resources(
        "AWS::Logs::LogGroup", {"Properties": {"LogGroupName": Match.any_value()}}
    )
    (group,) = groups.values()
    assert group["Properties"] == {
        "LogGroupName": {
            "Fn::Join": [
                "",
                [SIP_MESSAGES_LOG_GROUP_PREFIX, {"Fn::GetAtt": [sma, "SipMediaApplicationId"]}],
            ]
        },
        "RetentionInDays": 30,
    }
    assert (group["DeletionPolicy"], group["UpdateReplacePolicy"]) == ("Retain", "Retain")
    assert DEFAULT_RETENTION == logs.RetentionDays.ONE_MONTH


def test_logging_is_turned_on_only_after_the_log_group_exists(logs_template: Template) -> None:
    group_id, _ = only_named_log_group(logs_template)
    _, resource = only(logs_template, "Custom::ChimeSipMessageLogs")
    assert resource["DependsOn"] == [group_id]


def only_named_log_group(template: Template) -> tuple[str, dict[str, Any]]:
    (found,) = template.find_resources(
        "AWS::Logs::LogGroup", {"Properties": {"LogGroupName": LOG_GROUP_NAME}}
    ).items()
    return found


def test_the_handler_may_put_the_setting_of_this_sma_and_nothing_else(
    logs_template: Template,
) -> None:
    (sma, _) = only(logs_template, "AWS::Chime::SipMediaApplication")
    (handler_logs, _) = next(
        (logical_id, group)
        for logical_id, group in logs_template.find_resources("AWS::Logs::LogGroup").items()
        if logical_id.startswith("SipLogsHandlerLogs")
    )
    (policy,) = [
        policy
        for logical_id, policy in logs_template.find_resources("AWS::IAM::Policy").items()
        if logical_id.startswith("SipLogsHandlerRole")
    ]
    assert policy["Properties"]["PolicyDocument"]["Statement"] == [
        {
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Effect": "Allow",
            "Resource": {"Fn::GetAtt": [handler_logs, "Arn"]},
        },
        {
            "Action": "chime:PutSipMediaApplicationLoggingConfiguration",
            "Effect": "Allow",
            "Resource": {"Fn::GetAtt": [sma, "SipMediaApplicationArn"]},
        },
    ]
    assert SIP_MESSAGE_LOGS_ACTIONS == ("chime:PutSipMediaApplicationLoggingConfiguration",)


def test_the_handler_is_the_shared_chime_api_handler_setup(logs_template: Template) -> None:
    logs_template.has_resource_properties(
        "AWS::Lambda::Function",
        {
            "Handler": "custom_resources.sip_message_logs.on_event",
            "Runtime": "python3.14",
            "Architectures": ["arm64"],
            "Timeout": 120,
            "LoggingConfig": Match.object_like({"LogFormat": "JSON"}),
        },
    )


def test_enabled_false_and_another_retention(make_stack: Callable[..., cdk.Stack]) -> None:
    stack, sma = sma_stack(make_stack)
    SipMessageLogs(
        stack,
        "SipLogs",
        sip_media_application=sma,
        enabled=False,
        log_retention=logs.RetentionDays.ONE_WEEK,
    )
    template = Template.from_stack(stack)

    template.has_resource_properties(
        "Custom::ChimeSipMessageLogs", {"EnableSipMediaApplicationMessageLogs": "false"}
    )
    _, group = only_named_log_group(template)
    assert group["Properties"]["RetentionInDays"] == 7


def test_without_creating_the_log_group_it_is_only_referenced(
    make_stack: Callable[..., cdk.Stack],
) -> None:
    stack, sma = sma_stack(make_stack)
    sip_logs = SipMessageLogs(stack, "SipLogs", sip_media_application=sma, create_log_group=False)
    template = Template.from_stack(stack)

    assert (
        template.find_resources(
            "AWS::Logs::LogGroup", {"Properties": {"LogGroupName": LOG_GROUP_NAME}}
        )
        == {}
    )
    _, resource = only(template, "Custom::ChimeSipMessageLogs")
    assert "DependsOn" not in resource
    assert stack.resolve(sip_logs.log_group.log_group_name) == stack.resolve(
        sip_logs.log_group_name
    )


def nag_report(app: cdk.App) -> dict[str, Any]:
    assembly = app.synth()
    report: dict[str, Any] = json.loads(
        (Path(assembly.directory) / "validation-report.json").read_text()
    )
    return report


@pytest.mark.parametrize("create_log_group", [True, False])
def test_all_five_nag_packs_pass_without_feature_flags(
    make_bare_app: Callable[..., cdk.App], create_log_group: bool
) -> None:
    app = make_bare_app()
    stack = cdk.Stack(
        app, "NagStack", env=cdk.Environment(account="123456789012", region="us-east-1")
    )
    function = lambda_.Function.from_function_arn(
        stack, "Ivr", "arn:aws:lambda:us-east-1:123456789012:function:ivr"
    )
    sma = SipMediaApplication(stack, "Sma", function=function)
    SipMessageLogs(stack, "SipLogs", sip_media_application=sma, create_log_group=create_log_group)
    add_compliance_packs(app)

    report = nag_report(app)

    assert [
        (plugin["pluginName"], plugin["conclusion"], plugin["violations"])
        for plugin in report["pluginReports"]
    ] == [(pack, "success", []) for pack in PACKS]


@pytest.mark.parametrize(
    ("props", "expected"),
    [
        ({"enabled": "true"}, "enabled is 'true'; expected True or False"),
        ({"log_retention": 30}, "log_retention is 30 \\(int\\); expected a logs.RetentionDays"),
        ({"create_log_group": None}, "create_log_group is None; expected True or False"),
    ],
)
def test_misuse_is_one_clear_error(
    make_stack: Callable[..., cdk.Stack], props: dict[str, Any], expected: str
) -> None:
    stack, sma = sma_stack(make_stack)
    with pytest.raises(ValueError, match=f"^SipMessageLogs 'SipLogs': {expected}"):
        SipMessageLogs(stack, "SipLogs", sip_media_application=sma, **props)


def test_something_that_is_not_an_sma_is_refused(make_stack: Callable[..., cdk.Stack]) -> None:
    stack, sma = sma_stack(make_stack)
    with pytest.raises(ValueError, match=r"sip_media_application is .*; expected a SipMediaApp"):
        SipMessageLogs(stack, "SipLogs", sip_media_application=sma.resource)  # type: ignore[arg-type]


def test_one_sip_message_logs_per_sma(make_stack: Callable[..., cdk.Stack]) -> None:
    stack, sma = sma_stack(make_stack)
    SipMessageLogs(stack, "SipLogs", sip_media_application=sma)
    with pytest.raises(ValueError, match="are set by LogsStack/SipLogs already"):
        SipMessageLogs(stack, "Again", sip_media_application=sma, enabled=False)


def test_the_sample_app_turns_sip_message_logs_on(make_app: Callable[..., cdk.App]) -> None:
    stack = build_app(make_app(), {})

    assert stack.sip_message_logs.sip_media_application is stack.sma
    assert stack.sip_message_logs.enabled is True
    template = Template.from_stack(stack)
    template.resource_count_is("Custom::ChimeSipMessageLogs", 1)
    only_named_log_group(template)
