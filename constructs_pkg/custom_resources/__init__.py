"""Custom-resource Lambda code, run at deploy time (boto3 allowed); ``runtime/`` runs at call time.

Shipped as its own asset (``constructs_pkg/`` with this folder only), so it imports nothing
from ``runtime/`` or the rest of the package. Each module is one handler for
``aws_cdk.custom_resources.Provider``. This file is also imported by the constructs at
synth time, so it stays free of boto3 and holds only what both sides share: the handlers'
entry points and timeout, the resource types and property names the constructs write and
the handlers read, the IAM actions each handler needs, and the patterns of the values they
check (use ``fullmatch``).
"""

import re
from typing import Final, Literal, get_args

FOLDER = __name__.rpartition(".")[2]
"""This folder, the one the handlers' Lambda asset ships (``constructs_pkg/<FOLDER>``)."""


def entry_point(module: str) -> str:
    """The Lambda handler of one module here: ``custom_resources.<module>.on_event``."""
    return f"{FOLDER}.{module}.on_event"


SIP_RULE_HANDLER = entry_point("sip_rule")
SIP_MESSAGE_LOGS_HANDLER = entry_point("sip_message_logs")

HANDLER_TIMEOUT_SECONDS = 120
"""The handlers' Lambda timeout; also their time budget when a local call has no context."""

# Custom::ChimeSipRule: the properties the SipRule construct writes and sip_rule reads.
SIP_RULE_TYPE = "Custom::ChimeSipRule"
NAME = "Name"
TRIGGER_TYPE = "TriggerType"
TRIGGER_VALUE = "TriggerValue"
TARGET_APPLICATIONS = "TargetApplications"
"""A list of targets, each with ``SMA_ID_PROPERTY``, ``PRIORITY`` and ``AWS_REGION``."""
PRIORITY = "Priority"
AWS_REGION = "AwsRegion"
SMA_ID_PROPERTY = "SipMediaApplicationId"
"""A target's SMA in a SIP rule; the SMA whose logging ``sip_message_logs`` sets."""
TriggerType = Literal["ToPhoneNumber", "RequestUriHostname"]
TRIGGER_TYPES: tuple[TriggerType, ...] = get_args(TriggerType)
TO_PHONE_NUMBER: Final[TriggerType] = "ToPhoneNumber"
REQUEST_URI_HOSTNAME: Final[TriggerType] = "RequestUriHostname"

# Custom::ChimeSipMessageLogs: the SipMessageLogs construct writes, sip_message_logs reads.
SIP_MESSAGE_LOGS_TYPE = "Custom::ChimeSipMessageLogs"
ENABLE_MESSAGE_LOGS = "EnableSipMediaApplicationMessageLogs"
BOOLEAN_TEXTS: dict[bool, str] = {True: "true", False: "false"}
"""A boolean property as CloudFormation hands it over: a string."""

CHIME_NAME = re.compile(r"[a-zA-Z0-9 _.-]{1,256}")
"""A SIP media application or SIP rule name."""
CHIME_NAME_EXPECTED = "1-256 characters of [a-zA-Z0-9 _.-]"
"""``CHIME_NAME`` as an error message says what it expected."""
E164_NUMBER = re.compile(r"\+[1-9][0-9]{1,14}")
"""A phone number in E.164: '+', country code and number, at most 15 digits.

The same rule, without ``re``, is ``runtime/config.py``'s ``_is_e164`` (the call-time asset
cannot import this one); tests/runtime/test_e164_rule.py holds the two to agree."""
E164_EXPECTED = "E.164: '+', country code and number, at most 15 digits (e.g. '+12065550100')"
"""``E164_NUMBER`` as an error message says what it expected."""
SMA_ID = re.compile(r"[^\s:/]{1,256}")
"""A SIP media application id, not its ARN (which ends in ``sma/<id>``). The API documents
no pattern beyond non-blank; ids seen are UUIDs. No ':' or '/' keeps an ARN out."""


def is_sma_id(raw: object) -> bool:
    """An SMA id (``SMA_ID``): not an ARN, nor a provider framework marker (``AWSCDK::...``)."""
    return isinstance(raw, str) and bool(SMA_ID.fullmatch(raw))


_HOST_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
HOSTNAME = re.compile(rf"(?=.{{1,253}}$){_HOST_LABEL}(?:\.{_HOST_LABEL})*")
"""A DNS host name, such as a Voice Connector's outbound host name."""

SIP_RULE_ACTIONS: tuple[str, ...] = (
    "chime:CreateSipRule",
    "chime:DeleteSipRule",
    "chime:GetSipRule",
    "chime:ListSipRules",
    "chime:UpdateSipRule",
)
"""The IAM actions ``sip_rule`` calls; grant them on Resource ``*``.

Service prefix ``chime`` covers the chime-sdk-voice API (Service Authorization
Reference, "Actions, resources, and condition keys for Amazon Chime"). There is no
SIP-rule resource type. GetSipRule and DeleteSipRule support no resource-level
permissions. CreateSipRule, UpdateSipRule and ListSipRules name
``sip-media-application`` (``arn:${Partition}:chime:${Region}:${Account}:sma/${Id}``)
as an optional resource type, but the handler lists rules unfiltered and disables
rules without naming targets, and how an SMA-scoped grant treats such calls is not
documented.
"""

SIP_MESSAGE_LOGS_ACTIONS: tuple[str, ...] = ("chime:PutSipMediaApplicationLoggingConfiguration",)
"""The IAM actions ``sip_message_logs`` calls; grant them on the SMA's ARN only.

The handler sets the setting and reads the answer of the Put; it calls no Get. The action
acts on one SIP media application (``arn:${Partition}:chime:${Region}:${Account}:sma/${Id}``),
so the grant names that ARN, not ``*``.
"""
