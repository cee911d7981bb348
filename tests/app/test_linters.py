"""cfn-lint and checkov over every template of PlayAudioStack, synthesized here, offline.

The templates are synthesized fresh through app.build_app into temporary folders
(never a stale cdk.out): the default stack and the one with a SIP rule. Each linter
runs once over all of them (checkov takes seconds to start). A check a resource
deliberately fails is skipped in that resource's Metadata by the construct that
creates it, with a reason (constructs_pkg/compliance/); the lists below pin them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest

from app import build_app
from constructs_pkg.compliance.exemptions import CFN_LINT_IGNORABLE

ROOT = Path(__file__).resolve().parents[2]
CFN_LINT = Path(sys.executable).parent / "cfn-lint"
CHECKOV = ROOT / ".tools" / "checkov" / "bin" / "checkov"
SIP_RULE_CONTEXT = {"phoneNumber": "+12065550100"}

# Logical id -> checkov checks skipped in its Metadata (both templates together).
DEPLOY_HANDLER = "CustomCDKBucketDeployment8693BB64968944B69AAFB0CC9EB8756C256MiB512MiB35498A7F"
DEPLOY_LOGS = (
    "CustomCDKBucketDeployment8693BB64968944B69AAFB0CC9EB8756C256MiB512MiBLogGroup3C1B242F"
)
FUNCTION = ["CKV_AWS_115", "CKV_AWS_116", "CKV_AWS_117"]  # concurrency, DLQ, VPC
ENVIRONMENT_KMS = "CKV_AWS_173"
LOG_GROUP_KMS = ["CKV_AWS_158"]
EXPECTED_CHECKOV_SKIPS = {
    "PromptsAccessLogsA960D820": ["CKV_AWS_18"],
    DEPLOY_HANDLER: [*FUNCTION, ENVIRONMENT_KMS],
    DEPLOY_LOGS: LOG_GROUP_KMS,
    "SmaHandler09BF2B4F": [*FUNCTION, ENVIRONMENT_KMS],
    "SmaHandlerLogsBC16659B": LOG_GROUP_KMS,
    "SipRuleHandler0E627FF3": FUNCTION,
    "SipRuleHandlerLogsCCA1F441": LOG_GROUP_KMS,
    "SipRuleHandlerRoleDefaultPolicyD965ED43": ["CKV_AWS_111"],
    "SipRuleProviderframeworkonEvent0E6F8317": [*FUNCTION, ENVIRONMENT_KMS],
    "SipRuleProviderLogsFC293FCC": LOG_GROUP_KMS,
    "SipMessageLogsSipMessagesDD8C2D4C": LOG_GROUP_KMS,
    "SipMessageLogsHandlerA432E23E": FUNCTION,
    "SipMessageLogsHandlerLogs7DCF1366": LOG_GROUP_KMS,
    "SipMessageLogsProviderframeworkonEvent602E3BB5": [*FUNCTION, ENVIRONMENT_KMS],
    "SipMessageLogsProviderLogsEDC02FF8": LOG_GROUP_KMS,
}
# Logical id -> cfn-lint rules ignored in its Metadata: every Lambda function (W3005).
EXPECTED_CFN_LINT_IGNORES = {
    DEPLOY_HANDLER: ["W3005"],
    "SmaHandler09BF2B4F": ["W3005"],
    "SipRuleHandler0E627FF3": ["W3005"],
    "SipRuleProviderframeworkonEvent0E6F8317": ["W3005"],
    "SipMessageLogsHandlerA432E23E": ["W3005"],
    "SipMessageLogsProviderframeworkonEvent602E3BB5": ["W3005"],
}


@pytest.fixture(scope="module")
def templates(
    tmp_path_factory: pytest.TempPathFactory, make_app: Callable[..., cdk.App]
) -> list[Path]:
    """Every stack template of the sample app, without and with the SIP rule."""
    found: list[Path] = []
    for name, context in (("default", {}), ("sip-rule", SIP_RULE_CONTEXT)):
        app = make_app(outdir=str(tmp_path_factory.mktemp(name)), **context)
        build_app(app, {})
        found += [Path(stack.template_full_path) for stack in app.synth().stacks]
    assert len(found) == 2
    return found


@dataclass(frozen=True)
class Lint:
    """What both linters said about the templates."""

    cfn_lint: subprocess.CompletedProcess[str]
    checkov: subprocess.CompletedProcess[str]

    def checkov_report(self) -> dict[str, Any]:
        report: dict[str, Any] = json.loads(self.checkov.stdout)
        return report


@pytest.fixture(scope="module")
def lint(templates: list[Path]) -> Lint:
    """cfn-lint and one checkov run over all templates, side by side, both offline.

    checkov without an API key runs only its local checks; --skip-download keeps it from
    the Prisma Cloud API (guidelines), CKV_SKIP_PACKAGE_UPDATE_CHECK from PyPI.
    """
    if not CHECKOV.exists():
        pytest.fail(f"{CHECKOV} is missing; run `make setup` (tools/checkov.lock)")
    files = [str(path) for path in templates]
    options = ["--framework", "cloudformation", "--output", "json", "--quiet", "--compact"]
    checkov_args = [str(CHECKOV), *options, "--skip-download", "-f", *files]
    environ = {**os.environ, "BC_SKIP_MAPPING": "TRUE", "CKV_SKIP_PACKAGE_UPDATE_CHECK": "TRUE"}
    pipe = subprocess.PIPE
    with subprocess.Popen(checkov_args, stdout=pipe, stderr=pipe, text=True, env=environ) as run:
        try:
            cfn_lint = subprocess.run(
                [str(CFN_LINT), *files], capture_output=True, text=True, timeout=300, check=False
            )
            stdout, stderr = run.communicate(timeout=300)
        finally:
            if run.poll() is None:
                run.kill()
    return Lint(cfn_lint, subprocess.CompletedProcess(checkov_args, run.returncode, stdout, stderr))


def resource_metadata(templates: list[Path], key: str) -> dict[str, Any]:
    """Logical id -> the Metadata entry ``key`` of every resource that has one."""
    found: dict[str, Any] = {}
    for path in templates:
        for logical_id, resource in json.loads(path.read_text())["Resources"].items():
            if key in resource.get("Metadata", {}):
                found[logical_id] = resource["Metadata"][key]
    return found


def test_cfn_lint_finds_no_error_and_no_warning(lint: Lint) -> None:
    result = lint.cfn_lint
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


def test_checkov_finds_no_failed_check(lint: Lint) -> None:
    assert lint.checkov.stderr == ""
    report = lint.checkov_report()
    summary = report["summary"]
    counts = (
        f"checkov {summary['checkov_version']}: passed {summary['passed']}, "
        f"failed {summary['failed']}, skipped {summary['skipped']} "
        f"over {summary['resource_count']} resources"
    )
    failed = [
        (check["check_id"], check["resource"])
        for check in report["results"].get("failed_checks", [])
    ]
    assert (summary["failed"], failed, summary["parsing_errors"]) == (0, [], 0), counts
    assert lint.checkov.returncode == 0, counts
    assert summary["passed"] > 0 and summary["resource_count"] > 0, counts


def test_checkov_skips_are_exactly_the_listed_ones_each_with_a_reason(
    templates: list[Path],
) -> None:
    skips = resource_metadata(templates, "checkov")
    assert {
        logical_id: sorted(skip["id"] for skip in entry["skip"])
        for logical_id, entry in skips.items()
    } == {logical_id: sorted(ids) for logical_id, ids in EXPECTED_CHECKOV_SKIPS.items()}
    short = [
        (logical_id, skip["id"])
        for logical_id, entry in skips.items()
        for skip in entry["skip"]
        if len(skip.get("comment", "")) < 40 or not skip["comment"].endswith(".")
    ]
    assert short == []


def test_cfn_lint_ignores_are_exactly_the_listed_ones_each_with_a_reason(
    templates: list[Path],
) -> None:
    ignores = {
        logical_id: entry["config"]["ignore_checks"]
        for logical_id, entry in resource_metadata(templates, "cfn-lint").items()
    }
    assert ignores == EXPECTED_CFN_LINT_IGNORES
    reasons = {
        rule: CFN_LINT_IGNORABLE.get(rule, "") for rules in ignores.values() for rule in rules
    }
    assert all(len(reason) >= 40 for reason in reasons.values()), reasons
