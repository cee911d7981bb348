"""CallMonitoring: alarms on a SIP media application's call flow, an alarm topic, a dashboard.

Once a phone line is live, nothing else says that callers hear the fallback prompt all
afternoon, that the handler nears the SMA's 5 s retry, or that a handler change broke
calls. The alarms watch the handler's Lambda metrics and the call-flow metrics the sample handler
writes (``constructs_pkg.runtime.metrics``, namespace ``ChimePlayAudio``), both by the
handler's function name, which covers every version behind the alias; the ones that a bad
handler change trips also roll its rollout back (``SipMediaApplication.add_rollback_alarm``).
Not by the alias or the SMA id: the rollout references the alarms, the alias references
the rollout and the SMA the alias, so such an alarm would close a cycle CloudFormation
refuses.

``AWS/ChimeVoiceConnector`` carries PSTN metrics such as ``SmaActiveCallCount``, but AWS
documents only the ``VoiceConnectorId`` and ``Region`` dimensions for it (Amazon Chime SDK
Administration Guide, "Monitoring the Amazon Chime SDK with Amazon CloudWatch"), none that
names an SMA; so no alarm watches it, and the dashboard graphs it with a SEARCH expression,
which needs no dimension names.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from constructs import Construct

from constructs_pkg._props import Problems, describe, real_signature
from constructs_pkg.chime_facts import SMA_RETRY_SECONDS
from constructs_pkg.runtime import contract, metrics
from constructs_pkg.runtime.events import INVALID_AUDIO_SOURCE
from constructs_pkg.sip_media_application import SipMediaApplication, check_sip_media_application

# The SMA retries an invocation without an answer, then fails the call.
SMA_RETRY_MS = SMA_RETRY_SECONDS * 1000
ONE_MINUTE = cdk.Duration.minutes(1)
# PutMetricAlarm: period x evaluation periods at most a day for periods under an hour,
# at most seven days otherwise.
MAX_ALARM_WINDOW_S = 86_400
MAX_LONG_ALARM_WINDOW_S = 604_800


@dataclass(frozen=True)
class AlarmSettings:
    """When one alarm fires: ``threshold`` reached (>=) in ``datapoints_to_alarm`` of the
    last ``evaluation_periods`` periods of ``period``."""

    threshold: float
    evaluation_periods: int = 1
    datapoints_to_alarm: int | None = None
    period: cdk.Duration = ONE_MINUTE


# Defaults a production team can start from: anything a caller hears as a failed call
# alarms within a minute; latency and errors need most of a few minutes, so one slow
# cold start or one transient error does not page anyone.
DEFAULT_ALARMS: Mapping[str, AlarmSettings] = {
    # Handler invocations that failed (the sample handler never raises: a bug or a crash).
    "HandlerErrors": AlarmSettings(threshold=1, evaluation_periods=3, datapoints_to_alarm=2),
    # Invocations Lambda refused for concurrency: the SMA could not reach the handler.
    "HandlerThrottles": AlarmSettings(threshold=1),
    # p99 handler duration in ms, against the SMA's retry: a fifth of it.
    "HandlerLatency": AlarmSettings(
        threshold=SMA_RETRY_MS // 5, evaluation_periods=5, datapoints_to_alarm=3
    ),
    # PlayAudio could not read a prompt: a broken prompt deploy, grant or key.
    "BrokenPrompts": AlarmSettings(threshold=1),
    # The SMA could not use the handler's response.
    "InvalidResponses": AlarmSettings(threshold=1),
    # Events the handler could not read, or exceptions it caught.
    "MalformedEvents": AlarmSettings(threshold=1),
    # Any failed action, every error type: five in five minutes.
    "ActionFailures": AlarmSettings(threshold=5, period=cdk.Duration.minutes(5)),
}
# The alarms a bad handler change trips, so they roll its rollout back. Throttles are
# capacity, not the change; ActionFailures also counts callers hanging up mid-action.
DEFAULT_ROLLBACK_ALARMS = (
    "HandlerErrors",
    "HandlerLatency",
    "BrokenPrompts",
    "InvalidResponses",
    "MalformedEvents",
)


@real_signature
class CallMonitoring(Construct):
    """Alarms, an alarm topic and a dashboard for one SipMediaApplication's call flow.

    :param sip_media_application: the SMA whose handler and calls are watched.
    :param alarm_topic: where alarms (and their recovery) are sent. Default: a new topic,
        encrypted with a customer-managed KMS key (CloudWatch cannot publish to a topic
        under the AWS managed SNS key) and accepting TLS only.
    :param alarms: per alarm name (``DEFAULT_ALARMS``), other settings, or None to turn
        that alarm off. Default: ``DEFAULT_ALARMS``.
    :param rollback_alarms: the alarm names that also roll a handler rollout back.
        Default: ``DEFAULT_ROLLBACK_ALARMS``.
    :param namespace: the namespace of the call-flow metrics. Default: "ChimePlayAudio",
        what ``constructs_pkg.runtime.metrics`` writes.
    :param dashboard: make a CloudWatch dashboard. Default: True.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        sip_media_application: SipMediaApplication,
        alarm_topic: sns.ITopic | None = None,
        alarms: Mapping[str, AlarmSettings | None] | None = None,
        rollback_alarms: Sequence[str] = DEFAULT_ROLLBACK_ALARMS,
        namespace: str = metrics.NAMESPACE,
        dashboard: bool = True,
    ) -> None:
        super().__init__(scope, construct_id)
        settings = _check(
            construct_id,
            cdk.Stack.of(self),
            sip_media_application=sip_media_application,
            alarm_topic=alarm_topic,
            alarms=alarms,
            rollback_alarms=rollback_alarms,
            namespace=namespace,
            dashboard=dashboard,
        )
        self.sip_media_application = sip_media_application
        self.namespace = namespace
        sample_handler = sip_media_application.sample_handler
        if sample_handler is not None and namespace != metrics.NAMESPACE:
            # The alarms watch this namespace: the sample handler must write to it.
            sample_handler.add_environment(contract.METRICS_NAMESPACE, namespace)
        self.alarm_topic_key: kms.Key | None = None
        """The key of the topic this construct made; None for a topic you passed."""
        self.alarm_topic: sns.ITopic = alarm_topic or self._encrypted_topic()
        self.alarms: dict[str, cloudwatch.Alarm] = {}
        for name, setting in settings.items():
            if setting is not None:
                self.alarms[name] = self._alarm(name, setting)
        for name in rollback_alarms:
            if name in self.alarms:
                sip_media_application.add_rollback_alarm(self.alarms[name])
        self.dashboard = self._dashboard() if dashboard else None

    # -- metrics -------------------------------------------------------------------------

    def call_metric(
        self,
        name: str,
        *,
        dimensions: Mapping[str, str] | None = None,
        statistic: str = "Sum",
        period: cdk.Duration = ONE_MINUTE,
    ) -> cloudwatch.Metric:
        """A call-flow metric of this SMA's handler (``metrics.CALLS_STARTED`` ...), by its
        ``FunctionName`` and any extra dimensions."""
        handler = self.sip_media_application.handler_function
        return cloudwatch.Metric(
            namespace=self.namespace,
            metric_name=name,
            dimensions_map={
                metrics.FUNCTION_DIMENSION: handler.function_name,
                **(dimensions or {}),
            },
            statistic=statistic,
            period=period,
        )

    def _metric_of(self, name: str, period: cdk.Duration) -> cloudwatch.IMetric:
        function = self.sip_media_application.handler_function
        if name == "HandlerErrors":
            return function.metric_errors(period=period, statistic="Sum")
        if name == "HandlerThrottles":
            return function.metric_throttles(period=period, statistic="Sum")
        if name == "HandlerLatency":
            return function.metric_duration(period=period, statistic="p99")
        if name == "BrokenPrompts":
            return self.call_metric(
                metrics.ACTION_FAILURES,
                period=period,
                dimensions={metrics.ERROR_TYPE_DIMENSION: INVALID_AUDIO_SOURCE},
            )
        return self.call_metric(_CALL_METRICS[name], period=period)

    # -- alarms --------------------------------------------------------------------------

    def _alarm(self, name: str, setting: AlarmSettings) -> cloudwatch.Alarm:
        alarm = cloudwatch.Alarm(
            self,
            name,
            metric=self._metric_of(name, setting.period),
            threshold=setting.threshold,
            evaluation_periods=setting.evaluation_periods,
            datapoints_to_alarm=setting.datapoints_to_alarm,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            # No calls, no data: a quiet line is not an incident.
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            alarm_description=_DESCRIPTIONS[name].format(sma=self.sip_media_application.node.path)
            + " "
            + _when(setting),
        )
        action = cloudwatch_actions.SnsAction(self.alarm_topic)
        alarm.add_alarm_action(action)
        alarm.add_ok_action(action)
        return alarm

    def _encrypted_topic(self) -> sns.Topic:
        """A TLS-only topic under a rotating customer-managed key CloudWatch may use."""
        key = self.alarm_topic_key = kms.Key(
            self,
            "AlarmTopicKey",
            description="Encrypts the call-flow alarm topic; CloudWatch alarms may use it.",
            enable_key_rotation=True,
        )
        key.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                resources=["*"],
                conditions={"StringEquals": {"aws:SourceAccount": cdk.Stack.of(self).account}},
            )
        )
        topic = sns.Topic(
            self,
            "AlarmTopic",
            display_name="Call-flow alarms",
            master_key=key,
            enforce_ssl=True,
        )
        # A topic policy replaces SNS's default one, which let the account's services
        # publish: without this statement the TLS-only policy would refuse the alarms.
        stack = cdk.Stack.of(self)
        topic.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["sns:Publish"],
                resources=[topic.topic_arn],
                conditions={
                    "StringEquals": {"aws:SourceAccount": stack.account},
                    "ArnLike": {
                        "aws:SourceArn": stack.format_arn(
                            service="cloudwatch",
                            resource="alarm",
                            resource_name="*",
                            arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
                        )
                    },
                },
            )
        )
        return topic

    # -- dashboard -----------------------------------------------------------------------

    def _dashboard(self) -> cloudwatch.Dashboard:
        function = self.sip_media_application.handler_function
        failures = [
            self.call_metric(
                metrics.ACTION_FAILURES, dimensions={metrics.ERROR_TYPE_DIMENSION: kind}
            ).with_(label=kind)
            for kind in metrics.ERROR_TYPES
        ]
        latency_limit = cloudwatch.HorizontalAnnotation(
            value=SMA_RETRY_MS,
            label=f"SMA retries after {SMA_RETRY_SECONDS} s",
            color=cloudwatch.Color.RED,
        )
        widgets: list[cloudwatch.IWidget] = [
            cloudwatch.GraphWidget(
                title="Calls",
                left=[self.call_metric(metrics.CALLS_STARTED).with_(label="calls started")],
                right=[
                    cloudwatch.MathExpression(
                        expression=(
                            'SEARCH(\'Namespace="AWS/ChimeVoiceConnector" '
                            "MetricName=\"SmaActiveCallCount\"', 'Maximum', 60)"
                        ),
                        label="active SMA calls (account)",
                        period=ONE_MINUTE,
                    )
                ],
            ),
            cloudwatch.GraphWidget(title="Action failures by Chime error type", left=failures),
            cloudwatch.GraphWidget(
                title="Fallback prompts, invalid responses, malformed events",
                left=[
                    self.call_metric(metrics.FALLBACK_PROMPTS_PLAYED).with_(label="fallback"),
                    self.call_metric(metrics.INVALID_LAMBDA_RESPONSES).with_(label="invalid"),
                    self.call_metric(metrics.MALFORMED_EVENTS).with_(label="malformed"),
                ],
            ),
            cloudwatch.GraphWidget(
                title=f"Handler latency against the SMA's {SMA_RETRY_SECONDS} s retry",
                left=[
                    function.metric_duration(statistic=stat).with_(label=stat)
                    for stat in ("p50", "p99", "Maximum")
                ],
                left_annotations=[latency_limit],
            ),
            cloudwatch.GraphWidget(
                title="Handler errors and throttles",
                left=[
                    function.metric_errors(statistic="Sum").with_(label="errors"),
                    function.metric_throttles(statistic="Sum").with_(label="throttles"),
                ],
            ),
        ]
        if self.alarms:
            widgets.append(
                cloudwatch.AlarmStatusWidget(title="Alarms", alarms=list(self.alarms.values()))
            )
        dashboard = cloudwatch.Dashboard(self, "Dashboard")
        for index in range(0, len(widgets), 2):
            dashboard.add_widgets(*widgets[index : index + 2])
        return dashboard


_CALL_METRICS = {
    "InvalidResponses": metrics.INVALID_LAMBDA_RESPONSES,
    "MalformedEvents": metrics.MALFORMED_EVENTS,
    "ActionFailures": metrics.ACTION_FAILURES,
}
_DESCRIPTIONS = {
    "HandlerErrors": "The SIP media application handler of {sma} failed invocations: callers "
    "hear failed calls.",
    "HandlerThrottles": "Lambda throttled the handler of {sma}: the SMA could not reach it, so "
    "calls failed. Raise the account's concurrency.",
    "HandlerLatency": "The handler of {sma} answers slowly (p99 duration in ms); the SMA "
    f"retries after {SMA_RETRY_SECONDS} s and then fails the call.",
    "BrokenPrompts": "PlayAudio could not read a prompt of {sma} (InvalidAudioSource): check "
    "the prompt deployment, the bucket policy and the keys.",
    "InvalidResponses": "The SMA {sma} could not use the handler's response "
    "(INVALID_LAMBDA_RESPONSE): a handler bug.",
    "MalformedEvents": "The handler of {sma} met events it could not read, or caught "
    "exceptions: a handler bug or a new event shape.",
    "ActionFailures": "Actions of {sma} failed (every Chime error type).",
}


def _check(
    construct_id: str,
    stack: cdk.Stack,
    *,
    sip_media_application: object,
    alarm_topic: object,
    alarms: object,
    rollback_alarms: object,
    namespace: object,
    dashboard: object,
) -> dict[str, AlarmSettings | None]:
    """Every misuse in one error; returns the alarm settings to apply, by name."""
    problems = Problems(f"CallMonitoring '{construct_id}'")
    check_sip_media_application(sip_media_application, problems)
    problems.check_implements("alarm_topic", alarm_topic, sns.ITopic, "an sns.ITopic")
    settings: dict[str, AlarmSettings | None] = dict(DEFAULT_ALARMS)
    known = ", ".join(DEFAULT_ALARMS)
    if alarms is not None and not isinstance(alarms, Mapping):
        problems.add(f"alarms is {describe(alarms)}; expected a dict of alarm name to settings")
    elif alarms is not None:
        for name, setting in alarms.items():
            if name not in DEFAULT_ALARMS:
                problems.add(f"alarms names {name!r}; expected one of {known}")
            elif setting is not None and not isinstance(setting, AlarmSettings):
                problems.add(
                    f"alarms[{name!r}] is {describe(setting)}; expected AlarmSettings(...), "
                    "or None to turn the alarm off"
                )
            else:
                settings[name] = setting
    for name, setting in settings.items():
        problems.add(_settings_problem(name, setting))
    if isinstance(rollback_alarms, str) or not isinstance(rollback_alarms, Sequence):
        problems.add(
            f"rollback_alarms is {describe(rollback_alarms)}; expected a list of alarm names"
        )
    else:
        for index, name in enumerate(rollback_alarms):
            if name not in DEFAULT_ALARMS:
                problems.add(f"rollback_alarms names {name!r}; expected one of {known}")
            elif settings[name] is None:
                problems.add(
                    f"rollback_alarms names {name!r}, which alarms turns off; expected an "
                    "alarm that exists, or leave it out of rollback_alarms"
                )
            elif name in rollback_alarms[:index]:
                problems.add(f"rollback_alarms names {name!r} twice; expected each once")
        if (
            isinstance(sip_media_application, SipMediaApplication)
            and sip_media_application.rollout_group is not None
            and rollback_alarms
            and cdk.Stack.of(sip_media_application) is not stack
        ):
            problems.add(
                f"it is in stack {stack.stack_name}, the SMA in "
                f"{cdk.Stack.of(sip_media_application).stack_name}: the rollout there would "
                "name alarms here that name its handler there, a cycle between the stacks. "
                "Expected CallMonitoring in the SMA's stack, or rollback_alarms=[]"
            )
    if problems.check_type("namespace", namespace, str, "a CloudWatch namespace", optional=False):
        problems.add(metrics.namespace_error(namespace))
        if isinstance(namespace, str) and namespace != namespace.strip():
            problems.add(
                f"namespace is {namespace!r}; expected no spaces around it (the handler "
                "strips them, so the alarms would watch another namespace)"
            )
    problems.check_type("dashboard", dashboard, bool, "True or False", optional=False)
    problems.raise_if_any()
    return settings


def _settings_problem(name: str, setting: AlarmSettings | None) -> str | None:
    """Why an alarm's settings cannot make an alarm CloudWatch accepts and can fire, or None."""
    if setting is None:
        return None
    found = f"alarms[{name!r}]"
    threshold = setting.threshold
    if (
        isinstance(threshold, bool)
        or not isinstance(threshold, (int, float))
        or not math.isfinite(threshold)
    ):
        return f"{found}.threshold is {describe(threshold)}; expected a finite number"
    periods = setting.evaluation_periods
    if isinstance(periods, bool) or not isinstance(periods, int) or periods < 1:
        return f"{found}.evaluation_periods is {periods!r}; expected a whole number from 1"
    points = setting.datapoints_to_alarm
    if points is not None and (
        isinstance(points, bool) or not isinstance(points, int) or not 1 <= points <= periods
    ):
        return (
            f"{found}.datapoints_to_alarm is {points!r}; expected 1 to evaluation_periods "
            f"({periods})"
        )
    if not isinstance(setting.period, cdk.Duration):
        return f"{found}.period is {describe(setting.period)}; expected a cdk.Duration"
    # Lambda's metrics and the EMF lines are per minute: a shorter period has no data.
    millis = setting.period.to_milliseconds()
    if millis < 60_000 or millis % 60_000:
        return f"{found}.period is {millis / 1000:g} s; expected a whole number of minutes"
    window = millis // 1000 * periods
    limit = MAX_ALARM_WINDOW_S if millis < 3_600_000 else MAX_LONG_ALARM_WINDOW_S
    if window > limit:
        which = "under an hour" if limit == MAX_ALARM_WINDOW_S else "of an hour or more"
        return (
            f"{found} looks back {window:,} s (period x evaluation_periods); CloudWatch "
            f"allows at most {limit:,} s for a period {which}"
        )
    return None


def _when(setting: AlarmSettings) -> str:
    """When the alarm fires, in words, from its settings."""
    minutes = int(setting.period.to_minutes())
    period = "a minute" if minutes == 1 else f"{minutes} minutes"
    points = setting.datapoints_to_alarm or setting.evaluation_periods
    if setting.evaluation_periods == 1:
        span = f"in {period}"
    else:
        span = f"in {points} of {setting.evaluation_periods} periods of {period}"
    return f"Fires at {setting.threshold:g} or more {span}."
