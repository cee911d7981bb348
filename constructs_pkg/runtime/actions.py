"""Builders and validators for SIP media application actions and responses.

Every builder returns a plain dict with the exact field names of the Amazon
Chime SDK PSTN audio service and validates it when it is built, raising
``ValueError`` with a message that names the field, the value and the allowed
values. :func:`validate_response` re-checks an arbitrary response object with
the same rule table, so builders and validation cannot drift apart.

Serialization choices:

* Integer parameters (``Repeat``, ``DurationInMilliseconds``, digit counts and
  durations) are emitted as JSON numbers. The documentation calls them
  integers and writes most examples as numbers, but some examples (PlayAudio's
  ``Repeat``, Pause's ``DurationInMilliseconds``) write them as strings, so the
  validator accepts either an ``int`` or a string of ASCII digits.
* ``MaxNumberOfDigits`` is documented as "> MinNumberOfDigits"; AWS's own
  samples use equal values (a fixed-length PIN), so equality is accepted.
* ``TransactionAttributes``: their limits and how they are measured are
  :mod:`.attributes`'s rules, which :func:`response` and :func:`validate_response` apply.
* Only the four action types modelled here are "known" to the validator;
  other Chime actions (Speak, CallAndBridge, ...) are reported as unknown.
"""

from __future__ import annotations

from ._messages import invalid as _invalid

# The TransactionAttributes rules live in attributes.py; re-exported here, where handlers
# have always imported them.
from .attributes import MAX_TRANSACTION_ATTRIBUTES as MAX_TRANSACTION_ATTRIBUTES
from .attributes import MAX_TRANSACTION_ATTRIBUTES_BYTES as MAX_TRANSACTION_ATTRIBUTES_BYTES
from .attributes import (
    MAX_TRANSACTION_ATTRIBUTES_DOCUMENTED as MAX_TRANSACTION_ATTRIBUTES_DOCUMENTED,
)
from .attributes import attribute_pairs_limit as attribute_pairs_limit
from .attributes import transaction_attributes_errors as transaction_attributes_errors
from .attributes import transaction_attributes_size as transaction_attributes_size
from .events import LEG_A, LEG_B, SCHEMA_VERSION

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence
    from typing import Any

    Checker = Callable[[str, object], "str | None"]

ACTION_PLAY_AUDIO = "PlayAudio"
ACTION_PLAY_AUDIO_AND_GET_DIGITS = "PlayAudioAndGetDigits"
ACTION_PAUSE = "Pause"
ACTION_HANGUP = "Hangup"

PARTICIPANT_TAGS = (LEG_A, LEG_B)
DTMF_DIGITS = "0123456789#*"
SIP_RESPONSE_CODES = ("0", "480", "486")
AUDIO_SOURCE_TYPE = "S3"

DEFAULT_MIN_NUMBER_OF_DIGITS = 0
DEFAULT_MAX_NUMBER_OF_DIGITS = 128

MAX_ACTIONS = 10

_DTMF_SET = frozenset(DTMF_DIGITS)
_AUDIO_SOURCE_FIELDS = frozenset(("Type", "BucketName", "Key"))
_ACTION_FIELDS = frozenset(("Type", "Parameters"))


def _as_int(value: object) -> int | None:
    """An int, or a string of ASCII digits, as int; anything else (bool too) as None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isascii() and value.isdigit():
        return int(value)
    return None


def _is_text(value: object) -> bool:
    return isinstance(value, str) and value != ""


def _non_empty_str(field: str, value: object) -> str | None:
    if isinstance(value, str) and value:
        return None
    return _invalid(field, value, "a non-empty string")


def _participant_tag(field: str, value: object) -> str | None:
    if isinstance(value, str) and value in PARTICIPANT_TAGS:
        return None
    return _invalid(field, value, f"{LEG_A!r} or {LEG_B!r}")


def _sip_response_code(field: str, value: object) -> str | None:
    if isinstance(value, str) and value in SIP_RESPONSE_CODES:
        return None
    return _invalid(field, value, "'0' (normal), '480' (unavailable) or '486' (busy)")


def positive_int_error(field: str, value: object) -> str | None:
    """The error for a value that must be an integer > 0, or None if it is one."""
    number = _as_int(value)
    if number is not None and number > 0:
        return None
    return _invalid(field, value, "an integer > 0")


def _non_negative_int(field: str, value: object) -> str | None:
    number = _as_int(value)
    if number is not None and number >= 0:
        return None
    return _invalid(field, value, "an integer >= 0")


def dtmf_list_error(field: str, value: object) -> str | None:
    """The error for a value that must be a list of distinct DTMF digits, or None."""
    if isinstance(value, list) and value:
        try:
            # Every element one of the twelve digit strings, none twice.
            if _DTMF_SET.issuperset(value) and len(set(value)) == len(value):
                return None
        except TypeError:  # an unhashable element: not a digit
            pass
    return _invalid(field, value, "a non-empty list of distinct digits from '0'-'9', '#', '*'")


def _audio_source(field: str, value: object) -> str | None:
    # The valid case first, without building any field path; the checks below say what is wrong.
    if (
        isinstance(value, dict)
        and value.get("Type") == AUDIO_SOURCE_TYPE
        and _is_text(value.get("BucketName"))
        and _is_text(value.get("Key"))
        and _AUDIO_SOURCE_FIELDS.issuperset(value)
    ):
        return None
    if not isinstance(value, dict):
        return _invalid(field, value, "an object {Type: 'S3', BucketName, Key}")
    unknown = sorted(str(name) for name in value if name not in ("Type", "BucketName", "Key"))
    if unknown:
        return f"{field} has unknown field(s) {unknown}; allowed: Type, BucketName, Key"
    if value.get("Type") != AUDIO_SOURCE_TYPE:
        return _invalid(f"{field}.Type", value.get("Type"), "'S3'")
    return _non_empty_str(f"{field}.BucketName", value.get("BucketName")) or (
        _non_empty_str(f"{field}.Key", value.get("Key"))
    )


# Parameter name -> (checker, required), per action type: the one rule table
# used by the builders and by validate_response.
_TARGET: dict[str, tuple[Checker, bool]] = {
    "CallId": (_non_empty_str, False),
    "ParticipantTag": (_participant_tag, False),
}
_RULES: dict[str, dict[str, tuple[Checker, bool]]] = {
    ACTION_PLAY_AUDIO: {
        **_TARGET,
        "PlaybackTerminators": (dtmf_list_error, False),
        "Repeat": (positive_int_error, False),
        "AudioSource": (_audio_source, True),
    },
    ACTION_PLAY_AUDIO_AND_GET_DIGITS: {
        **_TARGET,
        "InputDigitsRegex": (_non_empty_str, False),
        "AudioSource": (_audio_source, True),
        "FailureAudioSource": (_audio_source, True),
        "MinNumberOfDigits": (_non_negative_int, False),
        "MaxNumberOfDigits": (positive_int_error, False),
        "TerminatorDigits": (dtmf_list_error, False),
        "InBetweenDigitsDurationInMilliseconds": (positive_int_error, False),
        "Repeat": (positive_int_error, False),
        "RepeatDurationInMilliseconds": (positive_int_error, True),
    },
    ACTION_PAUSE: {**_TARGET, "DurationInMilliseconds": (positive_int_error, True)},
    ACTION_HANGUP: {**_TARGET, "SipResponseCode": (_sip_response_code, False)},
}
ACTION_TYPES = tuple(_RULES)


def _digit_bounds(where: str, parameters: dict[Any, Any]) -> str | None:
    """MaxNumberOfDigits must not be below MinNumberOfDigits (defaults 0 and 128)."""
    low = _as_int(parameters.get("MinNumberOfDigits", DEFAULT_MIN_NUMBER_OF_DIGITS))
    high = _as_int(parameters.get("MaxNumberOfDigits", DEFAULT_MAX_NUMBER_OF_DIGITS))
    if low is None or high is None or high >= low:
        return None
    return _invalid(
        f"{where}.Parameters.MaxNumberOfDigits",
        high,
        f">= MinNumberOfDigits ({low}); MaxNumberOfDigits defaults to "
        f"{DEFAULT_MAX_NUMBER_OF_DIGITS}",
    )


def _parameter_errors(action_type: str, parameters: object, where: str) -> list[str]:
    rules = _RULES.get(action_type)
    if rules is None:
        return [_invalid(f"{where}.Type", action_type, ", ".join(ACTION_TYPES))]
    if not isinstance(parameters, dict):
        return [_invalid(f"{where}.Parameters", parameters, "an object")]
    errors = [
        f"{where}.Parameters.{name} is not a {action_type} parameter; allowed: {', '.join(rules)}"
        for name in parameters
        if name not in rules
    ]
    for name, (check, required) in rules.items():
        if name not in parameters:
            if required:
                errors.append(f"{where}.Parameters.{name} is missing; it is required")
            continue
        value = parameters[name]
        # Checkers are pure: check with the short name, and only for an error build the
        # full field path and check again for the message (most values are valid).
        if check(name, value) is not None:
            error = check(f"{where}.Parameters.{name}", value)
            if error:
                errors.append(error)
    if action_type == ACTION_PLAY_AUDIO_AND_GET_DIGITS:
        error = _digit_bounds(where, parameters)
        if error:
            errors.append(error)
    return errors


def validate_parameters(action_type: str, parameters: object) -> list[str]:
    """Errors in the Parameters of one action of the given type (empty if valid)."""
    return _parameter_errors(action_type, parameters, action_type)


def _action_errors(action: object, where: str) -> list[str]:
    if not isinstance(action, dict):
        return [_invalid(where, action, "an object {Type, Parameters}")]
    extra = [name for name in action if name not in _ACTION_FIELDS]
    unknown = sorted(str(name) for name in extra) if extra else []
    errors = (
        [f"{where} has unknown field(s) {unknown}; allowed: Type, Parameters"] if unknown else []
    )
    action_type = action.get("Type")
    if not isinstance(action_type, str):
        return [*errors, _invalid(f"{where}.Type", action_type, ", ".join(ACTION_TYPES))]
    # Parameters may be omitted; that is then checked as an empty object.
    return errors + _parameter_errors(action_type, action.get("Parameters", {}), where)


def validate_action(action: object) -> list[str]:
    """Errors in one action object (empty if valid)."""
    return _action_errors(action, "action")


def _actions_errors(actions: object) -> list[str]:
    if not isinstance(actions, list):
        return [_invalid("Actions", actions, f"a list of at most {MAX_ACTIONS} actions")]
    errors = []
    if len(actions) > MAX_ACTIONS:
        errors.append(f"Actions has {len(actions)} actions; allowed: at most {MAX_ACTIONS}")
    for index, action in enumerate(actions):
        errors.extend(_action_errors(action, f"Actions[{index}]"))
    return errors


def validate_response(
    obj: object, *, max_attribute_pairs: int = MAX_TRANSACTION_ATTRIBUTES
) -> list[str]:
    """Errors in a complete Lambda response object (empty if valid).

    The response must be the object itself: a JSON string (API Gateway style)
    is rejected by the service with SchemaVersionMismatch, so it is an error
    here too. ``max_attribute_pairs`` as for :func:`response`.
    """
    limit = attribute_pairs_limit(max_attribute_pairs)
    if not isinstance(obj, dict):
        return [
            f"response is a {type(obj).__name__}; allowed: an object (dict) returned "
            "as-is, never a JSON string"
        ]
    allowed = ("SchemaVersion", "Actions", "TransactionAttributes")
    unknown = sorted(str(name) for name in obj if name not in allowed)
    errors = (
        [f"response has unknown field(s) {unknown}; allowed: {', '.join(allowed)}"]
        if unknown
        else []
    )
    if obj.get("SchemaVersion") != SCHEMA_VERSION:
        errors.append(_invalid("SchemaVersion", obj.get("SchemaVersion"), repr(SCHEMA_VERSION)))
    errors.extend(_actions_errors(obj.get("Actions")))
    if "TransactionAttributes" in obj:
        errors.extend(transaction_attributes_errors(obj["TransactionAttributes"], limit))
    return errors


def _raise_if(errors: list[str]) -> None:
    if errors:
        raise ValueError("; ".join(errors))


def _action(action_type: str, parameters: dict[str, Any]) -> dict[str, Any]:
    _raise_if(_parameter_errors(action_type, parameters, action_type))
    return {"Type": action_type, "Parameters": parameters}


def _target(call_id: str | None, participant_tag: str | None) -> dict[str, Any]:
    target: dict[str, Any] = {}
    if call_id is not None:
        target["CallId"] = call_id
    if participant_tag is not None:
        target["ParticipantTag"] = participant_tag
    return target


def _digits(value: Iterable[str]) -> object:
    """A digit list from a list, tuple or string ("#*"); other values go to the validator as-is."""
    return list(value) if isinstance(value, (str, list, tuple)) else value


def _source(value: dict[str, str]) -> object:
    return dict(value) if isinstance(value, dict) else value


def s3_audio_source(bucket: str, key: str) -> dict[str, str]:
    """An AudioSource object for an S3 object: {"Type": "S3", "BucketName", "Key"}."""
    source = {"Type": AUDIO_SOURCE_TYPE, "BucketName": bucket, "Key": key}
    error = _audio_source("AudioSource", source)
    if error:
        raise ValueError(error)
    return source


def play_audio(
    audio_source: dict[str, str],
    *,
    call_id: str | None = None,
    participant_tag: str | None = None,
    playback_terminators: Iterable[str] | None = None,
    repeat: int | None = None,
) -> dict[str, Any]:
    """A PlayAudio action; audio_source as from s3_audio_source() or a prompt catalog."""
    parameters = _target(call_id, participant_tag)
    if playback_terminators is not None:
        parameters["PlaybackTerminators"] = _digits(playback_terminators)
    if repeat is not None:
        parameters["Repeat"] = repeat
    parameters["AudioSource"] = _source(audio_source)
    return _action(ACTION_PLAY_AUDIO, parameters)


def play_audio_and_get_digits(
    audio_source: dict[str, str],
    failure_audio_source: dict[str, str],
    *,
    repeat_duration_ms: int,
    call_id: str | None = None,
    participant_tag: str | None = None,
    min_number_of_digits: int | None = None,
    max_number_of_digits: int | None = None,
    terminator_digits: Iterable[str] | None = None,
    input_digits_regex: str | None = None,
    in_between_digits_duration_ms: int | None = None,
    repeat: int | None = None,
) -> dict[str, Any]:
    """A PlayAudioAndGetDigits action; omitted options take the service defaults."""
    parameters = _target(call_id, participant_tag)
    if input_digits_regex is not None:
        parameters["InputDigitsRegex"] = input_digits_regex
    parameters["AudioSource"] = _source(audio_source)
    parameters["FailureAudioSource"] = _source(failure_audio_source)
    if min_number_of_digits is not None:
        parameters["MinNumberOfDigits"] = min_number_of_digits
    if max_number_of_digits is not None:
        parameters["MaxNumberOfDigits"] = max_number_of_digits
    if terminator_digits is not None:
        parameters["TerminatorDigits"] = _digits(terminator_digits)
    if in_between_digits_duration_ms is not None:
        parameters["InBetweenDigitsDurationInMilliseconds"] = in_between_digits_duration_ms
    if repeat is not None:
        parameters["Repeat"] = repeat
    parameters["RepeatDurationInMilliseconds"] = repeat_duration_ms
    return _action(ACTION_PLAY_AUDIO_AND_GET_DIGITS, parameters)


def pause(
    duration_ms: int, *, call_id: str | None = None, participant_tag: str | None = None
) -> dict[str, Any]:
    """A Pause action of duration_ms milliseconds."""
    parameters = _target(call_id, participant_tag)
    parameters["DurationInMilliseconds"] = duration_ms
    return _action(ACTION_PAUSE, parameters)


def hangup(
    sip_response_code: str = "0",
    *,
    call_id: str | None = None,
    participant_tag: str | None = None,
) -> dict[str, Any]:
    """A Hangup action; without call_id/participant_tag it ends the invoked leg."""
    parameters = _target(call_id, participant_tag)
    parameters["SipResponseCode"] = sip_response_code
    return _action(ACTION_HANGUP, parameters)


def response(
    actions: Sequence[dict[str, Any]],
    transaction_attributes: dict[str, str] | None = None,
    *,
    max_attribute_pairs: int = MAX_TRANSACTION_ATTRIBUTES,
) -> dict[str, Any]:
    """The Lambda response object, returned as-is (never as a JSON string).

    ``transaction_attributes=None`` leaves the key out, so the SIP media
    application keeps its stored attributes; ``{}`` erases them. Whether other
    keys stored before survive is read two ways (transaction-attributes.md:
    "a different key set" replaces them; update-trans-attributes.md: new keys
    "are added"), so send every attribute you need, not only the changed ones.
    At most ``max_attribute_pairs`` pairs: 10 by default, the limit the service
    was seen to enforce; up to 100 (the documented limit) when you opt in.
    """
    limit = attribute_pairs_limit(max_attribute_pairs)
    action_list = list(actions)
    result: dict[str, Any] = {"SchemaVersion": SCHEMA_VERSION, "Actions": action_list}
    errors = _actions_errors(action_list)
    if transaction_attributes is not None:
        attributes = dict(transaction_attributes)
        errors.extend(transaction_attributes_errors(attributes, limit))
        result["TransactionAttributes"] = attributes
    _raise_if(errors)
    return result
