"""The IAM evaluator: each documented rule it models, with an allowed and a refused case."""

from __future__ import annotations

from typing import Any

import pytest

from playaudio_sim.policy import (
    Decision,
    Principal,
    Request,
    UnsupportedPolicyError,
    chime_get_object,
    evaluate,
)

CHIME = "voiceconnector.chime.amazonaws.com"
ACCOUNT = "123456789012"
SMA = f"arn:aws:chime:us-east-1:{ACCOUNT}:sma/11111111-2222-3333-4444-555555555555"
OBJECT = "arn:aws:s3:::bucket/prompts/welcome.wav"


def allow(**overrides: Any) -> dict[str, Any]:
    statement = {
        "Sid": "Read",
        "Effect": "Allow",
        "Principal": {"Service": CHIME},
        "Action": "s3:GetObject",
        "Resource": "arn:aws:s3:::bucket/prompts/*",
    }
    statement.update(overrides)
    return {"Statement": [statement]}


def chime(action: str = "s3:GetObject", resource: str = OBJECT, **context: str) -> Request:
    return Request(Principal.service(CHIME), action, resource, context)


def test_no_policy_and_no_matching_statement_are_implicit_denies() -> None:
    assert evaluate(None, chime()).decision is Decision.IMPLICIT_DENY
    other = allow(Principal={"Service": "logging.s3.amazonaws.com"})
    assert evaluate(other, chime()).decision is Decision.IMPLICIT_DENY


def test_an_explicit_deny_wins_over_an_allow() -> None:
    policy = allow()
    policy["Statement"].append(
        {"Sid": "NoHttp", "Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*"}
    )
    evaluation = evaluate(policy, chime())
    assert evaluation.decision is Decision.EXPLICIT_DENY
    assert evaluation.denied_by == ("NoHttp",)
    assert "explicitly denied by statement NoHttp" in evaluation.explain()


def test_actions_match_case_insensitively_with_wildcards() -> None:
    assert evaluate(allow(Action="S3:getobject"), chime()).allowed
    assert evaluate(allow(Action="s3:Get*"), chime()).allowed
    assert evaluate(allow(Action=["s3:List*", "s3:GetObjec?"]), chime()).allowed
    assert not evaluate(allow(Action="s3:GetObject"), chime("s3:PutObject")).allowed
    assert not evaluate(allow(Action="s3:Get"), chime()).allowed


def test_resources_match_case_sensitively_with_wildcards() -> None:
    assert evaluate(allow(), chime()).allowed
    assert not evaluate(allow(), chime(resource="arn:aws:s3:::bucket/Prompts/welcome.wav")).allowed
    assert not evaluate(allow(), chime(resource="arn:aws:s3:::bucket/other/welcome.wav")).allowed
    assert not evaluate(allow(), chime(resource="arn:aws:s3:::bucket")).allowed


def test_principals_service_aws_star_account_and_anonymous() -> None:
    anonymous = Request(Principal.anonymous(), "s3:GetObject", OBJECT)
    someone = Request(Principal.aws(f"arn:aws:iam::{ACCOUNT}:role/r"), "s3:GetObject", OBJECT)
    assert evaluate(allow(Principal={"AWS": "*"}), anonymous).allowed
    assert evaluate(allow(Principal="*"), chime()).allowed
    assert not evaluate(allow(), anonymous).allowed
    assert evaluate(allow(Principal={"AWS": f"arn:aws:iam::{ACCOUNT}:root"}), someone).allowed
    assert evaluate(allow(Principal={"AWS": ACCOUNT}), someone).allowed
    assert not evaluate(allow(Principal={"AWS": "210987654321"}), someone).allowed
    assert not evaluate(allow(Principal={"AWS": f"arn:aws:iam::{ACCOUNT}:root"}), chime()).allowed


def test_string_equals_needs_the_key_and_a_listed_value() -> None:
    policy = allow(
        Condition={"StringEquals": {"aws:SourceAccount": ACCOUNT, "aws:SourceArn": [SMA]}}
    )
    assert evaluate(policy, chime(**{"aws:SourceAccount": ACCOUNT, "aws:SourceArn": SMA})).allowed
    # Condition keys are case-insensitive, values are not.
    assert evaluate(policy, chime(**{"AWS:SOURCEACCOUNT": ACCOUNT, "aws:sourcearn": SMA})).allowed
    assert not evaluate(policy, chime(**{"aws:SourceAccount": ACCOUNT})).allowed
    assert not evaluate(
        policy, chime(**{"aws:SourceAccount": "210987654321", "aws:SourceArn": SMA})
    ).allowed
    assert not evaluate(
        policy, chime(**{"aws:SourceAccount": ACCOUNT, "aws:SourceArn": SMA.upper()})
    ).allowed


def test_string_like_and_arn_like_use_wildcards() -> None:
    like = allow(Condition={"StringLike": {"aws:SourceArn": "arn:aws:chime:*:*:sma/*"}})
    assert evaluate(like, chime(**{"aws:SourceArn": SMA})).allowed
    assert not evaluate(like, chime(**{"aws:SourceArn": "arn:aws:chime:x:y:vc/z"})).allowed
    arn = allow(Condition={"ArnLike": {"aws:SourceArn": f"arn:aws:chime:*:{ACCOUNT}:sma/*"}})
    assert evaluate(arn, chime(**{"aws:SourceArn": SMA})).allowed
    other = "arn:aws:chime:us-east-1:210987654321:sma/x"
    assert not evaluate(arn, chime(**{"aws:SourceArn": other})).allowed
    assert not evaluate(arn, chime()).allowed


def test_bool_secure_transport_and_negated_operators() -> None:
    deny_http = {
        "Statement": [
            *allow()["Statement"],
            {
                "Effect": "Deny",
                "Principal": {"AWS": "*"},
                "Action": "s3:*",
                "Resource": "arn:aws:s3:::bucket/*",
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            },
        ]
    }
    assert evaluate(deny_http, chime(**{"aws:SecureTransport": "true"})).allowed
    http = evaluate(deny_http, chime(**{"aws:SecureTransport": "FALSE"}))
    assert http.decision is Decision.EXPLICIT_DENY
    not_equals = allow(Condition={"StringNotEquals": {"aws:SourceAccount": "210987654321"}})
    assert evaluate(not_equals, chime(**{"aws:SourceAccount": ACCOUNT})).allowed
    assert evaluate(not_equals, chime()).allowed  # a missing key satisfies a negated operator


def test_chime_get_object_is_the_request_chime_makes() -> None:
    request = chime_get_object("b", "prompts/x.wav", account=ACCOUNT, sma_arn=SMA, service=CHIME)
    assert request.resource == "arn:aws:s3:::b/prompts/x.wav"
    assert request.context == {
        "aws:SourceAccount": ACCOUNT,
        "aws:SourceArn": SMA,
        "aws:SecureTransport": "true",
    }


@pytest.mark.parametrize(
    "policy",
    [
        {"Statement": [{"Effect": "Allow", "NotPrincipal": {"AWS": "*"}}]},
        allow(Condition={"NumericLessThan": {"aws:x": "1"}}),
        allow(Principal={"Federated": "cognito-identity.amazonaws.com"}),
        allow(Effect="Maybe"),
    ],
)
def test_what_is_not_modelled_is_refused_loudly(policy: dict[str, Any]) -> None:
    with pytest.raises(UnsupportedPolicyError):
        evaluate(policy, chime())
