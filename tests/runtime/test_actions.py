"""Action builders, the response builder and validate_response."""

from __future__ import annotations

import json
from typing import Any

import pytest
from runtime.actions import (
    hangup,
    pause,
    play_audio,
    play_audio_and_get_digits,
    response,
    s3_audio_source,
    validate_action,
    validate_parameters,
    validate_response,
)
from runtime.attributes import MAX_TRANSACTION_ATTRIBUTES_BYTES, transaction_attributes_size

SOURCE = {"Type": "S3", "BucketName": "bucket-name", "Key": "wave-file.wav"}
FAILURE = {"Type": "S3", "BucketName": "bucket-name", "Key": "audio-file-failure.wav"}


# --- s3_audio_source -----------------------------------------------------------------


def test_s3_audio_source() -> None:
    assert s3_audio_source("bucket-name", "wave-file.wav") == SOURCE


@pytest.mark.parametrize(
    ("bucket", "key", "match"),
    [
        ("", "k.wav", r"AudioSource\.BucketName='' is invalid; allowed: a non-empty string"),
        ("b", "", r"AudioSource\.Key='' is invalid; allowed: a non-empty string"),
        ("b", None, r"AudioSource\.Key=None is invalid"),
    ],
)
def test_s3_audio_source_rejects(bucket: Any, key: Any, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        s3_audio_source(bucket, key)


# --- play_audio ----------------------------------------------------------------------


def test_play_audio_minimal() -> None:
    assert play_audio(SOURCE) == {"Type": "PlayAudio", "Parameters": {"AudioSource": SOURCE}}


def test_play_audio_all_parameters() -> None:
    action = play_audio(
        SOURCE,
        call_id="call-id-1",
        participant_tag="LEG-A",
        playback_terminators=["#", "*"],
        repeat=2,
    )
    assert action == {
        "Type": "PlayAudio",
        "Parameters": {
            "CallId": "call-id-1",
            "ParticipantTag": "LEG-A",
            "PlaybackTerminators": ["#", "*"],
            "Repeat": 2,
            "AudioSource": SOURCE,
        },
    }


def test_play_audio_terminators_from_string_and_source_copied() -> None:
    source = dict(SOURCE)
    action = play_audio(source, playback_terminators="0#*")
    assert action["Parameters"]["PlaybackTerminators"] == ["0", "#", "*"]
    source["Key"] = "changed.wav"
    assert action["Parameters"]["AudioSource"] == SOURCE


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (
            {"participant_tag": "LEG-C"},
            r"PlayAudio\.Parameters\.ParticipantTag='LEG-C' is invalid; "
            r"allowed: 'LEG-A' or 'LEG-B'",
        ),
        ({"call_id": ""}, r"PlayAudio\.Parameters\.CallId='' is invalid"),
        (
            {"playback_terminators": ["#", "#"]},
            r"PlaybackTerminators=\['#', '#'\] is invalid; allowed: a non-empty list of "
            r"distinct digits from '0'-'9', '#', '\*'",
        ),
        ({"playback_terminators": ["A"]}, r"PlaybackTerminators=\['A'\] is invalid"),
        ({"playback_terminators": ["12"]}, r"PlaybackTerminators=\['12'\] is invalid"),
        ({"playback_terminators": []}, r"PlaybackTerminators=\[\] is invalid"),
        ({"playback_terminators": 5}, r"PlaybackTerminators=5 is invalid"),
        ({"repeat": 0}, r"PlayAudio\.Parameters\.Repeat=0 is invalid; allowed: an integer > 0"),
        ({"repeat": -1}, r"Repeat=-1 is invalid"),
        ({"repeat": True}, r"Repeat=True is invalid"),
        ({"repeat": 1.5}, r"Repeat=1\.5 is invalid"),
    ],
)
def test_play_audio_rejects(kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        play_audio(SOURCE, **kwargs)


@pytest.mark.parametrize(
    ("source", "match"),
    [
        (
            {"Type": "GCS", "BucketName": "b", "Key": "k"},
            r"AudioSource\.Type='GCS' is invalid; allowed: 'S3'",
        ),
        ({"Type": "S3", "BucketName": "b"}, r"AudioSource\.Key=None is invalid"),
        (
            {**SOURCE, "Region": "us-east-1"},
            r"AudioSource has unknown field\(s\) \['Region'\]; allowed: Type, BucketName, Key",
        ),
        ("s3://bucket/key.wav", r"AudioSource='s3://bucket/key\.wav' is invalid; allowed: an"),
    ],
)
def test_play_audio_rejects_audio_source(source: Any, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        play_audio(source)


def test_builder_errors_are_the_validator_errors() -> None:
    parameters = {"ParticipantTag": "LEG-C", "Repeat": 0, "AudioSource": {"Type": "S3"}}
    expected = validate_parameters("PlayAudio", parameters)
    assert len(expected) == 3
    with pytest.raises(ValueError) as excinfo:
        play_audio({"Type": "S3"}, participant_tag="LEG-C", repeat=0)
    assert str(excinfo.value) == "; ".join(expected)


# --- play_audio_and_get_digits -------------------------------------------------------


def test_play_audio_and_get_digits_minimal() -> None:
    action = play_audio_and_get_digits(SOURCE, FAILURE, repeat_duration_ms=10000)
    assert action == {
        "Type": "PlayAudioAndGetDigits",
        "Parameters": {
            "AudioSource": SOURCE,
            "FailureAudioSource": FAILURE,
            "RepeatDurationInMilliseconds": 10000,
        },
    }


def test_play_audio_and_get_digits_all_parameters() -> None:
    action = play_audio_and_get_digits(
        SOURCE,
        FAILURE,
        repeat_duration_ms=10000,
        call_id="call-id-1",
        participant_tag="LEG-A",
        min_number_of_digits=3,
        max_number_of_digits=5,
        terminator_digits="#",
        input_digits_regex=r"^\d{2}#$",
        in_between_digits_duration_ms=5000,
        repeat=3,
    )
    assert action == {
        "Type": "PlayAudioAndGetDigits",
        "Parameters": {
            "CallId": "call-id-1",
            "ParticipantTag": "LEG-A",
            "InputDigitsRegex": r"^\d{2}#$",
            "AudioSource": SOURCE,
            "FailureAudioSource": FAILURE,
            "MinNumberOfDigits": 3,
            "MaxNumberOfDigits": 5,
            "TerminatorDigits": ["#"],
            "InBetweenDigitsDurationInMilliseconds": 5000,
            "Repeat": 3,
            "RepeatDurationInMilliseconds": 10000,
        },
    }


def test_play_audio_and_get_digits_fixed_length_pin() -> None:
    action = play_audio_and_get_digits(
        SOURCE, FAILURE, repeat_duration_ms=5000, min_number_of_digits=4, max_number_of_digits=4
    )
    assert action["Parameters"]["MinNumberOfDigits"] == action["Parameters"]["MaxNumberOfDigits"]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (
            {"repeat_duration_ms": 0},
            r"PlayAudioAndGetDigits\.Parameters\.RepeatDurationInMilliseconds=0 is invalid; "
            r"allowed: an integer > 0",
        ),
        (
            {"min_number_of_digits": -1},
            r"MinNumberOfDigits=-1 is invalid; allowed: an integer >= 0",
        ),
        ({"max_number_of_digits": 0}, r"MaxNumberOfDigits=0 is invalid; allowed: an integer > 0"),
        (
            {"min_number_of_digits": 5, "max_number_of_digits": 3},
            r"MaxNumberOfDigits=3 is invalid; allowed: >= MinNumberOfDigits \(5\)",
        ),
        (
            {"min_number_of_digits": 200},
            r"MaxNumberOfDigits=128 is invalid; allowed: >= MinNumberOfDigits \(200\); "
            r"MaxNumberOfDigits defaults to 128",
        ),
        ({"terminator_digits": "#x"}, r"TerminatorDigits=\['#', 'x'\] is invalid"),
        ({"input_digits_regex": ""}, r"InputDigitsRegex='' is invalid; allowed: a non-empty"),
        (
            {"in_between_digits_duration_ms": 0},
            r"InBetweenDigitsDurationInMilliseconds=0 is invalid",
        ),
        ({"repeat": 0}, r"PlayAudioAndGetDigits\.Parameters\.Repeat=0 is invalid"),
        ({"participant_tag": "leg-a"}, r"ParticipantTag='leg-a' is invalid"),
    ],
)
def test_play_audio_and_get_digits_rejects(kwargs: dict[str, Any], match: str) -> None:
    arguments: dict[str, Any] = {"repeat_duration_ms": 10000, **kwargs}
    with pytest.raises(ValueError, match=match):
        play_audio_and_get_digits(SOURCE, FAILURE, **arguments)


def test_play_audio_and_get_digits_rejects_failure_audio_source() -> None:
    with pytest.raises(ValueError, match=r"FailureAudioSource\.BucketName='' is invalid"):
        play_audio_and_get_digits(
            SOURCE, {"Type": "S3", "BucketName": "", "Key": "k"}, repeat_duration_ms=1
        )


# --- pause and hangup ----------------------------------------------------------------


def test_pause() -> None:
    assert pause(3000, call_id="call-id-1", participant_tag="LEG-A") == {
        "Type": "Pause",
        "Parameters": {
            "CallId": "call-id-1",
            "ParticipantTag": "LEG-A",
            "DurationInMilliseconds": 3000,
        },
    }


@pytest.mark.parametrize("duration", [0, -5, "abc", None])
def test_pause_rejects(duration: Any) -> None:
    with pytest.raises(
        ValueError, match=r"Pause\.Parameters\.DurationInMilliseconds=.* is invalid; allowed: an"
    ):
        pause(duration)


def test_hangup() -> None:
    assert hangup() == {"Type": "Hangup", "Parameters": {"SipResponseCode": "0"}}
    assert hangup("486", call_id="call-id-1") == {
        "Type": "Hangup",
        "Parameters": {"CallId": "call-id-1", "SipResponseCode": "486"},
    }
    assert hangup("480", participant_tag="LEG-B")["Parameters"]["SipResponseCode"] == "480"


@pytest.mark.parametrize("code", ["200", "", 480])
def test_hangup_rejects(code: Any) -> None:
    with pytest.raises(
        ValueError,
        match=r"Hangup\.Parameters\.SipResponseCode=.* is invalid; allowed: '0' \(normal\), "
        r"'480' \(unavailable\) or '486' \(busy\)",
    ):
        hangup(code)


# --- response ------------------------------------------------------------------------


def test_response() -> None:
    assert response([]) == {"SchemaVersion": "1.0", "Actions": []}
    assert response([hangup()], {"state": "done"}) == {
        "SchemaVersion": "1.0",
        "Actions": [{"Type": "Hangup", "Parameters": {"SipResponseCode": "0"}}],
        "TransactionAttributes": {"state": "done"},
    }
    assert response([], {}) == {"SchemaVersion": "1.0", "Actions": [], "TransactionAttributes": {}}


def test_response_action_limit() -> None:
    assert len(response([pause(100)] * 10)["Actions"]) == 10
    with pytest.raises(ValueError, match=r"Actions has 11 actions; allowed: at most 10"):
        response([pause(100)] * 11)


def test_response_rejects_invalid_action() -> None:
    with pytest.raises(ValueError, match=r"Actions\[1\]\.Type='Speak' is invalid; allowed: Play"):
        response([hangup(), {"Type": "Speak", "Parameters": {"Text": "hi"}}])


def test_response_refuses_more_than_10_attribute_pairs_unless_told_otherwise() -> None:
    # attribute-trans-invalid.md shows the service refusing 11 pairs ("Maximum number of
    # mappings is 10") though transaction-attributes.md says 100: 10 unless opted in.
    ten = {f"k{i}": "v" for i in range(10)}
    eleven = {**ten, "k10": "v"}
    assert response([], ten)["TransactionAttributes"] == ten
    with pytest.raises(
        ValueError, match=r"TransactionAttributes has 11 pairs; allowed: at most 10 \(the service"
    ):
        response([], eleven)
    assert validate_response(response([], eleven, max_attribute_pairs=11)) != []
    assert (
        validate_response(response([], eleven, max_attribute_pairs=11), max_attribute_pairs=11)
        == []
    )
    hundred = {f"k{i}": "v" for i in range(100)}
    assert response([], hundred, max_attribute_pairs=100)["TransactionAttributes"] == hundred
    with pytest.raises(ValueError, match=r"TransactionAttributes has 101 pairs; allowed: at most"):
        response([], {**hundred, "k100": "v"}, max_attribute_pairs=100)


@pytest.mark.parametrize("limit", [0, 101, "ten", True, "50", 50.0, None])
def test_an_attribute_limit_outside_the_guides_range_is_refused(limit: Any) -> None:
    with pytest.raises(ValueError, match=r"max_attribute_pairs=.* is invalid; allowed: an integer"):
        response([], {}, max_attribute_pairs=limit)
    with pytest.raises(ValueError, match=r"max_attribute_pairs=.* is invalid; allowed: an integer"):
        validate_response({"SchemaVersion": "1.0", "Actions": []}, max_attribute_pairs=limit)


def test_response_attribute_size_limit() -> None:
    # {"k":"..."} is 8 bytes of JSON around the value.
    fits = {"k": "x" * (MAX_TRANSACTION_ATTRIBUTES_BYTES - 8)}
    assert transaction_attributes_size(fits) == MAX_TRANSACTION_ATTRIBUTES_BYTES == 20_000
    response([], fits)
    with pytest.raises(
        ValueError,
        match=r"TransactionAttributes is 20001 bytes \(UTF-8 compact JSON\); allowed: at most "
        r"20000 bytes",
    ):
        response([], {"k": "x" * (MAX_TRANSACTION_ATTRIBUTES_BYTES - 7)})


def test_attribute_size_counts_utf8_bytes() -> None:
    assert transaction_attributes_size({"k": "é"}) == len('{"k":"é"}'.encode())
    assert transaction_attributes_size({"k": "é"}) == 10
    assert transaction_attributes_size({"a": "1", "b": '"'}) == len('{"a":"1","b":"\\""}')


@pytest.mark.parametrize("attributes", [{"n": 1}, {1: "v"}, {"n": None}])
def test_response_rejects_non_string_attributes(attributes: Any) -> None:
    with pytest.raises(ValueError, match=r"TransactionAttributes has non-string entries"):
        response([], attributes)


# --- validate_response / validate_action ---------------------------------------------

DOCS_RESPONSES: list[dict[str, Any]] = [
    # PlayAudio page (Repeat and DurationInMilliseconds written as strings in the docs).
    {
        "SchemaVersion": "1.0",
        "Actions": [
            {
                "Type": "PlayAudio",
                "Parameters": {
                    "CallId": "call-id-1",
                    "ParticipantTag": "LEG-A",
                    "PlaybackTerminators": ["#", "*"],
                    "Repeat": "2",
                    "AudioSource": SOURCE,
                },
            },
            {"Type": "Pause", "Parameters": {"DurationInMilliseconds": "3000"}},
            {"Type": "Hangup"},
        ],
    },
    {
        "SchemaVersion": "1.0",
        "Actions": [
            {
                "Type": "PlayAudioAndGetDigits",
                "Parameters": {
                    "CallId": "call-id-1",
                    "ParticipantTag": "LEG-A",
                    "InputDigitsRegex": r"^\d{2}#$",
                    "AudioSource": SOURCE,
                    "FailureAudioSource": FAILURE,
                    "MinNumberOfDigits": 3,
                    "MaxNumberOfDigits": 5,
                    "TerminatorDigits": ["#"],
                    "InBetweenDigitsDurationInMilliseconds": 5000,
                    "Repeat": 3,
                    "RepeatDurationInMilliseconds": 10000,
                },
            }
        ],
        "TransactionAttributes": {"key1": "value1", "key2": "value2"},
    },
]


@pytest.mark.parametrize("good", DOCS_RESPONSES)
def test_validate_response_accepts_documented_responses(good: dict[str, Any]) -> None:
    assert validate_response(good) == []


def test_validate_response_accepts_builder_output() -> None:
    built = response(
        [
            play_audio(SOURCE, playback_terminators="#", repeat=2),
            play_audio_and_get_digits(SOURCE, FAILURE, repeat_duration_ms=1),
            pause(500),
            hangup("480"),
        ],
        {"a": "b"},
    )
    assert validate_response(built) == []


GOOD = {"SchemaVersion": "1.0", "Actions": [hangup()]}


@pytest.mark.parametrize(
    ("bad", "expected"),
    [
        (json.dumps(GOOD), "response is a str; allowed: an object (dict) returned as-is, never"),
        ([GOOD], "response is a list"),
        (None, "response is a NoneType"),
        ({**GOOD, "SchemaVersion": "2.0"}, "SchemaVersion='2.0' is invalid; allowed: '1.0'"),
        ({"SchemaVersion": "1.0"}, "Actions=None is invalid; allowed: a list of at most 10"),
        ({**GOOD, "Actions": {"Type": "Hangup"}}, "Actions={'Type': 'Hangup'} is invalid"),
        ({**GOOD, "Actions": [hangup()] * 11}, "Actions has 11 actions; allowed: at most 10"),
        ({**GOOD, "Actions": ["Hangup"]}, "Actions[0]='Hangup' is invalid; allowed: an object"),
        (
            {**GOOD, "Actions": [{"Type": "Speak"}]},
            "Actions[0].Type='Speak' is invalid; allowed: PlayAudio, PlayAudioAndGetDigits, "
            "Pause, Hangup",
        ),
        ({**GOOD, "Actions": [{"Parameters": {}}]}, "Actions[0].Type=None is invalid"),
        (
            {**GOOD, "Actions": [{"Type": "PlayAudio"}]},
            "Actions[0].Parameters.AudioSource is missing; it is required",
        ),
        (
            {**GOOD, "Actions": [{"Type": "Pause", "Parameters": {"DurationInMilliSeconds": 1}}]},
            "Actions[0].Parameters.DurationInMilliSeconds is not a Pause parameter",
        ),
        (
            {**GOOD, "Actions": [{"Type": "Hangup", "Parameters": []}]},
            "Actions[0].Parameters=[] is invalid; allowed: an object",
        ),
        (
            {**GOOD, "Actions": [{"Type": "Hangup", "Id": 1}]},
            "Actions[0] has unknown field(s) ['Id']; allowed: Type, Parameters",
        ),
        ({**GOOD, "Extra": 1}, "response has unknown field(s) ['Extra']"),
        ({**GOOD, "TransactionAttributes": "a=b"}, "TransactionAttributes='a=b' is invalid"),
        (
            {**GOOD, "TransactionAttributes": {f"k{i}": "v" for i in range(101)}},
            "TransactionAttributes has 101 pairs",
        ),
    ],
)
def test_validate_response_rejects(bad: object, expected: str) -> None:
    errors = validate_response(bad)
    assert any(expected in error for error in errors), errors


def test_validate_response_reports_every_error() -> None:
    bad = {
        "SchemaVersion": "1.0",
        "Actions": [
            {"Type": "PlayAudio", "Parameters": {"Repeat": 0, "AudioSource": SOURCE}},
            {"Type": "Hangup", "Parameters": {"SipResponseCode": "404"}},
        ],
    }
    assert validate_response(bad) == [
        "Actions[0].Parameters.Repeat=0 is invalid; allowed: an integer > 0",
        "Actions[1].Parameters.SipResponseCode='404' is invalid; allowed: '0' (normal), "
        "'480' (unavailable) or '486' (busy)",
    ]


def test_validate_action() -> None:
    assert validate_action(pause(1)) == []
    assert validate_action({"Type": "Pause"}) == [
        "action.Parameters.DurationInMilliseconds is missing; it is required"
    ]


def test_long_values_are_shortened_in_messages() -> None:
    (error,) = validate_parameters("Hangup", {"SipResponseCode": "9" * 500})
    assert len(error) < 200
    assert "..." in error
