"""Simulator fixtures: a hand-written cloud assembly with a deliberately broken handler.

The assembly is plain JSON (no synth, so these tests are fast): a bucket with
an explicit name, the Chime read statement and the TLS deny of PromptBucket,
one prompt deployment (``audio/wav``), a Python function whose behaviour the
test picks with the ``MODE`` variable, the invoke permission and the SMA.
Every part can be broken on purpose through :func:`write_assembly`'s arguments.
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from playaudio_sim.call_setup import CallSetup, load_call_setup
from playaudio_sim.engine import Call, CallOptions, CallResult, parse_keys
from tests.audio import wavgen

BUCKET = "sim-test-prompts"
STACK = "SimTest"
ONE_SECOND = wavgen.pcm(frames=8000)  # 1 s of 8 kHz mono 16-bit silence

# Modes of the broken handler; each breaks (or exercises) one Chime rule.
BROKEN_HANDLER = textwrap.dedent(
    '''
    """A deliberately broken SMA handler: MODE picks how it misbehaves."""
    import json
    import os
    import time

    MODE = os.environ.get("MODE", "ok")
    BUCKET = os.environ["PROMPTS_BUCKET"]
    SEEN = []  # module state survives between invocations of one execution environment


    def source(key, bucket=None):
        return {"Type": "S3", "BucketName": bucket or BUCKET, "Key": key}


    def play(key="prompts/welcome.wav", **parameters):
        return {"Type": "PlayAudio", "Parameters": {**parameters, "AudioSource": source(key)}}


    HANGUP = {"Type": "Hangup", "Parameters": {"SipResponseCode": "0"}}


    def respond(actions, **extra):
        return {"SchemaVersion": "1.0", "Actions": actions, **extra}


    def first(event):
        if MODE == "eleven-actions":
            return respond([play()] * 11)
        if MODE == "unknown-action":
            return respond([{"Type": "Speak", "Parameters": {"Text": "hi"}}, HANGUP])
        if MODE == "string-json":
            return json.dumps(respond([play(), HANGUP]))
        if MODE == "no-schema-version":
            return {"Actions": [play(), HANGUP]}
        if MODE == "raise":
            raise RuntimeError("the handler is broken")
        if MODE == "sleep":
            time.sleep(30)
        if MODE == "not-serializable":
            return respond([play(), HANGUP], TransactionAttributes={"when": time})
        if MODE == "bad-call-id":
            return respond([play(CallId="not-a-call"), HANGUP])
        if MODE == "leg-b":
            return respond([play(ParticipantTag="LEG-B"), HANGUP])
        if MODE == "missing-key":
            return respond([play("prompts/nope.wav"), HANGUP])
        if MODE == "other-bucket":
            return respond([{"Type": "PlayAudio", "Parameters": {
                "AudioSource": source("prompts/welcome.wav", "someone-elses-bucket")}}, HANGUP])
        if MODE == "outside-prefix":
            return respond([play("other/welcome.wav"), HANGUP])
        if MODE == "mulaw":
            return respond([play("prompts/mulaw.wav"), HANGUP])
        if MODE == "stereo":
            return respond([play("prompts/stereo16k.wav"), HANGUP])
        if MODE == "too-big":
            return respond([play("prompts/big.wav"), HANGUP])
        if MODE == "repeat":
            return respond([play(Repeat=3, PlaybackTerminators=["#"]), HANGUP])
        if MODE == "pause":
            return respond([{"Type": "Pause", "Parameters": {"DurationInMilliseconds": 500}},
                            play(), HANGUP])
        if MODE in ("last-play", "raise-later"):
            return respond([play()])
        if MODE == "idle":
            return respond([])
        if MODE == "loop":
            return respond([{"Type": "Pause", "Parameters": {"DurationInMilliseconds": 1}}])
        if MODE == "long":
            return respond([play(Repeat=100)])
        if MODE == "hangup-486":
            return respond([{"Type": "Hangup", "Parameters": {"SipResponseCode": "486"}}])
        if MODE in ("digits", "digits-null"):
            return respond([{"Type": "PlayAudioAndGetDigits", "Parameters": {
                "AudioSource": source("prompts/welcome.wav"),
                "FailureAudioSource": source("prompts/error.wav"),
                "MinNumberOfDigits": 2, "MaxNumberOfDigits": 4, "TerminatorDigits": ["#"],
                "Repeat": 2, "RepeatDurationInMilliseconds": 2000}}, HANGUP])
        if MODE == "digits-regex":  # the guide's one regex (play-audio-get-digits)
            return respond([{"Type": "PlayAudioAndGetDigits", "Parameters": {
                "AudioSource": source("prompts/welcome.wav"),
                "FailureAudioSource": source("prompts/error.wav"),
                "MinNumberOfDigits": 2, "MaxNumberOfDigits": 4, "TerminatorDigits": ["#"],
                "InputDigitsRegex": "^\\\\d{2}#$",
                "Repeat": 1, "RepeatDurationInMilliseconds": 2000}}, HANGUP])
        if MODE == "attributes":
            return respond([play()], TransactionAttributes={"step": "welcome"})
        if MODE == "attributes-other-keys":
            return respond([play()], TransactionAttributes={"a": "1"})
        if MODE == "eleven-attributes":
            return respond([play(), HANGUP],
                           TransactionAttributes={f"k{i}": "v" for i in range(11)})
        return respond([play(), HANGUP])


    def handler(event, context):
        kind = event["InvocationEventType"]
        SEEN.append(kind)
        if kind in ("HANGUP", "NEW_OUTBOUND_CALL", "RINGING"):
            return respond([])
        if kind in ("NEW_INBOUND_CALL", "CALL_ANSWERED"):
            return first(event)
        if kind == "ACTION_INTERRUPTED":
            return respond([play("prompts/error.wav")])  # ignored by the SMA
        if MODE == "raise-later":
            raise RuntimeError("broken after the first event")
        if MODE == "loop":
            return first(event)
        if MODE == "attributes" and kind == "ACTION_SUCCESSFUL":
            stored = event["CallDetails"].get("TransactionAttributes")
            if stored == {"step": "welcome"}:
                return respond([play("prompts/error.wav")], TransactionAttributes={})
            return respond([HANGUP])
        if kind == "ACTION_SUCCESSFUL" and MODE == "digits":
            digits = event["ActionData"]["ReceivedDigits"]
            return respond([], TransactionAttributes={"digits": digits, "seen": ",".join(SEEN)})
        if kind == "CALL_UPDATE_REQUESTED" and MODE == "update-empty":
            return respond([])
        if kind == "CALL_UPDATE_REQUESTED" and MODE == "update-null":
            return {"SchemaVersion": "1.0"}
        if kind == "ACTION_SUCCESSFUL" and MODE == "digits-null":
            return {"SchemaVersion": "1.0"}  # no Actions: a NULL action set
        if MODE == "attributes-other-keys" and kind == "ACTION_SUCCESSFUL":
            if event["CallDetails"].get("TransactionAttributes") == {"a": "1"}:
                return respond([play("prompts/error.wav")], TransactionAttributes={"b": "2"})
            return respond([HANGUP])
        return respond([HANGUP])
    '''
)


def _policy(sma_arn: Any, *, chime: bool, prefix: str) -> dict[str, Any]:
    bucket_arn = {"Fn::GetAtt": ["PromptBucket", "Arn"]}
    principal = (
        {"Service": "voiceconnector.chime.amazonaws.com"}
        if chime
        else {"AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}}
    )
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Deny",
                "Principal": {"AWS": "*"},
                "Action": "s3:*",
                "Resource": [bucket_arn, {"Fn::Join": ["", [bucket_arn, "/*"]]}],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            },
            {
                "Sid": "ChimePlayAudioRead1",
                "Effect": "Allow",
                "Principal": principal,
                "Action": "s3:GetObject",
                "Resource": {"Fn::Join": ["", [bucket_arn, f"/{prefix}*"]]},
                "Condition": {
                    "StringEquals": {
                        "aws:SourceAccount": {"Ref": "AWS::AccountId"},
                        "aws:SourceArn": [sma_arn],
                    }
                },
            },
        ],
    }


def write_assembly(
    root: Path,
    *,
    handler_code: str = BROKEN_HANDLER,
    timeout: int = 3,
    content_type: str | None = "audio/wav",
    chime_principal: bool = True,
    granted_prefix: str = "prompts/",
    deploy_prefix: str = "prompts/",
    permission: bool = True,
    extra_prompts: dict[str, bytes] | None = None,
) -> Path:
    """A minimal cdk.out with one stack; returns its folder."""
    root.mkdir(parents=True, exist_ok=True)
    code = root / "asset.handler"
    code.mkdir(exist_ok=True)
    (code / "index.py").write_text(handler_code)
    prompts = root / "asset.prompts"
    for name, content in {
        "welcome.wav": ONE_SECOND,
        "error.wav": wavgen.pcm(frames=4000),
        **(extra_prompts or {}),
    }.items():
        wavgen.write(prompts / name, content)
    sma_arn = {"Fn::GetAtt": ["Sma", "SipMediaApplicationArn"]}
    deployment: dict[str, Any] = {
        "ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:deployer",
        "SourceBucketNames": [{"Fn::Sub": "cdk-assets-${AWS::AccountId}-${AWS::Region}"}],
        "SourceObjectKeys": ["prompthash.zip"],
        "DestinationBucketName": {"Ref": "PromptBucket"},
        "DestinationBucketKeyPrefix": deploy_prefix,
    }
    if content_type is not None:
        deployment["SystemMetadata"] = {"content-type": content_type}
    resources: dict[str, Any] = {
        "PromptBucket": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": BUCKET}},
        "PromptBucketPolicy": {
            "Type": "AWS::S3::BucketPolicy",
            "Properties": {
                "Bucket": {"Ref": "PromptBucket"},
                "PolicyDocument": _policy(sma_arn, chime=chime_principal, prefix=granted_prefix),
            },
        },
        "PromptDeployment": {"Type": "Custom::CDKBucketDeployment", "Properties": deployment},
        "Handler": {
            "Type": "AWS::Lambda::Function",
            "Properties": {
                "Code": {"S3Bucket": "assets", "S3Key": "handlerhash.zip"},
                "Handler": "index.handler",
                "Runtime": "python3.12",
                "Timeout": timeout,
                "Environment": {
                    "Variables": {
                        "PROMPTS_BUCKET": {
                            "Fn::Select": [
                                5,
                                {"Fn::Split": [":", {"Fn::GetAtt": ["PromptBucket", "Arn"]}]},
                            ]
                        },
                        "MODE": "ok",
                    }
                },
            },
            "Metadata": {"aws:asset:path": "asset.handler"},
        },
        "Sma": {
            "Type": "AWS::Chime::SipMediaApplication",
            "Properties": {
                "AwsRegion": "us-east-1",
                "Name": "sim-test",
                "Endpoints": [{"LambdaArn": {"Fn::GetAtt": ["Handler", "Arn"]}}],
            },
        },
    }
    if permission:
        resources["HandlerInvoke"] = {
            "Type": "AWS::Lambda::Permission",
            "Properties": {
                "Action": "lambda:InvokeFunction",
                "FunctionName": {"Fn::GetAtt": ["Handler", "Arn"]},
                "Principal": "voiceconnector.chime.amazonaws.com",
                "SourceAccount": {"Ref": "AWS::AccountId"},
            },
        }
    (root / f"{STACK}.template.json").write_text(json.dumps({"Resources": resources}))
    (root / f"{STACK}.assets.json").write_text(
        json.dumps(
            {
                "version": "55.0.0",
                "files": {
                    "prompthash": {
                        "source": {"path": "asset.prompts", "packaging": "zip"},
                        "destinations": {
                            "d": {"bucketName": "assets", "objectKey": "prompthash.zip"}
                        },
                    },
                    "handlerhash": {
                        "source": {"path": "asset.handler", "packaging": "zip"},
                        "destinations": {
                            "d": {"bucketName": "assets", "objectKey": "handlerhash.zip"}
                        },
                    },
                },
            }
        )
    )
    (root / "manifest.json").write_text(
        json.dumps(
            {
                "version": "55.0.0",
                "artifacts": {
                    f"{STACK}.assets": {
                        "type": "cdk:asset-manifest",
                        "properties": {"file": f"{STACK}.assets.json"},
                    },
                    STACK: {
                        "type": "aws:cloudformation:stack",
                        "environment": "aws://unknown-account/us-east-1",
                        "properties": {"templateFile": f"{STACK}.template.json"},
                        "dependencies": [f"{STACK}.assets"],
                    },
                },
            }
        )
    )
    return root


def run(setup: CallSetup, mode: str = "ok", *, keys: str = "", **options: Any) -> CallResult:
    """One call with the broken handler in ``mode``."""
    environment = {**setup.function.environment, "MODE": mode}
    call_options = CallOptions(keys=parse_keys(keys), environment=environment, **options)
    return Call(setup, call_options).run()


@pytest.fixture(scope="session")
def broken_app(tmp_path_factory: pytest.TempPathFactory) -> CallSetup:
    """The hand-written assembly with the broken handler and a few broken prompts."""
    mulaw = wavgen.riff(wavgen.fmt(7, 1, 8000, 8), wavgen.data(800))
    root = write_assembly(
        tmp_path_factory.mktemp("broken-app") / "cdk.out",
        extra_prompts={
            "mulaw.wav": mulaw,
            "stereo16k.wav": wavgen.pcm(rate=16000, channels=2, frames=16000),
        },
    )
    big = root / "asset.prompts" / "big.wav"
    header = wavgen.riff(wavgen.fmt(), wavgen.chunk(b"data", b"", size=50_000_100 - 44))
    wavgen.write_sparse(big, header, 50_000_100)
    return load_call_setup(root)


@pytest.fixture
def make_setup(tmp_path: Path) -> Callable[..., CallSetup]:
    """A fresh assembly with some part broken; keyword arguments as write_assembly's."""

    def factory(**kwargs: Any) -> CallSetup:
        return load_call_setup(write_assembly(tmp_path / "cdk.out", **kwargs))

    return factory


@pytest.fixture(scope="session")
def sample_cdk_out(make_app: Callable[..., Any], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample app (app.build_app), synthesized once into a temporary cdk.out."""
    from app import build_app

    outdir = tmp_path_factory.mktemp("sample-app") / "cdk.out"
    app = make_app(outdir=str(outdir))
    build_app(app, {})
    app.synth()
    return outdir


@pytest.fixture(scope="session")
def sample_setup(sample_cdk_out: Path) -> CallSetup:
    return load_call_setup(sample_cdk_out)
