"""Custom resource for an Amazon Chime SDK SIP rule, which has no CloudFormation type.

Runs as the ``on_event_handler`` of ``aws_cdk.custom_resources.Provider``
(handler ``custom_resources.sip_rule.on_event``). The provider framework answers
CloudFormation: ``on_event`` returns ``{"PhysicalResourceId", "Data"}`` or raises.

Properties. CloudFormation hands every scalar over as a string:

- ``Name``: 1-256 characters of ``[a-zA-Z0-9 _.-]`` (``CHIME_NAME``).
- ``TriggerType``: ``ToPhoneNumber`` or ``RequestUriHostname``.
- ``TriggerValue``: an E.164 number (``+12065550100``) or a host name.
- ``TargetApplications``: 1-25 of ``{SipMediaApplicationId, Priority, AwsRegion}``;
  ``Priority`` is a whole number >= 1 (``"1"``), one target per region, and the id an SMA
  id (``custom_resources.is_sma_id``, as for ``sip_message_logs``), not its ARN.

Anything else (apart from the framework's ``ServiceToken`` and ``ServiceTimeout``) is
rejected, all problems in one error.

Behaviour:

- Create: adopt a rule with the same Name, TriggerType and TriggerValue if one
  exists (a replayed Create, or a rule left behind), else CreateSipRule.
  Either way the rule ends enabled with the requested targets.
  Physical id and ``Data.SipRuleId``: the SIP rule id.
- Update: UpdateSipRule cannot change the trigger, so a changed trigger (old
  against new properties) creates a new rule and returns its id; CloudFormation
  then deletes the old one. Otherwise GetSipRule, then UpdateSipRule (Name,
  targets, enabled) on the same id. A rule deleted out of band is recreated.
- Delete: GetSipRule, UpdateSipRule(Disabled=True) unless already disabled
  (a rule must be disabled before deletion), DeleteSipRule. NotFoundException
  at any step means already gone. SIP rule ids are UUIDs; a physical id that is
  not one (the provider framework's ``AWSCDK::...`` markers, a log stream name)
  never named a rule, so Delete succeeds without calling the API. A UUID that is
  not a rule (a request id) answers NotFoundException.

Retries and deadline: ``_framework.Deadline``, one per event, shared by every step
(ThrottledClientException, ServiceUnavailableException, ServiceFailureException and
connection errors, with ``BACKOFF_SECONDS``; a retry the Lambda timeout would cut short is
not taken, and the handler raises, naming the rule, the last API error, the attempts and
the time spent). Calls that carry targets also retry NotFoundException and a
BadRequestException that mentions the SIP media application: right after an SMA is
created, outside us-east-1 especially, the SIP rule API may not see it yet. DeleteSipRule
also retries ConflictException (the disable may not be visible yet). A retried create
lists again first, so an attempt that did succeed is adopted, not duplicated. Any other
error fails at once, naming the rule and the API error.

Why not elsewhere: botocore's retry modes do not know the Lambda deadline and would
re-send a create without listing first (``_framework`` says more). The provider framework's
``is_complete_handler`` (with ``query_interval``/``total_timeout``) is for polling long
asynchronous work; every call here is synchronous and the waits are seconds, while it would
add a second Lambda, a Step Functions state machine and their roles and logs (each with its
own compliance findings) to every stack.

IAM: ``REQUIRED_ACTIONS``, on Resource ``*`` (why: ``custom_resources.SIP_RULE_ACTIONS``).
Logging: one line per API call, its fields passed as ``extra`` so that Lambda's
JSON log format turns them into keys.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from . import (
    AWS_REGION,
    CHIME_NAME,
    CHIME_NAME_EXPECTED,
    E164_EXPECTED,
    E164_NUMBER,
    HOSTNAME,
    NAME,
    PRIORITY,
    REQUEST_URI_HOSTNAME,
    SIP_RULE_ACTIONS,
    SMA_ID_PROPERTY,
    TARGET_APPLICATIONS,
    TO_PHONE_NUMBER,
    TRIGGER_TYPE,
    TRIGGER_TYPES,
    TRIGGER_VALUE,
    TriggerType,
    is_sma_id,
)
from ._framework import BACKOFF_SECONDS as BACKOFF_SECONDS
from ._framework import CALL_SECONDS as CALL_SECONDS
from ._framework import DEFAULT_REMAINING_SECONDS as DEFAULT_REMAINING_SECONDS
from ._framework import RESPONSE_SECONDS as RESPONSE_SECONDS
from ._framework import (
    Deadline,
    chime_voice_client,
    error_code,
    is_not_found,
    log_event,
    remaining_seconds,
    unknown_properties,
    unknown_request_type,
)
from ._framework import Response as Response

if TYPE_CHECKING:
    from mypy_boto3_chime_sdk_voice.client import ChimeSDKVoiceClient
    from mypy_boto3_chime_sdk_voice.type_defs import (
        SipRuleTargetApplicationTypeDef,
        SipRuleTypeDef,
    )

REQUIRED_ACTIONS: tuple[str, ...] = SIP_RULE_ACTIONS

logger = logging.getLogger(__name__)
logger.setLevel(logging.INFO)

_TARGET_KEYS = frozenset({SMA_ID_PROPERTY, PRIORITY, AWS_REGION})
_PROPERTY_KEYS = frozenset({NAME, TRIGGER_TYPE, TRIGGER_VALUE, TARGET_APPLICATIONS})
_MAX_TARGETS = 25

_REGION_RE = re.compile(r"[a-z]{2}(?:-[a-z]+)+-[0-9]+")
_PRIORITY_RE = re.compile(r"[1-9][0-9]*")
_RULE_ID_RE = re.compile(
    r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.IGNORECASE
)
_SMA_MENTION_RE = re.compile(r"sip[ _-]?media[ _-]?application|\bSMA\b", re.IGNORECASE)


class PropertyError(ValueError):
    """The resource properties are not a valid SIP rule."""


class SipRuleError(RuntimeError):
    """A SIP rule API call failed for good."""


@dataclass(frozen=True)
class Target:
    """One target SIP media application of a rule."""

    sma_id: str
    priority: int
    region: str


@dataclass(frozen=True)
class RuleSpec:
    """The validated properties of a SIP rule."""

    name: str
    trigger_type: TriggerType
    trigger_value: str
    targets: tuple[Target, ...]

    def api_targets(self) -> list[SipRuleTargetApplicationTypeDef]:
        """The targets in the shape the API takes."""
        return [
            {"SipMediaApplicationId": t.sma_id, "Priority": t.priority, "AwsRegion": t.region}
            for t in self.targets  # the API's own names, which the properties mirror
        ]


def parse_properties(props: Mapping[str, Any]) -> RuleSpec:
    """Validate CloudFormation's string-valued properties; one error lists every problem."""
    errors = unknown_properties(props, _PROPERTY_KEYS)

    name = props.get(NAME)
    if not (isinstance(name, str) and CHIME_NAME.fullmatch(name)):
        errors.append(f"{NAME}: expected {CHIME_NAME_EXPECTED}, got {name!r}")

    raw_type = props.get(TRIGGER_TYPE)
    trigger_type = next((t for t in TRIGGER_TYPES if t == raw_type), None)
    if trigger_type is None:
        errors.append(f"{TRIGGER_TYPE}: expected one of {list(TRIGGER_TYPES)}, got {raw_type!r}")

    value = props.get(TRIGGER_VALUE)
    if trigger_type == TO_PHONE_NUMBER and not (
        isinstance(value, str) and E164_NUMBER.fullmatch(value)
    ):
        errors.append(f"{TRIGGER_VALUE}: expected {E164_EXPECTED}, got {value!r}")
    if trigger_type == REQUEST_URI_HOSTNAME and not (
        isinstance(value, str) and HOSTNAME.fullmatch(value)
    ):
        errors.append(f"{TRIGGER_VALUE}: expected a host name, got {value!r}")

    targets = _parse_targets(props.get(TARGET_APPLICATIONS), errors)

    if errors:
        raise PropertyError("Invalid SIP rule properties: " + "; ".join(errors))
    assert isinstance(name, str) and isinstance(value, str) and trigger_type is not None
    return RuleSpec(name, trigger_type, value, targets)


def _parse_targets(raw: object, errors: list[str]) -> tuple[Target, ...]:
    """Validate TargetApplications, appending problems to ``errors``."""
    if not isinstance(raw, list) or not 1 <= len(raw) <= _MAX_TARGETS:
        errors.append(
            f"{TARGET_APPLICATIONS}: expected a list of 1-{_MAX_TARGETS} targets, got {raw!r}"
        )
        return ()
    targets: list[Target] = []
    for i, entry in enumerate(raw):
        where = f"{TARGET_APPLICATIONS}[{i}]"
        if not isinstance(entry, Mapping):
            errors.append(f"{where}: expected an object, got {entry!r}")
            continue
        if set(entry) != _TARGET_KEYS:
            errors.append(f"{where}: expected exactly {sorted(_TARGET_KEYS)}, got {sorted(entry)}")
            continue
        sma_id, priority, region = entry[SMA_ID_PROPERTY], entry[PRIORITY], entry[AWS_REGION]
        found = len(errors)
        if not is_sma_id(sma_id):
            errors.append(
                f"{where}.{SMA_ID_PROPERTY}: expected the SMA id (not its ARN), got {sma_id!r}"
            )
        number = _parse_priority(priority)
        if number is None:
            errors.append(
                f"{where}.{PRIORITY}: expected a whole number >= 1 such as '1', got {priority!r}"
            )
        if not (isinstance(region, str) and _REGION_RE.fullmatch(region)):
            errors.append(
                f"{where}.{AWS_REGION}: expected a region such as 'us-east-1', got {region!r}"
            )
        if number is not None and len(errors) == found:
            targets.append(Target(sma_id, number, region))
    regions = [t.region for t in targets]
    duplicates = sorted({r for r in regions if regions.count(r) > 1})
    if duplicates:
        errors.append(
            f"{TARGET_APPLICATIONS}: one target per region allowed, repeated {duplicates}"
        )
    return tuple(targets)


def _parse_priority(raw: object) -> int | None:
    """CloudFormation sends "1"; direct callers may send 1. Booleans are not numbers here."""
    if isinstance(raw, str) and _PRIORITY_RE.fullmatch(raw):
        return int(raw)
    if isinstance(raw, int) and not isinstance(raw, bool) and raw >= 1:
        return raw
    return None


def _is_rule_id(physical_id: str) -> bool:
    return bool(_RULE_ID_RE.fullmatch(physical_id))


def _is_conflict(err: ClientError) -> bool:
    return error_code(err) == "ConflictException"


def _targets_not_visible(spec: RuleSpec) -> Callable[[ClientError], bool]:
    """Errors of a call carrying targets that mean 'the SMA is not visible yet'.

    NotFoundException always qualifies: these calls name no rule id that could be
    missing (create), or run right after the rule was found (adopt, update).
    """
    sma_ids = [t.sma_id for t in spec.targets]

    def predicate(err: ClientError) -> bool:
        code = error_code(err)
        message = err.response.get("Error", {}).get("Message", "")
        mentions_sma = bool(_SMA_MENTION_RE.search(message)) or any(i in message for i in sma_ids)
        return is_not_found(err) or (code == "BadRequestException" and mentions_sma)

    return predicate


def _log(level: int, event: str, **fields: str | int | float) -> None:
    """One line: readable as text, and ``fields`` become keys under Lambda's JSON format."""
    log_event(logger, level, event, **fields)


class _SipRules:
    """The SIP rule operations, over one client, with retries within one deadline."""

    def __init__(self, client: ChimeSDKVoiceClient, deadline: Deadline) -> None:
        self._client = client
        self._call = deadline.call
        self._retrying = deadline.retrying

    def create_or_adopt(self, spec: RuleSpec) -> str:
        """Return the id of an enabled rule matching ``spec``, adopting an existing one."""

        def step() -> str:
            existing = self._find(spec)
            if existing is not None:
                _log(logging.INFO, "adopt", rule=spec.name, sip_rule_id=existing)
                self._put(existing, spec)
                return existing
            with self._call("CreateSipRule", spec.name):
                created = self._client.create_sip_rule(
                    Name=spec.name,
                    TriggerType=spec.trigger_type,
                    TriggerValue=spec.trigger_value,
                    Disabled=False,
                    TargetApplications=spec.api_targets(),
                )
            return created["SipRule"]["SipRuleId"]

        return self._retrying("create", spec.name, step, _targets_not_visible(spec))

    def update(self, rule_id: str, spec: RuleSpec, old_props: Mapping[str, Any]) -> str:
        """Apply ``spec`` to ``rule_id``; return the id of the rule that now serves it."""
        old_trigger = (old_props.get(TRIGGER_TYPE), old_props.get(TRIGGER_VALUE))
        if old_trigger != (spec.trigger_type, spec.trigger_value):
            _log(logging.INFO, "replace_trigger_changed", rule=spec.name, sip_rule_id=rule_id)
            return self.create_or_adopt(spec)
        if not _is_rule_id(rule_id) or self._get(rule_id) is None:
            _log(logging.WARNING, "recreate_missing_rule", rule=spec.name, sip_rule_id=rule_id)
            return self.create_or_adopt(spec)
        self._retrying(
            "update", spec.name, lambda: self._put(rule_id, spec), _targets_not_visible(spec)
        )
        return rule_id

    def delete(self, rule_id: str) -> None:
        """Disable, then delete; a rule that is already gone is success."""
        if not _is_rule_id(rule_id):
            _log(logging.INFO, "skip_delete_not_a_rule_id", sip_rule_id=rule_id)
            return
        rule = self._get(rule_id)
        if rule is None:
            return
        name = rule.get("Name", rule_id)
        disabled = rule.get("Disabled", False)
        if not disabled and not self._retrying(
            "disable", name, lambda: self._disable(rule_id, name)
        ):
            return
        self._retrying("delete", name, lambda: self._delete(rule_id), _is_conflict)

    def _find(self, spec: RuleSpec) -> str | None:
        """The id of a rule with the same name and trigger, if any (all pages)."""
        token: str | None = None
        while True:
            with self._call("ListSipRules", spec.name):
                page = (
                    self._client.list_sip_rules(NextToken=token)
                    if token
                    else self._client.list_sip_rules()
                )
            for rule in page.get("SipRules", []):
                if (rule.get("Name"), rule.get("TriggerType"), rule.get("TriggerValue")) == (
                    spec.name,
                    spec.trigger_type,
                    spec.trigger_value,
                ):
                    return rule["SipRuleId"]
            token = page.get("NextToken")
            if not token:
                return None

    def _put(self, rule_id: str, spec: RuleSpec) -> None:
        with self._call("UpdateSipRule", spec.name):
            self._client.update_sip_rule(
                SipRuleId=rule_id,
                Name=spec.name,
                Disabled=False,
                TargetApplications=spec.api_targets(),
            )

    def _get(self, rule_id: str) -> SipRuleTypeDef | None:
        def step() -> SipRuleTypeDef | None:
            try:
                with self._call("GetSipRule", rule_id):
                    return self._client.get_sip_rule(SipRuleId=rule_id)["SipRule"]
            except ClientError as err:
                if is_not_found(err):
                    return None
                raise

        return self._retrying("read", rule_id, step)

    def _disable(self, rule_id: str, name: str) -> bool:
        """Disable the rule; False if it is already gone."""
        try:
            with self._call("UpdateSipRule", name):
                self._client.update_sip_rule(SipRuleId=rule_id, Name=name, Disabled=True)
        except ClientError as err:
            if is_not_found(err):
                return False
            raise
        return True

    def _delete(self, rule_id: str) -> None:
        try:
            with self._call("DeleteSipRule", rule_id):
                self._client.delete_sip_rule(SipRuleId=rule_id)
        except ClientError as err:
            if not is_not_found(err):
                raise


def handle(
    event: Mapping[str, Any],
    client: ChimeSDKVoiceClient,
    context: object = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> Response:
    """Serve one provider-framework event with the given client (tests inject a stubbed one).

    The deadline starts now, from ``context``'s remaining time; ``sleep`` and ``clock``
    (seconds, monotonic) are injectable so that tests simulate time.
    """
    deadline = Deadline(
        logger=logger,
        subject="SIP rule",
        subject_field="rule",
        error_type=SipRuleError,
        sleep=sleep,
        clock=clock,
        remaining_s=remaining_seconds(context),
    )
    rules = _SipRules(client, deadline)
    request_type = event.get("RequestType")
    if request_type == "Delete":
        physical_id = str(event.get("PhysicalResourceId", ""))
        rules.delete(physical_id)
        return {"PhysicalResourceId": physical_id}
    spec = parse_properties(event.get("ResourceProperties", {}))
    if request_type == "Create":
        rule_id = rules.create_or_adopt(spec)
    elif request_type == "Update":
        rule_id = rules.update(
            str(event.get("PhysicalResourceId", "")), spec, event.get("OldResourceProperties", {})
        )
    else:
        raise unknown_request_type(request_type)
    return {"PhysicalResourceId": rule_id, "Data": {"SipRuleId": rule_id}}


def on_event(event: Mapping[str, Any], context: object) -> Response:
    """Lambda entry point for the CDK provider framework."""
    return handle(event, chime_voice_client(), context)
