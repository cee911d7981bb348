"""Where Chime fails an action, and with which documented error: one function per rule.

Each rule names the Amazon Chime SDK developer guide page it comes from
(``DOCS``). The engine asks these functions before it plays anything; a
failure carries the documented ``ErrorType``/``ErrorMessage`` for the
ACTION_FAILED event, plus the simulator's own ``reason`` (which rule, which
key, which statement) for the transcript.

Audio sources (PlayAudio, PlayAudioAndGetDigits), in this order, all
``InvalidAudioSource``:

1. the bucket is one of this assembly's (so in the SMA's account) and some
   deployment puts that key in it;
2. the bucket policy lets ``voiceconnector.chime.amazonaws.com`` do
   ``s3:GetObject`` on the key with ``aws:SourceAccount`` = the account,
   ``aws:SourceArn`` = the SMA, over TLS (:mod:`.policy`);
3. the object's Content-Type is ``audio/wav``;
4. the file is a PCM WAV of at most 50 MB (``constructs_pkg.audio.wav.check_prompt``:
   the one copy of the WAV rules).

Targets (every action): a ``CallId`` must be a participant's; otherwise a
``ParticipantTag`` must be a connected participant's: ``InvalidActionParameter``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from constructs_pkg.audio.prompt_errors import WavError
from constructs_pkg.audio.wav import WavInfo, check_prompt
from constructs_pkg.chime_facts import CHIME_SERVICE_PRINCIPAL, WAV_CONTENT_TYPE
from constructs_pkg.runtime.events import (
    ACTION_ERROR_MESSAGES,
    INVALID_ACTION_PARAMETER,
    INVALID_AUDIO_SOURCE,
)

from .buckets import ObjectStore, StoredObject
from .policy import UnsupportedPolicyError, chime_get_object, evaluate

_GUIDE = "https://docs.aws.amazon.com/chime-sdk/latest/dg/"
DOCS = {
    "play-audio": _GUIDE + "play-audio.html",
    "play-audio-get-digits": _GUIDE + "play-audio-get-digits.html",
    "pause": _GUIDE + "pause.html",
    "hangup": _GUIDE + "hangup.html",
    "events": _GUIDE + "pstn-invocations.html",
    "action-lists": _GUIDE + "invoke-on-call-leg.html",
    "failing-actions": _GUIDE + "use-case-2.html",
    "stopping-actions": _GUIDE + "use-cases.html",
    "inbound": _GUIDE + "case-1.html",
    "call-update": _GUIDE + "update-sip-call.html",
    "ending-a-call": _GUIDE + "case-5.html",
    "outbound": _GUIDE + "use-create-call-api.html",
    "transaction-attributes": _GUIDE + "transaction-attributes.html",
    "updating-attributes": _GUIDE + "update-trans-attributes.html",
    "invalid-response": _GUIDE + "attribute-trans-invalid.html",
    "timeouts": _GUIDE + "timeouts.html",
    "unexpected-hangups": _GUIDE + "unexpected-hangups.html",
}


@dataclass(frozen=True)
class ActionFailure:
    """Why Chime would fail an action: the documented error and the simulator's reason."""

    error_type: str
    reason: str
    doc: str

    @property
    def error_message(self) -> str:
        return ACTION_ERROR_MESSAGES.get(self.error_type, self.error_type)


@dataclass(frozen=True)
class Playable:
    """An audio source that passed every rule: the object and its WAV headers."""

    object: StoredObject
    info: WavInfo


def check_target(
    parameters: Mapping[str, Any], participants: Sequence[Mapping[str, Any]], doc: str
) -> ActionFailure | None:
    """CallId, else ParticipantTag, must name a participant of the call (connected, for a tag)."""
    call_id = parameters.get("CallId")
    if call_id is not None:
        if any(p.get("CallId") == call_id for p in participants):
            return None
        known = ", ".join(str(p.get("CallId")) for p in participants)
        return ActionFailure(
            INVALID_ACTION_PARAMETER,
            f"CallId {call_id!r} is not a participant of this call (participants: {known})",
            doc,
        )
    tag = parameters.get("ParticipantTag")
    if tag is not None and not any(
        p.get("ParticipantTag") == tag and p.get("Status") == "Connected" for p in participants
    ):
        tags = ", ".join(str(p.get("ParticipantTag")) for p in participants)
        return ActionFailure(
            INVALID_ACTION_PARAMETER,
            f"ParticipantTag {tag!r} is not a connected participant of this call ({tags})",
            doc,
        )
    return None


def check_audio_source(
    source: Mapping[str, Any], store: ObjectStore, *, account: str, sma_arn: str, doc: str
) -> Playable | ActionFailure:
    """Every rule Chime applies to an S3 AudioSource before it plays it."""
    bucket = str(source.get("BucketName"))
    key = str(source.get("Key"))
    where = f"s3://{bucket}/{key}"

    def fail(reason: str) -> ActionFailure:
        return ActionFailure(INVALID_AUDIO_SOURCE, f"{where}: {reason}", doc)

    if bucket not in store.buckets:
        known = ", ".join(sorted(store.buckets)) or "none"
        return fail(
            "no bucket of that name is defined in this assembly, so neither its account nor "
            f"its policy is known (buckets here: {known})"
        )
    stored = store.get(bucket, key)
    if stored is None:
        keys = ", ".join(store.keys_in(bucket)[:12]) or "none"
        return fail(f"no deployment puts this key in the bucket (deployed keys: {keys})")
    request = chime_get_object(
        bucket, key, account=account, sma_arn=sma_arn, service=CHIME_SERVICE_PRINCIPAL
    )
    try:
        evaluation = evaluate(store.policies.get(bucket), request)
    except UnsupportedPolicyError as error:
        return fail(f"the bucket policy cannot be evaluated here: {error}")
    if not evaluation.allowed:
        policy = "the bucket policy" if bucket in store.policies else "the bucket has no policy;"
        return fail(
            f"{CHIME_SERVICE_PRINCIPAL} may not s3:GetObject it for {sma_arn} in account "
            f"{account} over TLS: {policy} {evaluation.explain()}"
        )
    if stored.content_type != WAV_CONTENT_TYPE:
        return fail(
            f"deployed by {stored.deployment} with Content-Type {stored.content_type!r}; "
            f"PlayAudio needs {WAV_CONTENT_TYPE!r} (set the deployment's content_type)"
        )
    try:
        with stored.open() as handle:
            info = check_prompt(handle)
    except WavError as error:
        return fail(error.reason)
    return Playable(stored, info)
