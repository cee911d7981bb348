"""CallMonitoring: the alarms and their defaults, rollback wiring, the topic, the dashboard.

Built in apps without feature flags (a user's ``cdk.App()``), checked by the five cdk-nag
packs, and with the template's reference graph checked for cycles: the rollout references
the alarms, so no alarm may reference the alias or the SMA.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_codedeploy as codedeploy
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Template

from app import add_compliance_packs
from constructs_pkg import (
    AlarmSettings,
    CallMonitoring,
    PromptBucket,
    SipMediaApplication,
    WavPrompts,
)
from constructs_pkg.call_monitoring import DEFAULT_ALARMS, DEFAULT_ROLLBACK_ALARMS
from tests.app.flag_matrix_app import user_function
from tests.audio import wavgen

PACKS = ["AwsSolutions", "HIPAA.Security", "NIST.800.53.R5", "PCI.DSS.321", "Serverless"]
ENV = cdk.Environment(account="123456789012", region="us-east-1")
AppFactory = Callable[..., cdk.App]


@pytest.fixture(scope="module")
def prompt_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("prompts")
    for name in ("welcome", "error"):
        wavgen.write(folder / f"{name}.wav", wavgen.pcm())
    return folder


def sample_stack(
    app: cdk.App, prompt_dir: Path, **props: Any
) -> tuple[cdk.Stack, SipMediaApplication, CallMonitoring]:
    stack = cdk.Stack(app, "Calls", env=ENV)
    prompts = WavPrompts(
        stack, "Prompts", prompt_bucket=PromptBucket(stack, "Bucket"), source_dir=prompt_dir
    )
    sma = SipMediaApplication(stack, "Sma", prompts=[prompts])
    return stack, sma, CallMonitoring(stack, "Monitoring", sip_media_application=sma, **props)


@pytest.fixture(scope="module")
def sample(
    make_bare_app: AppFactory, prompt_dir: Path
) -> tuple[dict[str, Any], CallMonitoring, dict[str, Any]]:
    app = make_bare_app()
    stack, _, monitoring = sample_stack(app, prompt_dir)
    add_compliance_packs(app)
    assembly = app.synth()
    report = json.loads((Path(assembly.directory) / "validation-report.json").read_text())
    return Template.from_stack(stack).to_json(), monitoring, report


def of_type(template: dict[str, Any], resource_type: str) -> dict[str, Any]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == resource_type}


def alarm_named(template: dict[str, Any], name: str) -> dict[str, Any]:
    (found,) = [
        v["Properties"]
        for k, v in of_type(template, "AWS::CloudWatch::Alarm").items()
        if k.startswith(f"Monitoring{name}")
    ]
    return found


def references(value: Any) -> Iterator[str]:
    """Every logical id a template value refers to (Ref, Fn::GetAtt, Fn::Sub names)."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "Ref" and isinstance(item, str):
                yield item
            elif key == "Fn::GetAtt":
                yield item[0] if isinstance(item, list) else str(item).split(".")[0]
            else:
                yield from references(item)
    elif isinstance(value, list):
        for item in value:
            yield from references(item)


def cycle(template: dict[str, Any]) -> list[str] | None:
    """A dependency cycle among the resources (Ref, GetAtt, DependsOn, UpdatePolicy), or None."""
    resources = template["Resources"]
    edges = {
        logical_id: {
            target
            for target in [
                *references(resource.get("Properties", {})),
                *references(resource.get("UpdatePolicy", {})),
                *([resource["DependsOn"]] if isinstance(resource.get("DependsOn"), str) else []),
                *(resource.get("DependsOn") if isinstance(resource.get("DependsOn"), list) else []),
            ]
            if target in resources
        }
        for logical_id, resource in resources.items()
    }
    state: dict[str, str] = {}

    def visit(node: str, path: list[str]) -> list[str] | None:
        state[node] = "open"
        for target in sorted(edges[node]):
            if state.get(target) == "open":
                return [*path, node, target]
            if target not in state and (found := visit(target, [*path, node])):
                return found
        state[node] = "done"
        return None

    for node in sorted(edges):
        if node not in state and (found := visit(node, [])):
            return found
    return None


def test_every_default_alarm_exists_with_its_documented_settings(
    sample: tuple[dict[str, Any], CallMonitoring, dict[str, Any]],
) -> None:
    template, monitoring, _ = sample
    assert sorted(monitoring.alarms) == sorted(DEFAULT_ALARMS)
    assert len(of_type(template, "AWS::CloudWatch::Alarm")) == len(DEFAULT_ALARMS)
    for name, setting in DEFAULT_ALARMS.items():
        alarm = alarm_named(template, name)
        assert alarm["Threshold"] == setting.threshold, name
        assert alarm["EvaluationPeriods"] == setting.evaluation_periods, name
        assert alarm.get("DatapointsToAlarm") == setting.datapoints_to_alarm, name
        assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold", name
        assert alarm["TreatMissingData"] == "notBreaching", name
        assert alarm["Period"] == setting.period.to_seconds(), name
    latency = alarm_named(template, "HandlerLatency")
    assert (latency["MetricName"], latency["ExtendedStatistic"]) == ("Duration", "p99")
    assert latency["Threshold"] < 5000, "well under the SMA's 5 s retry"


def test_alarms_watch_the_handler_by_its_function_name(
    sample: tuple[dict[str, Any], CallMonitoring, dict[str, Any]],
) -> None:
    template, _, _ = sample
    (handler,) = [
        k
        for k, v in of_type(template, "AWS::Lambda::Function").items()
        if v["Properties"].get("Handler") == "runtime.handler.handler"
    ]
    by_function = [{"Name": "FunctionName", "Value": {"Ref": handler}}]
    broken = alarm_named(template, "BrokenPrompts")
    assert (broken["Namespace"], broken["MetricName"], broken["Statistic"]) == (
        "ChimePlayAudio",
        "ActionFailures",
        "Sum",
    )
    assert broken["Dimensions"] == [
        {"Name": "ErrorType", "Value": "InvalidAudioSource"},
        *by_function,
    ]
    for name, metric in (
        ("InvalidResponses", "InvalidLambdaResponses"),
        ("MalformedEvents", "MalformedEvents"),
        ("ActionFailures", "ActionFailures"),
    ):
        alarm = alarm_named(template, name)
        assert (alarm["Namespace"], alarm["MetricName"]) == ("ChimePlayAudio", metric)
        assert alarm["Dimensions"] == by_function
    for name, metric in (
        ("HandlerErrors", "Errors"),
        ("HandlerThrottles", "Throttles"),
        ("HandlerLatency", "Duration"),
    ):
        alarm = alarm_named(template, name)
        assert (alarm["Namespace"], alarm["MetricName"]) == ("AWS/Lambda", metric)
        assert alarm["Dimensions"] == by_function


def test_alarms_and_recoveries_go_to_an_encrypted_tls_only_topic(
    sample: tuple[dict[str, Any], CallMonitoring, dict[str, Any]],
) -> None:
    template, _, _ = sample
    ((topic_id, topic),) = of_type(template, "AWS::SNS::Topic").items()
    ((key_id, key),) = of_type(template, "AWS::KMS::Key").items()
    assert topic["Properties"]["KmsMasterKeyId"] == {"Fn::GetAtt": [key_id, "Arn"]}
    assert key["Properties"]["EnableKeyRotation"] is True
    cloudwatch_use = [
        statement
        for statement in key["Properties"]["KeyPolicy"]["Statement"]
        if statement.get("Principal") == {"Service": "cloudwatch.amazonaws.com"}
    ]
    assert cloudwatch_use == [
        {
            "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
            "Condition": {"StringEquals": {"aws:SourceAccount": "123456789012"}},
            "Effect": "Allow",
            "Principal": {"Service": "cloudwatch.amazonaws.com"},
            "Resource": "*",
        }
    ]
    (policy,) = of_type(template, "AWS::SNS::TopicPolicy").values()
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    (deny,) = [statement for statement in statements if statement["Effect"] == "Deny"]
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    # The topic policy replaces SNS's default: CloudWatch needs its own Allow to publish.
    (allow,) = [statement for statement in statements if statement["Effect"] == "Allow"]
    assert allow["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert allow["Action"] == "sns:Publish"
    assert allow["Resource"] == {"Ref": topic_id}
    assert allow["Condition"]["StringEquals"] == {"aws:SourceAccount": "123456789012"}
    assert allow["Condition"]["ArnLike"] == {
        "aws:SourceArn": {
            "Fn::Join": [
                "",
                ["arn:", {"Ref": "AWS::Partition"}, ":cloudwatch:us-east-1:123456789012:alarm:*"],
            ]
        }
    }
    for alarm in of_type(template, "AWS::CloudWatch::Alarm").values():
        assert alarm["Properties"]["AlarmActions"] == [{"Ref": topic_id}]
        assert alarm["Properties"]["OKActions"] == [{"Ref": topic_id}]


def test_the_rollback_alarms_roll_a_handler_change_back(
    sample: tuple[dict[str, Any], CallMonitoring, dict[str, Any]],
) -> None:
    template, _, _ = sample
    (group,) = of_type(template, "AWS::CodeDeploy::DeploymentGroup").values()
    configured = group["Properties"]["AlarmConfiguration"]
    assert configured["Enabled"] is True
    rollback_ids = {
        logical_id
        for logical_id in of_type(template, "AWS::CloudWatch::Alarm")
        if any(logical_id.startswith(f"Monitoring{name}") for name in DEFAULT_ROLLBACK_ALARMS)
    }
    assert {alarm["Name"]["Ref"] for alarm in configured["Alarms"]} == rollback_ids
    assert "DEPLOYMENT_STOP_ON_ALARM" in group["Properties"]["AutoRollbackConfiguration"]["Events"]
    assert "HandlerThrottles" not in DEFAULT_ROLLBACK_ALARMS


def test_no_reference_cycle_and_every_pack_passes(
    sample: tuple[dict[str, Any], CallMonitoring, dict[str, Any]],
) -> None:
    template, _, report = sample
    assert cycle(template) is None
    assert [
        (plugin["pluginName"], plugin["conclusion"], plugin["violations"])
        for plugin in report["pluginReports"]
    ] == [(pack, "success", []) for pack in PACKS]


def test_the_cycle_check_finds_the_cycle_an_sma_keyed_alarm_would_close() -> None:
    """The check above can fail: an alarm keyed on the SMA id closes alias -> rollout ->
    alarm -> SMA -> alias."""
    template = {
        "Resources": {
            "Alias": {"UpdatePolicy": {"CodeDeployLambdaAliasUpdate": {"Group": {"Ref": "Group"}}}},
            "Group": {"Properties": {"Alarms": [{"Name": {"Ref": "Alarm"}}]}},
            "Alarm": {"Properties": {"Dimensions": [{"Value": {"Fn::GetAtt": ["Sma", "Id"]}}]}},
            "Sma": {"Properties": {"Endpoints": [{"LambdaArn": {"Ref": "Alias"}}]}},
        }
    }
    assert cycle(template) == ["Alarm", "Sma", "Alias", "Group", "Alarm"]


def test_the_dashboard_shows_calls_failures_fallbacks_latency_and_throttles(
    sample: tuple[dict[str, Any], CallMonitoring, dict[str, Any]],
) -> None:
    template, _, _ = sample
    (dashboard,) = of_type(template, "AWS::CloudWatch::Dashboard").values()
    body = json.dumps(dashboard["Properties"]["DashboardBody"])
    for title in (
        "Calls",
        "Action failures by Chime error type",
        "Fallback prompts, invalid responses, malformed events",
        "Handler latency against the SMA's 5 s retry",
        "Handler errors and throttles",
        "Alarms",
    ):
        assert f'\\"title\\":\\"{title}\\"' in body, title
    assert '\\"value\\":5000' in body
    # Namespace= matches every dimension set; a {schema} would match only metrics with none.
    assert (
        """SEARCH('Namespace=\\\\\\"AWS/ChimeVoiceConnector\\\\\\" """
        """MetricName=\\\\\\"SmaActiveCallCount\\\\\\"', 'Maximum', 60)"""
    ) in body
    for error_type in ("InvalidAudioSource", "SystemException", "InvalidActionParameter", "Other"):
        assert f'\\"{error_type}\\"' in body


def test_alarms_can_be_tuned_turned_off_and_sent_to_your_topic(
    make_bare_app: AppFactory, prompt_dir: Path
) -> None:
    app = make_bare_app()
    stack = cdk.Stack(app, "Mine", env=ENV)
    topic = sns.Topic(stack, "OnCall")
    prompts = WavPrompts(
        stack, "Prompts", prompt_bucket=PromptBucket(stack, "Bucket"), source_dir=prompt_dir
    )
    sma = SipMediaApplication(stack, "Sma", prompts=[prompts])
    monitoring = CallMonitoring(
        stack,
        "Monitoring",
        sip_media_application=sma,
        alarm_topic=topic,
        alarms={
            "HandlerLatency": AlarmSettings(threshold=2000, evaluation_periods=10),
            "ActionFailures": None,
        },
        rollback_alarms=["HandlerErrors"],
        dashboard=False,
    )
    template = Template.from_stack(stack).to_json()
    assert "ActionFailures" not in monitoring.alarms
    assert len(of_type(template, "AWS::CloudWatch::Alarm")) == len(DEFAULT_ALARMS) - 1
    latency = alarm_named(template, "HandlerLatency")
    assert (latency["Threshold"], latency["EvaluationPeriods"]) == (2000, 10)
    assert of_type(template, "AWS::KMS::Key") == {}
    assert list(of_type(template, "AWS::SNS::Topic")) == [
        stack.get_logical_id(topic.node.default_child)
    ]  # type: ignore[arg-type]
    assert of_type(template, "AWS::CloudWatch::Dashboard") == {}
    (group,) = of_type(template, "AWS::CodeDeploy::DeploymentGroup").values()
    (only,) = group["Properties"]["AlarmConfiguration"]["Alarms"]
    assert only["Name"]["Ref"].startswith("MonitoringHandlerErrors")


def test_your_own_function_without_an_alias_is_watched_without_a_rollout(
    make_bare_app: AppFactory,
) -> None:
    stack = cdk.Stack(make_bare_app(), "Own", env=ENV)
    function = lambda_.Function.from_function_arn(
        stack, "Ivr", "arn:aws:lambda:us-east-1:123456789012:function:ivr"
    )
    sma = SipMediaApplication(stack, "Sma", function=function)
    monitoring = CallMonitoring(stack, "Monitoring", sip_media_application=sma)
    template = Template.from_stack(stack).to_json()
    assert sorted(monitoring.alarms) == sorted(DEFAULT_ALARMS)
    assert of_type(template, "AWS::CodeDeploy::DeploymentGroup") == {}
    assert alarm_named(template, "HandlerErrors")["Dimensions"] == [
        {"Name": "FunctionName", "Value": "ivr"}
    ]


def test_your_own_alias_with_a_rollout_has_no_cycle(make_bare_app: AppFactory) -> None:
    stack = cdk.Stack(make_bare_app(), "Own", env=ENV)
    function = user_function(stack)
    alias = lambda_.Alias(stack, "Prod", alias_name="prod", version=function.current_version)
    sma = SipMediaApplication(
        stack, "Sma", function=alias, rollout=codedeploy.LambdaDeploymentConfig.ALL_AT_ONCE
    )
    CallMonitoring(stack, "Monitoring", sip_media_application=sma)
    template = Template.from_stack(stack).to_json()
    assert cycle(template) is None
    (group,) = of_type(template, "AWS::CodeDeploy::DeploymentGroup").values()
    assert len(group["Properties"]["AlarmConfiguration"]["Alarms"]) == len(DEFAULT_ROLLBACK_ALARMS)


def test_misuse_is_one_error_naming_every_problem(
    make_bare_app: AppFactory, prompt_dir: Path
) -> None:
    with pytest.raises(ValueError) as raised:
        sample_stack(
            make_bare_app(),
            prompt_dir,
            alarms={
                "HandlerLatencyy": None,
                "HandlerErrors": AlarmSettings(threshold="1"),  # type: ignore[arg-type]
                "BrokenPrompts": AlarmSettings(
                    threshold=1, evaluation_periods=2, datapoints_to_alarm=3
                ),
                "InvalidResponses": AlarmSettings(threshold=1, period=cdk.Duration.seconds(90)),
                "ActionFailures": 5,  # type: ignore[dict-item]
            },
            rollback_alarms="HandlerErrors",  # type: ignore[arg-type]
            namespace="AWS/Chime",
            dashboard="yes",  # type: ignore[arg-type]
        )
    message = str(raised.value)
    assert message.startswith("CallMonitoring 'Monitoring' has 8 problems:")
    for expected in (
        "alarms names 'HandlerLatencyy'; expected one of HandlerErrors, HandlerThrottles",
        "alarms['HandlerErrors'].threshold is '1'; expected a finite number",
        "alarms['BrokenPrompts'].datapoints_to_alarm is 3; expected 1 to evaluation_periods (2)",
        "alarms['InvalidResponses'].period is 90 s; expected a whole number of minutes",
        "alarms['ActionFailures'] is 5 (int); expected AlarmSettings(...), or None",
        "rollback_alarms is 'HandlerErrors'; expected a list of alarm names",
        "metrics namespace 'AWS/Chime' is invalid",
        "dashboard is 'yes'; expected True or False",
    ):
        assert expected in message, expected


@pytest.mark.parametrize(
    ("alarms", "rollback", "namespace", "expected"),
    [
        ({"HandlerErrors": AlarmSettings(threshold=math.nan)}, None, None, "finite number"),
        ({"HandlerErrors": AlarmSettings(threshold=math.inf)}, None, None, "finite number"),
        (
            {"HandlerErrors": AlarmSettings(threshold=1, evaluation_periods=True)},
            None,
            None,
            "evaluation_periods is True; expected a whole number from 1",
        ),
        (
            {"HandlerErrors": AlarmSettings(threshold=1, evaluation_periods=0)},
            None,
            None,
            "evaluation_periods is 0",
        ),
        (
            {"HandlerErrors": AlarmSettings(threshold=1, datapoints_to_alarm=True)},
            None,
            None,
            "datapoints_to_alarm is True",
        ),
        (
            {"HandlerErrors": AlarmSettings(threshold=1, period=cdk.Duration.millis(500))},
            None,
            None,
            "period is 0.5 s; expected a whole number of minutes",
        ),
        (
            {"HandlerErrors": AlarmSettings(threshold=1, period=cdk.Duration.seconds(30))},
            None,
            None,
            "period is 30 s; expected a whole number of minutes",
        ),
        (
            {"HandlerErrors": AlarmSettings(threshold=1, evaluation_periods=1441)},
            None,
            None,
            "looks back 86,460 s (period x evaluation_periods); CloudWatch allows at most "
            "86,400 s for a period under an hour",
        ),
        (
            {"HandlerErrors": AlarmSettings(threshold=1, period=cdk.Duration.days(8))},
            None,
            None,
            "allows at most 604,800 s for a period of an hour or more",
        ),
        ({"HandlerErrors": None}, ["HandlerErrors"], None, "which alarms turns off"),
        ({}, ["HandlerErrors", "HandlerErrors"], None, "names 'HandlerErrors' twice"),
        ({}, None, " ChimePlayAudio", "expected no spaces around it"),
    ],
)
def test_settings_cloudwatch_would_refuse_or_never_fire_on_are_refused(
    make_bare_app: AppFactory,
    prompt_dir: Path,
    alarms: dict[str, Any],
    rollback: list[str] | None,
    namespace: str | None,
    expected: str,
) -> None:
    props: dict[str, Any] = {"alarms": alarms}
    if rollback is not None:
        props["rollback_alarms"] = rollback
    if namespace is not None:
        props["namespace"] = namespace
    with pytest.raises(ValueError, match=re.escape(expected)):
        sample_stack(make_bare_app(), prompt_dir, **props)


def test_an_alarm_fires_as_its_description_says(
    make_bare_app: AppFactory, prompt_dir: Path
) -> None:
    stack, _, _ = sample_stack(
        make_bare_app(),
        prompt_dir,
        alarms={
            "ActionFailures": AlarmSettings(
                threshold=3, evaluation_periods=4, datapoints_to_alarm=2
            )
        },
    )
    template = Template.from_stack(stack).to_json()
    assert alarm_named(template, "ActionFailures")["AlarmDescription"].endswith(
        "Fires at 3 or more in 2 of 4 periods of a minute."
    )
    assert alarm_named(template, "BrokenPrompts")["AlarmDescription"].endswith(
        "Fires at 1 or more in a minute."
    )


def test_another_namespace_is_the_one_the_sample_handler_writes(
    make_bare_app: AppFactory, prompt_dir: Path
) -> None:
    stack, sma, _ = sample_stack(make_bare_app(), prompt_dir, namespace="Ivr/Calls")
    template = Template.from_stack(stack).to_json()
    handler = stack.get_logical_id(sma.sample_handler.node.default_child)  # type: ignore[union-attr, arg-type]
    variables = template["Resources"][handler]["Properties"]["Environment"]["Variables"]
    assert variables["METRICS_NAMESPACE"] == "Ivr/Calls"
    assert alarm_named(template, "BrokenPrompts")["Namespace"] == "Ivr/Calls"


def test_monitoring_in_another_stack_than_the_rollout_is_one_clear_error(
    make_bare_app: AppFactory, prompt_dir: Path
) -> None:
    app = make_bare_app()
    _, sma, _ = sample_stack(app, prompt_dir, dashboard=False)
    elsewhere = cdk.Stack(app, "Elsewhere", env=ENV)
    with pytest.raises(ValueError, match=r"a cycle between the stacks\. Expected CallMonitoring"):
        CallMonitoring(elsewhere, "Monitoring", sip_media_application=sma)
    # Without rollback alarms nothing in the SMA's stack names them: that composes.
    CallMonitoring(elsewhere, "Watch", sip_media_application=sma, rollback_alarms=[])
    app.synth()


@pytest.mark.parametrize("endpoint", ["version", "imported alias", "imported version"])
def test_alarms_watch_the_unqualified_function_behind_any_endpoint(
    make_bare_app: AppFactory, endpoint: str
) -> None:
    stack = cdk.Stack(make_bare_app(), "Own", env=ENV)
    version = lambda_.Version.from_version_arn(
        stack, "V", "arn:aws:lambda:us-east-1:123456789012:function:ivr:7"
    )
    endpoints: dict[str, lambda_.IFunction] = {
        "version": lambda_.Version(stack, "Published", lambda_=user_function(stack)),
        "imported alias": lambda_.Alias.from_alias_attributes(
            stack, "Live", alias_name="live", alias_version=version
        ),
        "imported version": version,
    }
    sma = SipMediaApplication(stack, "Sma", function=endpoints[endpoint])
    CallMonitoring(stack, "Monitoring", sip_media_application=sma)
    template = Template.from_stack(stack).to_json()
    (dimension,) = alarm_named(template, "HandlerErrors")["Dimensions"]
    user = stack.get_logical_id(stack.node.find_child("UserFunction").node.default_child)  # type: ignore[arg-type]
    expected = {"Ref": user} if endpoint == "version" else "ivr"
    assert dimension == {"Name": "FunctionName", "Value": expected}
    broken = alarm_named(template, "BrokenPrompts")["Dimensions"]
    assert {"Name": "FunctionName", "Value": expected} in broken


def test_the_sample_app_turns_monitoring_on(make_app: AppFactory) -> None:
    from app import build_app

    stack = build_app(make_app(), {})
    assert sorted(stack.monitoring.alarms) == sorted(DEFAULT_ALARMS)
    assert stack.monitoring.dashboard is not None
