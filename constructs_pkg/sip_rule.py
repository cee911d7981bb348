"""SipRule: routes calls for a phone number or SIP host name to a SIP media application.

CloudFormation has no SIP rule type, so this is a custom resource: the CDK
provider framework in front of ``constructs_pkg/custom_resources/sip_rule.py``, which
calls the ``chime-sdk-voice`` API (List, Get, Create, Update and DeleteSipRule)
and really acts on Create, Update and Delete.
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import custom_resources as cr
from constructs import Construct, IConstruct

from constructs_pkg import compliance
from constructs_pkg._props import Problems, check_chime_name, real_signature
from constructs_pkg._provider import chime_api_provider
from constructs_pkg.chime_facts import (
    E164_EXPECTED,
    E164_NUMBER,
    PHONE_NUMBER_REGIONS,
    SMA_ID,
    SMA_REGIONS,
)
from constructs_pkg.custom_resources import (
    AWS_REGION,
    HOSTNAME,
    NAME,
    PRIORITY,
    REQUEST_URI_HOSTNAME,
    SIP_RULE_ACTIONS,
    SIP_RULE_HANDLER,
    SIP_RULE_TYPE,
    SMA_ID_PROPERTY,
    TARGET_APPLICATIONS,
    TO_PHONE_NUMBER,
    TRIGGER_TYPE,
    TRIGGER_VALUE,
    TriggerType,
)
from constructs_pkg.sip_media_application import SipMediaApplication, check_sip_media_application


@dataclass(frozen=True)
class SipRuleTarget:
    """Another SMA the rule routes to when the ones with lower priority numbers fail."""

    sip_media_application_id: str
    aws_region: str
    priority: int


@real_signature
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
        self.rule_name = name if name is not None else cdk.Names.unique_id(self)[-256:]
        targets = _check(
            construct_id,
            region=region,
            sip_media_application=sip_media_application,
            phone_number=phone_number,
            hostname=request_uri_hostname,
            priority=priority,
            failover_targets=failover_targets,
            name=self.rule_name,
        )
        self.trigger_type: TriggerType
        if phone_number is not None:
            self.trigger_type, self.trigger_value = TO_PHONE_NUMBER, phone_number
        else:
            self.trigger_type, self.trigger_value = REQUEST_URI_HOSTNAME, str(request_uri_hostname)
        _claim_trigger(self)

        provider = self._provider()
        self.resource = cdk.CustomResource(
            self,
            "Resource",
            service_token=provider.service_token,
            resource_type=SIP_RULE_TYPE,
            properties={
                NAME: self.rule_name,
                TRIGGER_TYPE: self.trigger_type,
                TRIGGER_VALUE: self.trigger_value,
                TARGET_APPLICATIONS: [
                    {
                        SMA_ID_PROPERTY: target.sip_media_application_id,
                        PRIORITY: str(target.priority),
                        AWS_REGION: target.aws_region,
                    }
                    for target in targets
                ],
            },
        )
        self.sip_rule_id: str = self.resource.ref

    def _provider(self) -> cr.Provider:
        """The provider of the handler, which may make the SIP rule API calls and no others."""
        made = chime_api_provider(
            self,
            handler=SIP_RULE_HANDLER,
            description="Custom resource: a Chime SIP rule (chime-sdk-voice API).",
            role_description="Creates, updates, deletes one Chime SIP rule; writes its logs.",
            exemptions=compliance.SIP_RULE_HANDLER_EXEMPTIONS,
            statements=[iam.PolicyStatement(actions=list(SIP_RULE_ACTIONS), resources=["*"])],
        )
        compliance.exempt_sip_rule_api(made.role)
        return made.provider


def _check(
    construct_id: str,
    *,
    region: str,
    sip_media_application: object,
    phone_number: object,
    hostname: object,
    priority: object,
    failover_targets: object,
    name: object,
) -> list[SipRuleTarget]:
    """The rule's targets, SMA first; every misuse in one error naming the prop and value."""
    problems = Problems(f"SipRule '{construct_id}'")
    targets: list[SipRuleTarget] = []
    if check_sip_media_application(sip_media_application, problems) and problems.check_type(
        "priority", priority, int, "a whole number >= 1", optional=False
    ):
        targets.append(
            SipRuleTarget(sip_media_application.sma_id, region, priority)  # type: ignore[arg-type]
        )
    for index, target in enumerate(
        problems.check_sequence(
            "failover_targets", failover_targets, SipRuleTarget, "a list of SipRuleTarget"
        )
    ):
        if _check_target(problems, f"failover_targets[{index}]", target):
            targets.append(target)
    _check_trigger(problems, region, phone_number, hostname)
    check_chime_name(problems, name)
    priorities = [target.priority for target in targets]
    if any(p < 1 for p in priorities) or len(set(priorities)) != len(priorities):
        problems.add(
            f"priorities are {priorities}; expected distinct whole numbers >= 1, one per target"
        )
    regions = [t.aws_region for t in targets if not cdk.Token.is_unresolved(t.aws_region)]
    if len(set(regions)) != len(regions):
        problems.add(f"target regions are {regions}; expected one target per region")
    unknown = [region for region in regions if region not in SMA_REGIONS]
    if unknown:
        problems.add(
            f"target regions {unknown} have no SIP media applications; "
            f"expected one of {', '.join(SMA_REGIONS)}"
        )
    problems.raise_if_any()
    return targets


def _check_target(problems: Problems, where: str, target: SipRuleTarget) -> bool:
    """Whether a failover target's fields have the right types and its id is an SMA id."""
    ok = problems.check_type(
        f"{where}.sip_media_application_id",
        target.sip_media_application_id,
        str,
        "an SMA id",
        optional=False,
    )
    ok &= problems.check_type(
        f"{where}.aws_region", target.aws_region, str, "a region name", optional=False
    )
    ok &= problems.check_type(
        f"{where}.priority", target.priority, int, "a whole number >= 1", optional=False
    )
    sma_id = target.sip_media_application_id
    if ok and not cdk.Token.is_unresolved(sma_id) and not SMA_ID.fullmatch(sma_id):
        hint = (
            " (it looks like an ARN: pass the id after 'sma/')" if sma_id.startswith("arn:") else ""
        )
        problems.add(
            f"{where}.sip_media_application_id is {sma_id!r}; expected an SMA id such as "
            f"'12345678-90ab-cdef-1234-567890abcdef' (no ':' or '/'){hint}"
        )
        ok = False
    return ok


def _check_trigger(problems: Problems, region: str, phone_number: object, hostname: object) -> None:
    """Exactly one trigger, well formed, in a region where that trigger exists."""
    if (phone_number is None) == (hostname is None):
        problems.add(
            "pass exactly one of phone_number (E.164, e.g. '+12065550100') and request_uri_hostname"
        )
    elif phone_number is not None:
        if not problems.check_type("phone_number", phone_number, str, "an E.164 string"):
            return
        number = str(phone_number)
        if not cdk.Token.is_unresolved(number) and not E164_NUMBER.fullmatch(number):
            problems.add(f"phone_number is {number!r}; expected {E164_EXPECTED}")
        if not cdk.Token.is_unresolved(region) and region not in PHONE_NUMBER_REGIONS:
            problems.add(
                f"phone_number needs a stack in a region with phone numbers; the stack's region "
                f"is {region!r}, expected one of {', '.join(PHONE_NUMBER_REGIONS)} (or route a "
                "Voice Connector with request_uri_hostname)"
            )
    elif problems.check_type("request_uri_hostname", hostname, str, "a host name string"):
        host = str(hostname)
        if not cdk.Token.is_unresolved(host) and not HOSTNAME.fullmatch(host):
            problems.add(
                f"request_uri_hostname is {host!r}; expected a DNS host name such as "
                "'abcdef1ghij2klmno3pqr4.voiceconnector.chime.aws'"
            )


# Every SipRule of an app, by the app (the construct tree's root).
_RULES: weakref.WeakKeyDictionary[IConstruct, list[SipRule]] = weakref.WeakKeyDictionary()


def _claim_trigger(rule: SipRule) -> None:
    """Refuse a second rule for a trigger another SipRule of the app routes already: a phone
    number or host name has one SIP rule, so the second would fail the deploy or, with the
    same name, adopt and rewrite the first one's targets."""
    rules = _RULES.setdefault(rule.node.root, [])
    if not cdk.Token.is_unresolved(rule.trigger_value):
        for other in rules:
            if (other.trigger_type, other.trigger_value.lower()) == (
                rule.trigger_type,
                rule.trigger_value.lower(),
            ):
                raise ValueError(
                    f"SipRule '{rule.node.id}': {rule.trigger_type} {rule.trigger_value!r} is "
                    f"routed by {other.node.path} already; expected one SipRule per phone number "
                    "or host name (put failover SMAs in its failover_targets)."
                )
    rules.append(rule)
