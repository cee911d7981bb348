#!/usr/bin/env python3
"""The synth growth benchmark's app: a PromptBucket and WavPrompts of N generated prompts.

It synthesizes what grows with the prompt count, the bucket and the prompt deployment,
alone under the same nag packs, so section 3 can show normalization off and on, cold
and cached. PlayAudioStack itself with 10 to 5,000 prompts (its handler reads them from
the catalog layer, whatever their number) is section 8's (bench/catalog.py).

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
