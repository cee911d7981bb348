#!/usr/bin/env python3
"""Prompts only: a prompt bucket and checked prompts for a SIP media application you have.

Your SMA and its function exist already (made in the console, by another stack or
tool); this app adds only what they play: a ``PromptBucket`` and the WAV prompts of
``prompts/`` under ``prompts/``, with the bucket policy letting Chime read them for
that one SMA and no other. Give the SMA's ARN as context:

    cdk synth -c smaArn=arn:aws:chime:us-east-1:123456789012:sma/<sma-id>

(in this folder, with the venv that has ``chime-playaudio-constructs`` active). The
stack goes to the SMA's account and region, read from the ARN: Chime plays only from a
bucket of the SMA's own account. Its outputs are the bucket name and the key prefix
your function puts in each PlayAudio ``AudioSource``
(``{"Type": "S3", "BucketName": <bucket>, "Key": "prompts/welcome.wav"}``).
"""

from __future__ import annotations

import sys
from pathlib import Path

import aws_cdk as cdk

from constructs_pkg import PromptBucket, WavPrompts

HERE = Path(__file__).resolve().parent
EXAMPLE_ARN = "arn:aws:chime:us-east-1:123456789012:sma/<sma-id>"


def sma_arn(app: cdk.App) -> str:
    """The SMA's ARN from ``-c smaArn=...``; missing or empty is an error, never a default."""
    arn = app.node.try_get_context("smaArn")
    if not isinstance(arn, str) or not arn.strip():
        sys.exit(
            f"PromptsOnlyStack: context smaArn is {arn!r}; expected the ARN of your SIP "
            f"media application: cdk synth -c smaArn={EXAMPLE_ARN}"
        )
    return arn.strip()


def sma_environment(arn: str) -> cdk.Environment:
    """The SMA's account (Chime plays only from a bucket of that account) and region."""
    parts = arn.split(":")
    if len(parts) != 6 or parts[2] != "chime":
        sys.exit(f"PromptsOnlyStack: smaArn is {arn!r}; expected an ARN like {EXAMPLE_ARN}")
    return cdk.Environment(account=parts[4], region=parts[3])


app = cdk.App()
arn = sma_arn(app)
stack = cdk.Stack(app, "PromptsOnlyStack", env=sma_environment(arn))
bucket = PromptBucket(stack, "Prompts")
prompts = WavPrompts(stack, "PromptFiles", prompt_bucket=bucket, source_dir=HERE / "prompts")
try:
    prompts.grant_play(arn)  # Chime may read prompts/* for this SMA, in its account only
except ValueError as error:  # an ARN of no SMA: one message, not a traceback
    sys.exit(f"PromptsOnlyStack: {error}")
cdk.CfnOutput(stack, "PromptsBucketName", value=bucket.bucket.bucket_name)
cdk.CfnOutput(stack, "PromptsKeyPrefix", value=prompts.key_prefix)
app.synth()
