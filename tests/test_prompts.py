"""WavPrompts: synth-time checks, what is deployed and how, and the by-name catalog."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Annotations, Match, Template

from constructs_pkg import PromptBucket, UnknownPromptError, WavPrompts
from constructs_pkg.audio.normalize import transcode_count
from constructs_pkg.audio.prompt_errors import PromptCheckError
from constructs_pkg.audio.wav import check_prompt
from tests.audio import wavgen
from tests.source_tree import left_as_it_was
from tests.templates import chime_statements

SMA = "arn:aws:chime:us-east-1:123456789012:sma/aaaaaaaa-1111-2222-3333-444444444444"


def make_prompt_dir(root: Path) -> Path:
    """welcome (8 kHz mono), menu/main (8 kHz mono), 'Big Hall.WAV' (44.1 kHz stereo), a note."""
    folder = root / "prompts"
    wavgen.write(folder / "welcome.wav", wavgen.pcm(frames=8000))
    wavgen.write(folder / "menu" / "main.wav", wavgen.pcm(frames=4000))
    wavgen.write(folder / "Big Hall.WAV", wavgen.pcm(rate=44100, channels=2, frames=44100))
    (folder / "notes.txt").write_text("recording notes")
    (folder / ".DS_Store").write_bytes(b"\0\0")
    return folder


def deployed(template: Template) -> dict[str, Any]:
    (resource,) = template.find_resources("Custom::CDKBucketDeployment").values()
    properties: dict[str, Any] = resource["Properties"]
    return properties


@pytest.fixture(scope="module")
def synthesized(
    make_stack: Callable[..., cdk.Stack], tmp_path_factory: pytest.TempPathFactory
) -> tuple[cdk.Stack, WavPrompts, Path]:
    source = make_prompt_dir(tmp_path_factory.mktemp("src"))
    stack = make_stack()
    with left_as_it_was(source):
        prompts = WavPrompts(
            stack, "Prompts", prompt_bucket=PromptBucket(stack, "Bucket"), source_dir=source
        )
        prompts.grant_play(SMA)
        cdk.Stage.of(stack).synth()  # type: ignore[union-attr]
    return stack, prompts, source


@pytest.fixture(scope="module")
def template(synthesized: tuple[cdk.Stack, WavPrompts, Path]) -> Template:
    return Template.from_stack(synthesized[0])


def test_deployment_labels_prompts_audio_wav_and_keeps_data(template: Template) -> None:
    properties = deployed(template)
    assert properties["SystemMetadata"] == {"content-type": "audio/wav"}
    assert properties["DestinationBucketKeyPrefix"] == "prompts/"
    assert properties["Prune"] is False
    assert properties["RetainOnDelete"] is True


def staged_files(prompts: WavPrompts) -> list[str]:
    return sorted(
        p.relative_to(prompts.staging_dir).as_posix()
        for p in prompts.staging_dir.rglob("*")
        if p.is_file()
    )


def test_only_the_prompt_wavs_are_staged_with_lowercase_suffix(
    synthesized: tuple[cdk.Stack, WavPrompts, Path],
) -> None:
    _, prompts, source = synthesized
    assert staged_files(prompts) == ["Big Hall.wav", "menu/main.wav", "welcome.wav"]
    assert (prompts.staging_dir / "welcome.wav").read_bytes() == (
        source / "welcome.wav"
    ).read_bytes()


def test_bucket_policy_grants_chime_exactly_the_prefix(template: Template) -> None:
    (statement,) = chime_statements(template)
    assert statement["Action"] == "s3:GetObject"
    assert statement["Resource"]["Fn::Join"][1][1] == "/prompts/*"
    assert statement["Condition"]["StringEquals"] == {
        "aws:SourceAccount": "123456789012",
        "aws:SourceArn": [SMA],
    }


def test_non_8khz_mono_prompt_warns_once_per_file_and_skipped_file_warns(
    synthesized: tuple[cdk.Stack, WavPrompts, Path],
) -> None:
    annotations = Annotations.from_stack(synthesized[0])
    rate = annotations.find_warning("*", Match.string_like_regexp("44100 Hz stereo PCM"))
    assert len(rate) == 1
    assert "constructs-pkg:prompt-not-8khz-mono:Big Hall.WAV" in str(rate[0].entry.data)
    skipped = annotations.find_warning("*", Match.string_like_regexp("notes.txt is not a prompt"))
    assert len(skipped) == 1
    assert annotations.find_warning("*", Match.string_like_regexp("DS_Store")) == []
    assert annotations.find_warning("*", Match.string_like_regexp("welcome")) == []


def test_catalog_gives_audio_source_and_catalog(
    synthesized: tuple[cdk.Stack, WavPrompts, Path],
) -> None:
    prompts = synthesized[1]
    source = prompts.audio_source("menu/main")
    assert source["Type"] == "S3"
    assert source["Key"] == "prompts/menu/main.wav"
    assert cdk.Token.is_unresolved(source["BucketName"])
    assert prompts.catalog() == {
        "format": "playaudio-catalog/2",
        "catalog": prompts.node.path,
        "keyPrefix": "prompts/",
        "languages": [],
        "prompts": {
            "Big Hall": "1000,44100,2",
            "menu/main": "500,8000,1",
            "welcome": "1000,8000,1",
        },
    }
    assert json.loads(prompts.catalog_json()) == prompts.catalog()


def test_unknown_prompt_name_names_close_matches(
    synthesized: tuple[cdk.Stack, WavPrompts, Path],
) -> None:
    with pytest.raises(UnknownPromptError) as raised:
        synthesized[1].audio_source("menu/mian")
    assert str(raised.value) == (
        "no prompt named 'menu/mian' in the prompts of TestStack/Prompts, which has 3 "
        "prompts; close matches: 'menu/main'"
    )


def test_all_bad_prompts_are_reported_in_one_error(
    make_stack: Callable[..., cdk.Stack], tmp_path: Path
) -> None:
    wavgen.write(tmp_path / "ok.wav", wavgen.pcm())
    wavgen.write(
        tmp_path / "ulaw.wav", wavgen.riff(wavgen.fmt(format_tag=7, bits=8), wavgen.data())
    )
    wavgen.write(tmp_path / "cut.wav", wavgen.riff(wavgen.fmt(), wavgen.data(1200, size=96000)))
    wavgen.write(tmp_path / "song.wav", b"ID3\x04" + bytes(64))
    stack = make_stack()
    with pytest.raises(PromptCheckError) as raised:
        WavPrompts(stack, "P", prompt_bucket=PromptBucket(stack, "B"), source_dir=tmp_path)
    message = str(raised.value)
    assert message.startswith("3 prompt files cannot be played by Chime PlayAudio:")
    assert "ulaw.wav: mu-law (format 7)" in message
    assert "declares 96000 bytes, file has 1200" in message
    assert "song.wav" in message
    assert "ok.wav" not in message


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"key_prefix": "", "prune": True}, "prune=True with an empty key_prefix"),
        ({"key_prefix": "/prompts/"}, "key_prefix is '/prompts/'"),
        ({"key_prefix": "p*"}, "key_prefix is 'p\\*'"),
    ],
)
def test_misuse_names_the_prop(
    make_stack: Callable[..., cdk.Stack], tmp_path: Path, kwargs: dict[str, Any], expected: str
) -> None:
    wavgen.write(tmp_path / "ok.wav", wavgen.pcm())
    stack = make_stack()
    with pytest.raises(ValueError, match=expected):
        WavPrompts(
            stack, "P", prompt_bucket=PromptBucket(stack, "B"), source_dir=tmp_path, **kwargs
        )


def test_missing_or_empty_folder_is_refused(
    make_stack: Callable[..., cdk.Stack], tmp_path: Path
) -> None:
    stack = make_stack()
    bucket = PromptBucket(stack, "B")
    with pytest.raises(ValueError, match="is not a folder"):
        WavPrompts(stack, "P1", prompt_bucket=bucket, source_dir=tmp_path / "nope")
    (tmp_path / "readme.md").write_text("no prompts here")
    with pytest.raises(ValueError, match=r"holds no prompt files; expected files ending in \.wav"):
        WavPrompts(stack, "P2", prompt_bucket=bucket, source_dir=tmp_path)


def test_prune_is_opt_in_and_stays_in_its_prefix(
    make_stack: Callable[..., cdk.Stack], tmp_path: Path
) -> None:
    wavgen.write(tmp_path / "ok.wav", wavgen.pcm())
    stack = make_stack()
    WavPrompts(
        stack,
        "P",
        prompt_bucket=PromptBucket(stack, "B"),
        source_dir=tmp_path,
        key_prefix="ivr/",
        prune=True,
    )
    properties = deployed(Template.from_stack(stack))
    assert (properties["Prune"], properties["DestinationBucketKeyPrefix"]) == (True, "ivr/")


def odd_formats_dir(root: Path) -> Path:
    """A 44.1 kHz stereo PCM file (warns) and a mu-law file (refused), unless normalized."""
    folder = root / "odd"
    wavgen.write(folder / "hall.wav", wavgen.pcm(rate=44100, channels=2, frames=44100))
    wavgen.write(
        folder / "ulaw.wav", wavgen.riff(wavgen.fmt(format_tag=7, bits=8), wavgen.data(8000))
    )
    return folder


def test_normalize_turns_every_prompt_into_8khz_mono_pcm_and_caches_it(
    make_bare_app: Callable[..., cdk.App], tmp_path: Path
) -> None:
    source = odd_formats_dir(tmp_path)
    outdir = tmp_path / "cdk.out"

    def synth() -> tuple[cdk.Stack, WavPrompts]:
        stack = cdk.Stack(make_bare_app(outdir=str(outdir)), "S")
        prompts = WavPrompts(
            stack, "P", prompt_bucket=PromptBucket(stack, "B"), source_dir=source, normalize=True
        )
        return stack, prompts

    before = transcode_count()
    with left_as_it_was(source):
        stack, prompts = synth()
    assert transcode_count() - before == 2
    assert staged_files(prompts) == ["hall.wav", "ulaw.wav"]
    for name in ("hall", "ulaw"):
        info = check_prompt(prompts.staging_dir / f"{name}.wav")
        assert (info.sample_rate, info.channels, info.bits_per_sample) == (8000, 1, 16)
        assert prompts.prompts[name].sample_rate == 8000
    assert prompts.prompts["hall"].duration_ms == 1000
    Annotations.from_stack(stack).has_no_warning("*", Match.any_value())
    first_hash = deployed(Template.from_stack(stack))["SourceObjectKeys"]

    stack, _ = synth()
    assert transcode_count() - before == 2, "a re-synth must do no audio work"
    assert deployed(Template.from_stack(stack))["SourceObjectKeys"] == first_hash


def test_without_normalize_the_same_folder_fails_with_the_fix(
    make_stack: Callable[..., cdk.Stack], tmp_path: Path
) -> None:
    stack = make_stack()
    with pytest.raises(PromptCheckError, match=r"mu-law \(format 7\).*normalize=True"):
        WavPrompts(
            stack, "P", prompt_bucket=PromptBucket(stack, "B"), source_dir=odd_formats_dir(tmp_path)
        )


def test_normalize_without_its_libraries_says_how_to_install_them(
    make_stack: Callable[..., cdk.Stack], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    wavgen.write(tmp_path / "ok.wav", wavgen.pcm())
    monkeypatch.setitem(sys.modules, "constructs_pkg.audio.normalize", None)
    stack = make_stack()
    with pytest.raises(
        ValueError, match=r"normalize=True needs numpy, soundfile and soxr .*pip install"
    ):
        WavPrompts(
            stack, "P", prompt_bucket=PromptBucket(stack, "B"), source_dir=tmp_path, normalize=True
        )
