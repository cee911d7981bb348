"""playaudio-sim on broken input: the documented exit status and one message, never a traceback.

Each case damages its own copy of the synthesized sample app (``sample_cdk_out``,
synthesized once per session; the JSON files are copied, the assets linked), or
writes a broken scenario, or points --out or --cdk-out somewhere unusable, then
runs the CLI in-process. Exit statuses (cli.py): 2 usage (options, scenario
files), 7 cdk.out cannot be used, 8 the outputs cannot be written.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from playaudio_sim.cli import (
    EXIT_OUTPUT_ERROR,
    EXIT_SETUP_ERROR,
    EXIT_USAGE,
    main,
)
from playaudio_sim.jsonfile import MAX_DEPTH, JsonFileError, read_json

ROOT = Path(__file__).resolve().parents[2]
STACK = "PlayAudioStack"
MANIFEST = "manifest.json"
TEMPLATE = f"{STACK}.template.json"
ASSETS = f"{STACK}.assets.json"
SMA = "AWS::Chime::SipMediaApplication"
FUNCTION = "AWS::Lambda::Function"
DEEP_LIST = "[" * 100_000 + "]" * 100_000
DEEP_OBJECT = '{"a":' * 100_000 + "1" + "}" * 100_000

Json = Any
Damage = Callable[[Path], None]


def copy_assembly(source: Path, target: Path) -> Path:
    """A copy of ``source`` to damage: its JSON files copied, everything else linked."""
    target.mkdir(parents=True)
    for entry in source.iterdir():
        if entry.suffix == ".json":
            shutil.copy(entry, target / entry.name)
        else:
            (target / entry.name).symlink_to(entry)
    return target


@pytest.fixture
def cdk_out(sample_cdk_out: Path, tmp_path: Path) -> Path:
    return copy_assembly(sample_cdk_out, tmp_path / "cdk.out")


def edit(name: str, change: Callable[[Json], None]) -> Damage:
    def damage(root: Path) -> None:
        path = root / name
        data = json.loads(path.read_text())
        change(data)
        path.write_text(json.dumps(data))

    return damage


def write(name: str, content: str | bytes) -> Damage:
    def damage(root: Path) -> None:
        path = root / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)

    return damage


def stack_artifact(change: Callable[[Json], None]) -> Damage:
    return edit(MANIFEST, lambda manifest: change(manifest["artifacts"][STACK]))


def resource(kind: str, change: Callable[[Json], None], prefix: str = "") -> Damage:
    """Change the first resource of type ``kind`` (whose logical id starts with ``prefix``)."""

    def find(template: Json) -> None:
        resources = template["Resources"]
        change(
            next(
                r
                for logical_id, r in resources.items()
                if r["Type"] == kind and logical_id.startswith(prefix)
            )
        )

    return edit(TEMPLATE, find)


def handler(change: Callable[[Json], None]) -> Damage:
    """Change the SMA's handler (not the BucketDeployment's function)."""
    return resource(FUNCTION, change, prefix="SmaHandler")


def sma_name(value: Json) -> Damage:
    """The SMA's Name property set to ``value`` (resolved while the call is set up)."""
    return resource(SMA, resource_property("Name", value))


def set_key(key: str, value: Json) -> Callable[[Json], None]:
    return lambda data: data.__setitem__(key, value)


def delete_key(key: str) -> Callable[[Json], None]:
    return lambda data: data.__delitem__(key)


def set_property(key: str, value: Json) -> Callable[[Json], None]:
    """An artifact's properties.KEY (manifest.json)."""
    return lambda data: data["properties"].__setitem__(key, value)


def resource_property(key: str, value: Json) -> Callable[[Json], None]:
    """A resource's Properties.KEY (the template)."""
    return lambda data: data["Properties"].__setitem__(key, value)


def nested_assembly(directory: str) -> Damage:
    stage = {"type": "cdk:cloud-assembly", "properties": {"directoryName": directory}}
    return edit(MANIFEST, lambda manifest: manifest["artifacts"].__setitem__("Stage", stage))


def first_asset(change: Callable[[Json], None]) -> Damage:
    return edit(ASSETS, lambda manifest: change(next(iter(manifest["files"].values()))))


@dataclass(frozen=True)
class Case:
    """A damage to the assembly, the file the message must name, and what it must say."""

    damage: Damage
    file: str
    says: str


ASSEMBLY_CASES: dict[str, Case] = {
    # manifest.json
    "manifest-no-artifacts": Case(
        edit(MANIFEST, delete_key("artifacts")), MANIFEST, 'no "artifacts"; expected'
    ),
    "manifest-artifacts-list": Case(
        edit(MANIFEST, set_key("artifacts", [STACK])),
        MANIFEST,
        '"artifacts" is a list; expected an object of artifacts by id',
    ),
    "manifest-artifacts-string": Case(
        edit(MANIFEST, set_key("artifacts", STACK)),
        MANIFEST,
        "\"artifacts\" is the string 'PlayAudioStack'; expected an object",
    ),
    "manifest-artifact-string": Case(
        edit(MANIFEST, lambda m: m["artifacts"].__setitem__(STACK, "stack")),
        MANIFEST,
        "artifacts.PlayAudioStack is the string 'stack'; expected an object",
    ),
    "manifest-artifact-type-number": Case(
        stack_artifact(set_key("type", 5)),
        MANIFEST,
        "artifacts.PlayAudioStack.type is the number 5; expected a string",
    ),
    "manifest-no-properties": Case(
        stack_artifact(delete_key("properties")),
        MANIFEST,
        "artifacts.PlayAudioStack.properties is missing; expected an object with 'templateFile'",
    ),
    "manifest-properties-string": Case(
        stack_artifact(set_key("properties", "templateFile")),
        MANIFEST,
        "artifacts.PlayAudioStack.properties is the string 'templateFile'; expected an object",
    ),
    "manifest-no-templateFile": Case(
        stack_artifact(lambda a: a["properties"].__delitem__("templateFile")),
        MANIFEST,
        "artifacts.PlayAudioStack.properties.templateFile is missing; expected a string",
    ),
    "manifest-templateFile-number": Case(
        stack_artifact(set_property("templateFile", 5)),
        MANIFEST,
        "properties.templateFile is the number 5; expected a string",
    ),
    "manifest-templateFile-list": Case(
        stack_artifact(set_property("templateFile", [TEMPLATE])),
        MANIFEST,
        "properties.templateFile is a list; expected a string",
    ),
    "manifest-templateFile-missing-file": Case(
        stack_artifact(set_property("templateFile", "Gone.template.json")),
        MANIFEST,
        "templateFile is 'Gone.template.json', which is not a file in",
    ),
    "manifest-templateFile-folder": Case(
        stack_artifact(set_property("templateFile", ".")),
        MANIFEST,
        "templateFile is '.', which is not a file in",
    ),
    "manifest-templateFile-traversal": Case(
        stack_artifact(set_property("templateFile", "../../../../../../etc/passwd")),
        MANIFEST,
        "templateFile is '../../../../../../etc/passwd', outside the cloud assembly",
    ),
    "manifest-templateFile-absolute": Case(
        stack_artifact(set_property("templateFile", "/etc/passwd")),
        MANIFEST,
        "templateFile is '/etc/passwd', outside the cloud assembly",
    ),
    "manifest-stackName-object": Case(
        stack_artifact(set_property("stackName", {"Ref": "AWS::StackName"})),
        MANIFEST,
        "properties.stackName is an object; expected a string",
    ),
    "manifest-environment-number": Case(
        stack_artifact(set_key("environment", 123456789012)),
        MANIFEST,
        "environment is the number 123456789012; expected a string",
    ),
    "manifest-dependencies-string": Case(
        stack_artifact(set_key("dependencies", f"{STACK}.assets")),
        MANIFEST,
        "dependencies is the string 'PlayAudioStack.assets'; expected a list of artifact ids",
    ),
    "manifest-asset-manifest-traversal": Case(
        edit(
            MANIFEST,
            lambda m: m["artifacts"][f"{STACK}.assets"].__setitem__(
                "properties", {"file": "../../etc/hostname"}
            ),
        ),
        MANIFEST,
        "properties.file is '../../etc/hostname', outside the cloud assembly",
    ),
    "manifest-nested-assembly-is-itself": Case(
        nested_assembly("."), MANIFEST, "directoryName is '.', an assembly that contains it"
    ),
    "manifest-nested-assembly-traversal": Case(
        nested_assembly("../.."), MANIFEST, "directoryName is '../..', outside the cloud assembly"
    ),
    "manifest-nested-assembly-no-directory": Case(
        edit(
            MANIFEST,
            lambda m: m["artifacts"].__setitem__(
                "Stage", {"type": "cdk:cloud-assembly", "properties": {}}
            ),
        ),
        MANIFEST,
        "artifacts.Stage.properties.directoryName is missing; expected a string",
    ),
    "manifest-not-json": Case(write(MANIFEST, "{artifacts: {}}"), MANIFEST, "not JSON ("),
    "manifest-empty": Case(write(MANIFEST, ""), MANIFEST, "an empty file; expected the cloud"),
    "manifest-not-utf8": Case(
        write(MANIFEST, b'{"artifacts": "\xff"}'), MANIFEST, "not UTF-8 text (byte 0xff"
    ),
    "manifest-list": Case(write(MANIFEST, "[]"), MANIFEST, "a list; expected the cloud assembly"),
    "manifest-deep-list": Case(
        write(MANIFEST, DEEP_LIST), MANIFEST, f"JSON nested more than {MAX_DEPTH} levels deep"
    ),
    "manifest-deep-object": Case(
        write(MANIFEST, DEEP_OBJECT), MANIFEST, f"JSON nested more than {MAX_DEPTH} levels deep"
    ),
    # the template
    "template-not-json": Case(write(TEMPLATE, "Resources: {}"), TEMPLATE, "not JSON ("),
    "template-list": Case(write(TEMPLATE, "[{}]"), TEMPLATE, "a list; expected the CloudFormation"),
    "template-deep": Case(
        write(TEMPLATE, DEEP_LIST), TEMPLATE, f"JSON nested more than {MAX_DEPTH} levels deep"
    ),
    "template-deep-in-a-resource": Case(
        sma_name(json.loads("[" * 150 + "]" * 150)),
        TEMPLATE,
        f"JSON nested more than {MAX_DEPTH} levels deep",
    ),
    "template-no-Resources": Case(
        edit(TEMPLATE, delete_key("Resources")), TEMPLATE, 'no "Resources"; expected'
    ),
    "template-Resources-list": Case(
        edit(TEMPLATE, set_key("Resources", [])),
        TEMPLATE,
        '"Resources" is a list; expected an object by logical id',
    ),
    "template-Resources-string": Case(
        edit(TEMPLATE, set_key("Resources", "none")),
        TEMPLATE,
        "\"Resources\" is the string 'none'; expected an object",
    ),
    "template-resource-string": Case(
        edit(TEMPLATE, lambda t: t["Resources"].__setitem__("Extra", "AWS::S3::Bucket")),
        TEMPLATE,
        "Resources.Extra is the string 'AWS::S3::Bucket'; expected an object with \"Type\"",
    ),
    "template-resource-without-Type": Case(
        edit(TEMPLATE, lambda t: t["Resources"].__setitem__("Extra", {"Properties": {}})),
        TEMPLATE,
        "Resources.Extra.Type is missing; expected a string",
    ),
    "template-sma-Properties-string": Case(
        resource(SMA, set_key("Properties", "sma")),
        TEMPLATE,
        ".Properties is the string 'sma'; expected an object",
    ),
    "template-function-Properties-string": Case(
        handler(set_key("Properties", "function")),
        TEMPLATE,
        ".Properties is the string 'function'; expected an object",
    ),
    "template-bucket-policy-Properties-list": Case(
        resource("AWS::S3::BucketPolicy", set_key("Properties", [])),
        TEMPLATE,
        ".Properties is a list; expected an object",
    ),
    "template-Metadata-string": Case(
        handler(set_key("Metadata", "asset")),
        TEMPLATE,
        ".Metadata is the string 'asset'; expected an object",
    ),
    "template-Endpoints-string": Case(
        resource(SMA, resource_property("Endpoints", "arn")),
        TEMPLATE,
        ".Properties.Endpoints is the string 'arn'; expected a list",
    ),
    "template-endpoint-string": Case(
        resource(SMA, resource_property("Endpoints", ["arn"])),
        TEMPLATE,
        ".Properties.Endpoints[0] is the string 'arn'; expected an object with \"LambdaArn\"",
    ),
    "template-Environment-Variables-list": Case(
        handler(resource_property("Environment", {"Variables": []})),
        TEMPLATE,
        ".Properties.Environment.Variables is a list; expected an object",
    ),
    "template-Timeout-not-a-number": Case(
        handler(resource_property("Timeout", "soon")),
        TEMPLATE,
        ".Properties.Timeout is the string 'soon'; expected a positive number",
    ),
    "template-MemorySize-list": Case(
        handler(resource_property("MemorySize", [128])),
        TEMPLATE,
        ".Properties.MemorySize is a list; expected a positive number",
    ),
    "template-PolicyDocument-string": Case(
        resource("AWS::S3::BucketPolicy", resource_property("PolicyDocument", "{}")),
        TEMPLATE,
        ".Properties.PolicyDocument is the string '{}'; expected an object",
    ),
    "template-SourceObjectKeys-string": Case(
        resource(
            "Custom::CDKBucketDeployment",
            resource_property("SourceObjectKeys", "key.zip"),
        ),
        TEMPLATE,
        ".Properties.SourceObjectKeys is the string 'key.zip'; expected a list",
    ),
    "template-Parameters-list": Case(
        edit(TEMPLATE, set_key("Parameters", [])),
        TEMPLATE,
        '"Parameters" is a list; expected an object',
    ),
    "template-Join-without-values": Case(
        sma_name({"Fn::Join": ["-"]}), TEMPLATE, 'Fn::Join takes [delimiter, [values]]; found ["-"]'
    ),
    "template-Select-out-of-range": Case(
        sma_name({"Fn::Select": [3, ["a"]]}), TEMPLATE, "Fn::Select index 3 is outside a list of 1"
    ),
    "template-GetAtt-number": Case(sma_name({"Fn::GetAtt": 5}), TEMPLATE, "Fn::GetAtt takes"),
    "template-Sub-number": Case(
        sma_name({"Fn::Sub": 5}), TEMPLATE, "Fn::Sub takes a string or [string, {variables}]"
    ),
    "template-FindInMap-no-mapping": Case(
        sma_name({"Fn::FindInMap": ["Sizes", "prod", "Memory"]}),
        TEMPLATE,
        "Fn::FindInMap: Mappings.Sizes is not in the template",
    ),
    "template-Ref-object": Case(
        sma_name({"Ref": {"Ref": "AWS::Region"}}), TEMPLATE, "Ref takes a name; found"
    ),
    # the asset manifest
    "assets-not-json": Case(write(ASSETS, "files"), ASSETS, "not JSON ("),
    "assets-files-list": Case(
        edit(ASSETS, set_key("files", [])), ASSETS, '"files" is a list; expected an object'
    ),
    "assets-entry-string": Case(
        edit(ASSETS, lambda a: a["files"].__setitem__("x", "asset.zip")),
        ASSETS,
        "files.x is the string 'asset.zip'; expected an object",
    ),
    "assets-source-path-number": Case(
        first_asset(lambda entry: entry["source"].__setitem__("path", 5)),
        ASSETS,
        ".source.path is the number 5; expected a string",
    ),
    "assets-destinations-list": Case(
        first_asset(set_key("destinations", [])),
        ASSETS,
        ".destinations is a list; expected an object",
    ),
    "assets-deep": Case(
        write(ASSETS, DEEP_OBJECT), ASSETS, f"JSON nested more than {MAX_DEPTH} levels deep"
    ),
}


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """The CLI's exit status and its one line on stderr (asserted: one line, no traceback)."""
    status = main(["call", "-q", *args])
    err = capsys.readouterr().err
    assert "Traceback" not in err, err
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("playaudio-sim: "), err
    return status, lines[0]


@pytest.mark.parametrize("case", ASSEMBLY_CASES.values(), ids=ASSEMBLY_CASES.keys())
def test_a_broken_assembly_exits_7_with_one_message_naming_the_file(
    case: Case, cdk_out: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    case.damage(cdk_out)
    out = tmp_path / "call"
    status, message = run(["-o", str(cdk_out), "--out", str(out)], capsys)
    assert status == EXIT_SETUP_ERROR, message
    assert message.startswith(f"playaudio-sim: {cdk_out / case.file}: "), message
    assert case.says in message
    assert not out.exists()  # no call was played


SCENARIO_CASES: dict[str, tuple[str | bytes, str]] = {
    "prompts-number": (
        '{"expect": {"prompts": 5}}',
        "expect.prompts is the number 5; expected a list",
    ),
    "prompts-string": (
        '{"expect": {"prompts": "welcome"}}',
        "expect.prompts is the string 'welcome'; expected a list",
    ),
    "prompts-object": (
        '{"expect": {"prompts": {"prompt": "welcome"}}}',
        "expect.prompts is an object",
    ),
    "keys-number": ('{"call": {"keys": 7}}', "call.keys is the number 7; expected a string"),
    "digits-unknown-field": ('{"call": {"digits": 7}}', "call has unknown field(s) ['digits']"),
    "unknown-top-level-field": ('{"prompts": ["welcome"]}', "has unknown field(s) ['prompts']"),
    "top-level-list": ('[{"expect": {}}]', "the scenario is a list; expected a JSON object"),
    "not-json": ("{expect: {}}", "not JSON ("),
    "empty": ("", "an empty file; expected a scenario"),
    "whitespace-only": ("\n  \n", "an empty file; expected a scenario"),
    "not-utf8": (b'{"name": "caf\xe9"}', "not UTF-8 text (byte 0xe9 at offset 13)"),
    "deep-list": (DEEP_LIST, f"JSON nested more than {MAX_DEPTH} levels deep"),
    "deep-merge-patch": (
        '{"environment": {"M": {"mergePatch": ' + DEEP_OBJECT + "}}}",
        f"JSON nested more than {MAX_DEPTH} levels deep",
    ),
    "nan": ('{"call": {"hangupAt": NaN}}', "not JSON (NaN is not a JSON value)"),
    "hangupAt-overflows": (
        '{"call": {"hangupAt": 1e400}}',
        "call.hangupAt: time inf is not a finite",
    ),
    "hangupAt-negative": ('{"call": {"hangupAt": -1}}', "call.hangupAt: time -1 is not a finite"),
    "stoppedBy-number": (
        '{"expect": {"prompts": [{"prompt": "welcome", "stoppedBy": 5}]}}',
        "stoppedBy of expected prompt 'welcome' is the number 5; expected a key",
    ),
    "maxInvocations-true": (
        '{"expect": {"maxInvocations": true}}',
        "expect.maxInvocations is true; expected a whole number",
    ),
    "name-object": ('{"name": {"en": "happy"}}', "name is an object; expected a string"),
    "failures-string": (
        '{"expect": {"failures": "InvalidAudioSource"}}',
        "expect.failures is the string 'InvalidAudioSource'; expected a list of strings",
    ),
    "call-number": ('{"call": 5}', "call is the number 5; expected an object"),
    "readings-list": ('{"readings": ["emptyActions=keep"]}', "readings is a list; expected an"),
    "readings-unknown": (
        '{"readings": {"emptyList": "keep"}}',
        "readings: 'emptyList' is not a conflict the simulator models; expected one of",
    ),
    "readings-bad-value": (
        '{"readings": {"attributeLimit": 10}}',
        "readings: attributeLimit is 10; expected one of '10', '100'",
    ),
}


@pytest.mark.parametrize(("content", "says"), SCENARIO_CASES.values(), ids=SCENARIO_CASES.keys())
def test_a_broken_scenario_is_a_usage_error_with_one_message(
    content: str | bytes,
    says: str,
    sample_cdk_out: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    scenario = tmp_path / "scenario.json"
    if isinstance(content, bytes):
        scenario.write_bytes(content)
    else:
        scenario.write_text(content)
    out = tmp_path / "call"
    args = ["-o", str(sample_cdk_out), "--out", str(out), "--scenario", str(scenario)]
    status, message = run(args, capsys)
    assert status == EXIT_USAGE, message
    assert message.startswith(f"playaudio-sim: {scenario}: "), message
    assert says in message
    assert not out.exists()


def test_a_missing_scenario_file_or_a_folder_is_a_usage_error(
    sample_cdk_out: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["-o", str(sample_cdk_out), "--out", str(tmp_path / "call"), "--scenario"]
    assert run([*args, str(tmp_path / "nope.json")], capsys) == (
        EXIT_USAGE,
        f"playaudio-sim: {tmp_path / 'nope.json'}: no such file; expected a scenario "
        "(a JSON object)",
    )
    status, message = run([*args, str(tmp_path)], capsys)
    assert status == EXIT_USAGE
    assert f"{tmp_path}: a folder, not a file" in message


def test_a_merge_patch_on_a_variable_that_is_not_json_is_a_usage_error(
    sample_cdk_out: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scenario = tmp_path / "scenario.json"
    scenario.write_text('{"environment": {"PROMPTS_BUCKET": {"mergePatch": {"a": 1}}}}')
    args = ["-o", str(sample_cdk_out), "--out", str(tmp_path / "call"), "--scenario"]
    status, message = run([*args, str(scenario)], capsys)
    assert status == EXIT_USAGE
    assert "environment.PROMPTS_BUCKET has a mergePatch, but the variable does not hold" in message


def test_a_scenario_with_a_byte_order_mark_is_read(
    sample_cdk_out: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scenario = tmp_path / "scenario.json"
    scenario.write_text('\ufeff{"expect": {"end": "hangup"}}', encoding="utf-8")
    args = ["-o", str(sample_cdk_out), "--out", str(tmp_path / "call"), "--scenario"]
    assert main(["call", "-q", *args, str(scenario)]) == 0
    assert "passed" in capsys.readouterr().out


OUT_CASES: dict[str, tuple[Callable[[Path], Path], str]] = {
    "an-existing-file": (
        lambda tmp: _file(tmp / "out"),
        "out is a file; expected a folder for transcript.jsonl, call.wav and timeline.png",
    ),
    "under-a-file": (
        lambda tmp: _file(tmp / "file") / "call",
        "file/call cannot be created: {tmp}/file is a file; expected a folder",
    ),
    "under-a-file-deeper": (
        lambda tmp: _file(tmp / "file") / "a" / "b",
        "file/a/b cannot be created: {tmp}/file is a file",
    ),
    "an-output-that-is-a-folder": (
        lambda tmp: _folder(tmp / "out" / "call.wav").parent,
        "out/call.wav is a folder; expected nothing there, or a file to replace",
    ),
}


def _file(path: Path) -> Path:
    path.write_text("not a folder")
    return path


def _folder(path: Path) -> Path:
    path.mkdir(parents=True)
    return path


@pytest.mark.parametrize(("make", "says"), OUT_CASES.values(), ids=OUT_CASES.keys())
def test_an_unusable_out_exits_8_before_the_call(
    make: Callable[[Path], Path],
    says: str,
    sample_cdk_out: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = make(tmp_path)
    status, message = run(["-o", str(sample_cdk_out), "--out", str(out)], capsys)
    assert status == EXIT_OUTPUT_ERROR, message
    assert message.startswith(f"playaudio-sim: {out}"), message
    assert says.format(tmp=tmp_path) in message
    assert not (out / "transcript.jsonl").is_file()


def test_a_folder_that_cannot_be_created_exits_8(
    sample_cdk_out: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # /proc refuses new folders even to root.
    status, message = run(["-o", str(sample_cdk_out), "--out", "/proc/playaudio-sim/call"], capsys)
    assert status == EXIT_OUTPUT_ERROR
    assert "/proc/playaudio-sim/call cannot be created (" in message


@pytest.mark.parametrize(
    ("make", "says"),
    [
        (lambda tmp: tmp / "missing", "missing does not exist; expected the cloud assembly"),
        (lambda tmp: _file(tmp / "cdk.out"), "cdk.out is a file; expected the folder"),
        (lambda tmp: tmp, "has no manifest.json; synthesize first"),
    ],
    ids=["missing", "a-file", "not-synthesized"],
)
def test_an_unusable_cdk_out_exits_7_with_one_message(
    make: Callable[[Path], Path], says: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cdk_out = make(tmp_path)
    status, message = run(["-o", str(cdk_out), "--out", str(tmp_path / "call")], capsys)
    assert status == EXIT_SETUP_ERROR
    assert message.startswith(f"playaudio-sim: {cdk_out}")
    assert says in message


@pytest.mark.parametrize(
    "option",
    [
        ["--hangup-at", "inf"],
        ["--hangup-at", "-1"],
        ["--caller-patience", "nan"],
        ["--caller-patience", "0"],
        ["--max-call-seconds", "-1"],
    ],
    ids=lambda option: " ".join(option),
)
def test_seconds_must_be_finite_and_not_negative(
    option: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit:
        main(["call", "-o", str(tmp_path), *option])
    assert exit.value.code == EXIT_USAGE
    err = capsys.readouterr().err
    assert f"argument {option[0]}: {option[1]!r} is not a number of seconds" in err
    assert "Traceback" not in err


def test_a_nested_stage_assembly_with_assets_one_level_up_is_read(
    cdk_out: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """As a cdk.Stage synthesizes: assembly-Dev/ with its manifest, assets at ../asset.*."""
    nested = cdk_out / "assembly-Dev"
    nested.mkdir()
    for name in (TEMPLATE, ASSETS):
        (cdk_out / name).rename(nested / name)
    manifest = json.loads((cdk_out / MANIFEST).read_text())
    artifacts = manifest["artifacts"]
    (nested / MANIFEST).write_text(
        json.dumps(
            {
                "version": manifest["version"],
                "artifacts": {key: artifacts[key] for key in (STACK, f"{STACK}.assets")},
            }
        )
    )
    manifest["artifacts"] = {
        "assembly-Dev": {
            "type": "cdk:cloud-assembly",
            "properties": {"directoryName": "assembly-Dev", "displayName": "Dev"},
        }
    }
    (cdk_out / MANIFEST).write_text(json.dumps(manifest))
    assets = json.loads((nested / ASSETS).read_text())
    for entry in assets["files"].values():
        if entry["source"]["path"].startswith("asset."):
            entry["source"]["path"] = f"../{entry['source']['path']}"
    (nested / ASSETS).write_text(json.dumps(assets))
    assert main(["call", "-q", "-o", str(cdk_out), "--out", str(tmp_path / "call")]) == 0
    assert capsys.readouterr().err == ""


def test_the_undamaged_copy_plays_the_call(
    cdk_out: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The copy the cases damage is itself fine: each case fails for its own damage."""
    assert main(["call", "-q", "-o", str(cdk_out), "--out", str(tmp_path / "call")]) == 0
    assert capsys.readouterr().err == ""
    assert (tmp_path / "call" / "transcript.jsonl").is_file()


def test_deep_json_is_one_message_from_the_installed_command(cdk_out: Path, tmp_path: Path) -> None:
    """The real entry point, in its own process: no traceback, not even from the stack limit."""
    (cdk_out / MANIFEST).write_text(DEEP_LIST)
    completed = subprocess.run(
        [sys.executable, "-m", "playaudio_sim.cli", "call", "-o", str(cdk_out)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert completed.returncode == EXIT_SETUP_ERROR
    assert completed.stderr == (
        f"playaudio-sim: {cdk_out / MANIFEST}: JSON nested more than {MAX_DEPTH} levels deep; "
        "expected the cloud assembly manifest (a JSON object)\n"
    )


@pytest.mark.parametrize(
    ("depth", "readable"), [(MAX_DEPTH, True), (MAX_DEPTH + 1, False), (5_000, False)]
)
def test_the_json_reader_allows_exactly_max_depth_levels(
    depth: int, readable: bool, tmp_path: Path
) -> None:
    path = tmp_path / "deep.json"
    path.write_text("[" * depth + "]" * depth)
    if readable:
        assert read_json(path, "a list") is not None
    else:
        with pytest.raises(JsonFileError, match=f"more than {MAX_DEPTH} levels deep"):
            read_json(path, "a list")
