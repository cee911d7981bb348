"""playaudio-sim on damaged prompt deployments, bucket policies and prompt assets.

Same harness as test_broken_input.py: each case damages its own copy of the
synthesized sample app, then runs the CLI in-process. The damage here is in
what buckets.py reads once intrinsics are resolved (a property of the wrong
shape, often behind an ``Fn::If`` or ``Fn::Select`` that the template check
cannot see through) and in the asset the deployment extracts (a zip that is
not one, a member that would land outside the prefix, a path of the wrong
kind). Each is exit 7 and one message naming the template, the resource and
property, what was found and what was expected. The "still plays" cases are
valid variants that must not be refused.
"""

from __future__ import annotations

import io
import json
import os
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from playaudio_sim.call_setup import load_call_setup
from playaudio_sim.cli import EXIT_SETUP_ERROR, main
from tests.playaudio_sim.test_broken_input import (
    ASSETS,
    TEMPLATE,
    Case,
    Damage,
    Json,
    copy_assembly,
    resource,
    resource_property,
    run,
)

DEPLOYMENT = "Custom::CDKBucketDeployment"
BUCKET_POLICY = "AWS::S3::BucketPolicy"
NO_VALUE = {"Ref": "AWS::NoValue"}


@pytest.fixture
def cdk_out(sample_cdk_out: Path, tmp_path: Path) -> Path:
    return copy_assembly(sample_cdk_out, tmp_path / "cdk.out")


def select(value: Json) -> Json:
    """``value`` behind an Fn::Select, so only its resolved shape can be checked."""
    return {"Fn::Select": [0, [value]]}


def deployment(key: str, value: Json) -> Damage:
    """The prompt deployment's Properties.KEY set to ``value``."""
    return resource(DEPLOYMENT, resource_property(key, value))


def without_deployment_property(key: str) -> Damage:
    return resource(DEPLOYMENT, lambda r: r["Properties"].__delitem__(key))


def prompt_policy(change: Callable[[Json], None]) -> Damage:
    """Change the prompt bucket's policy resource (not the access-log bucket's)."""
    return resource(BUCKET_POLICY, change, prefix="PromptsBucketPolicy")


def policy_document(value: Json) -> Damage:
    return prompt_policy(resource_property("PolicyDocument", value))


def statements(change: Callable[[list[Json]], Json]) -> Damage:
    """Replace the prompt policy's Statement with ``change(statements)``."""

    def damage(policy: Json) -> None:
        document = policy["Properties"]["PolicyDocument"]
        document["Statement"] = change(document["Statement"])

    return prompt_policy(damage)


def chime_statement(key: str, value: Json) -> Damage:
    """Set KEY of the Chime read statement (the policy's last statement)."""

    def change(listed: list[Json]) -> Json:
        listed[-1][key] = value
        return listed

    return statements(change)


def prompt_asset(make: Callable[[Path], str], packaging: str = "file") -> Damage:
    """Point the deployment's asset at what ``make`` creates in cdk.out (returns its name)."""

    def damage(root: Path) -> None:
        template = json.loads((root / TEMPLATE).read_text())
        (key,) = next(
            r["Properties"]["SourceObjectKeys"]
            for r in template["Resources"].values()
            if r["Type"] == DEPLOYMENT
        )
        path = make(root)
        manifest = json.loads((root / ASSETS).read_text())
        for entry in manifest["files"].values():
            if any(d["objectKey"] == key for d in entry["destinations"].values()):
                entry["source"] = {"path": path, "packaging": packaging}
        (root / ASSETS).write_text(json.dumps(manifest))

    return damage


def prompt_folder(root: Path) -> Path:
    """The sample app's prompt asset folder (linked into the copy: read, never write)."""
    template = json.loads((root / TEMPLATE).read_text())
    (key,) = next(
        r["Properties"]["SourceObjectKeys"]
        for r in template["Resources"].values()
        if r["Type"] == DEPLOYMENT
    )
    return root / f"asset.{key.removesuffix('.zip')}"


def zipped(members: dict[str, bytes] | None = None) -> bytes:
    """A zip of the sample prompts (stored, not compressed), or of ``members``."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in (members or {}).items():
            archive.writestr(zipfile.ZipInfo(name), content)
    return buffer.getvalue()


def zip_of_prompts(root: Path, extra: dict[str, bytes] | None = None) -> bytes:
    members = {p.name: p.read_bytes() for p in sorted(prompt_folder(root).iterdir())}
    return zipped({**members, **(extra or {})})


def asset_file(content: Callable[[Path], bytes], name: str = "asset.damaged.zip") -> Damage:
    """The deployment's asset replaced by a file (packaging 'file') holding ``content``."""

    def make(root: Path) -> str:
        (root / name).write_bytes(content(root))
        return name

    return prompt_asset(make)


def corrupt_member(root: Path) -> bytes:
    """A zip whose central directory is intact but whose first member's bytes are not."""
    data = bytearray(zip_of_prompts(root))
    data[100] ^= 0xFF  # inside the first member's data (a stored WAV header)
    return bytes(data)


def fifo(root: Path) -> str:
    os.mkfifo(root / "asset.fifo.zip")
    return "asset.fifo.zip"


def folder(root: Path) -> str:
    (root / "asset.folder.zip").mkdir()
    return "asset.folder.zip"


def file(root: Path) -> str:
    (root / "asset.prompts.zip").write_bytes(zip_of_prompts(root))
    return "asset.prompts.zip"


# Placeholders for the logical ids, which the sample app's synthesis generates.
D = "Resources.<deployment>.Properties"
P = "Resources.<policy>.Properties"

OBJECT_CASES: dict[str, Case] = {
    # Custom::CDKBucketDeployment, after resolution
    "SourceObjectKeys-string-behind-Select": Case(
        deployment("SourceObjectKeys", select("prompts.zip")),
        TEMPLATE,
        f"{D}.SourceObjectKeys resolves to the string 'prompts.zip'; expected a list of asset "
        "object keys (strings)",
    ),
    "SourceObjectKeys-holding-a-number": Case(
        deployment("SourceObjectKeys", ["a.zip", 5]),
        TEMPLATE,
        f"{D}.SourceObjectKeys[1] is the number 5; expected an asset object key (a string)",
    ),
    "SourceObjectKeys-holding-a-list": Case(
        deployment("SourceObjectKeys", [{"Fn::GetAZs": ""}]),
        TEMPLATE,
        f"{D}.SourceObjectKeys[0] is a list; expected an asset object key (a string)",
    ),
    "SourceObjectKeys-NoValue": Case(
        deployment("SourceObjectKeys", NO_VALUE),
        TEMPLATE,
        f"{D}.SourceObjectKeys is missing; expected a list of asset object keys (strings)",
    ),
    "SourceObjectKeys-missing": Case(
        without_deployment_property("SourceObjectKeys"),
        TEMPLATE,
        f"{D}.SourceObjectKeys is missing; expected a list of asset object keys (strings)",
    ),
    "SourceBucketNames-string": Case(
        deployment("SourceBucketNames", "cdk-assets"),
        TEMPLATE,
        f"{D}.SourceBucketNames is the string 'cdk-assets'; expected a list of bucket names",
    ),
    "SourceBucketNames-one-too-many": Case(
        deployment("SourceBucketNames", ["a-bucket", "b-bucket"]),
        TEMPLATE,
        f"{D}.SourceBucketNames lists 2 buckets for 1 source object key(s); expected one "
        "bucket per key",
    ),
    "Exclude-string-behind-Select": Case(
        deployment("Exclude", select("*.txt")),
        TEMPLATE,
        f"{D}.Exclude resolves to the string '*.txt'; expected a list of patterns (strings)",
    ),
    "Exclude-holding-a-number": Case(
        deployment("Exclude", [5]),
        TEMPLATE,
        f"{D}.Exclude[0] is the number 5; expected a pattern (a string)",
    ),
    "Include-holding-an-object": Case(
        deployment("Include", [{"pattern": "*.wav"}]),
        TEMPLATE,
        f"{D}.Include[0] is an object; expected a pattern (a string)",
    ),
    "Include-true-behind-Select": Case(
        deployment("Include", select(True)),
        TEMPLATE,
        f"{D}.Include resolves to true; expected a list of patterns (strings)",
    ),
    "SystemMetadata-string-behind-Select": Case(
        deployment("SystemMetadata", select("audio/wav")),
        TEMPLATE,
        f"{D}.SystemMetadata resolves to the string 'audio/wav'; expected an object of "
        "metadata values (strings) by name",
    ),
    "SystemMetadata-list-behind-Select": Case(
        deployment("SystemMetadata", select([{"content-type": "audio/wav"}])),
        TEMPLATE,
        f"{D}.SystemMetadata resolves to a list; expected an object of metadata values",
    ),
    "SystemMetadata-content-type-list": Case(
        deployment("SystemMetadata", {"content-type": ["audio/wav"]}),
        TEMPLATE,
        f"{D}.SystemMetadata.content-type is a list; expected a string",
    ),
    "SystemMetadata-content-type-number": Case(
        deployment("SystemMetadata", {"content-type": 7}),
        TEMPLATE,
        f"{D}.SystemMetadata.content-type is the number 7; expected a string",
    ),
    "DestinationBucketKeyPrefix-list": Case(
        deployment("DestinationBucketKeyPrefix", ["prompts/"]),
        TEMPLATE,
        f"{D}.DestinationBucketKeyPrefix is a list; expected a string such as 'prompts/'",
    ),
    "DestinationBucketKeyPrefix-number": Case(
        deployment("DestinationBucketKeyPrefix", 5),
        TEMPLATE,
        f"{D}.DestinationBucketKeyPrefix is the number 5; expected a string such as 'prompts/'",
    ),
    "DestinationBucketKeyPrefix-object-behind-Select": Case(
        deployment("DestinationBucketKeyPrefix", select({"prefix": "prompts/"})),
        TEMPLATE,
        f"{D}.DestinationBucketKeyPrefix resolves to an object; expected a string",
    ),
    "DestinationBucketName-missing": Case(
        without_deployment_property("DestinationBucketName"),
        TEMPLATE,
        f"{D}.DestinationBucketName is missing; expected the bucket's name (a string)",
    ),
    "DestinationBucketName-NoValue": Case(
        deployment("DestinationBucketName", NO_VALUE),
        TEMPLATE,
        f"{D}.DestinationBucketName is missing; expected the bucket's name (a string)",
    ),
    "DestinationBucketName-list-behind-Select": Case(
        deployment("DestinationBucketName", select(["a", "b"])),
        TEMPLATE,
        f"{D}.DestinationBucketName resolves to a list; expected the bucket's name (a string)",
    ),
    # AWS::S3::BucketPolicy, after resolution
    "PolicyDocument-string-behind-Select": Case(
        policy_document(select("{}")),
        TEMPLATE,
        f"{P}.PolicyDocument resolves to the string '{{}}'; expected a policy document",
    ),
    "PolicyDocument-NoValue": Case(
        policy_document(NO_VALUE),
        TEMPLATE,
        f'{P}.PolicyDocument is missing; expected a policy document (an object with "Statement")',
    ),
    "PolicyDocument-missing": Case(
        prompt_policy(lambda p: p["Properties"].__delitem__("PolicyDocument")),
        TEMPLATE,
        f"{P}.PolicyDocument is missing; expected a policy document",
    ),
    "Bucket-missing": Case(
        prompt_policy(lambda p: p["Properties"].__delitem__("Bucket")),
        TEMPLATE,
        f"{P}.Bucket is missing; expected the bucket's name (a string)",
    ),
    "Statement-missing": Case(
        statements(lambda listed: NO_VALUE),
        TEMPLATE,
        f"{P}.PolicyDocument.Statement is missing; expected a statement (an object) or a "
        "list of statements",
    ),
    "Statement-string": Case(
        statements(lambda listed: "Allow everything"),
        TEMPLATE,
        f"{P}.PolicyDocument.Statement is the string 'Allow everything'; expected a statement "
        "(an object) or a list of statements",
    ),
    "Statement-list-holding-a-string": Case(
        statements(lambda listed: [*listed, "s3:GetObject"]),
        TEMPLATE,
        f"{P}.PolicyDocument.Statement[2] is the string 's3:GetObject'; expected a statement "
        "(an object)",
    ),
    "Statement-list-holding-a-list": Case(
        statements(lambda listed: [listed]),
        TEMPLATE,
        f"{P}.PolicyDocument.Statement[0] is a list; expected a statement (an object)",
    ),
    "Statement-Effect-Permit": Case(
        chime_statement("Effect", "Permit"),
        TEMPLATE,
        f"{P}.PolicyDocument.Statement[1].Effect is the string 'Permit'; expected 'Allow' or "
        "'Deny'",
    ),
    "Statement-Effect-missing": Case(
        statements(lambda listed: [{k: v for k, v in s.items() if k != "Effect"} for s in listed]),
        TEMPLATE,
        f"{P}.PolicyDocument.Statement[0].Effect is missing; expected 'Allow' or 'Deny'",
    ),
    "Statement-Action-number": Case(
        chime_statement("Action", 5),
        TEMPLATE,
        f"{P}.PolicyDocument.Statement[1].Action is the number 5; expected a string or a list "
        "of strings",
    ),
    "Statement-Resource-list-holding-an-object": Case(
        chime_statement("Resource", [{"arn": "x"}]),
        TEMPLATE,
        f"{P}.PolicyDocument.Statement[1].Resource[0] is an object; expected a string",
    ),
    "Statement-Principal-a-name": Case(
        chime_statement("Principal", "voiceconnector.chime.amazonaws.com"),
        TEMPLATE,
        f"{P}.PolicyDocument.Statement[1].Principal is the string "
        "'voiceconnector.chime.amazonaws.com'; expected '*' or an object such as "
        '{"Service": ...}',
    ),
    "Statement-Principal-Service-number": Case(
        chime_statement("Principal", {"Service": 5}),
        TEMPLATE,
        f"{P}.PolicyDocument.Statement[1].Principal.Service is the number 5; expected a string "
        "or a list of strings",
    ),
    "Statement-Condition-string": Case(
        chime_statement("Condition", "aws:SecureTransport"),
        TEMPLATE,
        f"{P}.PolicyDocument.Statement[1].Condition is the string 'aws:SecureTransport'; "
        "expected an object of condition operators",
    ),
    "Statement-Condition-operator-list": Case(
        chime_statement("Condition", {"StringEquals": ["aws:SourceAccount"]}),
        TEMPLATE,
        f"{P}.PolicyDocument.Statement[1].Condition.StringEquals is a list; expected an object "
        "of condition keys",
    ),
    "Statement-Condition-value-object": Case(
        chime_statement("Condition", {"StringEquals": {"aws:SourceAccount": {"a": "b"}}}),
        TEMPLATE,
        f"{P}.PolicyDocument.Statement[1].Condition.StringEquals.aws:SourceAccount is an "
        "object; expected a string or a list of strings",
    ),
    "Statement-unknown-field": Case(
        chime_statement("Actions", ["s3:GetObject"]),
        TEMPLATE,
        f"{P}.PolicyDocument.Statement[1] has unknown field(s) ['Actions']; expected only",
    ),
    # the prompt asset the deployment extracts
    "asset-zip-not-a-zip": Case(
        asset_file(lambda root: b"RIFF....WAVE, not a zip"),
        TEMPLATE,
        "asset.damaged.zip, which is not a zip archive (File is not a zip file); expected a "
        "zip archive",
    ),
    "asset-zip-empty": Case(
        asset_file(lambda root: b""),
        TEMPLATE,
        "asset.damaged.zip, which is not a zip archive",
    ),
    "asset-zip-truncated": Case(
        asset_file(lambda root: zip_of_prompts(root)[:5000]),
        TEMPLATE,
        "asset.damaged.zip, which is not a zip archive",
    ),
    "asset-zip-member-corrupt": Case(
        asset_file(corrupt_member),
        TEMPLATE,
        "asset.damaged.zip, whose member 'error.wav' cannot be read (Bad CRC-32",
    ),
    "asset-zip-member-absolute": Case(
        asset_file(lambda root: zipped({"/etc/welcome.wav": b"x"})),
        TEMPLATE,
        "asset.damaged.zip, whose member '/etc/welcome.wav' is an absolute path; expected a "
        "path relative to the destination prefix",
    ),
    "asset-zip-member-drive-letter": Case(
        asset_file(lambda root: zipped({"C:/prompts/welcome.wav": b"x"})),
        TEMPLATE,
        "whose member 'C:/prompts/welcome.wav' is an absolute path",
    ),
    "asset-zip-member-dotdot": Case(
        asset_file(lambda root: zipped({"prompts/../../welcome.wav": b"x"})),
        TEMPLATE,
        "whose member 'prompts/../../welcome.wav' has a '..' segment; expected a path "
        "relative to the destination prefix",
    ),
    "asset-zip-member-backslash": Case(
        asset_file(lambda root: zipped({"prompts\\welcome.wav": b"x"})),
        TEMPLATE,
        "whose member 'prompts\\\\welcome.wav' has a backslash; expected '/' between folders",
    ),
    "asset-missing": Case(
        prompt_asset(lambda root: "asset.gone"),
        TEMPLATE,
        "asset.gone, which does not exist; expected a zip file (packaging 'file')",
    ),
    "asset-missing-folder": Case(
        prompt_asset(lambda root: "asset.gone", packaging="zip"),
        TEMPLATE,
        "asset.gone, which does not exist; expected a folder (packaging 'zip')",
    ),
    "asset-folder-where-a-zip-file-belongs": Case(
        prompt_asset(folder),
        TEMPLATE,
        "asset.folder.zip, which is a folder; expected a zip file (packaging 'file')",
    ),
    "asset-file-where-a-folder-belongs": Case(
        prompt_asset(file, packaging="zip"),
        TEMPLATE,
        "asset.prompts.zip, which is a file; expected a folder (packaging 'zip')",
    ),
    "asset-fifo": Case(
        prompt_asset(fifo),
        TEMPLATE,
        "asset.fifo.zip, which is neither a file nor a folder; expected a zip file",
    ),
    "asset-packaging-unknown": Case(
        prompt_asset(file, packaging="container-image"),
        TEMPLATE,
        "has packaging 'container-image'; expected 'zip' (a folder) or 'file' (a zip file)",
    ),
}


def _logical_ids(root: Path) -> dict[str, str]:
    """The logical ids the messages name: the deployment and the prompt bucket's policy."""
    resources = json.loads((root / TEMPLATE).read_text())["Resources"]
    return {
        "deployment": next(lid for lid, r in resources.items() if r["Type"] == DEPLOYMENT),
        "policy": next(lid for lid in resources if lid.startswith("PromptsBucketPolicy")),
    }


@pytest.mark.parametrize("case", OBJECT_CASES.values(), ids=OBJECT_CASES.keys())
def test_a_damaged_deployment_policy_or_asset_exits_7_naming_resource_and_property(
    case: Case, cdk_out: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ids = _logical_ids(cdk_out)
    says = case.says.replace("<deployment>", ids["deployment"]).replace("<policy>", ids["policy"])
    case.damage(cdk_out)
    out = tmp_path / "call"
    status, message = run(["-o", str(cdk_out), "--out", str(out)], capsys)
    assert status == EXIT_SETUP_ERROR, message
    assert message.startswith(f"playaudio-sim: {cdk_out / case.file}: "), message
    assert says in message, message
    assert not out.exists()


def test_an_asset_message_names_the_deployment_and_its_source_key(
    cdk_out: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Where the asset came from: the deployment, SourceObjectKeys[i] and the key itself."""
    ids = _logical_ids(cdk_out)
    asset_file(lambda root: b"not a zip")(cdk_out)
    status, message = run(["-o", str(cdk_out), "--out", str(tmp_path / "call")], capsys)
    assert status == EXIT_SETUP_ERROR
    key = prompt_folder(cdk_out).name.removeprefix("asset.") + ".zip"
    assert (
        f"Resources.{ids['deployment']}.Properties.SourceObjectKeys[0] ({key!r}) is the asset "
        f"{cdk_out / 'asset.damaged.zip'}, which is not a zip archive"
    ) in message


STILL_PLAYS: dict[str, Damage] = {
    "Statement-a-single-object": statements(lambda listed: listed[-1]),
    "Statement-list-with-a-NoValue-item": statements(lambda listed: [NO_VALUE, *listed]),
    "SourceBucketNames-NoValue": deployment("SourceBucketNames", NO_VALUE),
    "Exclude-NoValue": deployment("Exclude", NO_VALUE),
    "Include-NoValue": deployment("Include", NO_VALUE),
    "Exclude-empty-list": deployment("Exclude", []),
    "Exclude-all-then-Include-wav": resource(
        DEPLOYMENT, lambda r: r["Properties"].update(Exclude=["*"], Include=["*.wav"])
    ),
    "SystemMetadata-with-a-NoValue-entry": deployment(
        "SystemMetadata", {"content-type": "audio/wav", "cache-control": NO_VALUE}
    ),
    "DestinationBucketKeyPrefix-behind-Join": deployment(
        "DestinationBucketKeyPrefix", {"Fn::Join": ["", ["prompts", "/"]]}
    ),
    "SourceObjectKeys-behind-Split": resource(
        DEPLOYMENT,
        lambda r: r["Properties"].__setitem__(
            "SourceObjectKeys", {"Fn::Split": [",", r["Properties"]["SourceObjectKeys"][0]]}
        ),
    ),
    "prompt-asset-a-zip-file": prompt_asset(file),
    "prompt-asset-a-zip-with-a-folder-entry": asset_file(
        lambda root: zip_of_prompts(root, {"extra/": b""})
    ),
}


@pytest.mark.parametrize("damage", STILL_PLAYS.values(), ids=STILL_PLAYS.keys())
def test_a_valid_variant_still_plays_the_call(
    damage: Damage, cdk_out: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    damage(cdk_out)
    assert main(["call", "-q", "-o", str(cdk_out), "--out", str(tmp_path / "call")]) == 0
    assert capsys.readouterr().err == ""


def test_a_NoValue_prefix_deploys_to_the_bucket_root(cdk_out: Path) -> None:
    """AWS::NoValue for DestinationBucketKeyPrefix is no prefix, as if it were absent."""
    deployment("DestinationBucketKeyPrefix", NO_VALUE)(cdk_out)
    store = load_call_setup(cdk_out).store
    (bucket,) = {bucket for bucket, _ in store.objects}
    assert "welcome.wav" in store.keys_in(bucket)


def test_a_zip_asset_serves_its_members_as_the_folder_did(cdk_out: Path) -> None:
    """The same prompts, once as the synthesized folder and once as a zip file asset."""
    before = load_call_setup(cdk_out).store
    prompt_asset(file)(cdk_out)
    after = load_call_setup(cdk_out).store

    def listed(store: Any) -> dict[str, tuple[str | None, int]]:
        return {key: (o.content_type, o.size) for (_, key), o in store.objects.items()}

    assert listed(after) == listed(before)
    welcome = next(o for (_, key), o in after.objects.items() if key.endswith("welcome.wav"))
    with welcome.open() as handle:
        assert handle.read(4) == b"RIFF"
