"""The constructs composed the way a user would, synthesized through the real CDK CLI.

tests/compose_app.py brings its own bucket and function and runs every compliance
pack of the sample app; the CLI must synthesize it offline, silently, with exit 0.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from tests.cli import ROOT, cli_synth

# Relative to ROOT, the CLI's working directory, so that it reads cdk.json there.
COMPOSE_APP = ".venv/bin/python tests/compose_app.py"


def synth_compose_app(tmp_path: Path) -> tuple[subprocess.CompletedProcess[str], Path]:
    outdir = tmp_path / "cdk.out"
    return cli_synth(COMPOSE_APP, ROOT, outdir, {}, tmp_path), outdir


def one(resources: dict[str, Any], resource_type: str) -> tuple[str, dict[str, Any]]:
    (found,) = [(key, r) for key, r in resources.items() if r["Type"] == resource_type]
    return found


def test_compose_app_synthesizes_through_the_cli_with_every_pack(tmp_path: Path) -> None:
    result, outdir = synth_compose_app(tmp_path)

    # Exit 0 means no unacknowledged finding in any pack. With --quiet nothing is printed
    # but the validation report, which the CLI renders as one empty line when it is clean:
    # a warning (a skipped prompt, an unmanaged bucket policy) would show up here.
    assert result.returncode == 0, f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    assert (result.stdout, result.stderr.strip()) == ("", "")

    report = json.loads((outdir / "validation-report.json").read_text())
    conclusions = {r["pluginName"]: r["conclusion"] for r in report["pluginReports"]}
    assert conclusions == dict.fromkeys(
        ["AwsSolutions", "HIPAA.Security", "NIST.800.53.R5", "PCI.DSS.321", "Serverless"],
        "success",
    )

    # --app replaced cdk.json's "app" (the sample app), and only that.
    assert sorted(path.name for path in outdir.glob("*.template.json")) == [
        "ComposeStack.template.json"
    ]
    template = json.loads((outdir / "ComposeStack.template.json").read_text())
    resources = template["Resources"]
    paths = {r["Metadata"]["aws:cdk:path"]: key for key, r in resources.items() if "Metadata" in r}
    # The SMA's one endpoint is the user's function, and Chime may invoke exactly it.
    function_id = paths["ComposeStack/Ivr/Resource"]
    function = resources[function_id]["Properties"]
    assert (function["Handler"], set(function["Code"])) == ("index.handler", {"ZipFile"})
    sma_id, sma = one(resources, "AWS::Chime::SipMediaApplication")
    assert sma["Properties"]["Endpoints"] == [{"LambdaArn": {"Fn::GetAtt": [function_id, "Arn"]}}]
    _, permission = one(resources, "AWS::Lambda::Permission")
    assert permission["Properties"]["FunctionName"] == {"Fn::GetAtt": [function_id, "Arn"]}
    assert permission["Properties"]["Principal"] == "voiceconnector.chime.amazonaws.com"

    # The Chime statement is on the user's own bucket (no bucket was created for them).
    buckets = {key for key, r in resources.items() if r["Type"] == "AWS::S3::Bucket"}
    user_bucket = paths["ComposeStack/Prompts/Resource"]
    assert buckets == {user_bucket, paths["ComposeStack/AccessLogs/Resource"]}
    policies = {
        r["Properties"]["Bucket"]["Ref"]: r
        for r in resources.values()
        if r["Type"] == "AWS::S3::BucketPolicy"
    }
    (statement,) = chime_statements_of(policies[user_bucket])
    assert statement["Action"] == "s3:GetObject"
    assert statement["Resource"] == {
        "Fn::Join": ["", [{"Fn::GetAtt": [user_bucket, "Arn"]}, "/prompts/*"]]
    }
    assert statement["Condition"]["StringEquals"]["aws:SourceArn"] == [
        {"Fn::GetAtt": [sma_id, "SipMediaApplicationArn"]}
    ]

    # cdk.json's context reached the app: S3 access logging by bucket policy (not ACL) is
    # the @aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy feature flag set there; without
    # it these bucket-owner-enforced buckets would not even synthesize.
    log_policy = policies[paths["ComposeStack/AccessLogs/Resource"]]
    principals = [
        s.get("Principal") for s in log_policy["Properties"]["PolicyDocument"]["Statement"]
    ]
    assert {"Service": "logging.s3.amazonaws.com"} in principals


def chime_statements_of(policy: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        s
        for s in policy["Properties"]["PolicyDocument"]["Statement"]
        if s.get("Principal") == {"Service": "voiceconnector.chime.amazonaws.com"}
    ]
