#!/usr/bin/env python3
"""Two SIP media applications, in us-east-1 and us-west-2, for a phone number that fails over.

AWS recommends an SMA in each of two regions, with the SIP rule of your number trying
the first and failing over to the second. Each region is one stack with everything its
calls need, so that an outage of one region's S3 or Lambda leaves the other's calls
playing: its own ``PromptBucket`` (the same ``prompts/`` folder deployed to both, under
the same keys), its SMA with the sample handler, and a bucket policy that lets Chime
read for that region's SMA and no other.

    cdk synth                       # both stacks, IvrWest and IvrEast

The SIP rule lives in IvrEast and names IvrWest's SMA as the failover target.
CloudFormation exports do not cross regions (aws-cdk-lib's ``cross_region_references``
bridges them with custom resources of its own, an experimental feature not used here),
so the rule comes in a second step, with the id ``cdk deploy IvrWest`` printed (its
output ``SmaId``):

    cdk deploy IvrWest
    cdk deploy IvrEast -c phoneNumber=+12065550100 -c westSmaId=<IvrWest's SmaId>

(in this folder, with the venv that has ``chime-playaudio-constructs`` active).

``cdk synth`` warns ``F3006``: the resource registry that aws-cdk-lib's built-in
CloudFormation validation bundles has no ``AWS::Chime::SipMediaApplication`` in
us-west-2, though SMAs exist there. Whether CloudFormation there creates one is not
known offline: deploy IvrWest first, and if it fails on that type, that is why. Under
the cdk.json ``cdk init`` writes, which sets ``@aws-cdk/core:validateAgainstDefaultRules``,
the warning is an error and the synth fails; this folder's cdk.json leaves it a warning.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import aws_cdk as cdk
from constructs import Construct

from constructs_pkg import PromptBucket, SipMediaApplication, SipRule, SipRuleTarget, WavPrompts

HERE = Path(__file__).resolve().parent
FAILOVER_REGION = "us-west-2"


class RegionalIvr(cdk.Stack):
    """One region's prompt bucket, prompts and SMA; the policy names this SMA only."""

    def __init__(self, scope: Construct, construct_id: str, *, region: str) -> None:
        account = os.environ.get("CDK_DEFAULT_ACCOUNT") or None
        super().__init__(scope, construct_id, env=cdk.Environment(account=account, region=region))
        prompts = WavPrompts(
            self,
            "PromptFiles",
            prompt_bucket=PromptBucket(self, "Prompts"),
            source_dir=HERE / "prompts",
        )
        self.sma = SipMediaApplication(self, "Sma", prompts=[prompts])
        cdk.CfnOutput(self, "SmaId", value=self.sma.sma_id)


def context_text(app: cdk.App, key: str) -> str | None:
    """A text context value, or None when unset; set but empty is an error, not unset."""
    value = app.node.try_get_context(key)
    if value is not None and (not isinstance(value, str) or not value.strip()):
        sys.exit(f"IvrEast: context {key} is {value!r}; expected a value, or leave it unset")
    return value


app = cdk.App()
RegionalIvr(app, "IvrWest", region=FAILOVER_REGION)
east = RegionalIvr(app, "IvrEast", region="us-east-1")
phone_number = context_text(app, "phoneNumber")
west_sma_id = context_text(app, "westSmaId")
if (phone_number is None) != (west_sma_id is None):
    sys.exit(
        "IvrEast: the SIP rule needs both -c phoneNumber=+1... (your number) and "
        "-c westSmaId=... (the SmaId output of cdk deploy IvrWest)"
    )
if phone_number is not None and west_sma_id is not None:
    try:
        SipRule(
            east,
            "SipRule",
            sip_media_application=east.sma,  # priority 1
            phone_number=phone_number,
            failover_targets=[SipRuleTarget(west_sma_id, FAILOVER_REGION, priority=2)],
        )
    except ValueError as error:  # a bad number or id: one message, not a traceback
        sys.exit(f"IvrEast: {error}")
app.synth()
