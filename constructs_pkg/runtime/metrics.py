"""Call-flow metrics as CloudWatch Embedded Metric Format (EMF) records, stdlib only.

The names below are a contract: alarms and dashboards are built against
them, so they are module constants to import, never strings to retype.

Every metric is a Count of 1 per occurrence, in namespace :data:`NAMESPACE`
(the sample handler reads ``METRICS_NAMESPACE``), with the dimension sets of
:data:`DIMENSION_SETS`: each metric by ``SipMediaApplicationId`` and by
``FunctionName`` (the handler's), and ``ActionFailures`` also by SMA +
``ErrorType``, SMA + ``Action`` + ``ErrorType``, and ``FunctionName`` +
``ErrorType``.
Dimension values are bounded (cardinality and CloudWatch's rules): the SMA id
or ``"unknown"``, one of :data:`ERROR_TYPES`, a known action type or
``"Other"``. No call id, transaction id, phone number or free text ever goes
into a record, as a dimension or otherwise.

A handler emits with ``emit(line_for_event(event, [CALLS_STARTED]))`` (or
``emit(record_for_event(...))``, the same document as a dict): one compact
JSON line written straight to stdout and flushed. Not through
:mod:`logging`: with Lambda's JSON log format a logged record would be
wrapped, as a string, in the ``message`` of Lambda's own JSON object, and
CloudWatch Logs would extract nothing. Output written to stdout directly
reaches CloudWatch Logs as it is (plain text, one log event per line).

What this follows (AWS documentation):

* CloudWatch, "Specification: Embedded metric format"
  (CloudWatch_Embedded_Metric_Format_Specification.html): the root is one
  JSON object with nothing before or after it; ``_aws`` holds ``Timestamp``
  (milliseconds since the epoch) and ``CloudWatchMetrics``, a list of
  directives with ``Namespace``, ``Dimensions`` (dimension sets of at most
  30 keys, each a string member of the root) and ``Metrics`` (at most 100
  definitions: ``Name``, optional ``Unit``); each metric's value is a root
  member, a number or a list of numbers; at most 256 KB a record.
* CloudWatch, "Using the embedded metric format with Lambda"
  (CloudWatch_Embedded_Metric_Format_Lambda.html): write EMF to STDOUT,
  Lambda delivers it to CloudWatch Logs, which extracts the metrics; no agent.
* Lambda, "Log and monitor Python Lambda functions" (python-logging.html) and
  "Configuring JSON and plain text log formats"
  (monitoring-cloudwatchlogs-logformat.html): only records of the standard
  ``logging`` module are turned into Lambda's JSON objects; ``print``-style
  output to stdout is sent as plain text, so an EMF line stays a JSON document.
* CloudWatch API reference, ``Dimension`` and ``PutMetricData``: dimension
  values are 1-1,024 ASCII characters, no control characters, not only
  whitespace; a namespace is 1-255 characters of ``0-9A-Za-z . - _ / # :``
  and space, not starting with ``AWS/``.

Cold start: nothing here imports :mod:`json`; strings are quoted by the C
encoder :func:`json.dumps` itself uses (``_json.encode_basestring_ascii``).
"""

from __future__ import annotations

import os
import sys
import time

from .actions import ACTION_TYPES
from .events import ACTION_ERROR_TYPES, SMA_ID_EXAMPLES_FIELD, SMA_ID_FIELD

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping
    from typing import IO, Any

NAMESPACE = "ChimePlayAudio"

# The metric dimension of the SMA's id: a name of this metrics contract, which alarms and
# dashboards use. It reads like the CallDetails field it comes from (events.SMA_ID_FIELD),
# but the two are separate names: the dimension stays if an event renames its field.
SMA_DIMENSION = "SipMediaApplicationId"
# The handler's own function name: what the alarms watch. An alarm by SMA id would
# reference the SMA, which references the alias, whose rollout references the alarms:
# CloudFormation refuses the cycle. The name comes from Lambda's AWS_LAMBDA_FUNCTION_NAME.
FUNCTION_DIMENSION = "FunctionName"
ACTION_DIMENSION = "Action"
ERROR_TYPE_DIMENSION = "ErrorType"

CALLS_STARTED = "CallsStarted"
ACTION_FAILURES = "ActionFailures"
FALLBACK_PROMPTS_PLAYED = "FallbackPromptsPlayed"
INVALID_LAMBDA_RESPONSES = "InvalidLambdaResponses"
MALFORMED_EVENTS = "MalformedEvents"
METRIC_NAMES = (
    CALLS_STARTED,
    ACTION_FAILURES,
    FALLBACK_PROMPTS_PLAYED,
    INVALID_LAMBDA_RESPONSES,
    MALFORMED_EVENTS,
)

UNIT = "Count"
UNKNOWN = "unknown"
OTHER = "Other"
ERROR_TYPES = (*ACTION_ERROR_TYPES, OTHER)

_BY_SMA_AND_FUNCTION = ((SMA_DIMENSION,), (FUNCTION_DIMENSION,))
DIMENSION_SETS: dict[str, tuple[tuple[str, ...], ...]] = {
    CALLS_STARTED: _BY_SMA_AND_FUNCTION,
    ACTION_FAILURES: (
        (SMA_DIMENSION,),
        (SMA_DIMENSION, ERROR_TYPE_DIMENSION),
        (SMA_DIMENSION, ACTION_DIMENSION, ERROR_TYPE_DIMENSION),
        (FUNCTION_DIMENSION,),
        (FUNCTION_DIMENSION, ERROR_TYPE_DIMENSION),
    ),
    FALLBACK_PROMPTS_PLAYED: _BY_SMA_AND_FUNCTION,
    INVALID_LAMBDA_RESPONSES: _BY_SMA_AND_FUNCTION,
    MALFORMED_EVENTS: _BY_SMA_AND_FUNCTION,
}
"""The dimension sets of each metric; a metric not listed gets one set: all its dimensions."""

# SIP media application ids are UUIDs; anything longer or with other characters is
# not one, and goes out as "unknown" rather than as an unbounded dimension value.
MAX_SMA_ID_LENGTH = 64
_SMA_ID_CHARS = frozenset("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_.:")
_NAMESPACE_CHARS = frozenset(
    "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ._-/#: "
)
# Lambda function names: 1-64 of letters, digits, hyphens and underscores.
MAX_FUNCTION_NAME_LENGTH = 64
_FUNCTION_NAME_CHARS = frozenset("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_")
MAX_NAMESPACE_LENGTH = 255
MAX_NAME_LENGTH = 255
MAX_DIMENSION_VALUE_LENGTH = 1024


def _ascii_quoter() -> Callable[[str], str]:
    try:
        from _json import encode_basestring_ascii
    except ImportError:  # an interpreter without CPython's accelerator
        import json

        return json.dumps
    return encode_basestring_ascii


_quote = _ascii_quoter()


def namespace_error(namespace: object) -> str | None:
    """Why ``namespace`` is not a usable CloudWatch namespace, or None if it is one."""
    if (
        isinstance(namespace, str)
        and 0 < len(namespace) <= MAX_NAMESPACE_LENGTH
        and _NAMESPACE_CHARS.issuperset(namespace)
        and namespace.strip()
        and not namespace.startswith("AWS/")
    ):
        return None
    return (
        f"metrics namespace {namespace!r} is invalid; allowed: 1-{MAX_NAMESPACE_LENGTH} "
        "characters of 0-9A-Za-z . - _ / # : and space, not starting with 'AWS/'"
    )


def _dimension_value_error(name: str, value: object) -> str | None:
    if (
        isinstance(value, str)
        and 0 < len(value) <= MAX_DIMENSION_VALUE_LENGTH
        and value.isascii()
        and value.isprintable()
        and value.strip()
    ):
        return None
    return (
        f"dimension {name}={value!r:.80} is invalid; allowed: 1-{MAX_DIMENSION_VALUE_LENGTH} "
        "printable ASCII characters, not only spaces"
    )


def _name_error(kind: str, name: object) -> str | None:
    if (
        isinstance(name, str)
        and 0 < len(name) <= MAX_NAME_LENGTH
        and name.isascii()
        and name.isprintable()
        and name.strip()
    ):
        return None
    return f"{kind} {name!r:.80} is invalid; allowed: 1-{MAX_NAME_LENGTH} ASCII characters"


def _object(value: object) -> dict[Any, Any]:
    return value if isinstance(value, dict) else {}


def sma_id_of(event: object) -> str:
    """The event's CallDetails.SipMediaApplicationId (pstn-invocations.md), else (when that is
    absent, empty or null) its SipApplicationId (the name case-1.md's and use-cases.md's
    examples give it), if it looks like an id; else "unknown"."""
    details = _object(_object(event).get("CallDetails"))
    value = details.get(SMA_ID_FIELD) or details.get(SMA_ID_EXAMPLES_FIELD)
    if (
        isinstance(value, str)
        and 0 < len(value) <= MAX_SMA_ID_LENGTH
        and _SMA_ID_CHARS.issuperset(value)
    ):
        return value
    return UNKNOWN


def function_name() -> str:
    """This function's name, from Lambda's AWS_LAMBDA_FUNCTION_NAME, else "unknown"."""
    value = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "")
    if 0 < len(value) <= MAX_FUNCTION_NAME_LENGTH and _FUNCTION_NAME_CHARS.issuperset(value):
        return value
    return UNKNOWN


def error_type_of(event: object) -> str:
    """ActionData.ErrorType if it is one of :data:`ERROR_TYPES`, else "Other"."""
    value = _object(_object(event).get("ActionData")).get("ErrorType")
    return value if isinstance(value, str) and value in ERROR_TYPES else OTHER


def failed_action_of(event: object) -> str:
    """ActionData.Type if it is an action type the runtime knows, else "Other"."""
    value = _object(_object(event).get("ActionData")).get("Type")
    return value if isinstance(value, str) and value in ACTION_TYPES else OTHER


class _Shape:
    """Everything about a record but its timestamp and dimension values, checked once.

    Keyed by namespace, metric names and dimension names; the directives are
    kept both as data (for :func:`metric_record`) and as a JSON template with
    ``%d`` for the timestamp and ``%s`` for each quoted dimension value (for
    :func:`metric_line`), so the two cannot disagree.
    """

    __slots__ = ("dimension_names", "groups", "names", "namespace", "template")

    def __init__(self, namespace: str, names: tuple[str, ...], dimension_names: tuple[str, ...]):
        errors = [namespace_error(namespace)]
        errors += [_name_error("metric name", name) for name in names]
        errors += [_name_error("dimension name", name) for name in dimension_names]
        if not names:
            errors.append("no metric names")
        if len(set(names)) != len(names):
            errors.append(f"metric names repeat: {list(names)}")
        errors += [
            f"{name!r} is both a metric and a dimension"
            for name in names
            if name in dimension_names
        ]
        groups: dict[tuple[tuple[str, ...], ...], list[str]] = {}
        for name in names:
            sets = DIMENSION_SETS.get(name) or (dimension_names,)
            missing = sorted({key for keys in sets for key in keys} - set(dimension_names))
            if missing:
                errors.append(f"metric {name!r} needs dimension(s) {missing}")
            groups.setdefault(sets, []).append(name)
        problems = [error for error in errors if error]
        if problems:
            raise ValueError("; ".join(problems))
        self.namespace = namespace
        self.names = names
        self.dimension_names = dimension_names
        self.groups = tuple((sets, tuple(group)) for sets, group in groups.items())
        static = [
            '{"_aws":{"Timestamp":',
            ',"CloudWatchMetrics":' + to_json(self.directives()) + "}",
            *("," + _quote(name) + ":" for name in dimension_names),
            "".join("," + _quote(name) + ":1" for name in names) + "}",
        ]
        escaped = [piece.replace("%", "%%") for piece in static]
        self.template = (
            escaped[0]
            + "%d"
            + escaped[1]
            + "".join(piece + "%s" for piece in escaped[2:-1])
            + escaped[-1]
        )

    def directives(self) -> list[dict[str, Any]]:
        """A fresh ``CloudWatchMetrics`` list: one directive per distinct group of sets."""
        return [
            {
                "Namespace": self.namespace,
                "Dimensions": [list(keys) for keys in sets],
                "Metrics": [{"Name": name, "Unit": UNIT} for name in group],
            }
            for sets, group in self.groups
        ]


_SHAPES: dict[tuple[str, tuple[str, ...], tuple[str, ...]], _Shape] = {}
_MAX_SHAPES = 256  # shapes come from code, so few; the bound only guards against misuse


def _shape(names: str | Iterable[str], dimensions: Mapping[str, str], namespace: str) -> _Shape:
    wanted = (names,) if isinstance(names, str) else tuple(names)
    key = (namespace, wanted, tuple(dimensions))
    shape = _SHAPES.get(key)
    if shape is None:
        shape = _Shape(namespace, wanted, key[2])
        if len(_SHAPES) >= _MAX_SHAPES:
            _SHAPES.clear()
        _SHAPES[key] = shape
    errors = [_dimension_value_error(name, value) for name, value in dimensions.items()]
    problems = [error for error in errors if error]
    if problems:
        raise ValueError("; ".join(problems))
    return shape


def _timestamp(timestamp_ms: int | None) -> int:
    if timestamp_ms is None:
        return int(time.time() * 1000)
    if isinstance(timestamp_ms, int) and not isinstance(timestamp_ms, bool) and timestamp_ms > 0:
        return timestamp_ms
    raise ValueError(f"timestamp_ms={timestamp_ms!r} is not a positive int of milliseconds")


def metric_record(
    names: str | Iterable[str],
    dimensions: Mapping[str, str],
    *,
    namespace: str = NAMESPACE,
    timestamp_ms: int | None = None,
) -> dict[str, Any]:
    """One EMF record counting 1 of each metric in ``names``, with the given dimension values.

    Each metric gets its sets from :data:`DIMENSION_SETS` (metrics with the same
    sets share a directive); ``timestamp_ms`` defaults to now. Raises
    ``ValueError`` for a name, namespace or dimension value CloudWatch would
    reject, or a dimension a set needs but ``dimensions`` lacks, so a bad record
    fails where it is built, not silently in CloudWatch Logs.
    """
    shape = _shape(names, dimensions, namespace)
    record: dict[str, Any] = {
        "_aws": {"Timestamp": _timestamp(timestamp_ms), "CloudWatchMetrics": shape.directives()}
    }
    record.update(dimensions)
    record.update(dict.fromkeys(shape.names, 1))
    return record


def metric_line(
    names: str | Iterable[str],
    dimensions: Mapping[str, str],
    *,
    namespace: str = NAMESPACE,
    timestamp_ms: int | None = None,
) -> str:
    """:func:`metric_record` as its compact JSON text, built from the checked shape's JSON.

    What the sample handler writes: the same document as ``to_json(metric_record(...))``
    for a fraction of the cost, since only the timestamp and the dimension
    values are encoded per call.
    """
    shape = _shape(names, dimensions, namespace)
    return shape.template % (_timestamp(timestamp_ms), *map(_quote, dimensions.values()))


def _event_dimensions(
    event: object, names: str | Iterable[str]
) -> tuple[tuple[str, ...], dict[str, str]]:
    wanted = (names,) if isinstance(names, str) else tuple(names)
    dimensions = {SMA_DIMENSION: sma_id_of(event), FUNCTION_DIMENSION: function_name()}
    if ACTION_FAILURES in wanted:
        dimensions[ACTION_DIMENSION] = failed_action_of(event)
        dimensions[ERROR_TYPE_DIMENSION] = error_type_of(event)
    return wanted, dimensions


def record_for_event(
    event: object,
    names: str | Iterable[str],
    *,
    namespace: str = NAMESPACE,
    timestamp_ms: int | None = None,
) -> dict[str, Any]:
    """:func:`metric_record` with the dimensions taken, bounded, from an invocation event.

    Always ``SipMediaApplicationId`` and ``FunctionName``; with ``ActionFailures``
    also the failed ``Action`` and its ``ErrorType``.
    """
    wanted, dimensions = _event_dimensions(event, names)
    return metric_record(wanted, dimensions, namespace=namespace, timestamp_ms=timestamp_ms)


def line_for_event(
    event: object,
    names: str | Iterable[str],
    *,
    namespace: str = NAMESPACE,
    timestamp_ms: int | None = None,
) -> str:
    """:func:`record_for_event` as JSON text, by :func:`metric_line`."""
    wanted, dimensions = _event_dimensions(event, names)
    return metric_line(wanted, dimensions, namespace=namespace, timestamp_ms=timestamp_ms)


def to_json(value: object) -> str:
    """Compact JSON, as ``json.dumps(value, separators=(",", ":"))`` writes it, without json.

    Takes what records are made of: dicts with string keys, lists, tuples,
    strings, ints, finite floats, booleans and None; anything else is a TypeError.
    """
    if isinstance(value, str):
        return _quote(value)
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return int.__repr__(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError(f"{value!r} is not a JSON number")
        return float.__repr__(value)
    if isinstance(value, dict):
        items = []
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"JSON object keys must be strings, not {type(key).__name__}")
            items.append(_quote(key) + ":" + to_json(item))
        return "{" + ",".join(items) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(to_json(item) for item in value) + "]"
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def emit(record: dict[str, Any] | str, stream: IO[str] | None = None) -> bool:
    """Write a record (or a :func:`metric_line`) as one JSON line to ``stream`` and flush it.

    ``stream`` defaults to ``sys.stdout`` as it is at the call. Returns False,
    instead of raising, when the stream cannot take the line (closed, a broken
    pipe, no stdout at all): a lost metric must never cost a call.
    """
    line = (record if isinstance(record, str) else to_json(record)) + "\n"
    out = sys.stdout if stream is None else stream
    if out is None:
        return False
    try:
        out.write(line)
        out.flush()
    except (OSError, ValueError):  # BrokenPipeError and friends; ValueError: closed file
        return False
    return True
