"""The apps of examples/, as a user has them: each folder copied out of the repo into a
temporary one and synthesized there by the real CDK CLI, running cdk.json's app as
``cdk synth`` in the folder does (examples/play_by_name: tests/app/test_large_catalog_app.py).

Each synth must leave the user's files byte for byte as they were, and the template must
hold what the user depends on: Chime may read the prompts for exactly the SMAs the user
means, and the SMA invokes the function the user means.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.app.test_compliance import PACKS
from tests.cli import ROOT, cli_synth
from tests.source_tree import left_as_it_was

CHIME = {"Service": "voiceconnector.chime.amazonaws.com"}
ACCOUNT = "123456789012"
SMA_ARN = f"arn:aws:chime:us-east-1:{ACCOUNT}:sma/1a2b3c4d-0000-4000-8000-000000000001"
WEST_SMA_ID = "0f2e5c1a-3b4d-4e6f-8a9b-1c2d3e4f5a6b"
WEST_SMA_ARN = f"arn:aws:chime:us-west-2:{ACCOUNT}:sma/{WEST_SMA_ID}"
PHONE_NUMBER = "+12065550100"


@dataclass(frozen=True)
class Synth:
    """One CLI synth of an example: its exit status, what it printed, what it wrote."""

    returncode: int
    stderr: str
    outdir: Path

    def template(self, stack: str) -> dict[str, Any]:
        document: dict[str, Any] = json.loads((self.outdir / f"{stack}.template.json").read_text())
        return document

    def stacks(self) -> dict[str, str]:
        """Each stack of the assembly with its environment (aws://account/region)."""
        manifest = json.loads((self.outdir / "manifest.json").read_text())
        return {
            name: artifact["environment"]
            for name, artifact in manifest["artifacts"].items()
            if artifact["type"] == "aws:cloudformation:stack"
        }

    def report(self) -> dict[str, dict[str, Any]]:
        """The validation report of each plugin that ran, by plugin name."""
        report = json.loads((self.outdir / "validation-report.json").read_text())
        return {plugin["pluginName"]: plugin for plugin in report["pluginReports"]}

    def findings(self) -> list[tuple[str, str]]:
        """Every finding not acknowledged, of any plugin: (rule, construct path)."""
        return sorted(
            (violation["ruleName"], construct["constructPath"])
            for plugin in self.report().values()
            for violation in plugin["violations"]
            for construct in violation["violatingConstructs"]
        )

    def warnings(self) -> list[str]:
        """The synth's warnings and errors (acknowledged ones are not written)."""
        return [
            str(entry["data"])
            for stack in self.stacks()
            for entries in json.loads((self.outdir / f"{stack}.metadata.json").read_text()).values()
            for entry in entries
            if entry["type"] in ("aws:cdk:warning", "aws:cdk:error")
        ]


def synth_example(name: str, tmp: Path, context: dict[str, str] | None = None) -> Synth:
    """Copy examples/<name> into ``tmp`` and run ``cdk synth`` in the copy."""
    folder = shutil.copytree(ROOT / "examples" / name, tmp / name)
    with left_as_it_was(folder, skip=("cdk.out",)):
        done = cli_synth(None, folder, folder / "cdk.out", context or {}, tmp)
    return Synth(done.returncode, done.stderr, folder / "cdk.out")


def synthesized(name: str, tmp: Path, context: dict[str, str] | None = None) -> Synth:
    """A synth of examples/<name> that succeeded with no warning."""
    synth = synth_example(name, tmp, context)
    assert synth.returncode == 0, synth.stderr[-4000:]
    assert synth.warnings() == []
    return synth


def by_path(template: dict[str, Any]) -> dict[str, str]:
    """Logical ids by construct path (``Stack/Construct/Resource``)."""
    return {
        r["Metadata"]["aws:cdk:path"]: key
        for key, r in template["Resources"].items()
        if "aws:cdk:path" in r.get("Metadata", {})
    }


def of_type(template: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    return {k: r for k, r in template["Resources"].items() if r["Type"] == resource_type}


def chime_statements(template: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """The statements that let Chime in, by the logical id of the bucket they are on."""
    found: dict[str, list[dict[str, Any]]] = {}
    for policy in of_type(template, "AWS::S3::BucketPolicy").values():
        statements = policy["Properties"]["PolicyDocument"]["Statement"]
        chime = [s for s in statements if s.get("Principal") == CHIME]
        if chime:
            found[policy["Properties"]["Bucket"]["Ref"]] = chime
    return found


def prompts_of(bucket: str) -> dict[str, Any]:
    """The resource of the prompts statement on ``bucket``: its objects under prompts/."""
    return {"Fn::Join": ["", [{"Fn::GetAtt": [bucket, "Arn"]}, "/prompts/*"]]}


# --- examples/prompts_only: bring your own SMA ---------------------------------------------


@pytest.fixture(scope="module")
def prompts_only(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    return synthesized("prompts_only", tmp_path_factory.mktemp("prompts-only"), {"smaArn": SMA_ARN})


def test_prompts_only_lets_chime_read_for_the_users_sma_alone(prompts_only: Synth) -> None:
    # The stack goes where the SMA is: Chime plays only from a bucket of the SMA's account.
    assert prompts_only.stacks() == {"PromptsOnlyStack": f"aws://{ACCOUNT}/us-east-1"}
    template = prompts_only.template("PromptsOnlyStack")
    assert of_type(template, "AWS::Chime::SipMediaApplication") == {}
    bucket = by_path(template)["PromptsOnlyStack/Prompts/Bucket/Resource"]
    (statement,) = chime_statements(template).pop(bucket)
    assert statement["Action"] == "s3:GetObject"
    assert statement["Resource"] == prompts_of(bucket)
    assert statement["Condition"] == {
        "StringEquals": {"aws:SourceAccount": ACCOUNT, "aws:SourceArn": [SMA_ARN]}
    }
    # What the user's function needs to play them.
    assert template["Outputs"] == {
        "PromptsBucketName": {"Value": {"Ref": bucket}},
        "PromptsKeyPrefix": {"Value": "prompts/"},
    }
    assert prompts_only.findings() == []


def test_prompts_only_without_the_sma_arn_says_how_to_give_it(tmp_path: Path) -> None:
    synth = synth_example("prompts_only", tmp_path)
    assert synth.returncode != 0
    assert "PromptsOnlyStack: context smaArn is None; expected the ARN of your SIP media" in (
        synth.stderr
    )
    assert "-c smaArn=arn:aws:chime:us-east-1:123456789012:sma/<sma-id>" in synth.stderr
    assert "Traceback" not in synth.stderr


# --- examples/bring_your_own: your bucket and function, and the compliance packs -----------


@pytest.fixture(scope="module")
def bring_your_own(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    return synthesized("bring_your_own", tmp_path_factory.mktemp("bring-your-own"))


def test_every_pack_ran_on_the_users_app_and_passed(bring_your_own: Synth) -> None:
    # Exit 0 already means no unacknowledged finding; the report shows each pack ran.
    reports = bring_your_own.report()
    assert {name: reports[name]["conclusion"] for name in PACKS} == dict.fromkeys(PACKS, "success")
    assert bring_your_own.findings() == []


def test_the_user_acknowledges_findings_on_their_own_resources_only(
    bring_your_own: Synth,
) -> None:
    acknowledged: dict[str, set[str]] = {}
    for plugin in bring_your_own.report().values():
        for violation in plugin.get("suppressedViolations", []):
            for construct in violation["violatingConstructs"]:
                acknowledged.setdefault(construct["constructPath"], set()).add(
                    violation["ruleName"]
                )
    # aws-cdk-lib's BucketDeployment handler, which WavPrompts adds, is acknowledged by
    # WavPrompts; no other resource the constructs make has a finding at all.
    deployment_handler = "IvrStack/Custom::CDKBucketDeployment"
    users = {k: v for k, v in acknowledged.items() if not k.startswith(deployment_handler)}
    # Each acknowledgement the example teaches is of a finding that really fires.
    packs = ("HIPAA.Security", "NIST.800.53.R5", "PCI.DSS.321")
    bucket = {
        f"{p}-{rule}"
        for p in packs
        for rule in ("S3BucketReplicationEnabled", "S3DefaultEncryptionKMS")
    }
    function = {
        *(f"{p}-{rule}" for p in packs[:2] for rule in ("LambdaDLQ", "LambdaConcurrency")),
        *(f"{p}-LambdaInsideVPC" for p in packs),
        "Serverless-LambdaDLQ",
        "Serverless-LambdaTracing",
    }
    assert users == {
        "IvrStack/Prompts/Resource": bucket,
        "IvrStack/AccessLogs/Resource": bucket,
        "IvrStack/Ivr/Resource": function,
    }


def test_the_sma_invokes_the_users_function(bring_your_own: Synth) -> None:
    template = bring_your_own.template("IvrStack")
    resources = template["Resources"]
    function_id = by_path(template)["IvrStack/Ivr/Resource"]
    function = resources[function_id]["Properties"]
    assert (function["Handler"], set(function["Code"])) == ("index.handler", {"ZipFile"})
    (sma,) = of_type(template, "AWS::Chime::SipMediaApplication").values()
    assert sma["Properties"]["Endpoints"] == [{"LambdaArn": {"Fn::GetAtt": [function_id, "Arn"]}}]
    ((_, permission),) = of_type(template, "AWS::Lambda::Permission").items()
    assert permission["Properties"]["FunctionName"] == {"Fn::GetAtt": [function_id, "Arn"]}
    assert permission["Properties"]["Principal"] == CHIME["Service"]


def test_chime_reads_the_users_own_bucket_for_that_sma(bring_your_own: Synth) -> None:
    template = bring_your_own.template("IvrStack")
    paths = by_path(template)
    # No bucket was created for the user: theirs and their access-log bucket only.
    user_bucket, log_bucket = (
        paths["IvrStack/Prompts/Resource"],
        paths["IvrStack/AccessLogs/Resource"],
    )
    assert set(of_type(template, "AWS::S3::Bucket")) == {user_bucket, log_bucket}
    ((sma_id, _),) = of_type(template, "AWS::Chime::SipMediaApplication").items()
    assert {bucket: len(s) for bucket, s in chime_statements(template).items()} == {user_bucket: 1}
    (statement,) = chime_statements(template)[user_bucket]
    assert statement["Action"] == "s3:GetObject"
    assert statement["Resource"] == prompts_of(user_bucket)
    assert statement["Condition"]["StringEquals"]["aws:SourceArn"] == [
        {"Fn::GetAtt": [sma_id, "SipMediaApplicationArn"]}
    ]
    # The example's cdk.json reached the app: its log bucket takes S3 log delivery by
    # bucket policy (@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy); without the flag
    # these bucket-owner-enforced buckets would not even synthesize.
    (log_policy,) = [
        p
        for p in of_type(template, "AWS::S3::BucketPolicy").values()
        if p["Properties"]["Bucket"] == {"Ref": log_bucket}
    ]
    principals = [
        s.get("Principal") for s in log_policy["Properties"]["PolicyDocument"]["Statement"]
    ]
    assert {"Service": "logging.s3.amazonaws.com"} in principals


# --- examples/multi_sma: an SMA in each of two regions, and a rule that fails over ----------


@pytest.fixture(scope="module")
def multi_sma(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    # As under the cdk.json `cdk init` writes: a CloudFormation Validate finding (such as an
    # SMA in a region without the type) is an error.
    context = {
        "phoneNumber": PHONE_NUMBER,
        "westSmaArn": f"  {WEST_SMA_ARN} ",  # pasted with spaces: stripped
        "@aws-cdk/core:validateAgainstDefaultRules": "true",
    }
    return synthesized("multi_sma", tmp_path_factory.mktemp("multi-sma"), context)


def test_each_regions_bucket_lets_chime_read_for_its_own_sma_alone(multi_sma: Synth) -> None:
    # Both in the west SMA's account (from its ARN): Chime reads only its own account's.
    assert multi_sma.stacks() == {
        "IvrWest": f"aws://{ACCOUNT}/us-west-2",
        "IvrEast": f"aws://{ACCOUNT}/us-east-1",
    }
    east = multi_sma.template("IvrEast")
    ((sma_id, sma),) = of_type(east, "AWS::Chime::SipMediaApplication").items()
    assert sma["Properties"]["AwsRegion"] == "us-east-1"
    west = multi_sma.template("IvrWest")
    # CloudFormation has no SMA type in us-west-2: the west SMA is the user's, by ARN.
    assert of_type(west, "AWS::Chime::SipMediaApplication") == {}
    for template, stack, sma_arn in (
        (east, "IvrEast", {"Fn::GetAtt": [sma_id, "SipMediaApplicationArn"]}),
        (west, "IvrWest", WEST_SMA_ARN),
    ):
        bucket = by_path(template)[f"{stack}/Prompts/Bucket/Resource"]
        statements = chime_statements(template)
        assert list(statements) == [bucket]
        (statement,) = statements[bucket]
        assert statement["Resource"] == prompts_of(bucket)
        assert statement["Condition"]["StringEquals"]["aws:SourceArn"] == [sma_arn]
    # The east calls play from the east bucket: the handler's bucket is the one this
    # stack's prompts are deployed to.
    ((deployment_id, deployment),) = of_type(east, "Custom::CDKBucketDeployment").items()
    bucket = by_path(east)["IvrEast/Prompts/Bucket/Resource"]
    assert deployment["Properties"]["DestinationBucketName"] == {"Ref": bucket}
    handler = east["Resources"][by_path(east)["IvrEast/Sma/Handler/Resource"]]
    bucket_variable = json.dumps(handler["Properties"]["Environment"]["Variables"])
    assert f'"Fn::GetAtt": ["{deployment_id}", "DestinationBucketArn"]' in bucket_variable


def test_the_number_fails_over_from_the_east_sma_to_the_west_one(multi_sma: Synth) -> None:
    template = multi_sma.template("IvrEast")
    ((sma_id, _),) = of_type(template, "AWS::Chime::SipMediaApplication").items()
    ((_, rule),) = of_type(template, "Custom::ChimeSipRule").items()
    assert (rule["Properties"]["TriggerType"], rule["Properties"]["TriggerValue"]) == (
        "ToPhoneNumber",
        PHONE_NUMBER,
    )
    assert rule["Properties"]["TargetApplications"] == [
        {
            "SipMediaApplicationId": {"Fn::GetAtt": [sma_id, "SipMediaApplicationId"]},
            "Priority": "1",
            "AwsRegion": "us-east-1",
        },
        {"SipMediaApplicationId": WEST_SMA_ID, "Priority": "2", "AwsRegion": "us-west-2"},
    ]
    assert of_type(multi_sma.template("IvrWest"), "Custom::ChimeSipRule") == {}
    assert multi_sma.findings() == []


@pytest.mark.parametrize(
    ("west_sma_arn", "expected"),
    [
        (None, "multi_sma: context westSmaArn is not set; expected the ARN of your SMA in"),
        ("", "multi_sma: context westSmaArn is ''; expected a value, or leave it unset"),
        (
            WEST_SMA_ARN.replace("us-west-2", "us-east-1"),
            "expected the ARN of your SMA in us-west-2, like arn:aws:chime:us-west-2:",
        ),
        (WEST_SMA_ARN.replace("sma/", "voice-connector/"), "expected the ARN of your SMA in"),
        (WEST_SMA_ARN.replace(ACCOUNT, ""), "expected the ARN of your SMA in us-west-2"),
        (WEST_SMA_ARN.replace("sma/", "sma/a b"), "IvrWest: PromptBucket 'Prompts': grant_play"),
    ],
)
def test_multi_sma_refuses_a_missing_or_wrong_west_sma(
    tmp_path: Path, west_sma_arn: str | None, expected: str
) -> None:
    context = {} if west_sma_arn is None else {"westSmaArn": west_sma_arn}
    synth = synth_example("multi_sma", tmp_path, context)
    assert synth.returncode != 0
    assert expected in synth.stderr
    assert "Traceback" not in synth.stderr
