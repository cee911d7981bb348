"""Scenario files: a scripted call and what it must sound like, as JSON (no new dependency).

::

    {
      "name": "caller presses # mid-prompt",
      "description": "free text",
      "call": {"direction": "inbound", "keys": "#@2s", "hangupAt": "30s",
               "callerNumber": "+14155550123", "smaNumber": "+442071838750",
               "updates": [{"at": "1s", "arguments": {"prompt": "goodbye"}}]},
      "bucket": {"remove": ["prompts/welcome.wav"]},
      "readings": {"emptyActions": "keep"},
      "environment": {
        "PROMPTS_MANIFEST": {"mergePatch": {"welcome": {"key": "prompts/not-deployed.wav"}}},
        "PLAYBACK_REPEAT": "2",
        "SOME_VARIABLE": null
      },
      "expect": {
        "prompts": ["welcome", {"prompt": "error", "stoppedBy": "#"}],
        "failures": ["InvalidAudioSource"],
        "end": "hangup-after-error",
        "maxInvocations": 4
      }
    }

``call`` (all optional): ``direction`` ``inbound`` (default) or ``outbound``;
``keys`` as ``--keys``; ``hangupAt`` when the caller hangs up;
``callerNumber`` and ``smaNumber``, the caller's number and the SMA's (the
user's number the caller dials), E.164 (``+`` and 2 to 15 digits), else what
``--caller-number``/``--sma-number`` give, else the simulator's; ``updates``,
UpdateSipMediaApplicationCall requests: at ``at``, the SMA sends the handler
CALL_UPDATE_REQUESTED with ``arguments`` (0 to 20 string pairs). Times are
``"2.5s"``, ``"1500ms"`` or a number of seconds.

``bucket.remove`` lists object keys, exactly as deployed (prefix included), to
delete from the simulated bucket before the call, from every bucket a
deployment puts them in, as if someone deleted them by hand: a PlayAudio of
one fails with InvalidAudioSource. A key that is not deployed is an error
naming it and a few deployed keys.

``readings`` picks, per conflict between the guide's pages, the reading the call
runs under (:mod:`.readings`; the names and values of ``--reading``); each one
named here wins over the command line's, the others are the command line's.

``environment`` overrides the synthesized function's environment, which is
how a scenario breaks a deployed app without a second stack: a string
replaces a variable, ``null`` removes it, and ``{"mergePatch": {...}}``
applies an RFC 7386 JSON merge patch to a variable that holds JSON (such as
the sample handler's ``PROMPTS_MANIFEST``), so a scenario names only what it
changes.

``expect`` (all optional): ``prompts``, every prompt the caller hears, in
order (a name such as ``welcome``, a key such as ``prompts/welcome.wav``, or
``{"prompt", "stoppedBy"}`` where ``stoppedBy`` is the key that stopped it or
``null`` for a prompt heard to its end); ``failures``, the failures in order
(``InvalidAudioSource``, ``InvalidActionParameter``,
``INVALID_LAMBDA_RESPONSE:<ErrorType>``, ``invocation:<errorType>``); ``end``,
the outcome (``hangup``, ``hangup-after-error``, ``sma-hangup``,
``caller-hangup``, ``limit``); ``maxInvocations``, an upper bound (to prove a
flow does not loop).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from constructs_pkg.runtime.actions import DTMF_DIGITS

from .call_options import CallOptions, CallUpdate, check_phone_number, parse_keys
from .call_setup import CallSetup
from .jsonfile import JsonFileError, describe, read_json
from .readings import Readings
from .results import CallResult, Outcome

_TOP = {"name", "description", "call", "bucket", "readings", "environment", "expect"}
_CALL = {"direction", "keys", "hangupAt", "callerNumber", "smaNumber", "updates"}
_BUCKET = {"remove"}
_EXPECT = {"prompts", "failures", "end", "maxInvocations"}
_OUTCOMES = [outcome.label for outcome in Outcome]
_KEYS = frozenset(DTMF_DIGITS)  # a set: a key is one digit, not any substring


class ScenarioError(ValueError):
    """A scenario file that cannot be used; the message names the file and the field."""


@dataclass(frozen=True)
class ExpectedPrompt:
    prompt: str
    stopped_by: str | None = None
    check_stop: bool = False

    def matches(self, heard: dict[str, Any]) -> bool:
        named = self.prompt in (heard["name"], heard["key"])
        return named and (not self.check_stop or heard["stoppedBy"] == self.stopped_by)

    def __str__(self) -> str:
        if not self.check_stop:
            return self.prompt
        return (
            f"{self.prompt} (stopped by {self.stopped_by})"
            if self.stopped_by
            else (f"{self.prompt} (to its end)")
        )


@dataclass
class Scenario:
    """A parsed scenario file."""

    name: str
    path: Path
    description: str = ""
    outbound: bool = False
    keys: str = ""
    hangup_at_ms: float | None = None
    environment: dict[str, Any] = field(default_factory=dict)
    caller_number: str | None = None
    sma_number: str | None = None
    remove: list[str] = field(default_factory=list)
    readings: dict[str, str] = field(default_factory=dict)
    updates: list[CallUpdate] = field(default_factory=list)
    prompts: list[ExpectedPrompt] | None = None
    failures: list[str] | None = None
    end: str | None = None
    max_invocations: int | None = None

    @staticmethod
    def load(path: Path) -> Scenario:
        try:
            data = read_json(path, "a scenario (a JSON object)")
        except JsonFileError as error:
            raise ScenarioError(str(error)) from error
        return Scenario.parse(data, path)

    @staticmethod
    def parse(data: Any, path: Path) -> Scenario:
        def fail(message: str) -> ScenarioError:
            return ScenarioError(f"{path}: {message}")

        if not isinstance(data, dict):
            raise fail(f"the scenario is {describe(data)}; expected a JSON object")
        _only(data, _TOP, "the scenario", fail)
        for name in ("name", "description"):
            if not isinstance(data.get(name, ""), str):
                raise fail(f"{name} is {describe(data[name])}; expected a string")
        call = data.get("call", {})
        expect = data.get("expect", {})
        environment = data.get("environment", {})
        bucket = data.get("bucket", {})
        readings = data.get("readings", {})
        for name, value in (
            ("call", call),
            ("expect", expect),
            ("environment", environment),
            ("bucket", bucket),
            ("readings", readings),
        ):
            if not isinstance(value, dict):
                raise fail(f"{name} is {describe(value)}; expected an object")
        _only(call, _CALL, "call", fail)
        _only(expect, _EXPECT, "expect", fail)
        _only(bucket, _BUCKET, "bucket", fail)
        try:
            Readings(readings, where="readings")
        except ValueError as error:
            raise fail(str(error)) from error
        remove = bucket.get("remove", [])
        if not (isinstance(remove, list) and all(isinstance(k, str) and k for k in remove)):
            raise fail(
                f"bucket.remove is {describe(remove)}; expected a list of deployed object "
                'keys, e.g. ["prompts/welcome.wav"]'
            )
        numbers = {name: call.get(name) for name in ("callerNumber", "smaNumber")}
        for name, number in numbers.items():
            if number is not None:
                try:
                    check_phone_number(number, f"call.{name}")
                except ValueError as error:
                    raise fail(str(error)) from error
        direction = call.get("direction", "inbound")
        if direction not in ("inbound", "outbound"):
            raise fail(f"call.direction is {direction!r}; expected 'inbound' or 'outbound'")
        keys = call.get("keys", "")
        if not isinstance(keys, str):
            raise fail(
                f"call.keys is {describe(keys)}; expected a string of key presses like "
                "'1@2.5s,#@4s'"
            )
        try:
            parse_keys(keys)
        except ValueError as error:
            raise fail(f"call.keys: {error}") from error
        end = expect.get("end")
        if end is not None and (not isinstance(end, str) or end not in _OUTCOMES):
            raise fail(f"expect.end is {end!r}; expected one of {', '.join(_OUTCOMES)}")
        for name, value in environment.items():
            if not (value is None or isinstance(value, str) or _is_patch(value)):
                raise fail(
                    f'environment.{name} must be a string, null, or {{"mergePatch": {{...}}}}'
                )
        prompts = expect.get("prompts")
        failures = expect.get("failures")
        max_invocations = expect.get("maxInvocations")
        if prompts is not None and not isinstance(prompts, list):
            raise fail(
                f"expect.prompts is {describe(prompts)}; expected a list of prompts, e.g. "
                '["welcome", {"prompt": "error", "stoppedBy": "#"}]'
            )
        if failures is not None and not (
            isinstance(failures, list) and all(isinstance(f, str) for f in failures)
        ):
            raise fail(f"expect.failures is {describe(failures)}; expected a list of strings")
        if max_invocations is not None and (
            not isinstance(max_invocations, int)
            or isinstance(max_invocations, bool)
            or max_invocations < 0
        ):
            raise fail(
                f"expect.maxInvocations is {describe(max_invocations)}; expected a whole "
                "number, 0 or more"
            )
        hangup_at = call.get("hangupAt")
        hangup_at_ms = None if hangup_at is None else _ms(hangup_at, "call.hangupAt", fail)
        updates = _updates(call.get("updates", []), fail)
        return Scenario(
            name=str(data.get("name") or path.stem),
            path=path,
            description=str(data.get("description", "")),
            outbound=direction == "outbound",
            keys=keys,
            hangup_at_ms=hangup_at_ms,
            environment=dict(environment),
            caller_number=numbers["callerNumber"],
            sma_number=numbers["smaNumber"],
            remove=list(remove),
            readings=dict(readings),
            updates=updates,
            prompts=None if prompts is None else [_expected(p, fail) for p in prompts],
            failures=failures,
            end=end,
            max_invocations=max_invocations,
        )

    def options(self, setup: CallSetup, base: CallOptions | None = None) -> CallOptions:
        """The call options: ``base`` (the command line's bounds and numbers) with this
        scenario's call, its numbers and its bucket."""
        base = base or CallOptions()
        store = None
        if self.remove:
            try:
                store = setup.store.without(self.remove)
            except ValueError as error:
                raise ScenarioError(f"{self.path}: bucket.remove: {error}") from error
        return CallOptions(
            outbound=self.outbound,
            keys=parse_keys(self.keys),
            hangup_at_ms=self.hangup_at_ms,
            caller_patience_ms=base.caller_patience_ms,
            max_call_ms=base.max_call_ms,
            max_invocations=base.max_invocations,
            environment=self.apply_environment(setup.function.environment),
            caller_number=self.caller_number or base.caller_number,
            sma_number=self.sma_number or base.sma_number,
            store=store,
            readings=Readings({**base.readings, **self.readings}),
            updates=list(self.updates),
        )

    def apply_environment(self, environment: dict[str, str]) -> dict[str, str]:
        """The function's environment with this scenario's overrides."""
        result = dict(environment)
        for name, value in self.environment.items():
            if value is None:
                result.pop(name, None)
            elif isinstance(value, str):
                result[name] = value
            else:
                try:
                    current = json.loads(result.get(name, "{}"))
                except (ValueError, RecursionError) as error:
                    raise ScenarioError(
                        f"{self.path}: environment.{name} has a mergePatch, but the variable "
                        f"does not hold JSON ({error})"
                    ) from error
                patched = merge_patch(current, value["mergePatch"])
                result[name] = json.dumps(patched, separators=(",", ":"), sort_keys=True)
        return result

    def check(self, result: CallResult) -> list[str]:
        """Every way the call differs from the expectations (empty: it went as expected)."""
        problems = []
        if self.prompts is not None:
            heard = result.heard
            ok = len(heard) == len(self.prompts) and all(
                expected.matches(h) for expected, h in zip(self.prompts, heard, strict=True)
            )
            if not ok:
                problems.append(
                    f"prompts heard: {_heard(heard)}; expected: "
                    f"[{', '.join(str(p) for p in self.prompts)}]"
                )
        if self.failures is not None and result.failures != self.failures:
            problems.append(f"failures: {result.failures}; expected: {self.failures}")
        if self.end is not None and result.outcome.label != self.end:
            problems.append(f"end: {result.outcome.label} ({result.reason}); expected: {self.end}")
        if self.max_invocations is not None and result.invocations > self.max_invocations:
            problems.append(
                f"invocations: {result.invocations}; expected at most {self.max_invocations}"
            )
        return problems


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch: objects merge, null removes, anything else replaces."""
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def _is_patch(value: Any) -> bool:
    return isinstance(value, dict) and set(value) == {"mergePatch"}


def _only(data: dict[str, Any], allowed: set[str], where: str, fail: Any) -> None:
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise fail(f"{where} has unknown field(s) {unknown}; allowed: {', '.join(sorted(allowed))}")


def _ms(value: Any, where: str, fail: Any) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        ms = float(value) * 1000
    else:
        match = re.fullmatch(r"(\d+(?:\.\d+)?)(ms|s)", value if isinstance(value, str) else "")
        if not match:
            raise fail(f"{where}: time {value!r} is not like '2.5s' or '1500ms'")
        number, unit = match.groups()
        ms = float(number) * (1 if unit == "ms" else 1000)
    if not math.isfinite(ms) or ms < 0:
        raise fail(f"{where}: time {value!r} is not a finite time, 0 or more, like '2.5s'")
    return ms


def _updates(value: Any, fail: Any) -> list[CallUpdate]:
    """``call.updates``: ``[{"at": "1s", "arguments": {...}}, ...]``."""
    example = '[{"at": "1s", "arguments": {"prompt": "goodbye"}}]'
    if not isinstance(value, list):
        raise fail(f"call.updates is {describe(value)}; expected a list like {example}")
    updates = []
    for index, item in enumerate(value):
        where = f"call.updates[{index}]"
        if not isinstance(item, dict) or "at" not in item:
            raise fail(f"{where} is {describe(item)}; expected an object like {example[1:-1]}")
        _only(item, {"at", "arguments"}, where, fail)
        try:
            updates.append(
                CallUpdate(_ms(item["at"], f"{where}.at", fail), item.get("arguments", {}))
            )
        except ValueError as error:
            if isinstance(error, ScenarioError):
                raise
            raise fail(f"{where}: {error}") from error
    return updates


def _expected(value: Any, fail: Any) -> ExpectedPrompt:
    if isinstance(value, str):
        return ExpectedPrompt(value)
    if isinstance(value, dict) and isinstance(value.get("prompt"), str):
        _only(value, {"prompt", "stoppedBy"}, "an expected prompt", fail)
        stopped_by = value.get("stoppedBy")
        if not (stopped_by is None or (isinstance(stopped_by, str) and stopped_by in _KEYS)):
            raise fail(
                f"stoppedBy of expected prompt {value['prompt']!r} is {describe(stopped_by)}; "
                "expected a key (0-9, # or *) or null for a prompt heard to its end"
            )
        return ExpectedPrompt(
            value["prompt"], value.get("stoppedBy"), check_stop="stoppedBy" in value
        )
    raise fail(f'expected prompt {value!r} is not a name, a key or {{"prompt", "stoppedBy"}}')


def _heard(heard: list[dict[str, Any]]) -> str:
    parts = [
        h["name"] + (f" (stopped by {h['stoppedBy']})" if h["stoppedBy"] else "") for h in heard
    ]
    return f"[{', '.join(parts)}]"
