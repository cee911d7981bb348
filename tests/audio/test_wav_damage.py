"""Damaged headers, unreadable paths, and the structure check that normalize=True relies on.

New names are reached through the module (``wav.check_wav_structure``), so each test
fails on its own, not the whole file, where they do not exist.
"""

from __future__ import annotations

import contextlib
import errno
import io
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from constructs_pkg.audio import prompt_errors, wav
from tests.audio import wavgen

IMPLAUSIBLE_RATES = [0, 1, 999, 768_001, 4_294_967_295]
MULAW = 7
HANG_SECONDS = 5.0


def refused(
    check: Callable[[Path], object], path: Path, error: type[prompt_errors.WavError]
) -> str:
    """Run check(path) expecting `error` that names the path; return its reason."""
    with pytest.raises(error) as caught:
        check(path)
    assert caught.value.path == str(path)
    assert str(caught.value).startswith(f"{path}: ")
    return caught.value.reason


def encoded(path: Path, subtype: str, fmt: str = "WAV", rate: int = 16000) -> Path:
    """Half a second of a 440 Hz tone in any encoding soundfile writes."""
    t = np.arange(rate // 2) / rate
    sf.write(path, 0.3 * np.sin(2 * np.pi * 440 * t), rate, subtype=subtype, format=fmt)
    return path


def in_thread(call: Callable[[], object]) -> tuple[bool, BaseException | None]:
    """(finished within HANG_SECONDS, what call raised); a blocked call is left behind."""
    raised: list[BaseException] = []

    def run() -> None:
        try:
            call()
        except BaseException as error:
            raised.append(error)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(HANG_SECONDS)
    return not thread.is_alive(), (raised[0] if raised else None)


def release_fifo(fifo: Path) -> None:
    """Unblock a reader stuck opening `fifo` (the old code's hang) by opening its write end."""
    with contextlib.suppress(OSError):  # ENXIO: no reader waiting, nothing to release
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))


class FailingFile(io.FileIO):
    """A file whose reads fail with EIO once `good_bytes` have been read, like a dying disk."""

    def __init__(self, path: Path, good_bytes: int = 0) -> None:
        super().__init__(path)
        self.good_bytes = good_bytes

    def read(self, size: int | None = -1, /) -> bytes:
        chunk = super().read(size)
        self.good_bytes -= len(chunk)
        if self.good_bytes < 0:
            raise OSError(errno.EIO, os.strerror(errno.EIO))
        return chunk


@pytest.fixture
def unreadable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A valid WAV this process cannot open: chmod 000, or (as root, who ignores it) EACCES."""
    path = wavgen.write(tmp_path / "locked.wav", wavgen.pcm())
    path.chmod(0)
    if os.access(path, os.R_OK):  # root: permissions do not apply, so the OS is told to refuse
        real_open = os.open

        def deny(file: str | os.PathLike[str], flags: int, *args: int, **kwargs: int) -> int:
            if os.fspath(file) == str(path):
                raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))
            return real_open(file, flags, *args, **kwargs)

        monkeypatch.setattr(os, "open", deny)
    yield path
    path.chmod(0o644)


# --- implausible sample rates ---------------------------------------------------------


@pytest.mark.parametrize("rate", IMPLAUSIBLE_RATES)
def test_an_implausible_sample_rate_is_refused_as_a_damaged_header(
    tmp_path: Path, rate: int
) -> None:
    pcm = wavgen.write(tmp_path / "pcm.wav", wavgen.riff(wavgen.fmt(rate=rate), wavgen.data()))
    ulaw = wavgen.riff(wavgen.fmt(MULAW, rate=rate, bits=8), wavgen.data())
    mulaw = wavgen.write(tmp_path / "ulaw.wav", ulaw)

    for check, path in ((wav.check_prompt, pcm), (wav.check_wav_structure, mulaw)):
        reason = refused(check, path, prompt_errors.MalformedWavError)
        assert reason == (
            f"fmt chunk says a sample rate of {rate:,} Hz; the header is damaged: expected "
            "a rate from 1,000 to 768,000 Hz. Re-export or re-copy it; normalize=True "
            "cannot repair a damaged file"
        )


@pytest.mark.parametrize("rate", [1_000, 768_000])
# 16,383 channels of 32 bits: the widest frame a 16-bit block align field can state.
@pytest.mark.parametrize(("channels", "bits"), [(1, 8), (16_383, 32)])
def test_the_plausible_extremes_are_read_with_a_finite_duration(
    tmp_path: Path, rate: int, channels: int, bits: int
) -> None:
    block = channels * bits // 8
    content = wavgen.riff(wavgen.fmt(rate=rate, channels=channels, bits=bits), wavgen.data(block))
    path = wavgen.write(tmp_path / "edge.wav", content)

    info = wav.read_wav_info(path)

    assert info.sample_rate == rate
    assert info.duration_ms == round(1000 / rate)  # one frame


# --- the structure check, for every encoding --------------------------------------------

ENCODINGS = [
    ("ULAW", "WAV"),
    ("ALAW", "WAV"),
    ("FLOAT", "WAV"),
    ("PCM_24", "WAV"),
    ("IMA_ADPCM", "WAV"),
    ("MS_ADPCM", "WAV"),
    ("FLOAT", "WAVEX"),  # WAVE_FORMAT_EXTENSIBLE with the IEEE float subformat
]


@pytest.mark.parametrize(("subtype", "container"), ENCODINGS)
def test_the_structure_check_accepts_every_encoding_normalize_converts(
    tmp_path: Path, subtype: str, container: str
) -> None:
    path = encoded(tmp_path / "ok.wav", subtype, container)

    assert wav.check_wav_structure(path) is None
    with path.open("rb") as f:
        assert wav.check_wav_structure(f) is None


@pytest.mark.parametrize(("subtype", "container"), [("PCM_16", "FLAC"), ("VORBIS", "OGG")])
def test_the_structure_check_leaves_other_containers_to_their_decoder(
    tmp_path: Path, subtype: str, container: str
) -> None:
    path = encoded(tmp_path / "ok.wav", subtype, container)  # named .wav: the content decides

    assert wav.check_wav_structure(path) is None


@pytest.mark.parametrize("cut", ["1 byte", "half"])
@pytest.mark.parametrize(("subtype", "container"), [("PCM_16", "WAV"), *ENCODINGS])
def test_a_truncated_wav_is_refused_whatever_its_encoding(
    tmp_path: Path, subtype: str, container: str, cut: str
) -> None:
    whole = encoded(tmp_path / "whole.wav", subtype, container).read_bytes()
    keep = len(whole) - 1 if cut == "1 byte" else len(whole) // 2
    path = wavgen.write(tmp_path / "cut.wav", whole[:keep])

    reason = refused(wav.check_wav_structure, path, prompt_errors.MalformedWavError)

    assert reason.startswith("data chunk declares ")
    assert "the file is truncated or its header is wrong" in reason
    assert reason.endswith("normalize=True cannot repair a damaged file")


@pytest.mark.parametrize(
    ("content", "found"),
    [
        (
            wavgen.riff(wavgen.fmt(MULAW, channels=0, bits=8), wavgen.data()),
            "fmt chunk says 0 channels at 8000 Hz; expected at least 1 channel. "
            "The header is damaged.",
        ),
        (
            wavgen.riff(wavgen.fmt(MULAW, bits=8, block_align=2), wavgen.data()),
            "fmt chunk says block align 2; expected 1 for 1 channel(s) of 8 bits.",
        ),
        (
            wavgen.riff(wavgen.fmt(3, bits=0, block_align=0), wavgen.data()),
            "fmt chunk says 0 bits per sample for IEEE float; the header is damaged",
        ),
        (
            wavgen.riff(wavgen.fmt(MULAW, bits=8)),
            "no 'data' chunk (chunks found: 'fmt ')",
        ),
        (
            wavgen.riff(wavgen.chunk(b"LIST", b"INFO"), wavgen.data()),
            "no 'fmt ' chunk (chunks found: 'LIST', 'data')",
        ),
        (
            b"RIFF\x24\x00\x00\x00WAVEfmt ",
            "the file ends 4 bytes into the chunk header at offset 12, before 'fmt ' and "
            "'data' chunks; the file is truncated.",
        ),
    ],
    ids=[
        "mu-law-no-channels",
        "mu-law-block-align",
        "float-zero-bits",
        "no-data",
        "no-fmt",
        "cut-in-a-chunk-header",
    ],
)
def test_the_structure_check_refuses_damage_in_any_encoding(
    tmp_path: Path, content: bytes, found: str
) -> None:
    path = wavgen.write(tmp_path / "d.wav", content)

    assert refused(wav.check_wav_structure, path, prompt_errors.MalformedWavError).startswith(found)


@pytest.mark.parametrize(
    "fmt_chunk",
    [
        wavgen.fmt(0x11, bits=4, block_align=256, extra=b"\x02\x00\xf9\x01"),  # IMA ADPCM
        wavgen.fmt_extensible(bytes(range(16)), bits=16),  # a vendor's own subformat GUID
    ],
    ids=["ima-adpcm-block-of-256", "extensible-custom-guid"],
)
def test_encodings_with_their_own_block_size_are_not_held_to_sample_width(
    tmp_path: Path, fmt_chunk: bytes
) -> None:
    path = wavgen.write(tmp_path / "c.wav", wavgen.riff(fmt_chunk, wavgen.data(512)))

    assert wav.check_wav_structure(path) is None


# --- unreadable paths ----------------------------------------------------------------


@pytest.mark.parametrize("check", [wav.check_prompt, wav.read_wav_info], ids=["check", "read"])
def test_a_file_that_does_not_exist_is_named_not_raised(
    tmp_path: Path, check: Callable[[Path], object]
) -> None:
    gone = tmp_path / "gone.wav"
    dangling = tmp_path / "vanished.wav"
    dangling.symlink_to(tmp_path / "deleted-after-listing.wav")

    for path in (gone, dangling):
        reason = refused(check, path, prompt_errors.UnreadablePromptError)
        assert reason == (
            "cannot be read (No such file or directory); expected a readable file. "
            "Check that it exists and that this user may read it"
        )


def test_a_file_without_read_permission_is_named(unreadable: Path) -> None:
    reason = refused(wav.check_prompt, unreadable, prompt_errors.UnreadablePromptError)

    assert reason.startswith("cannot be read (Permission denied); expected a readable file")


def test_a_directory_named_like_a_prompt_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "menu.wav"
    folder.mkdir()

    reason = refused(wav.check_prompt, folder, prompt_errors.UnreadablePromptError)

    assert reason == (
        "is a directory, not a regular file; expected a readable file holding the audio"
    )


@pytest.mark.parametrize("check_name", ["check_prompt", "check_wav_structure"])
def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path: Path, check_name: str) -> None:
    check: Callable[[Path], object] = getattr(wav, check_name)
    fifo = tmp_path / "prompt.wav"
    os.mkfifo(fifo)
    try:
        finished, raised = in_thread(lambda: check(fifo))
    finally:
        release_fifo(fifo)

    assert finished, f"{check_name} blocked on a FIFO for {HANG_SECONDS} s"
    assert isinstance(raised, prompt_errors.UnreadablePromptError)
    assert raised.reason == (
        "is a FIFO (named pipe), not a regular file; expected a readable file holding the audio"
    )


def test_an_io_error_while_reading_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = wavgen.write(tmp_path / "eio.wav", wavgen.pcm())

    with (
        FailingFile(path, good_bytes=12) as stream,
        pytest.raises(prompt_errors.UnreadablePromptError) as caught,
    ):
        wav.check_prompt(stream)
    assert caught.value.reason.startswith("cannot be read (Input/output error);")

    monkeypatch.setattr(wav, "open_prompt", lambda p: FailingFile(Path(p), good_bytes=12))
    reason = refused(wav.check_prompt, path, prompt_errors.UnreadablePromptError)
    assert reason.startswith("cannot be read (Input/output error); expected a readable file")


def test_unreadable_files_join_the_one_report(tmp_path: Path) -> None:
    good = wavgen.write(tmp_path / "good.wav", wavgen.pcm())
    folder = tmp_path / "folder.wav"
    folder.mkdir()
    gone = tmp_path / "gone.wav"

    accepted, errors = wav.check_prompts([folder, good, gone])

    assert [info.path for info in accepted] == [str(good)]
    assert [(type(e), e.path) for e in errors] == [
        (prompt_errors.UnreadablePromptError, str(folder)),
        (prompt_errors.UnreadablePromptError, str(gone)),
    ]
    report = str(prompt_errors.PromptCheckError(errors))
    assert f"  - {folder}: is a directory, not a regular file;" in report
    assert f"  - {gone}: cannot be read (No such file or directory);" in report
    assert "Traceback" not in report
