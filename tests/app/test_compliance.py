"""Five cdk-nag packs over PlayAudioStack: no finding left, every acknowledgment listed here.

The app runs AwsSolutions, HIPAA Security, NIST 800-53 rev 5, PCI DSS 3.2.1 and
Serverless on every synth (app.add_compliance_packs). Each acknowledgment sits on the
flagged CloudFormation resource itself, carries a reason, and must suppress a real
finding; adding or removing one without updating EXPECTED fails here.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest

from app import build_app

STACK = "PlayAudioStack"
PACKS = ["AwsSolutions", "HIPAA.Security", "NIST.800.53.R5", "PCI.DSS.321", "Serverless"]
SIP_RULE_CONTEXT = {"phoneNumber": "+12065550100"}

# aws-cdk-lib's singleton BucketDeployment handler and the provider frameworks of the SIP
# rule and of the SIP message logs.
DEPLOY = "Custom::CDKBucketDeployment8693BB64968944B69AAFB0CC9EB8756C256MiB512MiB"
FRAMEWORK = "SipRule/Provider/framework-onEvent"
LOGS_FRAMEWORK = "SipMessageLogs/Provider/framework-onEvent"

# What every Lambda function here lacks: reserved concurrency, a DLQ, a VPC, tracing.
FUNCTION = {
    "HIPAA.Security::HIPAA.Security-LambdaConcurrency",
    "NIST.800.53.R5::NIST.800.53.R5-LambdaConcurrency",
    "HIPAA.Security::HIPAA.Security-LambdaDLQ",
    "NIST.800.53.R5::NIST.800.53.R5-LambdaDLQ",
    "Serverless::Serverless-LambdaDLQ",
    "HIPAA.Security::HIPAA.Security-LambdaInsideVPC",
    "NIST.800.53.R5::NIST.800.53.R5-LambdaInsideVPC",
    "PCI.DSS.321::PCI.DSS.321-LambdaInsideVPC",
    "Serverless::Serverless-LambdaTracing",
}
LOG_GROUP = {
    "HIPAA.Security::HIPAA.Security-CloudWatchLogGroupEncrypted",
    "NIST.800.53.R5::NIST.800.53.R5-CloudWatchLogGroupEncrypted",
    "PCI.DSS.321::PCI.DSS.321-CloudWatchLogGroupEncrypted",
}
INLINE_POLICY = {
    "HIPAA.Security::HIPAA.Security-IAMNoInlinePolicy",
    "NIST.800.53.R5::NIST.800.53.R5-IAMNoInlinePolicy",
    "PCI.DSS.321::PCI.DSS.321-IAMNoInlinePolicy",
}
BUCKET = {
    "HIPAA.Security::HIPAA.Security-S3DefaultEncryptionKMS",
    "NIST.800.53.R5::NIST.800.53.R5-S3DefaultEncryptionKMS",
    "PCI.DSS.321::PCI.DSS.321-S3DefaultEncryptionKMS",
    "HIPAA.Security::HIPAA.Security-S3BucketReplicationEnabled",
    "NIST.800.53.R5::NIST.800.53.R5-S3BucketReplicationEnabled",
    "PCI.DSS.321::PCI.DSS.321-S3BucketReplicationEnabled",
}
BASIC_EXECUTION_ROLE = (
    "AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/"
    "service-role/AWSLambdaBasicExecutionRole]"
)

# Construct path (relative to the stack) -> the finding ids acknowledged on it.
EXPECTED_DEFAULT: dict[str, set[str]] = {
    "Prompts/Bucket/Resource": BUCKET,
    "Prompts/AccessLogs/Resource": BUCKET,
    f"{DEPLOY}/Resource": FUNCTION
    | {"AwsSolutions::AwsSolutions-L1", "Serverless::Serverless-LambdaLatestVersion"},
    f"{DEPLOY}/LogGroup/Resource": LOG_GROUP,
    f"{DEPLOY}/ServiceRole/Resource": {BASIC_EXECUTION_ROLE},
    f"{DEPLOY}/ServiceRole/DefaultPolicy/Resource": INLINE_POLICY
    | {
        "AwsSolutions::AwsSolutions-IAM5[Action::s3:GetObject*]",
        "AwsSolutions::AwsSolutions-IAM5[Action::s3:GetBucket*]",
        "AwsSolutions::AwsSolutions-IAM5[Action::s3:List*]",
        "AwsSolutions::AwsSolutions-IAM5[Action::s3:Abort*]",
        "AwsSolutions::AwsSolutions-IAM5[Action::s3:DeleteObject*]",
        "AwsSolutions::AwsSolutions-IAM5[Resource::arn:aws:s3:::"
        "cdk-hnb659fds-assets-<AWS::AccountId>-us-east-1/*]",
        "AwsSolutions::AwsSolutions-IAM5[Resource::<PromptsBucketC8F33F2C.Arn>/*]",
    },
    "Sma/Handler/Resource": FUNCTION,
    "Sma/HandlerLogs/Resource": LOG_GROUP,
    "Sma/HandlerRole/DefaultPolicy/Resource": INLINE_POLICY,
    "Sma/Rollout/ServiceRole/Resource": {
        "AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/"
        "service-role/AWSCodeDeployRoleForLambdaLimited]"
    },
    # The handler's chime:PutSipMediaApplicationLoggingConfiguration names the SMA's ARN: no
    # IAM5. The SIP message log group lacks only a customer-managed KMS key.
    "SipMessageLogs/SipMessages/Resource": LOG_GROUP,
    "SipMessageLogs/Handler/Resource": FUNCTION,
    "SipMessageLogs/HandlerLogs/Resource": LOG_GROUP,
    "SipMessageLogs/HandlerRole/DefaultPolicy/Resource": INLINE_POLICY,
    f"{LOGS_FRAMEWORK}/Resource": FUNCTION | {"Serverless::Serverless-LambdaDefaultMemorySize"},
    "SipMessageLogs/ProviderLogs/Resource": LOG_GROUP,
    f"{LOGS_FRAMEWORK}/ServiceRole/Resource": {BASIC_EXECUTION_ROLE},
    f"{LOGS_FRAMEWORK}/ServiceRole/DefaultPolicy/Resource": INLINE_POLICY
    | {"AwsSolutions::AwsSolutions-IAM5[Resource::<SipMessageLogsHandlerA432E23E.Arn>:*]"},
    f"{LOGS_FRAMEWORK}/inlinePolicyAddedToExecutionRole-0/Resource": INLINE_POLICY,
}
EXPECTED_SIP_RULE: dict[str, set[str]] = {
    **EXPECTED_DEFAULT,
    "SipRule/Handler/Resource": FUNCTION,
    "SipRule/HandlerLogs/Resource": LOG_GROUP,
    "SipRule/HandlerRole/DefaultPolicy/Resource": INLINE_POLICY
    | {"AwsSolutions::AwsSolutions-IAM5[Resource::*]"},
    f"{FRAMEWORK}/Resource": FUNCTION | {"Serverless::Serverless-LambdaDefaultMemorySize"},
    "SipRule/ProviderLogs/Resource": LOG_GROUP,
    f"{FRAMEWORK}/ServiceRole/Resource": {BASIC_EXECUTION_ROLE},
    f"{FRAMEWORK}/ServiceRole/DefaultPolicy/Resource": INLINE_POLICY
    | {"AwsSolutions::AwsSolutions-IAM5[Resource::<SipRuleHandler0E627FF3.Arn>:*]"},
    f"{FRAMEWORK}/inlinePolicyAddedToExecutionRole-0/Resource": INLINE_POLICY,
}


@dataclass(frozen=True)
class Synth:
    """One synth of the sample app: its acknowledgments and its validation report."""

    name: str
    acknowledgments: dict[tuple[str, str], str]  # (path in the stack, finding id) -> reason
    report: dict[str, Any]
    expected: dict[str, set[str]]


def acknowledgments(app: cdk.App) -> dict[tuple[str, str], str]:
    """Every acknowledgment in the construct tree: (path relative to the stack, id) -> reason."""
    found: dict[tuple[str, str], str] = {}
    for construct in app.node.find_all():
        for entry in construct.node.metadata:
            if entry.type != cdk.Validations.ACKNOWLEDGED_RULES_METADATA_KEY:
                continue
            path = construct.node.path
            assert path.startswith(f"{STACK}/"), f"acknowledgment outside the stack: {path}"
            for finding_id, reason in entry.data.items():
                found[(path.removeprefix(f"{STACK}/"), finding_id)] = reason
    return found


@pytest.fixture(scope="module", params=["default", "sip-rule"])
def synth(request: pytest.FixtureRequest, make_app: Callable[..., cdk.App]) -> Synth:
    sip_rule = request.param == "sip-rule"
    app = make_app(**(SIP_RULE_CONTEXT if sip_rule else {}))
    stack = build_app(app, {})
    assert (stack.sip_rule is not None) == sip_rule
    assembly = app.synth()
    report = json.loads((Path(assembly.directory) / "validation-report.json").read_text())
    return Synth(
        name=request.param,
        acknowledgments=acknowledgments(app),
        report=report,
        expected=EXPECTED_SIP_RULE if sip_rule else EXPECTED_DEFAULT,
    )


def test_every_pack_runs_and_passes_with_no_finding(synth: Synth) -> None:
    outcome = [
        (plugin["pluginName"], plugin["conclusion"], plugin["violations"])
        for plugin in synth.report["pluginReports"]
    ]
    assert outcome == [(pack, "success", []) for pack in PACKS]


def test_acknowledgments_are_exactly_the_listed_ones(synth: Synth) -> None:
    found = {(path, finding_id) for path, finding_id in synth.acknowledgments}
    expected = {(path, finding_id) for path, ids in synth.expected.items() for finding_id in ids}
    assert sorted(found - expected) == [], "acknowledged but not listed in this test"
    assert sorted(expected - found) == [], "listed in this test but not acknowledged"


def test_every_reason_is_a_sentence(synth: Synth) -> None:
    short = {
        key: reason
        for key, reason in synth.acknowledgments.items()
        if len(reason) < 40 or " " not in reason or not reason.endswith(".")
    }
    assert short == {}


def test_every_acknowledgment_suppresses_a_real_finding_on_its_own_resource(
    synth: Synth,
) -> None:
    suppressed: set[tuple[str, str]] = set()
    for plugin in synth.report["pluginReports"]:
        for violation in plugin["suppressedViolations"]:
            where = violation["acknowledgedAt"].removeprefix(f"{STACK}/")
            suppressed.add((where, violation["acknowledgedId"]))
            # Acknowledged on the flagged resource itself, never on a wider scope.
            flagged = {c["constructPath"] for c in violation["violatingConstructs"]}
            assert flagged == {violation["acknowledgedAt"]}, violation["acknowledgedId"]
    dead = sorted(set(synth.acknowledgments) - suppressed)
    assert dead == [], "acknowledgments that suppress no finding"


def test_each_provider_framework_policy_says_what_it_holds(synth: Synth) -> None:
    """DefaultPolicy holds lambda:InvokeFunction (and GetFunction, unless the flag moves it to
    a policy of its own); the flag's extra policy holds GetFunction only."""
    frameworks = [LOGS_FRAMEWORK] + ([FRAMEWORK] if synth.name == "sip-rule" else [])
    for framework in frameworks:
        default = f"{framework}/ServiceRole/DefaultPolicy/Resource"
        extra = f"{framework}/inlinePolicyAddedToExecutionRole-0/Resource"
        for finding_id in INLINE_POLICY:
            assert "lambda:InvokeFunction" in synth.acknowledgments[(default, finding_id)]
            assert (
                "lambda:GetFunction on this construct's handler only"
                in (synth.acknowledgments[(extra, finding_id)])
            )
