"""Checks a log line against the CloudWatch Embedded Metric Format (EMF) specification.

Written from the specification (CloudWatch, "Specification: Embedded metric
format") and CloudWatch's API limits, independently of
``constructs_pkg.runtime.metrics``, so the builders are checked by rules they do
not share: a test oracle, which is why it lives with the simulator (which counts
each invocation's metrics with it) and not in the handler's package. The tests
use it too.

Rules checked, each reported as one message:

* the line is one JSON object, nothing before or after, at most 256 KB;
* ``_aws`` is an object with ``Timestamp`` (an integer of milliseconds since
  the epoch, so between 2001 and 5138) and a non-empty ``CloudWatchMetrics`` list;
* each directive has exactly ``Namespace`` (1-255 characters),
  ``Dimensions`` (a list of dimension sets, each a list of at most 30 distinct
  keys, every key a member of the root whose value is 1-1,024 printable ASCII
  characters, not only spaces) and ``Metrics`` (1-100 definitions of ``Name``,
  optional ``Unit`` from CloudWatch's list, optional ``StorageResolution`` 1 or 60);
* each metric's ``Name`` is a member of the root whose value is a finite
  number or a list of 1-100 finite numbers, and no member is both a
  dimension and a metric.
"""

from __future__ import annotations

import json
import math

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

MAX_RECORD_BYTES = 256 * 1024
MAX_DIMENSIONS_PER_SET = 30
MAX_METRICS_PER_DIRECTIVE = 100
MAX_VALUES_PER_METRIC = 100
MAX_NAMESPACE_LENGTH = 255
MAX_NAME_LENGTH = 255
MAX_DIMENSION_VALUE_LENGTH = 1024
# Milliseconds since the epoch: 13 or 14 digits; seconds (10 digits) are a common mistake.
MIN_TIMESTAMP_MS = 10**12
MAX_TIMESTAMP_MS = 10**14
UNITS = frozenset(
    (
        "Seconds",
        "Microseconds",
        "Milliseconds",
        "Bytes",
        "Kilobytes",
        "Megabytes",
        "Gigabytes",
        "Terabytes",
        "Bits",
        "Kilobits",
        "Megabits",
        "Gigabits",
        "Terabits",
        "Percent",
        "Count",
        "Bytes/Second",
        "Kilobytes/Second",
        "Megabytes/Second",
        "Gigabytes/Second",
        "Terabytes/Second",
        "Bits/Second",
        "Kilobits/Second",
        "Megabits/Second",
        "Gigabits/Second",
        "Terabits/Second",
        "Count/Second",
        "None",
    )
)
_DIRECTIVE_FIELDS = frozenset(("Namespace", "Dimensions", "Metrics"))
_DEFINITION_FIELDS = frozenset(("Name", "Unit", "StorageResolution"))


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _text_error(where: str, value: object, longest: int) -> str | None:
    if isinstance(value, str) and 0 < len(value) <= longest and value.strip():
        return None
    return f"{where}={value!r:.80} is not a string of 1-{longest} characters"


def _dimension_value_error(where: str, value: object) -> str | None:
    if (
        isinstance(value, str)
        and 0 < len(value) <= MAX_DIMENSION_VALUE_LENGTH
        and value.isascii()
        and value.isprintable()
        and value.strip()
    ):
        return None
    return (
        f"{where}={value!r:.80} is not 1-{MAX_DIMENSION_VALUE_LENGTH} printable ASCII "
        "characters (not only spaces)"
    )


def _metric_value_error(where: str, value: object) -> str | None:
    if _is_number(value):
        return None
    if (
        isinstance(value, list)
        and 0 < len(value) <= MAX_VALUES_PER_METRIC
        and all(_is_number(item) for item in value)
    ):
        return None
    return f"{where}={value!r:.80} is not a number or a list of 1-{MAX_VALUES_PER_METRIC} numbers"


def _dimension_errors(at: str, sets: object, root: dict[str, Any]) -> tuple[list[str], set[str]]:
    if not isinstance(sets, list):
        return [f"{at}.Dimensions is not a list of dimension sets"], set()
    errors: list[str] = []
    keys_used: set[str] = set()
    for j, keys in enumerate(sets):
        where = f"{at}.Dimensions[{j}]"
        if not isinstance(keys, list) or not all(isinstance(key, str) for key in keys):
            errors.append(f"{where} is not a list of strings")
            continue
        if len(keys) > MAX_DIMENSIONS_PER_SET:
            errors.append(f"{where} has {len(keys)} keys; at most {MAX_DIMENSIONS_PER_SET}")
        if len(set(keys)) != len(keys):
            errors.append(f"{where} names a key twice: {keys}")
        for key in keys:
            keys_used.add(key)
            if key not in root:
                errors.append(f"{where}: dimension {key!r} is not a member of the root")
            else:
                error = _dimension_value_error(f"dimension {key}", root[key])
                if error:
                    errors.append(error)
    return errors, keys_used


def _metrics_errors(
    at: str, definitions: object, root: dict[str, Any]
) -> tuple[list[str], set[str]]:
    if not isinstance(definitions, list) or not definitions:
        return [f"{at}.Metrics is not a non-empty list"], set()
    errors: list[str] = []
    if len(definitions) > MAX_METRICS_PER_DIRECTIVE:
        errors.append(f"{at}.Metrics has {len(definitions)}; at most {MAX_METRICS_PER_DIRECTIVE}")
    names: set[str] = set()
    for k, definition in enumerate(definitions):
        where = f"{at}.Metrics[{k}]"
        if not isinstance(definition, dict):
            errors.append(f"{where} is not an object")
            continue
        extra = sorted(str(key) for key in set(definition) - _DEFINITION_FIELDS)
        if extra:
            errors.append(f"{where} has unknown member(s) {extra}")
        name = definition.get("Name")
        name_error = _text_error(f"{where}.Name", name, MAX_NAME_LENGTH)
        if name_error:
            errors.append(name_error)
            continue
        assert isinstance(name, str)
        names.add(name)
        if name not in root:
            errors.append(f"{where}: metric {name!r} is not a member of the root")
        else:
            value_error = _metric_value_error(f"metric {name}", root[name])
            if value_error:
                errors.append(value_error)
        if "Unit" in definition and definition["Unit"] not in UNITS:
            errors.append(f"{where}.Unit={definition['Unit']!r:.80} is not a CloudWatch unit")
        if "StorageResolution" in definition and definition["StorageResolution"] not in (1, 60):
            errors.append(f"{where}.StorageResolution is not 1 or 60")
    return errors, names


def validate_record(record: object) -> list[str]:
    """Every way ``record`` (a parsed JSON value) breaks the EMF specification; [] if none."""
    if not isinstance(record, dict):
        return ["the record is not a JSON object"]
    meta = record.get("_aws")
    if not isinstance(meta, dict):
        return ["_aws is missing or not an object"]
    errors: list[str] = []
    timestamp = meta.get("Timestamp")
    if not (
        isinstance(timestamp, int)
        and not isinstance(timestamp, bool)
        and MIN_TIMESTAMP_MS <= timestamp < MAX_TIMESTAMP_MS
    ):
        errors.append(f"_aws.Timestamp={timestamp!r:.80} is not milliseconds since the epoch")
    directives = meta.get("CloudWatchMetrics")
    if not isinstance(directives, list) or not directives:
        return [*errors, "_aws.CloudWatchMetrics is not a non-empty list"]
    for i, directive in enumerate(directives):
        at = f"_aws.CloudWatchMetrics[{i}]"
        if not isinstance(directive, dict):
            errors.append(f"{at} is not an object")
            continue
        missing = sorted(_DIRECTIVE_FIELDS - set(directive))
        extra = sorted(str(key) for key in set(directive) - _DIRECTIVE_FIELDS)
        if missing:
            errors.append(f"{at} lacks {missing}")
        if extra:
            errors.append(f"{at} has unknown member(s) {extra}")
        if "Namespace" in directive:
            error = _text_error(f"{at}.Namespace", directive["Namespace"], MAX_NAMESPACE_LENGTH)
            if error:
                errors.append(error)
        dimension_errors, dimension_keys = _dimension_errors(
            at, directive.get("Dimensions"), record
        )
        metric_errors, metric_names = _metrics_errors(at, directive.get("Metrics"), record)
        errors += dimension_errors + metric_errors
        errors += [
            f"{at}: {name!r} is both a dimension and a metric"
            for name in sorted(dimension_keys & metric_names)
        ]
    return errors


def parse_line(line: str) -> tuple[dict[str, Any] | None, list[str]]:
    """``(record, errors)`` for a log line meant as EMF; ``(None, [])`` if it is not JSON with _aws.

    A line that parses to a JSON object with an ``_aws`` member is taken as an
    EMF record and checked; anything else is an ordinary log line.
    """
    text = line.rstrip("\n")
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        return None, []
    if not isinstance(value, dict) or "_aws" not in value:
        return None, []
    errors = validate_record(value)
    size = len(text.encode("utf-8"))
    if size > MAX_RECORD_BYTES:
        errors.append(f"the record is {size} bytes; at most {MAX_RECORD_BYTES}")
    if text != text.strip():
        errors.append("the line has data before or after the JSON object")
    return value, errors


def metric_counts(record: dict[str, Any]) -> dict[str, float]:
    """Each metric a valid record reports, with its value (a list of values summed)."""
    counts: dict[str, float] = {}
    for directive in record["_aws"]["CloudWatchMetrics"]:
        for definition in directive["Metrics"]:
            name = definition["Name"]
            value = record[name]
            counts[name] = counts.get(name, 0) + (sum(value) if isinstance(value, list) else value)
    return counts
