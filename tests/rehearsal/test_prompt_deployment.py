"""Deploy rehearsal: the prompts land in S3 as Chime needs them, by the code AWS would run.

PlayAudioStack is synthesized through app.build_app; its Custom::CDKBucketDeployment
properties, exactly as synthesized (intrinsics resolved to stand-in buckets, scalars as
the strings CloudFormation sends), go to aws-cdk-lib's own handler, which runs the AWS
CLI against a local S3 (see conftest.py). What lands is read back object by object.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest

from app import PlayAudioStack, build_app
from constructs_pkg import PromptBucket, WavPrompts
from tests.audio import wavgen
from tests.rehearsal.cloudformation import ACCOUNT, REGION, Assembly
from tests.rehearsal.stage import ASSET_BUCKET, PROMPT_BUCKET, Deployment, Rehearsal

PREFIX = "prompts/"
DROPPED = "goodbye.wav"
BY_HAND = "prompts/by-hand/extra.wav"
BY_HAND_BYTES = wavgen.pcm(frames=100)


@dataclass(frozen=True)
class Synthesized:
    folder: Path
    stack: PlayAudioStack
    assembly: Assembly


def make_prompt_folder(folder: Path) -> Path:
    """Prompts of distinct bytes; one in a sub-folder with a space and an upper-case suffix."""
    wavgen.write(folder / "welcome.wav", wavgen.pcm(frames=800))
    wavgen.write(folder / "error.wav", wavgen.pcm(frames=1200))
    wavgen.write(folder / DROPPED, wavgen.pcm(frames=1600))
    wavgen.write(folder / "menu" / "Big Hall.WAV", wavgen.pcm(rate=44100, channels=2, frames=441))
    (folder / "notes.txt").write_text("not a prompt, never deployed")
    return folder


def expected_objects(folder: Path, prefix: str = PREFIX) -> dict[str, bytes]:
    """What must land: each .wav (any case) at prefix + its path, suffix .wav; its bytes."""
    return {
        prefix + path.relative_to(folder).with_suffix(".wav").as_posix(): path.read_bytes()
        for path in folder.rglob("*")
        if path.is_file() and path.suffix.lower() == ".wav"
    }


def as_wav(
    objects: dict[str, bytes], content_type: str = "audio/wav"
) -> dict[str, tuple[str, bytes]]:
    return {key: (content_type, body) for key, body in objects.items()}


def synth_play_audio_stack(
    make_app: Callable[..., cdk.App], folder: Path, outdir: Path
) -> Synthesized:
    app = make_app(outdir=str(outdir), promptsDir=str(folder))
    stack = build_app(app, {})
    app.synth()
    return Synthesized(folder, stack, Assembly(outdir, stack.stack_name))


@pytest.fixture(scope="module")
def v1(make_app: Callable[..., cdk.App], tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    folder = make_prompt_folder(tmp_path_factory.mktemp("v1") / "prompts")
    return synth_play_audio_stack(make_app, folder, tmp_path_factory.mktemp("v1-out"))


@pytest.fixture(scope="module")
def v2(
    v1: Synthesized, make_app: Callable[..., cdk.App], tmp_path_factory: pytest.TempPathFactory
) -> Synthesized:
    """The same folder with one prompt dropped, synthesized again: a new asset."""
    folder = tmp_path_factory.mktemp("v2") / "prompts"
    shutil.copytree(v1.folder, folder)
    (folder / DROPPED).unlink()
    return synth_play_audio_stack(make_app, folder, tmp_path_factory.mktemp("v2-out"))


def test_the_rehearsed_handler_is_the_code_the_template_deploys(
    v1: Synthesized, handler_source: Path
) -> None:
    _, properties = v1.assembly.deployment()
    function_id, _ = properties["ServiceToken"]["Fn::GetAtt"]
    function = v1.assembly.template["Resources"][function_id]
    assert function["Properties"]["Handler"] == "index.handler"
    deployed_code = v1.assembly.function_code_path(function_id) / "index.py"
    assert deployed_code.read_bytes() == handler_source.read_bytes()


def test_properties_are_sent_as_cloudformation_sends_them(
    rehearsal: Rehearsal, v1: Synthesized
) -> None:
    deployment = rehearsal.prepare(v1.assembly)
    synthesized, sent = deployment.synthesized, deployment.properties
    assert (synthesized["Prune"], synthesized["RetainOnDelete"]) == (False, True)
    assert (sent["Prune"], sent["RetainOnDelete"]) == ("false", "true")
    assert sent["SystemMetadata"] == {"content-type": "audio/wav"}
    assert (sent["DestinationBucketName"], sent["DestinationBucketKeyPrefix"]) == (
        PROMPT_BUCKET,
        PREFIX,
    )
    # Booleans, as a careless rehearsal would send them, break the handler before any copy.
    response = rehearsal.send("Create", deployment, properties={**sent, "Prune": False})
    assert response["Status"] == "FAILED"
    assert "'bool' object has no attribute 'lower'" in response["Reason"]
    assert rehearsal.objects() == {}


def test_without_our_system_metadata_the_same_upload_lands_as_audio_x_wav(
    rehearsal: Rehearsal, v1: Synthesized
) -> None:
    """The control: drop SystemMetadata and `aws s3 sync` guesses the type from .wav."""
    deployment = rehearsal.prepare(v1.assembly)
    without = {k: v for k, v in deployment.properties.items() if k != "SystemMetadata"}
    response = rehearsal.send("Create", deployment, properties=without)
    assert response["Status"] == "SUCCESS", response["Reason"]
    assert rehearsal.objects(PREFIX) == as_wav(expected_objects(v1.folder), "audio/x-wav")


@dataclass(frozen=True)
class Step:
    """One CloudFormation request: its response, the CLI commands it ran, the bucket after."""

    response: dict[str, Any]
    commands: list[list[str]]
    objects: dict[str, tuple[str, bytes]]


@dataclass(frozen=True)
class Lifecycle:
    first: Deployment
    second: Deployment
    create: Step
    update: Step
    delete: Step


def step(stage: Rehearsal, request_type: str, deployment: Deployment, **event: Any) -> Step:
    stage.cli.clear()
    response = stage.send(request_type, deployment, **event)
    return Step(response, list(stage.cli.commands), stage.objects())


@pytest.fixture(scope="module")
def lifecycle(stage: Rehearsal, v1: Synthesized, v2: Synthesized) -> Lifecycle:
    """Create (v1), Update to v2 (one prompt dropped), Delete: the stack's life, run once on
    a bucket that also holds a prompt uploaded by hand; the tests below each look at a step."""
    stage.reset()
    stage.put_by_hand(BY_HAND, BY_HAND_BYTES)
    first = stage.prepare(v1.assembly)
    create = step(stage, "Create", first)
    second = stage.prepare(v2.assembly)
    physical_id = create.response["PhysicalResourceId"]
    update = step(stage, "Update", second, old=first, physical_id=physical_id)
    delete = step(stage, "Delete", second, physical_id=physical_id)
    return Lifecycle(first, second, create, update, delete)


def test_create_lands_every_prompt_as_audio_wav_byte_for_byte(
    lifecycle: Lifecycle, v1: Synthesized
) -> None:
    create, sent = lifecycle.create, lifecycle.first.properties
    assert create.response["Status"] == "SUCCESS", create.response["Reason"]
    assert create.response["PhysicalResourceId"].startswith("aws.cdk.s3deployment.")
    assert create.response["Data"]["SourceObjectKeys"] == sent["SourceObjectKeys"]

    expected = expected_objects(v1.folder)
    assert set(expected) == {
        "prompts/welcome.wav",
        "prompts/error.wav",
        "prompts/goodbye.wav",
        "prompts/menu/Big Hall.wav",
    }
    # The keys the handler's manifest plays are the keys that landed.
    assert {prompt.key for prompt in v1.stack.prompts.prompts.values()} == set(expected)
    # The whole bucket: every prompt as audio/wav, byte-identical, and nothing else (not
    # notes.txt), but the prompt uploaded by hand, which is still there.
    assert create.objects == {**as_wav(expected), BY_HAND: ("audio/wav", BY_HAND_BYTES)}
    # What the handler ran: fetch the zip, then one sync with the type and no --delete.
    fetch, sync = create.commands
    (source_key,) = sent["SourceObjectKeys"]
    assert fetch[:3] == ["s3", "cp", f"s3://{ASSET_BUCKET}/{source_key}"]
    assert sync[:2] == ["s3", "sync"]
    assert sync[3:] == [
        f"s3://{PROMPT_BUCKET}/{PREFIX}",
        "--content-type",
        "audio/wav",
        "--metadata-directive",
        "REPLACE",
    ]


def test_update_with_a_prompt_dropped_deletes_nothing(
    lifecycle: Lifecycle, v1: Synthesized, v2: Synthesized
) -> None:
    update = lifecycle.update
    old_keys = lifecycle.first.properties["SourceObjectKeys"]
    assert lifecycle.second.properties["SourceObjectKeys"] != old_keys  # a new asset
    assert PREFIX + DROPPED in expected_objects(v1.folder)
    assert PREFIX + DROPPED not in expected_objects(v2.folder)
    assert update.response["Status"] == "SUCCESS", update.response["Reason"]
    assert update.response["PhysicalResourceId"] == lifecycle.create.response["PhysicalResourceId"]
    assert update.objects == {
        **as_wav(expected_objects(v1.folder)),  # the dropped prompt is still there
        **as_wav(expected_objects(v2.folder)),
        BY_HAND: ("audio/wav", BY_HAND_BYTES),
    }
    assert [command[:2] for command in update.commands] == [["s3", "cp"], ["s3", "sync"]]
    assert "--delete" not in update.commands[1]


def test_delete_with_retain_on_delete_leaves_every_object(lifecycle: Lifecycle) -> None:
    delete = lifecycle.delete
    assert lifecycle.second.properties["RetainOnDelete"] == "true"
    assert delete.response["Status"] == "SUCCESS", delete.response["Reason"]
    assert delete.response["PhysicalResourceId"] == lifecycle.create.response["PhysicalResourceId"]
    assert delete.commands == []
    assert delete.objects == lifecycle.update.objects


def synth_pruning_stack(make_app: Callable[..., cdk.App], folder: Path, outdir: Path) -> Assembly:
    """A small stack: PromptBucket and WavPrompts(prune=True), nothing else."""
    app = make_app(outdir=str(outdir))
    stack = cdk.Stack(app, "PruneRehearsal", env=cdk.Environment(account=ACCOUNT, region=REGION))
    WavPrompts(
        stack,
        "PromptFiles",
        prompt_bucket=PromptBucket(stack, "Prompts"),
        source_dir=folder,
        prune=True,
    )
    app.synth()
    return Assembly(outdir, stack.stack_name)


def test_prune_deletes_what_it_did_not_put_there_only_under_its_prefix(
    rehearsal: Rehearsal,
    v1: Synthesized,
    v2: Synthesized,
    make_app: Callable[..., cdk.App],
    tmp_path: Path,
) -> None:
    first = rehearsal.prepare(synth_pruning_stack(make_app, v1.folder, tmp_path / "v1"))
    second = rehearsal.prepare(synth_pruning_stack(make_app, v2.folder, tmp_path / "v2"))
    assert (first.synthesized["Prune"], first.properties["Prune"]) == (True, "true")
    outside = {
        "prompts-archive/old.wav": wavgen.pcm(frames=200),  # same letters, not the prefix
        "other/keep.wav": wavgen.pcm(frames=300),
    }
    for key, body in outside.items():
        rehearsal.put_by_hand(key, body)
    rehearsal.put_by_hand(BY_HAND, BY_HAND_BYTES)

    created = rehearsal.send("Create", first)
    assert created["Status"] == "SUCCESS", created["Reason"]
    # The prompt uploaded by hand under the prefix is gone; what is outside it stays.
    assert rehearsal.objects() == {
        **as_wav(expected_objects(v1.folder)),
        **as_wav(outside),
    }
    updated = rehearsal.send("Update", second, old=first, physical_id=created["PhysicalResourceId"])
    assert updated["Status"] == "SUCCESS", updated["Reason"]
    # The dropped prompt is gone too.
    assert rehearsal.objects() == {
        **as_wav(expected_objects(v2.folder)),
        **as_wav(outside),
    }
