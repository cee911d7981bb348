"""Deploy rehearsal: the catalog's keys are the keys aws-cdk-lib's own handler writes.

For each key_prefix a user may write ('' , 'prompts/', 'prompts', a nested one, with and
without the slash), WavPrompts is synthesized in a bare App and its deployment is run by
the real BucketDeployment handler against the local S3 (conftest.py). What lands must be
exactly the keys of ``WavPrompts.prompts``, and the rule that the simulator shares
(``s3_keys.deployed_key``) must predict what `aws s3 sync` does with a raw prefix
without a slash.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import aws_cdk as cdk
import pytest

from constructs_pkg import PromptBucket, WavPrompts
from constructs_pkg.s3_keys import deployed_key
from tests.audio import wavgen
from tests.rehearsal.cloudformation import ACCOUNT, REGION, Assembly
from tests.rehearsal.stage import Rehearsal


def prompt_folder(folder: Path) -> Path:
    wavgen.write(folder / "welcome.wav", wavgen.pcm(frames=300))
    wavgen.write(folder / "menu" / "Main Menu.WAV", wavgen.pcm(frames=200))
    return folder


def synth(
    make_bare_app: Callable[..., cdk.App], folder: Path, outdir: Path, key_prefix: str
) -> tuple[WavPrompts, Assembly]:
    app = make_bare_app(outdir=str(outdir))
    stack = cdk.Stack(app, "PrefixRehearsal", env=cdk.Environment(account=ACCOUNT, region=REGION))
    prompts = WavPrompts(
        stack,
        "PromptFiles",
        prompt_bucket=PromptBucket(stack, "Prompts"),
        source_dir=folder,
        key_prefix=key_prefix,
    )
    app.synth()
    return prompts, Assembly(outdir, stack.stack_name)


@pytest.mark.parametrize(
    ("key_prefix", "expected"),
    [
        ("", {"welcome.wav", "menu/Main Menu.wav"}),
        ("prompts/", {"prompts/welcome.wav", "prompts/menu/Main Menu.wav"}),
        ("prompts", {"prompts/welcome.wav", "prompts/menu/Main Menu.wav"}),
        ("ivr/en-US/", {"ivr/en-US/welcome.wav", "ivr/en-US/menu/Main Menu.wav"}),
        ("ivr/en-US", {"ivr/en-US/welcome.wav", "ivr/en-US/menu/Main Menu.wav"}),
    ],
)
def test_catalog_keys_are_the_keys_that_land(
    rehearsal: Rehearsal,
    make_bare_app: Callable[..., cdk.App],
    tmp_path: Path,
    key_prefix: str,
    expected: set[str],
) -> None:
    folder = prompt_folder(tmp_path / "prompts")
    prompts, assembly = synth(make_bare_app, folder, tmp_path / "cdk.out", key_prefix)
    response = rehearsal.send("Create", rehearsal.prepare(assembly))
    assert response["Status"] == "SUCCESS", response["Reason"]
    landed = set(rehearsal.objects())
    assert landed == expected
    assert {prompt.key for prompt in prompts.prompts.values()} == landed


@pytest.mark.parametrize("raw_prefix", ["prompts", "ivr/en-US"])
def test_sync_treats_a_raw_prefix_without_slash_as_the_shared_rule_says(
    rehearsal: Rehearsal, make_bare_app: Callable[..., cdk.App], tmp_path: Path, raw_prefix: str
) -> None:
    """The template's prefix forced back to the raw form (as an older release, or a hand
    edit, would deploy it): the handler still writes into the folder, as the simulator
    assumes."""
    folder = prompt_folder(tmp_path / "prompts")
    _, assembly = synth(make_bare_app, folder, tmp_path / "cdk.out", raw_prefix + "/")
    deployment = rehearsal.prepare(assembly)
    raw = {**deployment.properties, "DestinationBucketKeyPrefix": raw_prefix}
    response = rehearsal.send("Create", deployment, properties=raw)
    assert response["Status"] == "SUCCESS", response["Reason"]
    assert set(rehearsal.objects()) == {
        deployed_key(raw_prefix, name) for name in ("welcome.wav", "menu/Main Menu.wav")
    }
