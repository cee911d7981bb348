"""Custom resource: the SIP message logging setting of one SIP media application.

CloudFormation has no property for it, so ``SipMessageLogs`` runs this as the
``on_event_handler`` of ``aws_cdk.custom_resources.Provider`` (handler
``custom_resources.sip_message_logs.on_event``). It calls one chime-sdk-voice operation,
PutSipMediaApplicationLoggingConfiguration, with
``SipMediaApplicationLoggingConfiguration={"EnableSipMediaApplicationMessageLogs": bool}``
(names as in botocore's chime-sdk-voice 2022-08-03 service model).

Properties. CloudFormation hands every scalar over as a string:

- ``SipMediaApplicationId``: the SMA id, not its ARN.
- ``EnableSipMediaApplicationMessageLogs``: ``"true"`` or ``"false"`` (a direct caller may
  pass a bool). Anything else, ``"yes"`` or ``"True"`` included, is rejected.

Anything else (apart from the framework's ``ServiceToken`` and ``ServiceTimeout``) is
rejected, all problems in one error, before any call.

Behaviour:

- Create: put the requested setting. Physical id and ``Data.SipMediaApplicationId``:
  the SMA id.
- Update, same SMA: put the new setting; the physical id stays.
- Update, another SMA (the physical id is not the new SMA id): put the setting on the new
  SMA and return its id. CloudFormation takes the new physical id for a replacement and,
  once the whole stack update has succeeded, sends a Delete for the old one, which turns
  logging off on the old SMA; if the update fails instead, the rollback puts the old
  setting back on the old SMA and deletes the new one. So an SMA is only turned off by
  the resource that turned it on, and only after nothing needs it any more.
- Delete: put ``false``. NotFoundException means the SMA is gone, and its logging with
  it: success. A physical id that is not an SMA id (the provider framework's
  ``AWSCDK::...`` markers after a failed Create) never named one: success, no call.

The answer of each put is checked: a setting other than the requested one fails the event.

Retries and deadline: ``_framework.Deadline``. Create and Update also retry
NotFoundException: right after an SMA is created, the voice API may not see it yet (the
SIP rule handler meets the same). Any other error fails at once, naming the SMA and the
API error.

IAM: ``REQUIRED_ACTIONS``, on the SMA's ARN (``custom_resources.SIP_MESSAGE_LOGS_ACTIONS``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from . import (
    BOOLEAN_TEXTS,
    ENABLE_MESSAGE_LOGS,
    SIP_MESSAGE_LOGS_ACTIONS,
    SMA_ID_PROPERTY,
    is_sma_id,
)
from ._framework import (
    Deadline,
    chime_voice_client,
    is_not_found,
    log_event,
    remaining_seconds,
    unknown_properties,
    unknown_request_type,
)
from ._framework import Response as Response

if TYPE_CHECKING:
    from mypy_boto3_chime_sdk_voice.client import ChimeSDKVoiceClient

REQUIRED_ACTIONS: tuple[str, ...] = SIP_MESSAGE_LOGS_ACTIONS

logger = logging.getLogger(__name__)
logger.setLevel(logging.INFO)

_PROPERTY_KEYS = frozenset({SMA_ID_PROPERTY, ENABLE_MESSAGE_LOGS})
_BOOLEANS = {text: value for value, text in BOOLEAN_TEXTS.items()}


class PropertyError(ValueError):
    """The resource properties are not a valid SIP message logging setting."""


class SipMessageLogsError(RuntimeError):
    """The logging setting could not be applied."""


@dataclass(frozen=True)
class LoggingSpec:
    """The validated properties: which SMA, and whether its SIP messages are logged."""

    sma_id: str
    enabled: bool


def parse_properties(props: Mapping[str, Any]) -> LoggingSpec:
    """Validate CloudFormation's string-valued properties; one error lists every problem."""
    errors = unknown_properties(props, _PROPERTY_KEYS)
    sma_id = props.get(SMA_ID_PROPERTY)
    if not is_sma_id(sma_id):
        errors.append(f"{SMA_ID_PROPERTY}: expected the SMA id (not its ARN), got {sma_id!r}")
    raw_enabled = props.get(ENABLE_MESSAGE_LOGS)
    enabled = _parse_boolean(raw_enabled)
    if enabled is None:
        texts = " or ".join(repr(text) for text in _BOOLEANS)
        errors.append(f"{ENABLE_MESSAGE_LOGS}: expected {texts}, got {raw_enabled!r}")
    if errors:
        raise PropertyError("Invalid SIP message logging properties: " + "; ".join(errors))
    assert isinstance(sma_id, str) and enabled is not None
    return LoggingSpec(sma_id, enabled)


def _parse_boolean(raw: object) -> bool | None:
    """CloudFormation sends "true"/"false"; direct callers may send a bool. Else None."""
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, str):
        return _BOOLEANS.get(raw)
    return None


def _wording(enabled: bool) -> str:
    return "turn on" if enabled else "turn off"


class _SmaLogging:
    """Puts the logging setting of SMAs, over one client, with retries within one deadline."""

    def __init__(self, client: ChimeSDKVoiceClient, deadline: Deadline) -> None:
        self._client = client
        self._deadline = deadline

    def apply(self, spec: LoggingSpec) -> None:
        """Put ``spec``; a not-yet-visible SMA (NotFoundException) is retried."""
        self._deadline.retrying(
            _wording(spec.enabled),
            spec.sma_id,
            lambda: self._put(spec.sma_id, spec.enabled),
            also_retry=is_not_found,
        )

    def turn_off(self, sma_id: str) -> None:
        """Put ``false``; an SMA that no longer exists has nothing left to turn off."""

        def step() -> None:
            try:
                self._put(sma_id, False)
            except ClientError as err:
                if not is_not_found(err):
                    raise
                log_event(logger, logging.INFO, "sma_gone", sma=sma_id)

        self._deadline.retrying(_wording(False), sma_id, step)

    def _put(self, sma_id: str, enabled: bool) -> None:
        with self._deadline.call("PutSipMediaApplicationLoggingConfiguration", sma_id):
            answer = self._client.put_sip_media_application_logging_configuration(
                SipMediaApplicationId=sma_id,
                SipMediaApplicationLoggingConfiguration={
                    "EnableSipMediaApplicationMessageLogs": enabled
                },
            )
        applied = answer.get("SipMediaApplicationLoggingConfiguration", {}).get(
            "EnableSipMediaApplicationMessageLogs"
        )
        if applied is not None and applied != enabled:
            raise self._deadline.fail(
                f"Could not {_wording(enabled)} SIP message logging of SMA {sma_id!r}: "
                f"PutSipMediaApplicationLoggingConfiguration answered "
                f"EnableSipMediaApplicationMessageLogs={applied}"
            )


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
        subject="SIP message logging of SMA",
        subject_field="sma",
        error_type=SipMessageLogsError,
        sleep=sleep,
        clock=clock,
        remaining_s=remaining_seconds(context),
    )
    sma_logging = _SmaLogging(client, deadline)
    request_type = event.get("RequestType")
    physical_id = str(event.get("PhysicalResourceId", ""))
    if request_type == "Delete":
        if is_sma_id(physical_id):
            sma_logging.turn_off(physical_id)
        else:
            log_event(logger, logging.INFO, "skip_delete_not_an_sma_id", sma=physical_id)
        return {"PhysicalResourceId": physical_id}
    if request_type not in ("Create", "Update"):
        raise unknown_request_type(request_type)
    spec = parse_properties(event.get("ResourceProperties", {}))
    if request_type == "Update" and physical_id != spec.sma_id:
        log_event(logger, logging.INFO, "replace_sma_changed", sma=spec.sma_id, old=physical_id)
    sma_logging.apply(spec)
    return {
        "PhysicalResourceId": spec.sma_id,
        "Data": {SMA_ID_PROPERTY: spec.sma_id, ENABLE_MESSAGE_LOGS: BOOLEAN_TEXTS[spec.enabled]},
    }


def on_event(event: Mapping[str, Any], context: object) -> Response:
    """Lambda entry point for the CDK provider framework."""
    return handle(event, chime_voice_client(), context)
