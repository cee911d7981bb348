"""What the synthesized prompt-bucket policy of PlayAudioStack allows, by IAM's rules.

The template is read back as the call simulator reads it (references resolved
to stand-ins: account 123456789012, the SMA's ARN, the bucket's name) and
every request is decided by the simulator's IAM evaluator
(playaudio_sim.policy): explicit deny wins, default deny, and
the conditions as IAM documents them.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import aws_cdk as cdk
import pytest

from app import build_app
from playaudio_sim.call_setup import CallSetup, load_call_setup
from playaudio_sim.policy import (
    Decision,
    Evaluation,
    Principal,
    Request,
    chime_get_object,
    evaluate,
)

CHIME = "voiceconnector.chime.amazonaws.com"
OTHER_ACCOUNT = "210987654321"
PROMPT_KEY = "prompts/welcome.wav"


@pytest.fixture(scope="module")
def setup(make_app: Callable[..., cdk.App], tmp_path_factory: pytest.TempPathFactory) -> CallSetup:
    outdir = tmp_path_factory.mktemp("policy") / "cdk.out"
    app = make_app(outdir=str(outdir))
    build_app(app, {})
    app.synth()
    return load_call_setup(Path(outdir), stack="PlayAudioStack")


@pytest.fixture(scope="module")
def bucket(setup: CallSetup) -> str:
    name = setup.function.environment["PROMPTS_BUCKET"]
    assert name in setup.store.policies, "the prompt bucket has a policy"
    return name


def decide(setup: CallSetup, bucket: str, request: Request) -> Evaluation:
    return evaluate(setup.store.policies[bucket], request)


def chime_request(
    setup: CallSetup,
    bucket: str,
    *,
    key: str = PROMPT_KEY,
    account: str | None = None,
    sma_arn: str | None = None,
    secure: bool = True,
) -> Request:
    return chime_get_object(
        bucket,
        key,
        account=account or setup.sma.account,
        sma_arn=sma_arn or setup.sma.arn,
        service=CHIME,
        secure_transport=secure,
    )


def test_chime_reads_a_prompt_for_this_sma_in_this_account_over_tls(
    setup: CallSetup, bucket: str
) -> None:
    evaluation = decide(setup, bucket, chime_request(setup, bucket))
    assert evaluation.decision is Decision.ALLOW
    assert evaluation.allowed_by == ("ChimePlayAudioRead1",)


def test_chime_reads_nothing_for_another_account_or_another_sma(
    setup: CallSetup, bucket: str
) -> None:
    other_account = chime_request(setup, bucket, account=OTHER_ACCOUNT)
    other_sma = chime_request(
        setup, bucket, sma_arn=setup.sma.arn.rsplit("/", 1)[0] + "/another-sma"
    )
    foreign_sma = chime_request(
        setup, bucket, sma_arn=setup.sma.arn.replace(setup.sma.account, OTHER_ACCOUNT)
    )
    for request in (other_account, other_sma, foreign_sma):
        assert decide(setup, bucket, request).decision is Decision.IMPLICIT_DENY


def test_chime_reads_no_key_outside_the_prompt_prefix(setup: CallSetup, bucket: str) -> None:
    request = chime_request(setup, bucket, key="private/notes.txt")
    assert not decide(setup, bucket, request).allowed


@pytest.mark.parametrize(
    ("action", "on_bucket"),
    [("s3:PutObject", False), ("s3:DeleteObject", False), ("s3:ListBucket", True)],
)
def test_chime_may_not_write_delete_or_list(
    setup: CallSetup, bucket: str, action: str, on_bucket: bool
) -> None:
    resource = f"arn:aws:s3:::{bucket}" if on_bucket else f"arn:aws:s3:::{bucket}/{PROMPT_KEY}"
    request = Request(
        Principal.service(CHIME),
        action,
        resource,
        {
            "aws:SourceAccount": setup.sma.account,
            "aws:SourceArn": setup.sma.arn,
            "aws:SecureTransport": "true",
        },
    )
    assert decide(setup, bucket, request).decision is Decision.IMPLICIT_DENY


@pytest.mark.parametrize(
    "principal",
    [
        Principal.service(CHIME),
        Principal.aws("arn:aws:iam::123456789012:root"),
        Principal.anonymous(),
    ],
)
@pytest.mark.parametrize("action", ["s3:GetObject", "s3:PutObject"])
def test_any_request_over_plain_http_is_denied(
    setup: CallSetup, bucket: str, principal: Principal, action: str
) -> None:
    request = Request(
        principal,
        action,
        f"arn:aws:s3:::{bucket}/{PROMPT_KEY}",
        {
            "aws:SourceAccount": setup.sma.account,
            "aws:SourceArn": setup.sma.arn,
            "aws:SecureTransport": "false",
        },
    )
    assert decide(setup, bucket, request).decision is Decision.EXPLICIT_DENY


def test_an_anonymous_request_is_not_allowed(setup: CallSetup, bucket: str) -> None:
    request = Request(
        Principal.anonymous(),
        "s3:GetObject",
        f"arn:aws:s3:::{bucket}/{PROMPT_KEY}",
        {"aws:SecureTransport": "true"},
    )
    assert decide(setup, bucket, request).decision is Decision.IMPLICIT_DENY
