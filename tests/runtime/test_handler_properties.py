"""Properties of the sample handler: any JSON-like event gets a valid response, never an error.

The SIP media application hangs up on a Lambda error or an invalid response, so the
handler must answer everything. Hypothesis feeds it (1) arbitrary JSON-like values,
(2) objects with a real InvocationEventType and arbitrary other fields, and
(3) the documented events with fields replaced, deleted or given another type, under
several configurations, and checks every response with ``validate_response``.
Every log record is rendered as a JSON log line too. Each test asserts how many
examples really ran; ``pytest -rP -p no:logging`` prints the counts.
"""

from __future__ import annotations

import copy
import json
import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from runtime import handler as handler_module
from runtime.actions import validate_response
from runtime.config import Config, load_config
from runtime.events import EVENT_TYPES, example_call_details
from runtime.handler import handle, handler

from tests import hypothesis_profile  # noqa: F401  (deterministic CI profile)

from .conftest import BUCKET, CALL_ID, ENV
from .conftest import KEYS as PROMPT_KEYS

EXAMPLES = 2000
CONFIG_EXAMPLES = 200

# Field names and values the handler looks at, so that random data reaches its branches.
KEYS = (
    "SchemaVersion",
    "Sequence",
    "InvocationEventType",
    "CallDetails",
    "ActionData",
    "Type",
    "Parameters",
    "ErrorType",
    "ErrorMessage",
    "TransactionId",
    "TransactionAttributes",
    "Participants",
    "CallId",
    "ParticipantTag",
    "AudioSource",
    "FailureAudioSource",
    "BucketName",
    "Key",
    "Arguments",
    "prompt",
    "action",
    "fallbackPlayed",
)
WORDS = (
    *EVENT_TYPES,
    "PlayAudio",
    "PlayAudioAndGetDigits",
    "Hangup",
    "CallUpdateRequest",
    "InvalidAudioSource",
    "SystemException",
    "InvalidActionParameter",
    "S3",
    "LEG-A",
    "true",
    "hangup",
    "1.0",
    "",
    BUCKET,
    CALL_ID,
    *PROMPT_KEYS,
    *PROMPT_KEYS.values(),
)

# JSON-like values nested up to three levels deep. Built level by level rather than with
# st.recursive, and objects drawn as lists of pairs (no uniqueness filtering): about half
# the cost per example, so that thousands run in seconds. Types break parsers, not sizes.
texts = st.sampled_from(WORDS) | st.text(max_size=8)
scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()  # NaN and infinities too: the handler must not care
    | texts
)


def nested(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """A list or an object of ``children``, or a scalar."""
    pairs = st.tuples(st.sampled_from(KEYS) | texts, children)
    return scalars | st.lists(children, max_size=3) | st.lists(pairs, max_size=4).map(dict)


json_values = nested(nested(nested(scalars)))
# A real event type with arbitrary fields around it reaches each event's own branch.
typed_events = st.fixed_dictionaries(
    {"InvocationEventType": st.sampled_from(EVENT_TYPES)},
    optional={"CallDetails": json_values, "ActionData": json_values, "ErrorType": scalars},
)


def audio(key: str) -> dict[str, str]:
    return {"Type": "S3", "BucketName": BUCKET, "Key": key}


def event(
    event_type: str,
    action_data: dict[str, Any] | None = None,
    attributes: dict[str, str] | None = None,
    **top: Any,
) -> dict[str, Any]:
    """An invocation event as tests/runtime/conftest.py's make_event builds it."""
    built: dict[str, Any] = {
        "SchemaVersion": "1.0",
        "Sequence": 2,
        "InvocationEventType": event_type,
        "CallDetails": example_call_details(attributes),
        **top,
    }
    if action_data is not None:
        built["ActionData"] = action_data
    return built


WELCOME = str(PROMPT_KEYS["welcome"])
ERROR = str(PROMPT_KEYS["error"])
PLAYED = {"Type": "PlayAudio", "Parameters": {"CallId": CALL_ID, "AudioSource": audio(WELCOME)}}
DOCUMENTED_EVENTS = (
    event("NEW_INBOUND_CALL", Sequence=1),
    event("CALL_ANSWERED"),
    event("ACTION_SUCCESSFUL", PLAYED),
    event("ACTION_SUCCESSFUL", {"Type": "Hangup", "Parameters": {"SipResponseCode": "0"}}),
    event(
        "ACTION_FAILED",
        {
            **PLAYED,
            "ErrorType": "InvalidAudioSource",
            "ErrorMessage": "Audio Source parameter value is invalid.",
        },
    ),
    event(
        "ACTION_FAILED",
        {
            "Type": "PlayAudioAndGetDigits",
            "Parameters": {
                "CallId": CALL_ID,
                "AudioSource": audio(ERROR),
                "FailureAudioSource": audio(WELCOME),
                "RepeatDurationInMilliseconds": 3000,
            },
            "ErrorType": "InvalidAudioSource",
            "ErrorMessage": "Audio Source parameter value is invalid.",
        },
        attributes={"fallbackPlayed": "true", "caller": "vip"},
    ),
    event(
        "ACTION_FAILED",
        {
            "Type": "Hangup",
            "Parameters": {"SipResponseCode": "0"},
            "ErrorType": "SystemException",
            "ErrorMessage": "An internal system exception occurred.",
        },
    ),
    event(
        "HANGUP",
        {"Type": "Hangup", "Parameters": {"SipResponseCode": "0", "ParticipantTag": "LEG-A"}},
    ),
    event(
        "CALL_UPDATE_REQUESTED",
        {"Type": "CallUpdateRequest", "Parameters": {"Arguments": {"prompt": "closed"}}},
    ),
    event(
        "INVALID_LAMBDA_RESPONSE",
        ErrorType="SchemaValidationFailed",
        ErrorMessage="Action Type is not supported.",
    ),
)

CONFIGS = (
    load_config(ENV),
    load_config({**ENV, "PLAYBACK_TERMINATORS": "", "PLAYBACK_REPEAT": "3"}),
    load_config({**ENV, "FALLBACK_PROMPT": "welcome", "WELCOME_PROMPT": "closed"}),
    load_config({"PROMPTS_BUCKET": BUCKET}),  # no manifest: every call hangs up
    load_config({}),
)
configs = st.sampled_from(CONFIGS)

# Retyping a field: the same content under another JSON type, or another type outright.
RETYPES: tuple[Callable[[Any], Any], ...] = (
    lambda value: str(value),
    lambda value: json.dumps(value, default=str),
    lambda value: [value],
    lambda value: {"value": value},
    lambda value: None,
    lambda value: 0,
    lambda value: -1,
    lambda value: True,
    lambda value: 1.5,
    lambda value: "",
    lambda value: [],
    lambda value: {},
)


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every place in a JSON-like value: the value itself, then each key or index, deep."""
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from paths(item, (*prefix, index))


documented_events = st.sampled_from(DOCUMENTED_EVENTS)
operations = st.sampled_from(("replace", "delete", "retype"))
retypes = st.sampled_from(RETYPES)


@st.composite
def mutated_events(draw: st.DrawFn) -> Any:
    """A documented event with one to four fields replaced, deleted or retyped."""
    mutated: Any = copy.deepcopy(draw(documented_events))
    for _ in range(draw(st.integers(1, 4))):
        places = list(paths(mutated))
        path = places[draw(st.integers(0, len(places) - 1))]
        operation = draw(operations)
        if not path:  # the whole event
            if operation == "delete":
                return draw(json_values)
            current = mutated
        else:
            parent = mutated
            for step in path[:-1]:
                parent = parent[step]
            current = parent[path[-1]]
        if operation == "replace":
            new = draw(json_values)
        elif operation == "retype":
            new = draw(retypes)(current)
        if not path:
            mutated = new
        elif operation == "delete":
            del parent[path[-1]]
        else:
            parent[path[-1]] = new
    return mutated


def check(result: object) -> None:
    """What every answer must be: a response object that the service accepts."""
    assert isinstance(result, dict), f"the handler returned a {type(result).__name__}"
    assert validate_response(result) == []
    json.dumps(result, allow_nan=False)  # Lambda serializes it as strict JSON


def report(kind: str, count: int, minimum: int, logs: RenderingHandler) -> None:
    print(f"{kind}: {count} examples, {logs.rendered} log lines rendered")
    assert count >= minimum, f"only {count} of {minimum} examples ran"


# The attributes every LogRecord has; anything else on a record came from ``extra``.
STANDARD_RECORD_FIELDS = {*vars(logging.makeLogRecord({})), "message", "asctime"}


class RenderingHandler(logging.Handler):
    """Renders each record as a JSON log line (message and extra fields), then drops it.

    Lambda's JSON log format writes the extra fields too; a record that cannot be rendered
    is kept in ``errors`` (logging itself would only print a traceback and carry on).
    """

    def __init__(self) -> None:
        super().__init__()
        self.rendered = 0
        self.errors: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            extra = {k: v for k, v in vars(record).items() if k not in STANDARD_RECORD_FIELDS}
            json.dumps({"message": self.format(record), **extra}, default=str)
        except Exception as error:
            self.errors.append(f"{record.msg!r}: {error!r}")
        self.rendered += 1


@pytest.fixture
def logs(monkeypatch: pytest.MonkeyPatch) -> Iterator[RenderingHandler]:
    """The handler's log records, rendered here instead of piling up in pytest's capture."""
    logger = logging.getLogger(handler_module.__name__)
    rendering = RenderingHandler()
    monkeypatch.setattr(logger, "propagate", False)
    logger.addHandler(rendering)
    yield rendering
    logger.removeHandler(rendering)
    assert rendering.errors == []


@pytest.fixture
def sample_config(monkeypatch: pytest.MonkeyPatch) -> None:
    """handler() reads the module's CONFIG: make it the sample configuration."""
    monkeypatch.setattr(handler_module, "CONFIG", load_config(ENV))


def test_arbitrary_json_gets_a_valid_response(sample_config: None, logs: RenderingHandler) -> None:
    ran = 0

    @settings(max_examples=EXAMPLES)
    @given(json_values | typed_events, configs)
    def prop(value: Any, config: Config) -> None:
        nonlocal ran
        ran += 1
        check(handle(value, config))  # handle() itself never raises
        check(handler(value, None))

    prop()
    report("arbitrary JSON events", ran, EXAMPLES, logs)


def test_mutated_documented_events_get_a_valid_response(
    sample_config: None, logs: RenderingHandler
) -> None:
    ran = 0

    @settings(max_examples=EXAMPLES)
    @given(mutated_events(), configs)
    def prop(value: Any, config: Config) -> None:
        nonlocal ran
        ran += 1
        check(handle(value, config))
        check(handler(value, None))

    prop()
    report("mutated documented events", ran, EXAMPLES, logs)


def test_any_environment_gives_a_config_that_answers_validly(logs: RenderingHandler) -> None:
    ran = 0
    names = st.sampled_from(
        (
            "PROMPTS_BUCKET",
            "PROMPT_CATALOG",
            "LANGUAGE_BY_NUMBER",
            "WELCOME_PROMPT",
            "FALLBACK_PROMPT",
            "PLAYBACK_TERMINATORS",
            "PLAYBACK_REPEAT",
        )
    )
    values = (
        st.sampled_from((*ENV.values(), "#*", "0", "2", " ", "welcome", "error"))
        | st.text(max_size=12)
        | json_values.map(json.dumps)
    )

    @settings(max_examples=CONFIG_EXAMPLES)
    @given(st.dictionaries(names, values), st.sampled_from(DOCUMENTED_EVENTS))
    def prop(environ: dict[str, str], documented: dict[str, Any]) -> None:
        nonlocal ran
        ran += 1
        check(handle(documented, load_config(environ)))  # load_config never raises either

    prop()
    report("environments", ran, CONFIG_EXAMPLES, logs)
