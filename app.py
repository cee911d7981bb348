#!/usr/bin/env python3
"""The sample app: PlayAudioStack, checked by five cdk-nag packs on every synth."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping
from pathlib import Path

import aws_cdk as cdk
from cdk_nag import (
    AwsSolutionsChecks,
    HIPAASecurityChecks,
    NIST80053R5Checks,
    PCIDSS321Checks,
    ServerlessChecks,
)
from constructs import Construct

from constructs_pkg import (
    CallMonitoring,
    PromptBucket,
    SipMediaApplication,
    SipMessageLogs,
    SipRule,
    WavPrompts,
)

DEFAULT_REGION = "us-east-1"
APP_DIR = Path(__file__).resolve().parent
DEFAULT_PROMPTS_DIR = "assets/prompts"


class PlayAudioStack(cdk.Stack):
    """Everything a call needs: prompt bucket, checked prompts, the SMA and its handler;
    the SMA's SIP message logs (on, kept for a month) to debug calls with; and the
    alarms, alarm topic and dashboard that watch its calls.

    Context: ``promptsDir`` (default assets/prompts, relative to this file),
    ``normalizePrompts`` (default false), ``languages`` (language folders, the default
    first: ``en-US,es-US``; default none), ``languageByNumber`` (a JSON object of your
    E.164 numbers to languages; default none), and ``phoneNumber`` or ``sipHostname``
    (default none), which add a SIP rule routing that number or host to the SMA.
    """

    def __init__(
        self, scope: Construct, construct_id: str, *, env: cdk.Environment | None = None
    ) -> None:
        super().__init__(scope, construct_id, env=env)
        prompts_dir = context_text(self, "promptsDir")
        phone_number = context_text(self, "phoneNumber")
        hostname = context_text(self, "sipHostname")
        languages = context_text(self, "languages")
        language_by_number = context_mapping(self, "languageByNumber")
        self.prompt_bucket = PromptBucket(self, "Prompts")
        self.prompts = WavPrompts(
            self,
            "PromptFiles",
            prompt_bucket=self.prompt_bucket,
            source_dir=APP_DIR / (prompts_dir or DEFAULT_PROMPTS_DIR),
            normalize=context_flag(self, "normalizePrompts"),
            languages=[part.strip() for part in languages.split(",")] if languages else (),
        )
        self.sma = SipMediaApplication(
            self, "Sma", prompts=[self.prompts], language_by_number=language_by_number
        )
        self.sip_message_logs = SipMessageLogs(
            self, "SipMessageLogs", sip_media_application=self.sma
        )
        self.monitoring = CallMonitoring(self, "Monitoring", sip_media_application=self.sma)
        self.sip_rule: SipRule | None = None
        if phone_number is not None or hostname is not None:
            self.sip_rule = SipRule(
                self,
                "SipRule",
                sip_media_application=self.sma,
                phone_number=phone_number,
                request_uri_hostname=hostname,
            )


def context_text(scope: Construct, key: str) -> str | None:
    """A text context value, or None when the key is not set at all.

    Set but empty or blank (``-c phoneNumber=$UNSET``) is an error, never taken as unset:
    that would silently drop a SIP rule or deploy the sample prompts instead of yours.
    """
    value = scope.node.try_get_context(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ValueError(
            f"context {key} is {value!r}; expected a non-empty text value "
            f"(-c {key}=...), or leave {key} unset"
        )
    return value


def context_mapping(scope: Construct, key: str) -> Mapping[str, str] | None:
    """A JSON object context value (an object in cdk.json, its JSON text from ``-c``), or
    None when the key is not set."""
    value = scope.node.try_get_context(key)
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError as error:
            raise ValueError(
                f"context {key} is {value!r}, not JSON ({error}); expected a JSON object "
                f'such as -c {key}=\'{{"+12065550100": "es-US"}}\''
            ) from None
    if not isinstance(value, dict):
        raise ValueError(f"context {key} is {value!r}; expected a JSON object")
    return value


def context_flag(scope: Construct, key: str) -> bool:
    """A boolean context value: true/false, as JSON in cdk.json or as text from ``-c``."""
    value = scope.node.try_get_context(key)
    if value is None or isinstance(value, bool):
        return bool(value)
    if str(value).lower() in ("true", "false"):
        return str(value).lower() == "true"
    raise ValueError(f"context {key} is {value!r}; expected true or false")


def stack_environment(environ: dict[str, str]) -> cdk.Environment:
    """Region: CDK_DEFAULT_REGION, else us-east-1. Account: CDK_DEFAULT_ACCOUNT, else agnostic."""
    return cdk.Environment(
        account=environ.get("CDK_DEFAULT_ACCOUNT") or None,
        region=environ.get("CDK_DEFAULT_REGION") or DEFAULT_REGION,
    )


def add_compliance_packs(app: cdk.App) -> None:
    """Run the cdk-nag packs AwsSolutions, HIPAA Security, NIST 800-53 rev 5, PCI DSS 3.2.1
    and Serverless on every synth of ``app``: an unacknowledged finding fails the synth."""
    cdk.Validations.of(app).add_plugins(
        AwsSolutionsChecks(app),
        HIPAASecurityChecks(app),
        NIST80053R5Checks(app),
        PCIDSS321Checks(app),
        ServerlessChecks(app),
    )


def build_app(app: cdk.App, environ: dict[str, str]) -> PlayAudioStack:
    """Add PlayAudioStack and the nag packs to ``app``; tests call this with their own App."""
    stack = PlayAudioStack(app, "PlayAudioStack", env=stack_environment(environ))
    add_compliance_packs(app)
    return stack


def main() -> None:
    """Synthesize; a misconfiguration (bad prompts, bad context) is one message, not a traceback."""
    cdk_app = cdk.App()
    try:
        build_app(cdk_app, dict(os.environ))
    except (ValueError, LookupError) as error:
        sys.exit(f"PlayAudioStack: {error}")
    cdk_app.synth()


if __name__ == "__main__":
    main()
