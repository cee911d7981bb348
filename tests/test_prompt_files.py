"""WavPrompts in the user's folders: a synth never changes them, and every entry that
cannot be deployed as a prompt is named in one report.

Each test fingerprints the whole source folder before and after the synth (names as
bytes, kinds, modes, contents, link targets), whether the synth succeeds or fails.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Callable
from pathlib import Path

import aws_cdk as cdk
import numpy as np
import pytest
import soundfile as sf  # type: ignore[import-untyped]
from aws_cdk.assertions import Annotations, Match, Template

from constructs_pkg import PromptBucket, WavPrompts
from constructs_pkg.audio import prompt_file_io
from constructs_pkg.audio.prompt_errors import PromptCheckError
from tests.audio import wavgen
from tests.source_tree import fingerprint, left_as_it_was

AppFactory = Callable[..., cdk.App]


def synth(
    make_bare_app: AppFactory, source: Path, outdir: Path, **props: object
) -> tuple[cdk.App, cdk.Stack, WavPrompts]:
    app = make_bare_app(outdir=str(outdir))
    stack = cdk.Stack(app, "S")
    prompts = WavPrompts(
        stack,
        "Prompts",
        prompt_bucket=PromptBucket(stack, "Bucket"),
        source_dir=source,
        **props,  # type: ignore[arg-type]
    )
    app.synth()
    return app, stack, prompts


def refusal(make_bare_app: AppFactory, source: Path, tmp_path: Path, **props: object) -> str:
    """The one report a synth of ``source`` fails with, the folder left as it was."""
    with left_as_it_was(source), pytest.raises(PromptCheckError) as raised:
        synth(make_bare_app, source, tmp_path / "cdk.out", **props)
    return str(raised.value)


def deployed_files(stack: cdk.Stack, outdir: Path) -> dict[str, bytes]:
    """The files the deployment uploads: the asset folder its SourceObjectKeys names."""
    (deployment,) = (
        Template.from_stack(stack).find_resources("Custom::CDKBucketDeployment").values()
    )
    (key,) = deployment["Properties"]["SourceObjectKeys"]
    folder = outdir / f"asset.{key.removesuffix('.zip')}"
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


def warned_about(stack: cdk.Stack, reason: str) -> list[str]:
    """The paths that the stack's warnings containing ``reason`` name, sorted."""
    warnings = Annotations.from_stack(stack).find_warning("*", Match.string_like_regexp(reason))
    return sorted(str(w.entry.data).split(f" {reason}")[0] for w in warnings)


# -- collisions: one key, several files ---------------------------------------------------


def test_names_differing_in_suffix_case_are_refused_and_both_files_kept(
    make_bare_app: AppFactory, tmp_path: Path
) -> None:
    source = tmp_path / "src"
    wavgen.write(source / "welcome.wav", wavgen.pcm(frames=40_000))
    wavgen.write(source / "welcome.WAV", wavgen.pcm(frames=800))
    assert (source / "welcome.wav").stat().st_size == 80_044

    message = refusal(make_bare_app, source, tmp_path)

    assert message.startswith("2 prompt files cannot be played")
    assert f"{source}/welcome.WAV: would be deployed as 'welcome.wav'" in message
    assert f"{source}/welcome.wav: would be deployed as 'welcome.wav'" in message
    assert (source / "welcome.wav").stat().st_size == 80_044
    assert (source / "welcome.WAV").stat().st_size == 1_644


@pytest.mark.parametrize(
    "names",
    [
        ["menu/main.wav", "menu/main.Wav", "menu/main.wAV"],
        ["a.wav", "a.flac"],
        ["deep/er/x.WAV", "deep/er/x.ogg"],
    ],
)
def test_every_file_of_a_shared_key_is_named_under_normalize(
    make_bare_app: AppFactory, tmp_path: Path, names: list[str]
) -> None:
    source = tmp_path / "src"
    for name in names:
        path = source / name
        path.parent.mkdir(parents=True, exist_ok=True)
        audio = np.zeros(800, dtype=np.float32)
        container = {".flac": "FLAC", ".ogg": "OGG"}.get(path.suffix, "WAV")
        sf.write(str(path), audio, 8000, format=container)
    wavgen.write(source / "other.wav", wavgen.pcm())

    message = refusal(make_bare_app, source, tmp_path, normalize=True)

    assert message.startswith(f"{len(names)} prompt files")
    for name in names:
        assert f"{source / name}: would be deployed as" in message
    assert "other.wav" not in message


# -- what the walk finds --------------------------------------------------------------------


def test_links_to_files_are_deployed_and_links_to_folders_are_not_followed(
    make_bare_app: AppFactory, tmp_path: Path
) -> None:
    shared = tmp_path / "shared"
    wavgen.write(shared / "jingle.wav", wavgen.pcm(frames=1600))
    source = tmp_path / "src"
    wavgen.write(source / "welcome.wav", wavgen.pcm())
    (source / "jingle.wav").symlink_to(shared / "jingle.wav")
    (source / "library").symlink_to(shared, target_is_directory=True)
    (source / "loop").symlink_to(source, target_is_directory=True)

    with left_as_it_was(source), left_as_it_was(shared):
        _, stack, prompts = synth(make_bare_app, source, tmp_path / "cdk.out")

    assert sorted(prompts.prompts) == ["jingle", "welcome"]
    assert prompts.prompts["jingle"].duration_ms == 200
    assert warned_about(stack, "is a link to a folder") == [f"{source}/library", f"{source}/loop"]


def test_entries_named_like_prompts_that_are_not_files_are_refused_in_one_report(
    make_bare_app: AppFactory, tmp_path: Path
) -> None:
    source = tmp_path / "src"
    wavgen.write(source / "ok.wav", wavgen.pcm())
    (source / "gone.wav").symlink_to(tmp_path / "deleted.wav")
    (source / "loop.wav").symlink_to(source / "loop.wav")
    os.mkfifo(source / "pipe.wav")
    wavgen.write(source / "cut.wav", wavgen.riff(wavgen.fmt(), wavgen.data(100, size=8000)))
    (source / "readme.txt").symlink_to(tmp_path / "nowhere")

    message = refusal(make_bare_app, source, tmp_path)

    assert message.startswith("4 prompt files cannot be played")
    assert f"{source}/gone.wav: is a link to '{tmp_path}/deleted.wav', which cannot be " in message
    assert f"{source}/loop.wav: is a link to" in message
    assert f"{source}/pipe.wav: is a FIFO (named pipe), not a regular file" in message
    assert f"{source}/cut.wav: data chunk declares 8000 bytes" in message
    assert "ok.wav" not in message and "readme" not in message


def test_a_fifo_named_like_a_prompt_never_blocks_the_synth(
    make_bare_app: AppFactory, tmp_path: Path
) -> None:
    source = tmp_path / "src"
    wavgen.write(source / "ok.wav", wavgen.pcm())
    os.mkfifo(source / "stream.wav")
    outcome: list[BaseException] = []

    def run() -> None:
        try:
            synth(make_bare_app, source, tmp_path / "cdk.out")
        except BaseException as error:  # handed to the test thread
            outcome.append(error)

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(timeout=120)
    if worker.is_alive():  # release the reader, so the process can end
        os.close(os.open(source / "stream.wav", os.O_WRONLY | os.O_NONBLOCK))
        pytest.fail("the synth blocked on a FIFO named stream.wav")
    assert isinstance(outcome[0], PromptCheckError)
    assert "stream.wav: is a FIFO" in str(outcome[0])


def test_an_unreadable_prompt_is_named_in_the_report(
    make_bare_app: AppFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "src"
    wavgen.write(source / "ok.wav", wavgen.pcm())
    wavgen.write(source / "secret.wav", wavgen.pcm())
    (source / "secret.wav").chmod(0)
    if os.access(source / "secret.wav", os.R_OK):  # root reads it anyway: deny it as the OS would
        real_open = prompt_file_io._open_non_blocking

        def denied(path: str, flags: int) -> int:
            if path.endswith("secret.wav"):
                raise PermissionError(13, "Permission denied", path)
            return real_open(path, flags)

        monkeypatch.setattr(prompt_file_io, "_open_non_blocking", denied)

    message = refusal(make_bare_app, source, tmp_path)

    assert message == (
        "1 prompt file cannot be played by Chime PlayAudio:\n"
        f"  - {source}/secret.wav: cannot be read (Permission denied); expected a readable "
        "file. Check that it exists and that this user may read it"
    )


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (b"caf\xe9.wav", r"caf\xe9.wav: its key 'prompts/caf\xe9.wav' is not valid UTF-8"),
        (b"line\nbreak.wav", r"holds control characters (U+000A)"),
        (b"tab\there.wav", r"holds control characters (U+0009)"),
    ],
)
def test_a_name_that_is_no_s3_key_is_refused_not_a_traceback(
    make_bare_app: AppFactory, tmp_path: Path, name: bytes, expected: str
) -> None:
    source = tmp_path / "src"
    wavgen.write(source / "ok.wav", wavgen.pcm())
    Path(os.fsdecode(os.path.join(os.fsencode(source), name))).write_bytes(wavgen.pcm())
    (source / os.fsdecode(b"notes-\xff.txt")).write_text("not a prompt")

    message = refusal(make_bare_app, source, tmp_path)

    assert message.startswith("1 prompt file cannot be played")
    assert expected in message


def test_a_skipped_file_whose_name_is_not_utf8_warns_printably(
    make_bare_app: AppFactory, tmp_path: Path
) -> None:
    source = tmp_path / "src"
    wavgen.write(source / "ok.wav", wavgen.pcm())
    (source / os.fsdecode(b"notes-\xff.txt")).write_text("not a prompt")

    with left_as_it_was(source):
        _, stack, _ = synth(make_bare_app, source, tmp_path / "cdk.out")

    warning = Annotations.from_stack(stack).find_warning("*", Match.string_like_regexp("notes-"))
    assert f"{source}/notes-\\xff.txt is not a prompt" in str(warning[0].entry.data)


# -- the cloud assembly and the source folder ------------------------------------------------


def test_an_assembly_inside_the_source_folder_is_never_deployed(
    make_bare_app: AppFactory, tmp_path: Path
) -> None:
    source = tmp_path / "src"
    wavgen.write(source / "welcome.wav", wavgen.pcm())
    old = source / "old-out"
    wavgen.write(old / "asset.abc" / "stale.wav", wavgen.pcm())
    (old / "manifest.json").write_text("{}")
    (old / "cdk.out").write_text('{"version": "1"}')
    outdir = source / "cdk.out"

    for _ in range(2):  # the second synth finds the first one's assets inside
        with left_as_it_was(source, skip=("cdk.out",)):
            _, stack, prompts = synth(make_bare_app, source, outdir)
        assert list(prompts.prompts) == ["welcome"]
        assert list(deployed_files(stack, outdir)) == ["welcome.wav"]

    assert warned_about(stack, "is a cloud assembly") == [f"{outdir}", f"{old}"]


def test_a_source_folder_inside_the_assembly_is_refused(
    make_bare_app: AppFactory, tmp_path: Path
) -> None:
    outdir = tmp_path / "cdk.out"
    source = outdir / ".playaudio-prompts" / "mine"
    wavgen.write(source / "welcome.wav", wavgen.pcm())

    with left_as_it_was(source), pytest.raises(ValueError, match="is inside the cloud assembly"):
        synth(make_bare_app, source, outdir)


@pytest.mark.parametrize("link", [".playaudio-prompts", ".playaudio-cache"])
def test_a_link_planted_in_the_assembly_never_leads_a_synth_outside(
    make_bare_app: AppFactory, tmp_path: Path, link: str
) -> None:
    source = tmp_path / "src"
    wavgen.write(source / "welcome.wav", wavgen.pcm())
    victim = tmp_path / "victim"
    wavgen.write(victim / "keep.wav", wavgen.pcm(frames=123))
    outdir = tmp_path / "cdk.out"
    outdir.mkdir()
    (outdir / link).symlink_to(victim, target_is_directory=True)

    with left_as_it_was(victim), pytest.raises(ValueError, match=f"{link} is a link to"):
        synth(make_bare_app, source, outdir, normalize=True)


def test_a_link_in_place_of_the_staging_folder_is_refused_not_followed(
    make_bare_app: AppFactory, tmp_path: Path
) -> None:
    source = tmp_path / "src"
    wavgen.write(source / "welcome.wav", wavgen.pcm())
    outdir = tmp_path / "cdk.out"
    _, _, first = synth(make_bare_app, source, outdir)
    victim = tmp_path / "victim"
    wavgen.write(victim / "keep.wav", wavgen.pcm(frames=123))
    staging = first.staging_dir
    for entry in staging.iterdir():
        entry.unlink()
    staging.rmdir()
    staging.symlink_to(victim, target_is_directory=True)

    refused = pytest.raises(ValueError, match=f"{staging} is a link to '{victim}'")
    with left_as_it_was(victim), left_as_it_was(source), refused:
        synth(make_bare_app, source, outdir)


# -- a re-synth deploys what a fresh one does -------------------------------------------------


@pytest.mark.parametrize("normalize", [False, True])
def test_a_resynth_after_a_change_deploys_what_a_fresh_synth_does(
    make_bare_app: AppFactory, tmp_path: Path, normalize: bool
) -> None:
    source = tmp_path / "src"
    wavgen.write(source / "welcome.wav", wavgen.pcm(frames=800))
    wavgen.write(source / "menu" / "main.wav", wavgen.pcm(frames=1600))
    wavgen.write(source / "bye.wav", wavgen.pcm(frames=2400))
    reused = tmp_path / "cdk.out"
    synth(make_bare_app, source, reused, normalize=normalize)

    # Same sizes, other bytes: a stale fingerprint or cache would not notice.
    wavgen.write(source / "welcome.wav", wavgen.pcm(frames=800)[:-2] + b"\x01\x02")
    (source / "bye.wav").unlink()
    wavgen.write(source / "menu" / "extra.wav", wavgen.pcm(frames=400))

    with left_as_it_was(source):
        _, again, _ = synth(make_bare_app, source, reused, normalize=normalize)
        _, fresh, _ = synth(make_bare_app, source, tmp_path / "fresh.out", normalize=normalize)
    second = deployed_files(again, reused)
    assert second == deployed_files(fresh, tmp_path / "fresh.out")
    assert sorted(second) == ["menu/extra.wav", "menu/main.wav", "welcome.wav"]
    if not normalize:
        assert second["welcome.wav"] == (source / "welcome.wav").read_bytes()


def test_a_synth_leaves_a_folder_of_every_kind_as_it_was(
    make_bare_app: AppFactory, tmp_path: Path
) -> None:
    """Deep folders, spaces, unicode, upper-case suffixes, dotfiles, links, empty folders."""
    source = tmp_path / "src"
    wavgen.write(source / "Welcome Message.WAV", wavgen.pcm(rate=16000))
    wavgen.write(source / "ménu" / "choix 1.wav", wavgen.pcm())
    wavgen.write(source / "a" / "b" / "c" / "d.wav", wavgen.pcm())
    wavgen.write(source / ".hidden" / "x.wav", wavgen.pcm())
    (source / "empty").mkdir()
    (source / "notes.md").write_text("hi")
    (source / "alias.wav").symlink_to("Welcome Message.WAV")
    (source / "read-only.wav").write_bytes(wavgen.pcm())
    (source / "read-only.wav").chmod(0o444)
    before = fingerprint(source)

    _, _, prompts = synth(make_bare_app, source, tmp_path / "cdk.out")

    assert fingerprint(source) == before
    assert sorted(prompts.prompts) == [
        "Welcome Message",
        "a/b/c/d",
        "alias",
        "ménu/choix 1",
        "read-only",
    ]
    assert prompts.prompt("alias").key == "prompts/alias.wav"


# -- found in review: what the CDK CLI's asset zip does to names, and more collisions ----------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (r"a\b.wav", r"its path 'a\\b.wav' holds a backslash"),
        (r"x\..\..\y.wav", "holds a backslash"),
        ("C:intro.wav", "its path 'C:intro.wav' starts like a drive ('C:')"),
    ],
)
def test_a_name_the_cli_zip_would_rename_or_refuse_is_refused_at_synth(
    make_bare_app: AppFactory, tmp_path: Path, name: str, expected: str
) -> None:
    source = tmp_path / "src"
    wavgen.write(source / "ok.wav", wavgen.pcm())
    (source / name).write_bytes(wavgen.pcm())

    message = refusal(make_bare_app, source, tmp_path)

    assert message.startswith("1 prompt file cannot be played")
    assert expected in message


@pytest.mark.parametrize(
    ("file", "normalize"), [("x.WAV", False), ("x.flac", True), ("x.ogg", True)]
)
def test_a_prompt_staged_where_another_needs_a_folder_is_a_collision(
    make_bare_app: AppFactory, tmp_path: Path, file: str, normalize: bool
) -> None:
    source = tmp_path / "src"
    wavgen.write(source / "x.wav" / "y.wav", wavgen.pcm())
    container = {".flac": "FLAC", ".ogg": "OGG"}.get(Path(file).suffix, "WAV")
    sf.write(str(source / file), np.zeros(800, dtype=np.float32), 8000, format=container)

    message = refusal(make_bare_app, source, tmp_path, normalize=normalize)

    assert f"{source}/{file}: would be deployed as 'x.wav', which {source}/x.wav/y.wav needs" in (
        message
    )


def test_an_unfinished_assembly_inside_the_source_folder_is_skipped(
    make_bare_app: AppFactory, tmp_path: Path
) -> None:
    """A synth that stopped early leaves asset.<hash> folders but no manifest.json."""
    source = tmp_path / "src"
    wavgen.write(source / "welcome.wav", wavgen.pcm())
    wavgen.write(source / "build1" / f"asset.{'0' * 64}" / "stale.wav", wavgen.pcm())

    with left_as_it_was(source):
        _, stack, prompts = synth(make_bare_app, source, tmp_path / "cdk.out")

    assert list(prompts.prompts) == ["welcome"]
    assert warned_about(stack, "is a cloud assembly") == [f"{source}/build1"]


@pytest.mark.parametrize("planted", [".playaudio-cache", ".playaudio-prompts"])
def test_a_file_planted_in_place_of_the_assemblys_folders_is_one_clear_error(
    make_bare_app: AppFactory, tmp_path: Path, planted: str
) -> None:
    source = tmp_path / "src"
    wavgen.write(source / "welcome.wav", wavgen.pcm())
    outdir = tmp_path / "cdk.out"
    outdir.mkdir()
    (outdir / planted).write_text("not a folder")

    with pytest.raises(ValueError, match=f"{planted} is not a folder; expected the folder"):
        synth(make_bare_app, source, outdir, normalize=True)


def test_a_resynth_after_deleting_the_assembly_stages_the_assets_again(
    make_bare_app: AppFactory, tmp_path: Path
) -> None:
    source = tmp_path / "src"
    wavgen.write(source / "welcome.wav", wavgen.pcm())
    outdir = tmp_path / "cdk.out"
    synth(make_bare_app, source, outdir)
    shutil.rmtree(outdir)

    _, stack, _ = synth(make_bare_app, source, outdir)

    assert list(deployed_files(stack, outdir)) == ["welcome.wav"]


def test_the_asset_folder_holds_the_staged_prompts_themselves_not_a_second_copy(
    make_bare_app: AppFactory, tmp_path: Path
) -> None:
    source = tmp_path / "src"
    for name in ("welcome", "menu/main", "menu/sub/deep"):
        wavgen.write(source / f"{name}.wav", wavgen.pcm(frames=100 + len(name)))
    outdir = tmp_path / "cdk.out"
    for _ in range(2):  # a re-synth into the same assembly replaces the folder
        _, _, prompts = synth(make_bare_app, source, outdir)
    asset = outdir / f"asset.{prompts.asset.asset_hash}"
    staged = sorted(p.relative_to(prompts.staging_dir) for p in prompts.staging_dir.rglob("*.wav"))
    assert sorted(p.relative_to(asset) for p in asset.rglob("*.wav")) == staged
    for relative in staged:
        # aws-cdk-lib found the folder staged and did not copy: the same files, linked.
        assert (asset / relative).samefile(prompts.staging_dir / relative)
    holding_welcome = [p for p in outdir.glob("asset.*") if (p / "welcome.wav").exists()]
    assert holding_welcome == [asset]
