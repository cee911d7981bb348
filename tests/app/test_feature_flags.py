"""The constructs under any CDK feature-flag set a user's app may have.

A user's app is not this repo: it may have no cdk.json (no flags at all), the one
``cdk init`` writes, ours, or any mix. tests/app/flag_matrix_app.py builds every public
construct, alone and composed, and each flag set below must synthesize it with no
unacknowledged cdk-nag finding on the constructs, and with the same security-relevant
content (bucket policies, role permissions, invoke permissions, log retention) as under
this repo's cdk.json. The one documented difference: without
``@aws-cdk/aws-lambda:useCdkManagedLogGroup`` aws-cdk-lib's BucketDeployment handler
(a singleton of the stack, outside the constructs) has no log group in the template and
logs to the one Lambda creates on first use, kept forever.

Flag sets: none; ``cdk init app --language python --generate-only`` of the pinned CLI
(generated here, so it follows the pin); this repo's cdk.json; this repo's with each flag
of ``FLAGS_THAT_CHANGE_OUR_RESOURCES`` flipped alone; and this repo's with every OTHER
boolean flag aws-cdk-lib recommends flipped at once, which must leave every template
unchanged: if a new aws-cdk-lib adds a flag that changes our resources, that set fails and
the flag belongs in the list.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest

from tests.app.flag_matrix_app import STACKS, USER_PATHS, build
from tests.audio import wavgen
from tests.cli import CDK, cli_environment
from tests.conftest import cdk_json_context
from tests.snapshot_utils import normalize_template
from tests.templates import security_content

# The logical ids of the user's own resources in tests/app/flag_matrix_app.py.
USER_LOGICAL_IDS = ("UserFunction", "UserBucket", "UserTopic")
PACKS = ["AwsSolutions", "HIPAA.Security", "NIST.800.53.R5", "PCI.DSS.321", "Serverless"]
MANAGED_LOG_GROUP = "@aws-cdk/aws-lambda:useCdkManagedLogGroup"

# Each flag whose value changes a template of the matrix app, and how the constructs cope.
FLAGS_THAT_CHANGE_OUR_RESOURCES = {
    # Off: log delivery by ACL, which bucket-owner-enforced ownership forbids. PromptBucket
    # sets it on for the buckets inside it.
    "@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy": "pinned on inside PromptBucket",
    # Where Function.add_to_role_policy puts a statement: the provider framework's
    # lambda:GetFunction. The constructs find policies by resource type, not by child id.
    "@aws-cdk/aws-lambda:createNewPoliciesWithAddToRolePolicy": "policies found by type",
    # Whether aws-cdk-lib's BucketDeployment handler gets a log group resource.
    MANAGED_LOG_GROUP: "log group found by type; documented difference",
    # How statements are merged: the same permissions either way.
    "@aws-cdk/aws-iam:minimizePolicies": "same permissions, merged differently",
    # arn:aws:... or arn:${AWS::Partition}:...: the same ARNs in us-east-1.
    "@aws-cdk/core:enablePartitionLiterals": "same ARNs, written differently",
    # Which properties the sample handler's version hash covers: the version's logical id.
    # Every change of the handler's code or configuration publishes a new version under
    # either value (test_sip_media_application); a flip publishes an identical one.
    "@aws-cdk/aws-lambda:recognizeLayerVersion": "version logical id only",
    "@aws-cdk/aws-lambda:recognizeVersionProps": "version logical id only",
    # A deployment group without alarms: AlarmConfiguration absent, or present and disabled.
    "@aws-cdk/aws-codedeploy:removeAlarmsFromDeploymentGroup": "no alarms either way",
}


@dataclass(frozen=True)
class Synth:
    """One synth of the matrix app: templates, the validation report, flags as evaluated."""

    templates: dict[str, dict[str, Any]]
    report: dict[str, Any]
    managed_log_group: bool


@pytest.fixture(scope="session")
def cdk_init_context(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The context of the cdk.json that the pinned CLI's `cdk init app --language python`
    writes (it sets createNewPoliciesWithAddToRolePolicy false, unlike ours)."""
    folder = tmp_path_factory.mktemp("cdk-init") / "userapp"
    folder.mkdir()
    subprocess.run(
        [str(CDK), "init", "app", "--language", "python", "--generate-only"],
        cwd=folder,
        env=cli_environment(folder),
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    context: dict[str, Any] = json.loads((folder / "cdk.json").read_text())["context"]
    return context


def flipped(context: dict[str, Any], flag: str) -> dict[str, Any]:
    return {**context, flag: not context[flag]}


def every_other_flag_flipped(cdk_init: dict[str, Any]) -> dict[str, Any]:
    """This repo's flags with every other boolean flag that `cdk init` writes (the ones the
    pinned aws-cdk-lib recommends) flipped. The v1-era flags that only ours lists stay: off,
    they switch back to behaviours aws-cdk-lib v2 dropped (the legacy stack synthesizer)."""
    repo = cdk_json_context()
    return {
        **repo,
        **{
            flag: not repo.get(flag, value)
            for flag, value in cdk_init.items()
            if isinstance(value, bool) and flag not in FLAGS_THAT_CHANGE_OUR_RESOURCES
        },
    }


FLAG_SETS = [
    "no context",
    "cdk init",
    "this repo",
    *(f"flipped {flag}" for flag in FLAGS_THAT_CHANGE_OUR_RESOURCES),
    "every other flag flipped",
]


@pytest.fixture(scope="module")
def prompts_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("prompts")
    wavgen.write(folder / "welcome.wav", wavgen.pcm(frames=800))
    wavgen.write(folder / "error.wav", wavgen.pcm(frames=400))
    return folder


def context_for(name: str, cdk_init: dict[str, Any]) -> dict[str, Any]:
    repo = cdk_json_context()
    if name == "no context":
        return {}
    if name == "cdk init":
        return cdk_init
    if name == "this repo":
        return repo
    if name == "every other flag flipped":
        return every_other_flag_flipped(cdk_init)
    return flipped(repo, name.removeprefix("flipped "))


_synths: dict[str, Synth] = {}


def synth(
    name: str, cdk_init: dict[str, Any], prompts_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Synth:
    """The matrix app under flag set ``name``, synthesized once per test session."""
    if name not in _synths:
        outdir = tmp_path_factory.mktemp("matrix") / "cdk.out"
        app = build(context_for(name, cdk_init), outdir, prompts_dir)
        try:
            app.synth()
        except RuntimeError as error:
            # The user's own resources have findings: the report is read below, as a
            # whole. Anything else is a real failure.
            if "ValidationFailed" not in str(error):
                raise
        own = app.node.find_child("Own")
        _synths[name] = Synth(
            templates={
                stack: json.loads((outdir / f"{stack}.template.json").read_text())
                for stack in STACKS
            },
            report=json.loads((outdir / "validation-report.json").read_text()),
            managed_log_group=cdk.FeatureFlags.of(own).is_enabled(MANAGED_LOG_GROUP) is True,
        )
    return _synths[name]


@pytest.fixture(params=FLAG_SETS)
def matrix(
    request: pytest.FixtureRequest,
    cdk_init_context: dict[str, Any],
    prompts_dir: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Synth:
    return synth(request.param, cdk_init_context, prompts_dir, tmp_path_factory)


@pytest.fixture
def reference(
    cdk_init_context: dict[str, Any], prompts_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Synth:
    return synth("this repo", cdk_init_context, prompts_dir, tmp_path_factory)


def test_cdk_init_sets_flags_ours_does_not(cdk_init_context: dict[str, Any]) -> None:
    # The reason set (b) is not set (c): the CLI's template turns this flag off.
    assert cdk_init_context["@aws-cdk/aws-lambda:createNewPoliciesWithAddToRolePolicy"] is False
    assert cdk_json_context()["@aws-cdk/aws-lambda:createNewPoliciesWithAddToRolePolicy"] is True


def test_every_pack_passes_on_the_constructs(matrix: Synth) -> None:
    findings = [
        (plugin["pluginName"], violation["ruleName"], path)
        for plugin in matrix.report["pluginReports"]
        for violation in plugin["violations"]
        for path in (c["constructPath"] for c in violation["violatingConstructs"])
        if plugin["pluginName"] in PACKS and not path.startswith(USER_PATHS)
    ]
    assert findings == []
    assert [p["pluginName"] for p in matrix.report["pluginReports"]][: len(PACKS)] == PACKS


def ours_without_deployment_handler_logs(content: dict[tuple[str, str], Any]) -> dict[Any, Any]:
    """The content of the constructs' resources (not the user's), less the one documented
    difference: the BucketDeployment handler's log group."""
    return {
        (kind, logical_id): value
        for (kind, logical_id), value in content.items()
        if not logical_id.startswith(USER_LOGICAL_IDS)
        and not (kind == "log group" and "CDKBucketDeployment" in logical_id)
    }


def test_security_content_is_the_same_as_under_this_repos_flags(
    matrix: Synth, reference: Synth
) -> None:
    for stack in STACKS:
        found = ours_without_deployment_handler_logs(security_content(matrix.templates[stack]))
        expected = ours_without_deployment_handler_logs(
            security_content(reference.templates[stack])
        )
        assert found == expected, stack


def test_the_deployment_handler_has_a_log_group_only_with_the_flag(matrix: Synth) -> None:
    for stack in ("PromptsOnly", "Own", "Brought"):
        resources = matrix.templates[stack]["Resources"]
        log_groups = [
            logical_id
            for logical_id, resource in resources.items()
            if logical_id.startswith("CustomCDKBucketDeployment")
            and resource["Type"] == "AWS::Logs::LogGroup"
        ]
        assert bool(log_groups) == matrix.managed_log_group, stack


def test_flags_outside_the_list_change_no_template(
    cdk_init_context: dict[str, Any], prompts_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    others = synth("every other flag flipped", cdk_init_context, prompts_dir, tmp_path_factory)
    reference = synth("this repo", cdk_init_context, prompts_dir, tmp_path_factory)
    for stack in STACKS:
        assert normalize_template(others.templates[stack]) == normalize_template(
            reference.templates[stack]
        ), stack
