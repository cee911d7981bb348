#!/usr/bin/env python3
"""The synth benchmark's reference app: one plain S3 bucket, under the same cdk-nag packs.

Context ``nagPacks``: comma-separated pack report names (default "AwsSolutions"); the
benchmark passes the packs the sample app's own synth ran (its validation report).
The bucket gets the settings any bucket needs to pass AwsSolutions (TLS enforced, no
public access, SSE-S3), and the findings the packs still raise on a bucket with no
log bucket, replication or KMS key are acknowledged: the reference is what a user
writes for "a bucket", not a second PlayAudioStack.
"""

from __future__ import annotations

import sys
from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_s3 as s3

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.nag_packs import add_packs

REASON = "The synth benchmark's reference: one plain bucket, nothing to log or replicate to."
BUCKET_FINDINGS = {
    "AwsSolutions": ["AwsSolutions-S1"],
    "HIPAA.Security": [
        "S3BucketLoggingEnabled",
        "S3BucketReplicationEnabled",
        "S3DefaultEncryptionKMS",
    ],
    "NIST.800.53.R5": [
        "S3BucketLoggingEnabled",
        "S3BucketReplicationEnabled",
        "S3DefaultEncryptionKMS",
    ],
    "PCI.DSS.321": [
        "S3BucketLoggingEnabled",
        "S3BucketReplicationEnabled",
        "S3DefaultEncryptionKMS",
    ],
    "Serverless": [],
}


def build(app: cdk.App) -> cdk.Stack:
    """Add PlainBucketStack and the packs named by the context ``nagPacks`` to ``app``."""
    stack = cdk.Stack(app, "PlainBucketStack", env=cdk.Environment(region="us-east-1"))
    bucket = s3.Bucket(
        stack,
        "Bucket",
        enforce_ssl=True,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        encryption=s3.BucketEncryption.S3_MANAGED,
        versioned=True,
        removal_policy=cdk.RemovalPolicy.RETAIN,
    )
    packs = add_packs(app, str(app.node.try_get_context("nagPacks") or "AwsSolutions"))
    resource = bucket.node.default_child
    assert resource is not None
    for pack in packs:
        for rule in BUCKET_FINDINGS[pack]:
            rule_id = rule if rule.startswith(pack) else f"{pack}-{rule}"
            cdk.Validations.of(resource).acknowledge(
                cdk.Acknowledgment(id=f"{pack}::{rule_id}", reason=REASON)
            )
    return stack


def main() -> None:
    app = cdk.App()
    build(app)
    app.synth()


if __name__ == "__main__":
    main()
