"""A small evaluator of IAM's documented rules, for the resource policies this project writes.

It answers one question: does this resource-based policy (a bucket policy, or
a Lambda permission turned into a statement) allow this request? It follows
the IAM policy evaluation logic
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html)
for the elements the project uses, and refuses anything else loudly
(:class:`UnsupportedPolicyError`) instead of guessing:

* ``Effect`` ``Allow``/``Deny``; an explicit Deny wins over any Allow; no
  matching Allow is an implicit deny (the default).
* ``Principal``: ``"*"``, ``{"AWS": "*"}`` (everyone, AWS services and
  anonymous callers included), ``{"AWS": ACCOUNT | arn:...:root | role ARN}``,
  ``{"Service": NAME}``; each may be a list.
* ``Action``: case-insensitive, with ``*`` and ``?`` wildcards.
* ``Resource``: case-sensitive ARNs with ``*`` and ``?`` wildcards.
* ``Condition``: ``StringEquals``, ``StringNotEquals``, ``StringLike``,
  ``StringNotLike``, ``Bool``, ``ArnLike``, ``ArnEquals``. Keys are
  case-insensitive, values case-sensitive (``Bool``: ``true``/``false`` in
  any case). Several operators, or several keys in one operator: all must
  hold. Several values for one key: any one may match. A key the request
  does not carry makes a positive operator (``StringEquals``, ``StringLike``,
  ``Bool``, ``Arn*``) false and a negated one (``String*Not*``) true.

Not modelled: ``NotPrincipal``, ``NotAction``, ``NotResource``, ``...IfExists``,
``ForAnyValue``/``ForAllValues``, policy variables, identity policies,
permission boundaries, SCPs, ACLs and S3 Block Public Access. A policy that
uses any of them raises :class:`UnsupportedPolicyError`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from functools import lru_cache
from typing import Any

from constructs_pkg.chime_facts import CHIME_PROMPT_READ_ACTION

DOC_EVALUATION_LOGIC = (
    "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html"
)
DOC_CONDITION_OPERATORS = "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html"

_STATEMENT_FIELDS = {"Sid", "Effect", "Principal", "Action", "Resource", "Condition"}
_UNSUPPORTED_FIELDS = {"NotPrincipal", "NotAction", "NotResource"}


class UnsupportedPolicyError(ValueError):
    """The policy uses an element or operator this evaluator does not model."""


class Decision(Enum):
    """The outcome of an evaluation."""

    ALLOW = "allow"
    EXPLICIT_DENY = "explicit-deny"
    IMPLICIT_DENY = "implicit-deny"


@dataclass(frozen=True)
class Principal:
    """Who makes a request: an AWS service, an IAM principal of an account, or nobody."""

    kind: str  # "service", "aws" or "anonymous"
    name: str = ""  # the service name, or the IAM ARN
    account: str | None = None

    @staticmethod
    def service(name: str) -> Principal:
        return Principal("service", name)

    @staticmethod
    def aws(arn: str) -> Principal:
        """An IAM principal by ARN (``arn:aws:iam::ACCOUNT:root``, a role or user ARN)."""
        parts = arn.split(":")
        return Principal("aws", arn, parts[4] if len(parts) > 4 else None)

    @staticmethod
    def anonymous() -> Principal:
        return Principal("anonymous")


@dataclass(frozen=True)
class Request:
    """One request: principal, action, resource ARN and its condition context."""

    principal: Principal
    action: str
    resource: str
    context: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Evaluation:
    """The decision and the statements that produced it (their Sid or index)."""

    decision: Decision
    allowed_by: tuple[str, ...] = ()
    denied_by: tuple[str, ...] = ()

    @property
    def allowed(self) -> bool:
        return self.decision is Decision.ALLOW

    def explain(self) -> str:
        if self.decision is Decision.EXPLICIT_DENY:
            return f"explicitly denied by statement {', '.join(self.denied_by)}"
        if self.decision is Decision.ALLOW:
            return f"allowed by statement {', '.join(self.allowed_by)}"
        return "no statement allows it (implicit deny)"


def evaluate(policy: Mapping[str, Any] | None, request: Request) -> Evaluation:
    """Evaluate ``request`` against one resource-based policy document (None: no policy)."""
    if policy is None:
        return Evaluation(Decision.IMPLICIT_DENY)
    allowed: list[str] = []
    denied: list[str] = []
    for index, statement in enumerate(_statements(policy)):
        label = str(statement.get("Sid") or f"#{index}")
        if not _applies(statement, request):
            continue
        effect = statement.get("Effect")
        if effect == "Deny":
            denied.append(label)
        elif effect == "Allow":
            allowed.append(label)
        else:
            raise UnsupportedPolicyError(f"statement {label}: Effect {effect!r} is not Allow/Deny")
    if denied:
        return Evaluation(Decision.EXPLICIT_DENY, tuple(allowed), tuple(denied))
    if allowed:
        return Evaluation(Decision.ALLOW, tuple(allowed))
    return Evaluation(Decision.IMPLICIT_DENY)


def _statements(policy: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    statements = policy.get("Statement", [])
    if isinstance(statements, Mapping):
        statements = [statements]
    if not isinstance(statements, list) or not all(isinstance(s, Mapping) for s in statements):
        raise UnsupportedPolicyError("Statement must be an object or a list of objects")
    for index, statement in enumerate(statements):
        unsupported = sorted(_UNSUPPORTED_FIELDS & set(statement))
        if unsupported:
            raise UnsupportedPolicyError(
                f"statement {statement.get('Sid') or index} uses {', '.join(unsupported)}, "
                "which this evaluator does not model"
            )
        unknown = sorted(set(statement) - _STATEMENT_FIELDS)
        if unknown:
            raise UnsupportedPolicyError(f"statement has unknown field(s) {unknown}")
    return statements


def _applies(statement: Mapping[str, Any], request: Request) -> bool:
    return (
        _principal_matches(statement.get("Principal"), request.principal)
        and any(_action_matches(p, request.action) for p in _strings(statement.get("Action")))
        and any(
            _wildcard_matches(p, request.resource, case_sensitive=True)
            for p in _strings(statement.get("Resource"))
        )
        and _conditions_hold(statement.get("Condition"), request.context)
    )


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    if value is None:
        return []
    raise UnsupportedPolicyError(f"expected a string or a list of strings, got {value!r}")


def _principal_matches(element: object, principal: Principal) -> bool:
    if element is None:
        # A resource-based policy statement without a Principal applies to nobody.
        return False
    if element == "*":
        return True
    if not isinstance(element, Mapping):
        raise UnsupportedPolicyError(f"Principal {element!r} is not '*' or an object")
    for kind, values in element.items():
        for value in _strings(values):
            if kind == "AWS" and value == "*":
                return True
            if kind == "Service" and principal.kind == "service" and value == principal.name:
                return True
            if (
                kind == "AWS"
                and principal.kind == "aws"
                and _aws_principal_matches(value, principal)
            ):
                return True
            if kind not in ("AWS", "Service"):
                raise UnsupportedPolicyError(f"Principal type {kind!r} is not modelled")
    return False


def _aws_principal_matches(value: str, principal: Principal) -> bool:
    """An account id or ``arn:...:iam::ACCOUNT:root`` names the whole account; else the ARN."""
    if re.fullmatch(r"\d{12}", value):
        return principal.account == value
    root = re.fullmatch(r"arn:[a-z-]+:iam::(\d{12}):root", value)
    if root:
        return principal.account == root.group(1)
    return value == principal.name


def _action_matches(pattern: str, action: str) -> bool:
    return _wildcard_matches(pattern, action, case_sensitive=False)


@lru_cache(maxsize=1024)
def _wildcard_regex(pattern: str, case_sensitive: bool) -> re.Pattern[str]:
    body = "".join(".*" if ch == "*" else "." if ch == "?" else re.escape(ch) for ch in pattern)
    return re.compile(body, 0 if case_sensitive else re.IGNORECASE | re.DOTALL)


def _wildcard_matches(pattern: str, value: str, *, case_sensitive: bool) -> bool:
    return _wildcard_regex(pattern, case_sensitive).fullmatch(value) is not None


def _arn_matches(pattern: str, value: str) -> bool:
    """ArnLike: the six colon-separated parts match one by one (the last may hold colons)."""
    pattern_parts = pattern.split(":", 5)
    value_parts = value.split(":", 5)
    if len(pattern_parts) != 6 or len(value_parts) != 6:
        return False
    return all(
        _wildcard_matches(p, v, case_sensitive=True)
        for p, v in zip(pattern_parts, value_parts, strict=True)
    )


def _string_equals(expected: str, actual: str) -> bool:
    return expected == actual


def _string_like(expected: str, actual: str) -> bool:
    return _wildcard_matches(expected, actual, case_sensitive=True)


def _bool_equals(expected: str, actual: str) -> bool:
    return expected.lower() == actual.lower()


def _arn_equals(expected: str, actual: str) -> bool:
    return _arn_matches(expected, actual)


# operator -> (value comparison, negated)
_OPERATORS = {
    "StringEquals": (_string_equals, False),
    "StringNotEquals": (_string_equals, True),
    "StringLike": (_string_like, False),
    "StringNotLike": (_string_like, True),
    "Bool": (_bool_equals, False),
    "ArnLike": (_arn_equals, False),
    "ArnEquals": (_arn_equals, False),
}


def _conditions_hold(block: object, context: Mapping[str, str]) -> bool:
    if block is None:
        return True
    if not isinstance(block, Mapping):
        raise UnsupportedPolicyError(f"Condition {block!r} is not an object")
    lowered = {key.lower(): value for key, value in context.items()}
    for operator, keys in block.items():
        if operator not in _OPERATORS:
            raise UnsupportedPolicyError(
                f"condition operator {operator!r} is not modelled; modelled: "
                f"{', '.join(_OPERATORS)}"
            )
        compare, negated = _OPERATORS[operator]
        if not isinstance(keys, Mapping):
            raise UnsupportedPolicyError(f"Condition {operator} must map keys to values")
        for key, values in keys.items():
            expected = [str(v).lower() if isinstance(v, bool) else str(v) for v in _values(values)]
            actual = lowered.get(str(key).lower())
            if actual is None:
                if not negated:
                    return False
                continue
            matched = any(compare(value, actual) for value in expected)
            if matched == negated:
                return False
    return True


def _values(values: object) -> Sequence[object]:
    if isinstance(values, list):
        return values
    return [values]


def chime_get_object(
    bucket: str,
    key: str,
    *,
    account: str,
    sma_arn: str,
    service: str,
    secure_transport: bool = True,
) -> Request:
    """The request Chime makes to read a prompt for an SMA, as the bucket policy sees it."""
    return Request(
        Principal.service(service),
        CHIME_PROMPT_READ_ACTION,
        f"arn:aws:s3:::{bucket}/{key}",
        {
            "aws:SourceAccount": account,
            "aws:SourceArn": sma_arn,
            "aws:SecureTransport": "true" if secure_transport else "false",
        },
    )
