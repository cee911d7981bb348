#!/usr/bin/env python3
"""The synth growth benchmark's app: a PromptBucket and WavPrompts of N generated prompts.

PlayAudioStack itself cannot carry 100 or 1,000 prompts: its sample handler gets the
prompt manifest in a Lambda environment variable, capped at 3,072 bytes (about 40
prompts), and refuses more by design. So the growth series synthesizes what grows
with the prompt count, the bucket and the prompt deployment, under the same nag packs.

Context: ``promptsDir`` (absolute), ``normalizePrompts`` (true/false), ``nagPacks``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import aws_cdk as cdk

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.nag_packs import add_packs
from constructs_pkg import PromptBucket, WavPrompts


def main() -> None:
    app = cdk.App()
    stack = cdk.Stack(app, "PromptsStack", env=cdk.Environment(region="us-east-1"))
    bucket = PromptBucket(stack, "Prompts")
    WavPrompts(
        stack,
        "PromptFiles",
        prompt_bucket=bucket,
        source_dir=str(app.node.try_get_context("promptsDir")),
        normalize=str(app.node.try_get_context("normalizePrompts")).lower() == "true",
    )
    add_packs(app, str(app.node.try_get_context("nagPacks") or "AwsSolutions"))
    app.synth()


if __name__ == "__main__":
    main()
