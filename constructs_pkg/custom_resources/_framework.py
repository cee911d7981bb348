"""What the chime-sdk-voice handlers (``sip_rule``, ``sip_message_logs``) share: the provider
framework's contract, one deadline per custom-resource event, the retry loop that keeps to
it, and the client.

Contract: ``on_event`` returns a ``Response`` or raises; the properties include
``FRAMEWORK_PROPERTIES``, which the handlers ignore (``unknown_properties``); a RequestType
other than Create, Update and Delete is an error (``unknown_request_type``).

The deadline makes each handler fail in time with the cause instead of Lambda's "Task timed
out".

Deadline: it comes from the Lambda context's ``get_remaining_time_in_millis``
(``DEFAULT_REMAINING_SECONDS`` without one) less ``RESPONSE_SECONDS`` to hand the answer
back, and an API call starts only if its worst case, ``CALL_SECONDS`` (the client's
connect plus read timeout), fits before it. Every step of one event shares it.

Retries: ThrottledClientException, ServiceUnavailableException, ServiceFailureException
and connection errors (a timeout included), plus whatever a step's ``also_retry`` accepts,
with the sleeps in ``BACKOFF_SECONDS`` (7 attempts per step at most). A retry whose sleep
would not leave room for one more call is not taken: the step raises the handler's error
type, naming its subject, the last API error, the attempts and the time spent.

Why here and not in botocore: its standard and adaptive retry modes do not know the Lambda
deadline, do not retry chime-sdk-voice's ThrottledClientException (modeled without the
retryable trait), and cannot retry a service-specific error such as a new SMA not being
visible yet; so ``CLIENT_CONFIG`` turns botocore's own retries off and this is the only
retry loop.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from functools import cache
from typing import TYPE_CHECKING, NotRequired, TypedDict, TypeVar

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as BotoConnectionError

from . import HANDLER_TIMEOUT_SECONDS

BACKOFF_SECONDS: tuple[float, ...] = (1.0, 2.0, 4.0, 8.0, 16.0, 16.0)
"""Sleeps between the attempts of one step: 7 attempts at most, if the deadline allows."""

_CONNECT_TIMEOUT_SECONDS = 5
_READ_TIMEOUT_SECONDS = 10
CALL_SECONDS: float = _CONNECT_TIMEOUT_SECONDS + _READ_TIMEOUT_SECONDS
"""The longest one API call can take: the client's connect timeout plus its read timeout.

The read timeout bounds each wait for data; these small JSON answers come in one read.
"""
RESPONSE_SECONDS: float = 3.0
"""Kept free at the end of the invocation to return the answer or error to the framework.

The framework posts to CloudFormation from its own function (15-minute timeout), so
this only covers Lambda's hand-back of the result, the last log lines and clock jitter.
"""
DEFAULT_REMAINING_SECONDS: float = float(HANDLER_TIMEOUT_SECONDS)
"""The time budget when the context cannot tell (a local call): the constructs' Lambda timeout."""

CLIENT_CONFIG = Config(
    retries={"total_max_attempts": 1},
    connect_timeout=_CONNECT_TIMEOUT_SECONDS,
    read_timeout=_READ_TIMEOUT_SECONDS,
)
"""botocore retries off (this module retries) and timeouts that add up to ``CALL_SECONDS``."""

if TYPE_CHECKING:
    from mypy_boto3_chime_sdk_voice.client import ChimeSDKVoiceClient

TRANSIENT_CODES = frozenset(
    {"ThrottledClientException", "ServiceUnavailableException", "ServiceFailureException"}
)
"""chime-sdk-voice errors that say 'try again later' for any operation."""

_T = TypeVar("_T")

FRAMEWORK_PROPERTIES = frozenset({"ServiceToken", "ServiceTimeout"})
"""They configure the custom resource; CloudFormation passes them on with the properties."""
NOT_FOUND = "NotFoundException"
"""The chime-sdk-voice error for an SMA or SIP rule that does not exist (or not yet)."""


class Response(TypedDict):
    """What the provider framework expects back from ``on_event``."""

    PhysicalResourceId: str
    Data: NotRequired[dict[str, str]]


def unknown_properties(props: Mapping[str, object], known: frozenset[str]) -> list[str]:
    """A problem for each property neither in ``known`` nor one of ``FRAMEWORK_PROPERTIES``."""
    extra = set(props) - known - FRAMEWORK_PROPERTIES
    return [f"unknown property {key!r}" for key in sorted(extra)]


def unknown_request_type(request_type: object) -> ValueError:
    """The error for an event that is not a Create, Update or Delete."""
    return ValueError(f"Unknown RequestType {request_type!r}")


class NoTimeForCall(Exception):
    """An API call might not finish before the deadline, so it was not started."""

    def __init__(self, operation: str) -> None:
        super().__init__(operation)
        self.operation = operation


def error_code(err: ClientError) -> str:
    """The API error code, e.g. ``NotFoundException``; empty if the answer had none."""
    return err.response.get("Error", {}).get("Code", "")


def describe(err: Exception) -> str:
    """An error as one line: ``<Operation> returned <Code>: <message>`` for API errors."""
    if isinstance(err, ClientError):
        message = err.response.get("Error", {}).get("Message", "")
        return f"{err.operation_name} returned {error_code(err)}: {message}"
    return f"{type(err).__name__}: {err}"


def is_not_found(err: ClientError) -> bool:
    """Whether the API answered ``NOT_FOUND``."""
    return error_code(err) == NOT_FOUND


def never(err: ClientError) -> bool:
    """``also_retry`` for steps that retry only the transient errors."""
    return False


def remaining_seconds(context: object) -> float:
    """The invocation's remaining time; ``DEFAULT_REMAINING_SECONDS`` if ``context`` can't tell."""
    remaining_ms = getattr(context, "get_remaining_time_in_millis", None)
    if not callable(remaining_ms):
        return DEFAULT_REMAINING_SECONDS
    return float(remaining_ms()) / 1000


def log_event(logger: logging.Logger, level: int, event: str, **fields: str | int | float) -> None:
    """One line: readable as text, and ``fields`` become keys under Lambda's JSON format."""
    details = " ".join(f"{key}={value}" for key, value in fields.items())
    logger.log(level, "%s %s", event, details, extra=fields)


class Deadline:
    """API calls and retries of one event, all within the time the event has left.

    :param logger: the handler's logger; every call and retry is logged there.
    :param subject: what the handler acts on, for messages: "SIP rule".
    :param subject_field: the log field naming it: "rule".
    :param error_type: what a step that fails for good raises (the handler's own error).
    :param sleep: and ``clock`` (monotonic seconds) are injectable so tests simulate time.
    :param remaining_s: the invocation's remaining time when the event started.
    """

    def __init__(
        self,
        *,
        logger: logging.Logger,
        subject: str,
        subject_field: str,
        error_type: type[Exception],
        sleep: Callable[[float], None],
        clock: Callable[[], float],
        remaining_s: float,
    ) -> None:
        self._logger = logger
        self._subject = subject
        self._subject_field = subject_field
        self._error_type = error_type
        self._sleep = sleep
        self._clock = clock
        self._budget_s = remaining_s
        self._start = clock()
        self._last_call_start = self._start + remaining_s - RESPONSE_SECONDS - CALL_SECONDS
        self._operation = ""

    def time_left(self) -> float:
        """Seconds until the last moment an API call may start (negative once past it)."""
        return self._last_call_start - self._clock()

    def fail(self, message: str) -> Exception:
        """The handler's error with ``message``, for a failure found outside ``retrying``."""
        return self._error_type(message)

    @contextmanager
    def call(self, operation: str, name: str) -> Iterator[None]:
        """Start an API call only if it fits the deadline; log it: operation, name, outcome, ms."""
        if self.time_left() < 0:
            raise NoTimeForCall(operation)
        self._operation = operation
        start = self._clock()
        outcome = "ok"
        try:
            yield
        except ClientError as err:
            outcome = error_code(err)
            raise
        except Exception as err:
            outcome = type(err).__name__
            raise
        finally:
            level = logging.INFO if outcome == "ok" else logging.WARNING
            ms = round((self._clock() - start) * 1000)
            fields: dict[str, str | int | float] = {
                "api": operation,
                self._subject_field: name,
                "outcome": outcome,
                "ms": ms,
            }
            log_event(self._logger, level, "api_call", **fields)

    def retrying(
        self,
        what: str,
        name: str,
        step: Callable[[], _T],
        also_retry: Callable[[ClientError], bool] = never,
    ) -> _T:
        """Run ``step``, retrying transient errors with ``BACKOFF_SECONDS`` within the deadline."""
        attempt = 0
        error: Exception | None = None
        cause = ""
        while True:
            attempt += 1
            try:
                return step()
            except NoTimeForCall as late:
                why = f"{late.operation} might not finish before the Lambda timeout"
                raise self._out_of_time(what, name, why, cause, attempt - 1) from error
            except ClientError as err:
                if error_code(err) not in TRANSIENT_CODES and not also_retry(err):
                    raise self._error_type(
                        f"Could not {what} {self._subject} {name!r}: {describe(err)}"
                    ) from err
                error, cause = err, describe(err)
            except (BotoConnectionError, HTTPClientError) as err:
                error, cause = err, f"{self._operation} failed: {describe(err)}"
            if attempt > len(BACKOFF_SECONDS):
                message = f"after {attempt} attempts: {cause}"
                raise self._error_type(
                    f"Could not {what} {self._subject} {name!r} {message}"
                ) from error
            delay = BACKOFF_SECONDS[attempt - 1]
            if delay > self.time_left():
                why = f"a retry in {delay:g} s might not finish before the Lambda timeout"
                raise self._out_of_time(what, name, why, cause, attempt) from error
            retry_fields: dict[str, str | int | float] = {
                "step": what,
                self._subject_field: name,
                "attempt": attempt,
                "sleep_s": delay,
                "error": cause,
            }
            log_event(self._logger, logging.WARNING, "retry", **retry_fields)
            self._sleep(delay)

    def _out_of_time(self, what: str, name: str, why: str, cause: str, attempts: int) -> Exception:
        """A step stopped by the deadline: the last API error (``cause``), attempts, time spent."""
        spent = f"{self._clock() - self._start:.1f} s of {self._budget_s:.1f} s"
        subject = f"{self._subject} {name!r}"
        if not attempts:
            return self._error_type(f"Could not {what} {subject}: {why} ({spent} spent)")
        counted = f"{attempts} attempt{'s' if attempts > 1 else ''}"
        return self._error_type(
            f"Could not {what} {subject}: {cause}; stopped after {counted} in {spent}, as {why}"
        )


@cache
def chime_voice_client() -> ChimeSDKVoiceClient:
    """The chime-sdk-voice client both handlers call, with ``CLIENT_CONFIG``.

    Made on first use, so importing a handler makes no client, and kept for the warm
    invocations that follow.
    """
    return boto3.client("chime-sdk-voice", config=CLIENT_CONFIG)
