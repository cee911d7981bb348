"""SipMessageLogs: turns on an SMA's SIP message logs, into a log group with a retention.

CloudFormation's ``AWS::Chime::SipMediaApplication`` has no logging property, so this is
a custom resource: the CDK provider framework in front of
``constructs_pkg/custom_resources/sip_message_logs.py``, which calls chime-sdk-voice
PutSipMediaApplicationLoggingConfiguration on Create, Update and Delete.

The service writes the logs to the CloudWatch Logs group
``/aws/ChimeSipMediaApplicationSipMessages/<SMA id>`` (Amazon Chime SDK Developer Guide,
"Checking the logs"), and a group it creates itself keeps them forever. The SMA id is
known at deploy time, so this construct creates that group first, with a retention and
``RETAIN``, and turns logging on only after it exists (a DependsOn).
"""

from __future__ import annotations

import weakref

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from constructs import Construct, IConstruct

from constructs_pkg import compliance
from constructs_pkg._props import Problems, real_signature
from constructs_pkg._provider import chime_api_provider
from constructs_pkg.custom_resources import (
    BOOLEAN_TEXTS,
    ENABLE_MESSAGE_LOGS,
    SIP_MESSAGE_LOGS_ACTIONS,
    SIP_MESSAGE_LOGS_HANDLER,
    SIP_MESSAGE_LOGS_TYPE,
    SMA_ID_PROPERTY,
)
from constructs_pkg.sip_media_application import SipMediaApplication, check_sip_media_application

SIP_MESSAGES_LOG_GROUP_PREFIX = "/aws/ChimeSipMediaApplicationSipMessages/"
"""Where the service writes an SMA's SIP message logs: this prefix, then the SMA id."""

DEFAULT_RETENTION = logs.RetentionDays.ONE_MONTH
"""SIP messages carry callers' and called phone numbers, personal data kept for debugging
calls only: a month covers looking into a reported call, and keeps no more than that."""


@real_signature
class SipMessageLogs(Construct):
    """The SIP message logs of one SIP media application, on or off, with a retention.

    :param sip_media_application: the SMA whose SIP messages are logged.
    :param enabled: whether the service logs them. Default: True. False keeps the log
        group (and what it holds) but turns logging off.
    :param log_retention: how long the log group keeps them. Default: one month
        (``DEFAULT_RETENTION``: they hold callers' phone numbers).
    :param create_log_group: whether this stack creates the log group. Default: True.
        Pass False for an SMA whose group exists already (logging was on before): creating
        it again fails the deploy with "already exists". The service then writes to the
        existing group, whose retention stays as it is.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        sip_media_application: SipMediaApplication,
        enabled: bool = True,
        log_retention: logs.RetentionDays = DEFAULT_RETENTION,
        create_log_group: bool = True,
    ) -> None:
        super().__init__(scope, construct_id)
        _check(
            construct_id,
            sip_media_application=sip_media_application,
            enabled=enabled,
            log_retention=log_retention,
            create_log_group=create_log_group,
        )
        _claim_sma(self, sip_media_application)
        self.sip_media_application = sip_media_application
        self.enabled = enabled
        self.log_group_name: str = SIP_MESSAGES_LOG_GROUP_PREFIX + sip_media_application.sma_id
        self.log_group: logs.ILogGroup
        owned: logs.LogGroup | None = None
        if create_log_group:
            owned = logs.LogGroup(
                self,
                "SipMessages",
                log_group_name=self.log_group_name,
                retention=log_retention,
                removal_policy=cdk.RemovalPolicy.RETAIN,
            )
            compliance.exempt_sip_messages_log_group(owned)
            self.log_group = owned
        else:
            self.log_group = logs.LogGroup.from_log_group_name(
                self, "SipMessages", self.log_group_name
            )

        made = chime_api_provider(
            self,
            handler=SIP_MESSAGE_LOGS_HANDLER,
            description="Custom resource: a Chime SMA's SIP message logging (chime-sdk-voice).",
            role_description="Turns SIP message logging of one Chime SMA on or off; writes its "
            "logs.",
            exemptions=compliance.SIP_MESSAGE_LOGS_HANDLER_EXEMPTIONS,
            statements=[
                iam.PolicyStatement(
                    actions=list(SIP_MESSAGE_LOGS_ACTIONS),
                    resources=[sip_media_application.sma_arn],
                )
            ],
        )
        self.resource = cdk.CustomResource(
            self,
            "Resource",
            service_token=made.provider.service_token,
            resource_type=SIP_MESSAGE_LOGS_TYPE,
            properties={
                SMA_ID_PROPERTY: sip_media_application.sma_id,
                # As CloudFormation hands it to the handler anyway: a string.
                ENABLE_MESSAGE_LOGS: BOOLEAN_TEXTS[enabled],
            },
        )
        if owned is not None:
            # The service must find the group with its retention, not create one without.
            self.resource.node.add_dependency(owned)


def _check(
    construct_id: str,
    *,
    sip_media_application: object,
    enabled: object,
    log_retention: object,
    create_log_group: object,
) -> None:
    """Every misuse in one error naming the prop and value."""
    problems = Problems(f"SipMessageLogs '{construct_id}'")
    check_sip_media_application(sip_media_application, problems)
    problems.check_type("enabled", enabled, bool, "True or False", optional=False)
    problems.check_type(
        "log_retention", log_retention, logs.RetentionDays, "a logs.RetentionDays", optional=False
    )
    problems.check_type("create_log_group", create_log_group, bool, "True or False", optional=False)
    problems.raise_if_any()


# Every SipMessageLogs of an app, by the app (the construct tree's root).
_LOGGED: weakref.WeakKeyDictionary[IConstruct, list[SipMessageLogs]] = weakref.WeakKeyDictionary()


def _claim_sma(logging: SipMessageLogs, sma: SipMediaApplication) -> None:
    """Refuse a second SipMessageLogs for the same SMA: an SMA has one logging setting and
    one log group, so the second would fight the first and fail on the group's name."""
    claimed = _LOGGED.setdefault(logging.node.root, [])
    for other in claimed:
        if other.sip_media_application is sma:
            raise ValueError(
                f"SipMessageLogs '{logging.node.id}': the SIP message logs of "
                f"{sma.node.path} are set by {other.node.path} already; expected one "
                "SipMessageLogs per SIP media application."
            )
    claimed.append(logging)
