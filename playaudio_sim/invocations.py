"""The invocation protocol: how the SMA invokes the handler and what it does with the answers.

Events (their ``CallDetails``, ``Sequence`` and participant), the invoke
permission, checking a response and INVALID_LAMBDA_RESPONSE, transaction
attributes, retries and timeouts, and hang-ups (the HANGUP event); the rules
are those of :mod:`.engine`'s docstring under Invocations, Responses,
TransactionAttributes, Timeouts and errors, and Invoke permission.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from constructs_pkg.chime_facts import (
    CHIME_INVOKE_ACTION,
    CHIME_SERVICE_PRINCIPAL,
    SMA_RETRY_SECONDS,
)
from constructs_pkg.runtime.actions import ACTION_HANGUP, validate_response
from constructs_pkg.runtime.attributes import MAX_TRANSACTION_ATTRIBUTES
from constructs_pkg.runtime.events import (
    HANGUP,
    IGNORED_RESPONSE_EVENTS,
    INVALID_LAMBDA_RESPONSE,
    LEG_A,
    SCHEMA_VERSION,
    call_details,
    invocation_event,
)

from . import rules
from .call_state import CallState
from .lambda_runner import InvokeResult
from .media import ms_to_samples, samples_to_ms
from .policy import Principal, Request, UnsupportedPolicyError, evaluate
from .results import Outcome
from .transcript import emitted_metrics

RETRY_AFTER_S = SMA_RETRY_SECONDS
# Inferred, not documented (assumption retriedEvery5sFor20s): so the simulator's, not a Chime fact.
HANG_UP_AFTER_S = 20
SMA_FAILURE_SIP_CODE = 480


class Invocations(CallState):
    """The SMA's side of each invocation of the handler."""

    def _check_invoke_permission(self) -> None:
        setup = self.setup
        request = Request(
            Principal.service(CHIME_SERVICE_PRINCIPAL),
            CHIME_INVOKE_ACTION,
            setup.function.invoked_arn,
            {"aws:SourceAccount": setup.sma.account, "aws:SourceArn": setup.sma.arn},
        )
        try:
            evaluation = evaluate(setup.invoke_policy, request)
        except UnsupportedPolicyError as error:
            self.transcript.add("note", 0, f"the invoke permission was not evaluated: {error}")
            return
        if not evaluation.allowed:
            reason = (
                f"Chime may not invoke {setup.function.invoked_name}: no AWS::Lambda::Permission "
                "gives "
                f"{CHIME_SERVICE_PRINCIPAL} {CHIME_INVOKE_ACTION} ({evaluation.explain()}); "
                "the SMA logs 'Access denied while invoking the AWS Lambda function' and the "
                "call drops"
            )
            self.transcript.add("invocation-error", 0, reason, doc=rules.DOCS["unexpected-hangups"])
            self._end(Outcome.SMA_HANGUP, reason)

    def _event(
        self,
        event_type: str,
        action_data: Mapping[str, Any] | None = None,
        top_level: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        setup = self.setup
        details = call_details(
            self.transaction_id,
            attributes=dict(self.attributes) if self.attributes else None,
            account=setup.sma.account,
            region=setup.sma.region,
            sma_id=setup.sma.id,
            sma_id_field=self.options.readings["smaIdField"],
            participants=[copy.deepcopy(self.participant)],
        )
        return invocation_event(
            event_type,
            self.sequence,
            details,
            copy.deepcopy(dict(action_data)) if action_data is not None else None,
            dict(top_level) if top_level else None,
        )

    def _invoke(
        self,
        event_type: str,
        action_data: Mapping[str, Any] | None = None,
        top_level: Mapping[str, Any] | None = None,
        assumes: tuple[str, ...] = (),
    ) -> list[dict[str, Any]] | None:
        """Invoke the handler; the actions that replace the remaining ones, or None when the
        remaining ones are kept (INVALID_LAMBDA_RESPONSE handled)."""
        readings = self.options.readings
        limit = int(readings["attributeLimit"])
        while True:
            if self.sequence >= self.options.max_invocations:
                self._end(
                    Outcome.LIMIT,
                    f"the handler was invoked {self.sequence} times; a call allows at most "
                    f"{self.options.max_invocations} invocations ({rules.DOCS['action-lists']})",
                )
            self.sequence += 1
            event = self._event(event_type, action_data, top_level)
            self.transcript.add(
                "event",
                self.now,
                f"SMA -> handler: {event_type} (Sequence {self.sequence})"
                + (
                    f" for {action_data.get('Type')}"
                    if action_data and "Type" in action_data
                    else ""
                ),
                seq=self.sequence,
                type=event_type,
                event=event,
                # Every event carries the SMA id under smaIdField's name; the call record lists
                # the readings, so only an event whose coming rests on one is marked.
                **(self._assumes(*assumes) if assumes else {}),
            )
            response = self._call_lambda(event)
            ignored = event_type in IGNORED_RESPONSE_EVENTS
            # invoke-on-call-leg: "If the SIP media application receives a NULL action set,
            # it keeps the existing actions"; read as a missing or null Actions (emptyActions).
            null_actions = (
                not ignored
                and readings["emptyActions"] == "stop"
                and isinstance(response, dict)
                and response.get("Actions") is None
            )
            checked = {**response, "Actions": []} if null_actions else response
            errors = [] if ignored else validate_response(checked, max_attribute_pairs=limit)
            body = response if isinstance(response, dict) and not ignored else {}
            actions, attributes = body.get("Actions"), body.get("TransactionAttributes")
            marks: tuple[str, ...] = ()
            # What this response does rests on a reading: no actions (kept, stopped or
            # invalid), attributes with other keys, and more pairs than 10 (taken or refused).
            if body and not actions and (not errors or actions is None):
                marks += ("emptyActions",)
            if not errors and self._attributes_differ_by_reading(attributes):
                marks += ("attributes",)
            if isinstance(attributes, dict) and len(attributes) > MAX_TRANSACTION_ATTRIBUTES:
                marks += ("attributeLimit",)
            self.transcript.add(
                "response",
                self.now,
                f"handler -> SMA: {_describe_response(response)}"
                + (" (ignored for this event)" if ignored else "")
                + (": a NULL action set, the remaining actions are kept" if null_actions else "")
                + _metrics_note(self._last_call),
                seq=self.sequence,
                response=response,
                ignored=ignored,
                **self._last_call,
                **(self._assumes(*marks) if marks else {}),
            )
            if ignored:
                return None
            if errors:
                error_type = _invalid_response_type(response, limit)
                message = "; ".join(errors)
                self._errors_seen += 1
                self.failures.append(f"{INVALID_LAMBDA_RESPONSE}:{error_type}")
                self.transcript.add(
                    "rejected",
                    self.now,
                    f"response rejected ({error_type}): {message}",
                    seq=self.sequence,
                    errorType=error_type,
                    errors=errors,
                    doc=rules.DOCS["invalid-response"],
                    **(
                        self._assumes("invalidResponseErrorType")
                        if error_type == "InvalidLambdaResponse"
                        else {}
                    ),
                )
                errors_field = {"ErrorType": error_type, "ErrorMessage": message}
                event_type, assumes = INVALID_LAMBDA_RESPONSE, ("invalidResponseErrors",)
                if readings["invalidResponseErrors"] == "action-data":
                    action_data, top_level = errors_field, None
                else:
                    action_data, top_level = None, errors_field
                continue
            if "TransactionAttributes" in response:
                self._store_attributes(response["TransactionAttributes"])
            if actions:
                return list(actions)
            # No actions: an empty list stops the remaining ones under emptyActions=stop, and
            # keeps them under keep; a NULL set (read only under stop) keeps them.
            return None if null_actions or readings["emptyActions"] == "keep" else []

    def _attributes_differ_by_reading(self, new: Any) -> bool:
        """Whether the stored attributes after a response's ``new`` ones depend on the
        attributes reading: it sets some, and some stored key is not among them."""
        if not (isinstance(new, dict) and new and self.attributes):
            return False
        return bool(set(self.attributes) - set(new))

    def _store_attributes(self, new: Mapping[str, str]) -> None:
        """``{}`` erases (clear-trans-attributes); other keys replace the stored set or are
        added to it, as the attributes reading says."""
        if new and self.options.readings["attributes"] == "merge":
            self.attributes = {**(self.attributes or {}), **new}
        else:
            self.attributes = dict(new)

    def _call_lambda(self, event: dict[str, Any]) -> Any:
        """One invocation as the SMA makes it (timeouts.html): no answer within 5 s is
        retried, and 20 s without one ends the call; a function error ends it at once
        (assumption functionErrorNotRetried: it is not one of the 4XX statuses retried once)."""
        timeout_s = float(self.setup.function.timeout_s)
        wait_s = min(timeout_s, RETRY_AFTER_S)
        first_attempt = self.now
        attempt = 0
        while True:
            attempt += 1
            result = self.invoker.invoke(event, wait_s)
            self._last_call = self._invocation_details(result, attempt)
            if result.ok:
                return result.response
            if result.timed_out:
                self._silence(ms_to_samples(wait_s * 1000), "waiting for the handler")
            slow = result.timed_out and timeout_s > RETRY_AFTER_S
            elapsed_s = samples_to_ms(self.now - first_attempt) / 1000
            marks: dict[str, Any] = {}
            if slow:
                # timeouts.html: the SMA waits 5 s "before retrying an invocation"; that it
                # keeps retrying every 5 s until 20 s have passed is inferred, not stated.
                marks = self._assumes("retriedEvery5sFor20s")
                retry = elapsed_s < HANG_UP_AFTER_S
                why = (
                    f"no answer within {RETRY_AFTER_S} s"
                    if retry
                    else f"no answer {HANG_UP_AFTER_S} s after the first attempt"
                )
            else:
                retry = False
                why = "a function error, not a 4XX status"
                marks = self._assumes("functionErrorNotRetried")
            self.transcript.add(
                "invocation-error",
                self.now,
                f"{event['InvocationEventType']} (Sequence {event['Sequence']}) attempt "
                f"{attempt}: {result.error_type}: {result.error_message}; {why}, "
                + ("the SMA retries" if retry else f"the SMA hangs up with {SMA_FAILURE_SIP_CODE}"),
                seq=event["Sequence"],
                errorType=result.error_type,
                errorMessage=result.error_message,
                retry=retry,
                doc=rules.DOCS["timeouts"],
                **self._last_call,
                **marks,
            )
            if not retry:
                self.failures.append(f"invocation:{result.error_type}")
                self._leg_hangs_up(SMA_FAILURE_SIP_CODE, "the SMA", notify=False)
                self._end(
                    Outcome.SMA_HANGUP,
                    f"the handler failed to answer {event['InvocationEventType']} ({why}: "
                    f"{result.error_type}); the SMA hung up with {SMA_FAILURE_SIP_CODE}",
                )

    def _invocation_details(self, result: InvokeResult, attempt: int) -> dict[str, Any]:
        """What the transcript keeps of one invocation; its metrics add to the call's."""
        counts, errors = emitted_metrics(result.logs)
        for name, value in counts.items():
            self.metrics[name] = self.metrics.get(name, 0) + value
        details: dict[str, Any] = {
            "durationMs": result.duration_ms,
            "coldStart": result.cold_start,
            "attempt": attempt,
            "logs": result.logs,
            "metrics": counts,
        }
        if errors:
            details["metricErrors"] = errors
        return details

    def _leg_hangs_up(self, code: int, by: str, *, notify: bool = True) -> None:
        """The leg is disconnected; the handler is told with HANGUP (its answer is ignored),
        unless the SMA ended the call itself (assumption noHangupAfterSmaEnds)."""
        self.participant["Status"] = "Disconnected"
        self.transcript.add(
            "hangup",
            self.now,
            f"{by} hangs up LEG-A (SipResponseCode {code})"
            + ("" if notify else "; no HANGUP event is sent"),
            by=by,
            code=code,
            **({} if notify else self._assumes("noHangupAfterSmaEnds")),
        )
        if not notify or self.sequence >= self.options.max_invocations:
            return
        self.sequence += 1
        event = self._event(
            HANGUP,
            {
                "Type": ACTION_HANGUP,
                "Parameters": {
                    "SipResponseCode": code,
                    "CallId": self.participant["CallId"],
                    "ParticipantTag": LEG_A,
                },
            },
        )
        self.transcript.add(
            "event",
            self.now,
            f"SMA -> handler: HANGUP (Sequence {self.sequence})",
            seq=self.sequence,
            type=HANGUP,
            event=event,
        )
        result = self.invoker.invoke(
            event, min(float(self.setup.function.timeout_s), RETRY_AFTER_S)
        )
        details = self._invocation_details(result, 1)
        if result.ok:
            self.transcript.add(
                "response",
                self.now,
                f"handler -> SMA: {_describe_response(result.response)} (ignored: one-leg call)"
                + _metrics_note(details),
                seq=self.sequence,
                response=result.response,
                ignored=True,
                **details,
            )
        else:
            self.transcript.add(
                "invocation-error",
                self.now,
                f"HANGUP (Sequence {self.sequence}): {result.error_type}: {result.error_message} "
                "(the call is over; not retried here)",
                seq=self.sequence,
                errorType=result.error_type,
                errorMessage=result.error_message,
                retry=False,
                **details,
            )


def _metrics_note(details: Mapping[str, Any]) -> str:
    """`` [counted: ActionFailures 1, ...]`` for a response summary; empty if nothing was."""
    counted = [f"{name} {value:g}" for name, value in details.get("metrics", {}).items()]
    if details.get("metricErrors"):
        counted.append(f"{len(details['metricErrors'])} EMF error(s)")
    return f" [counted: {', '.join(counted)}]" if counted else ""


def _describe_response(response: Any) -> str:
    if not isinstance(response, dict):
        return f"a {type(response).__name__}, not a response object"
    actions = response.get("Actions")
    if not isinstance(actions, list):
        return "no Actions list"
    parts = []
    for action in actions[:12]:
        if not isinstance(action, dict):
            parts.append(repr(action)[:40])
            continue
        parameters = action.get("Parameters") if isinstance(action.get("Parameters"), dict) else {}
        assert isinstance(parameters, dict)
        source = parameters.get("AudioSource")
        if isinstance(source, dict):
            parts.append(f"{action.get('Type')} {source.get('Key')}")
        elif "SipResponseCode" in parameters:
            parts.append(f"{action.get('Type')} {parameters['SipResponseCode']}")
        elif "DurationInMilliseconds" in parameters:
            parts.append(f"{action.get('Type')} {parameters['DurationInMilliseconds']} ms")
        else:
            parts.append(str(action.get("Type")))
    text = ", ".join(parts) if parts else "no actions"
    if "TransactionAttributes" in response:
        text += f" + TransactionAttributes {response['TransactionAttributes']}"
    return text


def _invalid_response_type(response: Any, attribute_limit: int) -> str:
    """The ErrorType the SMA reports. Documented: SchemaVersionMismatch (a JSON string, a wrong
    SchemaVersion) and TransactionAttributesInvalidMapSize; anything else gets the simulator's
    label InvalidLambdaResponse (the guide names no other)."""
    if not isinstance(response, dict) or response.get("SchemaVersion") != SCHEMA_VERSION:
        return "SchemaVersionMismatch"
    attributes = response.get("TransactionAttributes")
    if isinstance(attributes, dict) and len(attributes) > attribute_limit:
        return "TransactionAttributesInvalidMapSize"
    return "InvalidLambdaResponse"
