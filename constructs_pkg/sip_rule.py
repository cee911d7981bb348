"""SipRule: routes calls for a phone number or SIP host name to a SIP media application.

CloudFormation has no SIP rule type, so this is a custom resource: the CDK
provider framework in front of ``constructs_pkg/handlers/sip_rule.py``, which
calls the ``chime-sdk-voice`` API (List, Get, Create, Update and DeleteSipRule)
and really acts on Create, Update and Delete.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import custom_resources as cr
from constructs import Construct

from constructs_pkg._lambda import package_function
from constructs_pkg._nag import acknowledge, wildcard_resource_finding
from constructs_pkg.handlers import CHIME_NAME, E164_NUMBER, HOSTNAME, SIP_RULE_ACTIONS
from constructs_pkg.sip_media_application import SMA_REGIONS, SipMediaApplication

# The handler's retries sleep at most 47 s; leave room for the API calls themselves.
HANDLER_TIMEOUT = cdk.Duration.minutes(2)


@dataclass(frozen=True)
class SipRuleTarget:
    """Another SMA the rule routes to when the ones with lower priority numbers fail."""

    sip_media_application_id: str
    aws_region: str
    priority: int


class SipRule(Construct):
    """A SIP rule whose trigger is a phone number or a request-URI host name.

    :param sip_media_application: the SMA that takes the calls, at ``priority``.
    :param phone_number: trigger ToPhoneNumber, E.164 (``+12065550100``). Exactly one of
        ``phone_number`` and ``request_uri_hostname`` is required.
    :param request_uri_hostname: trigger RequestUriHostname (a Voice Connector host name).
    :param priority: the SMA's priority; 1 is tried first. Default: 1.
    :param failover_targets: SMAs in other regions, each with its own priority, as AWS
        recommends for failover. Default: none.
    :param name: the rule's name, 1-256 of ``[a-zA-Z0-9 _.-]``. Default: the construct's
        unique id.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        sip_media_application: SipMediaApplication,
        phone_number: str | None = None,
        request_uri_hostname: str | None = None,
        priority: int = 1,
        failover_targets: Sequence[SipRuleTarget] = (),
        name: str | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        region = cdk.Stack.of(self).region
        targets = [
            SipRuleTarget(sip_media_application.sma_id, region, priority),
            *failover_targets,
        ]
        self.rule_name = name if name is not None else cdk.Names.unique_id(self)[-256:]
        self.trigger_type, self.trigger_value = _check(
            construct_id, self.rule_name, phone_number, request_uri_hostname, targets
        )

        handler = self._handler()
        provider = cr.Provider(
            self,
            "Provider",
            on_event_handler=handler,
            log_group=logs.LogGroup(
                self, "ProviderLogs", retention=logs.RetentionDays.THREE_MONTHS
            ),
        )
        self.resource = cdk.CustomResource(
            self,
            "Resource",
            service_token=provider.service_token,
            resource_type="Custom::ChimeSipRule",
            properties={
                "Name": self.rule_name,
                "TriggerType": self.trigger_type,
                "TriggerValue": self.trigger_value,
                "TargetApplications": [
                    {
                        "SipMediaApplicationId": target.sip_media_application_id,
                        "Priority": str(target.priority),
                        "AwsRegion": target.aws_region,
                    }
                    for target in targets
                ],
            },
        )
        self.sip_rule_id: str = self.resource.ref
        self._acknowledge_provider(provider)

    def _handler(self) -> lambda_.Function:
        """The Lambda that calls the chime-sdk-voice API, allowed those calls and its logs only."""
        function = package_function(
            self,
            "Handler",
            folder="handlers",
            handler="handlers.sip_rule.on_event",
            memory_size=256,
            timeout=HANDLER_TIMEOUT,
            log_retention=logs.RetentionDays.THREE_MONTHS,
            description="Custom resource: a Chime SIP rule (chime-sdk-voice API).",
            role_description="Creates, updates, deletes one Chime SIP rule; writes its logs.",
        )
        role = function.role
        assert role is not None, "package_function always gives the function a role"
        role.add_to_principal_policy(
            iam.PolicyStatement(actions=list(SIP_RULE_ACTIONS), resources=["*"])
        )
        acknowledge(
            role.node.find_child("DefaultPolicy"),
            "AwsSolutions::AwsSolutions-IAM5[Resource::*]",
            "GetSipRule and DeleteSipRule support no resource-level permissions, and SIP rules "
            "have no resource type; the actions are limited to the SIP rule API.",
        )
        return function

    def _acknowledge_provider(self, provider: cr.Provider) -> None:
        """Findings on aws-cdk-lib's provider framework function, each with why it is safe."""
        framework = provider.node.find_child("framework-onEvent")
        role = framework.node.find_child("ServiceRole")
        acknowledge(
            role,
            "AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/"
            "service-role/AWSLambdaBasicExecutionRole]",
            "The provider framework's role; the managed policy only lets it write its own logs.",
        )
        handler_arn = provider.on_event_handler.function_arn
        acknowledge(
            role.node.find_child("DefaultPolicy"),
            wildcard_resource_finding(role, "AwsSolutions::AwsSolutions-IAM5", f"{handler_arn}:*"),
            "The provider framework may invoke any version of this construct's own handler "
            "function, and nothing else.",
        )


def _check(
    construct_id: str,
    name: str,
    phone_number: str | None,
    hostname: str | None,
    targets: Sequence[SipRuleTarget],
) -> tuple[str, str]:
    """The trigger (type, value); every misuse in one error naming the prop and the value."""
    problems = []
    trigger: tuple[str, str] = ("", "")
    if (phone_number is None) == (hostname is None):
        problems.append(
            "pass exactly one of phone_number (E.164, e.g. '+12065550100') and request_uri_hostname"
        )
    elif phone_number is not None:
        trigger = ("ToPhoneNumber", phone_number)
        if not cdk.Token.is_unresolved(phone_number) and not E164_NUMBER.fullmatch(phone_number):
            problems.append(
                f"phone_number is {phone_number!r}; expected E.164: '+', country code and "
                "number, at most 15 digits (e.g. '+12065550100')"
            )
    elif hostname is not None:
        trigger = ("RequestUriHostname", hostname)
        if not cdk.Token.is_unresolved(hostname) and not HOSTNAME.fullmatch(hostname):
            problems.append(
                f"request_uri_hostname is {hostname!r}; expected a DNS host name such as "
                "'abcdef1ghij2klmno3pqr4.voiceconnector.chime.aws'"
            )
    if not cdk.Token.is_unresolved(name) and not CHIME_NAME.fullmatch(name):
        problems.append(f"name is {name!r}; expected 1-256 characters of [a-zA-Z0-9 _.-]")
    priorities = [target.priority for target in targets]
    if any(p < 1 for p in priorities) or len(set(priorities)) != len(priorities):
        problems.append(
            f"priorities are {priorities}; expected distinct whole numbers >= 1, one per target"
        )
    regions = [t.aws_region for t in targets if not cdk.Token.is_unresolved(t.aws_region)]
    if len(set(regions)) != len(regions):
        problems.append(f"target regions are {regions}; expected one target per region")
    unknown = [region for region in regions if region not in SMA_REGIONS]
    if unknown:
        problems.append(
            f"target regions {unknown} have no SIP media applications; "
            f"expected one of {', '.join(SMA_REGIONS)}"
        )
    if problems:
        raise ValueError(f"SipRule '{construct_id}': " + "; ".join(problems) + ".")
    return trigger
