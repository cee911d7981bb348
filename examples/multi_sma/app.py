#!/usr/bin/env python3
"""Two SIP media applications, in us-east-1 and us-west-2, for a phone number that fails over.

AWS recommends an SMA in each of the two regions that have phone numbers, with the SIP
rule of your number trying the first and failing over to the second. Each region plays
from a prompt bucket of its own (the same ``prompts/`` folder deployed to both, under
the same keys), so that an outage of one region's S3 leaves the other's calls playing,
and each bucket lets Chime read for that region's SMA and no other.

CloudFormation has no ``AWS::Chime::SipMediaApplication`` type in us-west-2, though SMAs
exist there (the resource registries of cfn-lint and of aws-cdk-lib's template
validation agree; ``SipMediaApplication`` refuses that region at synth). So:

- ``IvrEast`` (us-east-1): the prompt bucket and prompts, the SMA with the sample
  handler, and the SIP rule of your number, failing over to the west SMA;
- ``IvrWest`` (us-west-2): the prompt bucket and prompts for the west SMA, which you
  create with the API or the console (its Lambda in us-west-2, your own), as in
  examples/prompts_only.

::

    aws chime-sdk-voice create-sip-media-application --region us-west-2 ...   # once
    cdk deploy --all -c westSmaArn=arn:aws:chime:us-west-2:<account>:sma/<id> \\
        -c phoneNumber=+12065550100

(in this folder, with the venv that has ``chime-playaudio-constructs`` active, both
regions bootstrapped: ``cdk bootstrap aws://<account>/us-east-1 aws://<account>/us-west-2``).
Both stacks go to the west SMA's account, read from its ARN: Chime plays only from a
bucket of the SMA's own account. Without ``phoneNumber`` there is no SIP rule;
``westSmaArn`` is always needed.
"""

from __future__ import annotations

import sys
from pathlib import Path

import aws_cdk as cdk

from constructs_pkg import PromptBucket, SipMediaApplication, SipRule, SipRuleTarget, WavPrompts

HERE = Path(__file__).resolve().parent
FAILOVER_REGION = "us-west-2"
EXAMPLE_ARN = f"arn:aws:chime:{FAILOVER_REGION}:123456789012:sma/<sma-id>"


def context_text(app: cdk.App, key: str) -> str | None:
    """A text context value, stripped, or None when unset; set but empty is an error."""
    value = app.node.try_get_context(key)
    if value is not None and (not isinstance(value, str) or not value.strip()):
        sys.exit(f"multi_sma: context {key} is {value!r}; expected a value, or leave it unset")
    return None if value is None else value.strip()


def west_sma(app: cdk.App) -> tuple[str, str, str]:
    """The west SMA's ARN, account and id, from ``-c westSmaArn=...``."""
    arn = context_text(app, "westSmaArn")
    if arn is None:
        sys.exit(
            f"multi_sma: context westSmaArn is not set; expected the ARN of your SMA in "
            f"{FAILOVER_REGION}: -c westSmaArn={EXAMPLE_ARN}"
        )
    parts = arn.split(":")
    resource = parts[5].split("/") if len(parts) == 6 else []
    if (
        len(resource) != 2
        or parts[:4] != ["arn", "aws", "chime", FAILOVER_REGION]
        or not (parts[4].isdigit() and len(parts[4]) == 12)
        or resource[0] != "sma"
        or not resource[1]
    ):
        sys.exit(
            f"multi_sma: context westSmaArn is {arn!r}; expected the ARN of your SMA in "
            f"{FAILOVER_REGION}, like {EXAMPLE_ARN}"
        )
    return arn, parts[4], resource[1]


def prompts_for(stack: cdk.Stack) -> WavPrompts:
    """The region's own prompt bucket, with the prompts of prompts/ deployed to it."""
    bucket = PromptBucket(stack, "Prompts")
    return WavPrompts(stack, "PromptFiles", prompt_bucket=bucket, source_dir=HERE / "prompts")


app = cdk.App()
west_arn, account, west_id = west_sma(app)

west = cdk.Stack(app, "IvrWest", env=cdk.Environment(account=account, region=FAILOVER_REGION))
west_prompts = prompts_for(west)
try:
    west_prompts.grant_play(west_arn)  # Chime may read prompts/* for the west SMA only
except ValueError as error:  # an SMA id the ARN rules refuse: one message, not a traceback
    sys.exit(f"IvrWest: {error}")
cdk.CfnOutput(west, "PromptsBucketName", value=west_prompts.prompt_bucket.bucket.bucket_name)
cdk.CfnOutput(west, "PromptsKeyPrefix", value=west_prompts.key_prefix)

east = cdk.Stack(app, "IvrEast", env=cdk.Environment(account=account, region="us-east-1"))
east_sma = SipMediaApplication(east, "Sma", prompts=[prompts_for(east)])
phone_number = context_text(app, "phoneNumber")
if phone_number is not None:
    try:
        SipRule(
            east,
            "SipRule",
            sip_media_application=east_sma,  # priority 1
            phone_number=phone_number,
            failover_targets=[SipRuleTarget(west_id, FAILOVER_REGION, priority=2)],
        )
    except ValueError as error:  # a bad number: one message, not a traceback
        sys.exit(f"IvrEast: {error}")
app.synth()
