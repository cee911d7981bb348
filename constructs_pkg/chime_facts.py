"""The Amazon Chime SDK facts the constructs, the call simulator and the tests rely on, in one
place: who reads the prompts, what they must be labelled, where SMAs and phone numbers exist,
and what a name or number may look like; and where Lambda mounts layers and finds their
Python modules, which the catalog layer and the simulator's stand-in Lambda both rest on.

Import-light (no CDK): the simulator and the tests import it without loading jsii. The name
and number patterns, and what an error says they expect, live in
``constructs_pkg.custom_resources`` because the SIP rule's Lambda asset ships that folder
alone; they are re-exported here.
"""

from __future__ import annotations

from constructs_pkg.custom_resources import (
    CHIME_NAME,
    CHIME_NAME_EXPECTED,
    E164_EXPECTED,
    E164_NUMBER,
    SMA_ID,
)

__all__ = [
    "CHIME_INVOKE_ACTION",
    "CHIME_NAME",
    "CHIME_NAME_EXPECTED",
    "CHIME_PROMPT_READ_ACTION",
    "CHIME_SERVICE_PRINCIPAL",
    "E164_EXPECTED",
    "E164_NUMBER",
    "LAYER_MOUNT",
    "LAYER_PYTHON",
    "PHONE_NUMBER_REGIONS",
    "SMA_ID",
    "SMA_REGIONS",
    "SMA_RETRY_SECONDS",
    "SMA_TYPE_REGIONS",
    "WAV_CONTENT_TYPE",
    "sma_arn",
]

CHIME_SERVICE_PRINCIPAL = "voiceconnector.chime.amazonaws.com"
"""The principal Chime PSTN audio reads prompts (s3:GetObject) and invokes handlers as."""
CHIME_PROMPT_READ_ACTION = "s3:GetObject"
"""What Chime reads a prompt with; a bucket policy must allow it to that principal."""
CHIME_INVOKE_ACTION = "lambda:InvokeFunction"
"""What Chime invokes an SMA's handler with; without a permission for it, calls drop."""


def sma_arn(partition: str, region: str, account: str, sma_id: str) -> str:
    """A SIP media application's ARN: what aws:SourceArn holds when Chime acts for it."""
    return f"arn:{partition}:chime:{region}:{account}:sma/{sma_id}"


SMA_RETRY_SECONDS = 5
"""An SMA that has no answer from its handler within this many seconds invokes it again
(Amazon Chime SDK Developer Guide, PSTN audio, timeouts.html): a handler must answer well before."""

WAV_CONTENT_TYPE = "audio/wav"
"""The Content-Type a WAV prompt must carry; ``aws s3 sync`` would label it audio/x-wav."""

SMA_REGIONS = (
    "us-east-1",
    "us-west-2",
    "ca-central-1",
    "eu-central-1",
    "eu-west-1",
    "eu-west-2",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-southeast-1",
    "ap-southeast-2",
)
"""Where SIP media applications exist (Chime SDK PSTN audio)."""

SMA_TYPE_REGIONS = tuple(region for region in SMA_REGIONS if region != "us-west-2")
"""Where CloudFormation has the AWS::Chime::SipMediaApplication type: not us-west-2, though
SMAs exist there (the per-region resource registries that cfn-lint 1.58 and aws-cdk-lib
2.275's template validation carry agree; a deploy there fails on an unrecognized type).
tests/test_sip_media_application.py holds this list to cfn-lint's."""

PHONE_NUMBER_REGIONS = ("us-east-1", "us-west-2")
"""Where phone numbers (and so phone-number SIP rules) exist."""

LAYER_MOUNT = "/opt"
"""Where Lambda extracts a function's layers (the catalog layer's files are read there); a
Lambda fact the SMA's handler rests on, here so that the constructs and the simulator's
stand-in Lambda share it."""
LAYER_PYTHON = "python"
"""The folder of a layer (under ``LAYER_MOUNT``) that Lambda's Python runtimes put on
``sys.path`` ("Layer paths for each Lambda runtime"); the catalog layer ships its helper
module there, and the simulator's stand-in Lambda imports from it."""
