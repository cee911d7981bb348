#!/usr/bin/env python3
"""Your own IVR function plays prompts by name, in the caller's language.

A prompt bucket, a two-language prompt folder (``prompts/en-US``, ``prompts/es-US``),
your function with the prompt catalog bound to it, and a SIP media application that
invokes it. No S3 key is written by hand: the function asks the catalog for
``welcome`` in a language and gets the PlayAudio ``AudioSource``.
"""

from __future__ import annotations

from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_lambda as lambda_

from constructs_pkg import PromptBucket, SipMediaApplication, WavPrompts

HERE = Path(__file__).resolve().parent

app = cdk.App()
stack = cdk.Stack(app, "PlayByNameStack", env=cdk.Environment(region="us-east-1"))
prompts = WavPrompts(
    stack,
    "PromptFiles",
    prompt_bucket=PromptBucket(stack, "Prompts"),
    source_dir=HERE / "prompts",
    languages=["en-US", "es-US"],  # folders; the first is the default
)
# es-US has no goodbye yet: calls in Spanish hear the English one. Said once, here.
cdk.Annotations.of(prompts).acknowledge_warning(
    "constructs-pkg:missing-prompts:es-US", "goodbye is recorded in English only, for now"
)
ivr = lambda_.Function(
    stack,
    "Ivr",
    runtime=lambda_.Runtime.PYTHON_3_13,
    architecture=lambda_.Architecture.ARM_64,
    handler="index.handler",
    code=lambda_.Code.from_asset(str(HERE / "handler")),
    timeout=cdk.Duration.seconds(3),
)
prompts.bind(ivr)  # the catalog layer, PROMPT_CATALOG and PROMPTS_BUCKET
SipMediaApplication(stack, "Sma", prompts=[prompts], function=ivr)
app.synth()
