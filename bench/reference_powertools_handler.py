"""The benchmarks' reference: the sample handler as a typical Powertools user writes it.

Same configuration (the same environment variables), same responses for the
benchmarked events, built and validated by the same builders
(``runtime.actions``); what differs is what a typical user reaches for:
AWS Lambda Powertools' ``Logger`` (structured JSON logs, ``inject_lambda_context``)
and its event parser (``event_parser`` with Pydantic models). Powertools ships no
model for SIP media application events, so the models are written here, as a user
would. Installed only for ``make bench``, in .tools/powertools/ (tools/powertools.lock).

The benchmark copies this file beside ``runtime/`` in a Lambda-like asset folder
and imports it as the module ``reference_powertools_handler``.
"""

from __future__ import annotations

import json
import os
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.parser import BaseModel, Field, event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext
from runtime.actions import hangup, play_audio, response, s3_audio_source

logger = Logger(service="playaudio")

BUCKET = os.environ.get("PROMPTS_BUCKET", "")
with open(os.environ["PROMPT_CATALOG"], encoding="utf-8") as _file:
    _CATALOG = json.load(_file)
PROMPTS = {name: f"{_CATALOG['keyPrefix']}{name}.wav" for name in _CATALOG["prompts"]}
WELCOME = os.environ.get("WELCOME_PROMPT") or "welcome"
FALLBACK = os.environ.get("FALLBACK_PROMPT") or "error"
TERMINATORS = list(os.environ.get("PLAYBACK_TERMINATORS", "#")) or None
REPEAT = int(os.environ.get("PLAYBACK_REPEAT") or 1)


class SmaParticipant(BaseModel):
    CallId: str | None = None
    ParticipantTag: str | None = None
    To: str | None = None
    From: str | None = None
    Direction: str | None = None
    StartTimeInMilliseconds: str | None = None
    Status: str | None = None


class SmaCallDetails(BaseModel):
    TransactionId: str | None = None
    TransactionAttributes: dict[str, str] = Field(default_factory=dict)
    AwsAccountId: str | None = None
    AwsRegion: str | None = None
    SipRuleId: str | None = None
    SipMediaApplicationId: str | None = None
    Participants: list[SmaParticipant] = Field(default_factory=list)


class SmaActionData(BaseModel):
    Type: str | None = None
    Parameters: dict[str, Any] = Field(default_factory=dict)
    ErrorType: str | None = None
    ErrorMessage: str | None = None


class SmaEvent(BaseModel):
    SchemaVersion: str
    Sequence: int
    InvocationEventType: str
    CallDetails: SmaCallDetails
    ActionData: SmaActionData | None = None
    ErrorType: str | None = None
    ErrorMessage: str | None = None


def _prompt_then_hangup(key: str, call_id: str | None) -> list[dict[str, Any]]:
    source = s3_audio_source(BUCKET, key)
    return [
        play_audio(source, call_id=call_id, playback_terminators=TERMINATORS, repeat=REPEAT),
        hangup(call_id=call_id),
    ]


@logger.inject_lambda_context
@event_parser(model=SmaEvent)
def handler(event: SmaEvent, context: LambdaContext) -> dict[str, Any]:
    details = event.CallDetails
    call_id = details.Participants[0].CallId if details.Participants else None
    kind = event.InvocationEventType
    data = event.ActionData
    if kind in ("NEW_INBOUND_CALL", "CALL_ANSWERED"):
        return response(_prompt_then_hangup(PROMPTS[WELCOME], call_id))
    if kind == "ACTION_SUCCESSFUL":
        if data is not None and data.Type == "Hangup":
            return response([])
        return response([hangup(call_id=call_id)])
    if kind == "ACTION_FAILED" and data is not None:
        source = data.Parameters.get("AudioSource") or {}
        fallback = PROMPTS.get(FALLBACK)
        recover = (
            data.ErrorType == "InvalidAudioSource"
            and data.Type == "PlayAudio"
            and details.TransactionAttributes.get("fallbackPlayed") != "true"
            and fallback is not None
            and source.get("Key") != fallback
        )
        bare_hangup = data.Type == "Hangup" and not (
            "CallId" in data.Parameters or "ParticipantTag" in data.Parameters
        )
        recovery = "fallback" if recover else "none" if bare_hangup else "hangup"
        logger.error(
            f"{data.Type} failed with {data.ErrorType}: {data.ErrorMessage} (recovery: {recovery})",
            extra={
                "eventType": kind,
                "errorType": data.ErrorType,
                "errorMessage": data.ErrorMessage,
                "failedAction": {"Type": data.Type, "Parameters": data.Parameters},
                "callId": call_id,
                "transactionId": details.TransactionId,
                "recovery": recovery,
            },
        )
        if recover and fallback is not None:
            attributes = {**details.TransactionAttributes, "fallbackPlayed": "true"}
            target = data.Parameters.get("CallId") or call_id
            return response(_prompt_then_hangup(fallback, target), attributes)
        return response([] if recovery == "none" else [hangup()])
    if kind in ("HANGUP", "RINGING", "NEW_OUTBOUND_CALL", "ACTION_INTERRUPTED"):
        return response([])
    logger.error("unexpected event; hanging up", extra={"eventType": kind})
    return response([hangup()])
