"""The transcript of a simulated call: one self-contained JSON object per line.

Every record starts with ``t`` (call time, ``"5.911s"``), ``kind`` and a
``summary`` sentence a person can read alone, followed by the details: the
full invocation event, the full response, the handler's logs, the action
and the rule (with its documentation page) that failed it. Kinds:

``call``            what is called: stack, SMA, function, handler, options
``event``           SMA -> handler: the invocation event, verbatim
``response``        handler -> SMA: the response, its logs, duration and metrics
``invocation-error``the invocation failed (exception, timeout): retried or not
``rejected``        the response broke the documented schema
``play``            the caller hears a prompt (start/end, stopped by a key)
``pause``/``silence``the caller hears nothing, and why
``key``             the caller pressed a key, and what it did
``action-failed``   Chime fails an action: error type, reason, rule, page
``hangup``          a leg hangs up: who, SIP code
``note``            something the simulator approximated
``end``             outcome, exit status, reason, totals (metrics too)

A record whose step rests on a reading of conflicting guide pages, or on an
assumption where no page says (:mod:`.readings`), has ``assumes`` (the labels,
``["emptyActions=stop"]``) and ``assumptions`` (what each label means, with
its page); its summary line ends in ``[assumes emptyActions=stop]``. The
``call`` record lists every reading the call ran under.

Each ``response`` and ``invocation-error`` record has ``metrics``: what the
handler counted in that invocation, ``{"CallsStarted": 1}``, read from the
CloudWatch Embedded Metric Format lines it wrote to stdout or stderr (as
CloudWatch Logs would extract them; a record written through ``logging`` is
wrapped by Lambda's log format and counts nothing). A line that looks like
EMF (a JSON object with ``_aws``) but breaks the specification counts
nothing either, and is reported in ``metricErrors``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .emf import metric_counts, parse_line
from .media import samples_to_ms


def emitted_metrics(logs: list[Any]) -> tuple[dict[str, float], list[str]]:
    """The metrics in the EMF lines of one invocation's logs, and what was wrong with bad ones."""
    counts: dict[str, float] = {}
    errors: list[str] = []
    for entry in logs:
        if not (isinstance(entry, dict) and "stream" in entry):
            continue  # a logging record: Lambda's JSON format wraps it, nothing is extracted
        record, problems = parse_line(str(entry.get("message", "")))
        if record is None:
            continue
        if problems:
            errors += problems
            continue
        for name, value in metric_counts(record).items():
            counts[name] = counts.get(name, 0) + value
    return counts, errors


def fmt_time(ms: float) -> str:
    return f"{ms / 1000:.3f}s"


@dataclass
class Transcript:
    """The records of one call, in order."""

    records: list[dict[str, Any]] = field(default_factory=list)

    def add(self, kind: str, at_samples: int, summary: str, **details: Any) -> dict[str, Any]:
        at_ms = samples_to_ms(at_samples)
        record: dict[str, Any] = {"t": fmt_time(at_ms), "kind": kind, "summary": summary}
        record.update(details)
        record["tMs"] = at_ms
        self.records.append(record)
        return record

    def of_kind(self, *kinds: str) -> list[dict[str, Any]]:
        return [r for r in self.records if r["kind"] in kinds]

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "w", encoding="utf-8") as out:
            for record in self.records:
                out.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")

    def summary_lines(self) -> list[str]:
        """One line per record, for the terminal: time, direction marker, summary."""
        markers = {
            "event": "->",
            "response": "<-",
            "invocation-error": "!!",
            "rejected": "!!",
            "action-failed": "!!",
            "play": ">>",
            "pause": "..",
            "silence": "..",
            "key": "#",
            "hangup": "XX",
            "note": "**",
            "end": "==",
            "call": "==",
        }
        return [
            f"{record['t']:>9}  {markers.get(record['kind'], '  '):2}  {record['summary']}"
            + (f"  [assumes {', '.join(record['assumes'])}]" if record.get("assumes") else "")
            for record in self.records
        ]
