#!/usr/bin/env python3
"""The sample app: PlayAudioStack, checked by the cdk-nag AwsSolutions pack on every synth."""

from __future__ import annotations

import os

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks
from constructs import Construct

from constructs_pkg import PromptBucket

DEFAULT_REGION = "us-east-1"


class PlayAudioStack(cdk.Stack):
    """Everything a call needs: the prompt bucket (more to come: prompts, SMA, Lambda)."""

    def __init__(
        self, scope: Construct, construct_id: str, *, env: cdk.Environment | None = None
    ) -> None:
        super().__init__(scope, construct_id, env=env)
        self.prompt_bucket = PromptBucket(self, "Prompts")


def stack_environment(environ: dict[str, str]) -> cdk.Environment:
    """Region: CDK_DEFAULT_REGION, else us-east-1. Account: CDK_DEFAULT_ACCOUNT, else agnostic."""
    return cdk.Environment(
        account=environ.get("CDK_DEFAULT_ACCOUNT") or None,
        region=environ.get("CDK_DEFAULT_REGION") or DEFAULT_REGION,
    )


def build_app(app: cdk.App, environ: dict[str, str]) -> PlayAudioStack:
    """Add PlayAudioStack and the nag pack to ``app``; tests call this with their own App."""
    stack = PlayAudioStack(app, "PlayAudioStack", env=stack_environment(environ))
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return stack


if __name__ == "__main__":
    cdk_app = cdk.App()
    build_app(cdk_app, dict(os.environ))
    cdk_app.synth()
