"""normalize=True refuses damaged or unreadable sources, and its cache serves only what it wrote.

New names are reached through the modules (``norm.DamagedAudioError``), so each test
fails on its own, not the whole file, where they do not exist.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf

from constructs_pkg.audio import normalize as norm
from constructs_pkg.audio import prompt_errors, wav
from tests.audio import wavgen
from tests.audio.test_wav_damage import (
    HANG_SECONDS,
    IMPLAUSIBLE_RATES,
    FailingFile,
    in_thread,
    release_fifo,
    unreadable,  # noqa: F401  (fixture)
)

MULAW = 7


def tone_file(path: Path, subtype: str, fmt: str = "WAV", rate: int = 16000) -> Path:
    """One second of a 440 Hz tone under a 3 Hz envelope, in any encoding soundfile writes."""
    t = np.arange(rate) / rate
    signal = 0.3 * np.sin(2 * np.pi * 440 * t) * (1 + 0.5 * np.sin(2 * np.pi * 3 * t))
    sf.write(path, signal, rate, subtype=subtype, format=fmt)
    return path


def refused(source: Path, cache: Path, error: type[prompt_errors.WavError]) -> str:
    """normalize_prompt(source) raises `error` naming source, and caches nothing; the reason."""
    with pytest.raises(error) as caught:
        norm.normalize_prompt(source, cache)
    assert caught.value.path == str(source)
    assert str(caught.value).startswith(f"{source}: ")
    assert not cache.exists() or list(cache.iterdir()) == []
    return caught.value.reason


def cached_files(cache: Path) -> list[str]:
    return sorted(p.suffix for p in cache.iterdir())


def ogg_pages(content: bytes) -> list[int]:
    """Offsets of the Ogg pages of a file (its capture patterns)."""
    return [m.start() for m in re.finditer(b"OggS", content)]


# --- damaged sources ------------------------------------------------------------------


@pytest.mark.parametrize("cut", ["1 byte", "half"])
def test_a_truncated_mu_law_wav_is_refused_not_transcoded_shorter(
    src: Path, cache: Path, cut: str
) -> None:
    whole = tone_file(src / "whole.wav", "ULAW").read_bytes()
    keep = len(whole) - 1 if cut == "1 byte" else len(whole) // 2
    source = wavgen.write(src / "menu.wav", whole[:keep])

    reason = refused(source, cache, prompt_errors.MalformedWavError)

    declared = int.from_bytes(whole[whole.index(b"data") + 4 :][:4], "little")
    assert reason.startswith(f"data chunk declares {declared} bytes, file has ")
    assert "the file is truncated" in reason
    assert reason.endswith("normalize=True cannot repair a damaged file")


@pytest.mark.parametrize("rate", IMPLAUSIBLE_RATES)
def test_an_implausible_rate_is_refused_with_normalize_too(
    src: Path, cache: Path, rate: int
) -> None:
    content = wavgen.riff(wavgen.fmt(MULAW, rate=rate, bits=8), wavgen.data(8000))
    source = wavgen.write(src / "rate.wav", content)

    reason = refused(source, cache, prompt_errors.MalformedWavError)

    assert reason.startswith(f"fmt chunk says a sample rate of {rate:,} Hz; the header is damaged")


def test_a_header_cut_inside_a_chunk_is_refused_as_truncated(src: Path, cache: Path) -> None:
    source = wavgen.write(src / "head.wav", b"RIFF\x24\x00\x00\x00WAVEfmt ")

    reason = refused(source, cache, prompt_errors.MalformedWavError)

    assert "the file is truncated" in reason


@pytest.mark.parametrize("cut", ["1 byte", "half"])
def test_a_truncated_flac_is_refused_as_damaged(src: Path, cache: Path, cut: str) -> None:
    whole = tone_file(src / "whole.flac", "PCM_16", "FLAC").read_bytes()
    keep = len(whole) - 1 if cut == "1 byte" else len(whole) // 2
    source = wavgen.write(src / "cut.flac", whole[:keep])

    reason = refused(source, cache, norm.UndecodableAudioError)

    # libsndfile itself notices: "flac decoder lost sync" or "psf_fseek() failed".
    assert reason.startswith("decoding failed after ")
    assert "the file is damaged or truncated; expected a complete audio file" in reason


def test_an_ogg_opus_cut_at_a_page_boundary_is_refused(src: Path, cache: Path) -> None:
    whole = tone_file(src / "whole.ogg", "OPUS", "OGG", rate=48000).read_bytes()
    # libsndfile decodes this as shorter audio without an error.
    source = wavgen.write(src / "cut.ogg", whole[: ogg_pages(whole)[-1]])

    reason = refused(source, cache, norm.DamagedAudioError)

    assert reason == (
        "its last Ogg page does not mark the end of the stream: the file is truncated; "
        "expected a complete Ogg file. Re-export or re-copy it"
    )


@pytest.mark.parametrize("cut", ["1 byte", "half"])
@pytest.mark.parametrize(("subtype", "rate"), [("VORBIS", 16000), ("OPUS", 48000)])
def test_an_ogg_cut_inside_a_page_is_refused(
    src: Path, cache: Path, subtype: str, rate: int, cut: str
) -> None:
    whole = tone_file(src / "whole.ogg", subtype, "OGG", rate=rate).read_bytes()
    keep = len(whole) - 1 if cut == "1 byte" else len(whole) // 2
    source = wavgen.write(src / "cut.ogg", whole[:keep])

    reason = refused(source, cache, norm.DamagedAudioError)

    assert reason == (
        f"it ends inside an Ogg page ({keep:,} bytes): the file is truncated; "
        "expected a complete Ogg file. Re-export or re-copy it"
    )


@pytest.mark.parametrize(("subtype", "rate"), [("VORBIS", 16000), ("OPUS", 48000)])
def test_a_complete_ogg_is_normalized(src: Path, cache: Path, subtype: str, rate: int) -> None:
    source = tone_file(src / "ok.ogg", subtype, "OGG", rate=rate)

    result = norm.normalize_prompt(source, cache)

    assert wav.check_prompt(result.path).duration_ms == pytest.approx(1000, abs=10)


def test_a_decoder_that_stops_before_the_declared_end_is_refused(
    src: Path, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tone_file(src / "a.flac", "PCM_16", "FLAC")

    class StopsEarly(sf.SoundFile):  # type: ignore[misc]
        """A decoder that ends 800 frames before its header's count, without an error."""

        def blocks(self, *args: Any, **kwargs: Any) -> Iterator[Any]:
            remaining = self.frames - 800
            for block in super().blocks(*args, **kwargs):
                yield block[:remaining]
                remaining -= len(block[:remaining])

    monkeypatch.setattr(norm.sf, "SoundFile", StopsEarly)

    reason = refused(source, cache, norm.DamagedAudioError)

    assert reason == (
        "its header declares 16000 frames but only 15200 could be decoded: the file is "
        "truncated or damaged; expected a complete audio file. Re-export or re-copy it"
    )


# --- unreadable sources ---------------------------------------------------------------


def test_a_missing_source_is_named(src: Path, cache: Path) -> None:
    reason = refused(src / "gone.wav", cache, prompt_errors.UnreadablePromptError)

    assert reason.startswith("cannot be read (No such file or directory); expected a readable")


def test_an_unreadable_source_is_named(unreadable: Path, cache: Path) -> None:  # noqa: F811
    reason = refused(unreadable, cache, prompt_errors.UnreadablePromptError)

    assert reason.startswith("cannot be read (Permission denied); expected a readable file")


def test_a_directory_source_is_named(src: Path, cache: Path) -> None:
    folder = src / "menu.wav"
    folder.mkdir()

    assert refused(folder, cache, prompt_errors.UnreadablePromptError).startswith("is a directory,")


def test_a_fifo_source_is_refused_without_blocking(src: Path, cache: Path) -> None:
    fifo = src / "prompt.wav"
    os.mkfifo(fifo)
    try:
        finished, raised = in_thread(lambda: norm.normalize_prompt(fifo, cache))
    finally:
        release_fifo(fifo)

    assert finished, f"normalize_prompt blocked on a FIFO for {HANG_SECONDS} s"
    assert isinstance(raised, prompt_errors.UnreadablePromptError)
    assert raised.reason.startswith("is a FIFO (named pipe), not a regular file;")


@pytest.mark.parametrize("stage", ["hashing", "decoding"])
def test_an_io_error_is_named_without_a_traceback(
    src: Path,
    cache: Path,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
    stage: str,
) -> None:
    source = tone_file(src / "a.wav", "PCM_16", rate=44100)
    size = source.stat().st_size
    # Hashing reads the file once; decoding reads it again, and fails 10 kB in.
    good = 1000 if stage == "hashing" else size + 10_000
    monkeypatch.setattr(norm, "open_prompt", lambda p: FailingFile(Path(p), good_bytes=good))

    reason = refused(source, cache, prompt_errors.UnreadablePromptError)

    assert reason.startswith("cannot be read (Input/output error); expected a readable file")
    printed = capfd.readouterr().err
    assert "Traceback" not in printed and "OSError" not in printed


# --- a cache that serves only what it wrote --------------------------------------------


@pytest.fixture
def normalized(src: Path, cache: Path) -> Iterator[tuple[Path, bytes]]:
    """(source, the bytes its first normalization wrote), with the cache filled."""
    source = tone_file(src / "a.wav", "PCM_16", rate=44100)
    first = norm.normalize_prompt(source, cache)
    assert not first.cached
    yield source, first.path.read_bytes()


def renormalized(source: Path, cache: Path, original: bytes) -> norm.NormalizedPrompt:
    """Normalize again, expecting a re-transcode that restores the original bytes."""
    again = norm.normalize_prompt(source, cache)
    assert not again.cached
    assert again.path.read_bytes() == original
    assert not again.path.is_symlink()
    record = again.path.with_suffix(".sha256")
    assert not record.is_symlink()
    assert record.read_text() == hashlib.sha256(original).hexdigest() + "\n"
    assert norm.normalize_prompt(source, cache).cached  # and trusted from then on
    return again


def test_a_cached_file_replaced_by_another_valid_wav_is_not_served(
    normalized: tuple[Path, bytes], cache: Path
) -> None:
    source, original = normalized
    target = next(cache.glob("*.wav"))
    target.write_bytes(wavgen.pcm(frames=8000))  # plays fine, but is someone else's audio

    renormalized(source, cache, original)


def test_a_half_written_cache_file_is_not_served(
    normalized: tuple[Path, bytes], cache: Path
) -> None:
    source, original = normalized
    target = next(cache.glob("*.wav"))
    target.write_bytes(original[: len(original) // 2])

    renormalized(source, cache, original)


def test_a_cache_file_without_its_record_is_not_trusted(
    normalized: tuple[Path, bytes], cache: Path
) -> None:
    source, original = normalized
    next(cache.glob("*.sha256")).unlink()

    renormalized(source, cache, original)


def test_a_cache_record_that_does_not_match_is_not_trusted(
    normalized: tuple[Path, bytes], cache: Path
) -> None:
    source, original = normalized
    next(cache.glob("*.sha256")).write_text("0" * 64 + "\n")

    renormalized(source, cache, original)


@pytest.mark.parametrize("linked", [".wav", ".sha256"])
def test_a_link_in_the_cache_is_replaced_never_written_through(
    normalized: tuple[Path, bytes], cache: Path, tmp_path: Path, linked: str
) -> None:
    source, original = normalized
    outside = wavgen.write(tmp_path / "elsewhere" / "user.wav", wavgen.pcm(frames=4000))
    before = outside.read_bytes()
    target = next(cache.glob("*.wav"))
    # A link whose record even matches what it points to: still not the cache's own file.
    target.with_suffix(".sha256").write_text(hashlib.sha256(before).hexdigest() + "\n")
    link = target.with_suffix(linked)
    link.unlink()
    link.symlink_to(outside)

    renormalized(source, cache, original)

    assert outside.read_bytes() == before
    assert sorted(p.name for p in outside.parent.iterdir()) == ["user.wav"]
    assert cached_files(cache) == [".sha256", ".wav"]


def test_a_fifo_in_the_cache_is_replaced_without_blocking(
    normalized: tuple[Path, bytes], cache: Path
) -> None:
    source, original = normalized
    target = next(cache.glob("*.wav"))
    target.unlink()
    os.mkfifo(target)
    try:
        finished, raised = in_thread(lambda: renormalized(source, cache, original))
    finally:
        release_fifo(target)

    assert finished, f"normalize_prompt blocked on a FIFO in the cache for {HANG_SECONDS} s"
    assert raised is None


@pytest.mark.parametrize(
    ("fmt", "subtype"),
    [("AIFF", "PCM_16"), ("W64", "PCM_16"), ("AU", "PCM_16"), ("RF64", "PCM_16")],
)
def test_another_container_named_wav_is_refused_whole_or_cut(
    src: Path, cache: Path, fmt: str, subtype: str
) -> None:
    """libsndfile reads these whatever the suffix, and a cut one decodes shorter, silently."""
    whole = tone_file(src / "whole.wav", subtype, fmt=fmt)
    cut = src / "cut.wav"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    for source in (whole, cut):
        reason = refused(source, cache, norm.UndecodableAudioError)
        assert "not what its suffix stands for (WAV or WAVEX)" in reason


def test_a_1_hz_header_is_refused_before_any_audio_work(src: Path, cache: Path) -> None:
    """100 frames at 1 Hz would be a 100 s prompt: 1.6 MB written per 200 bytes read."""
    source = src / "slow.flac"
    sf.write(source, np.zeros(100, dtype=np.float32), 1, format="FLAC")
    reason = refused(source, cache, norm.DamagedAudioError)
    assert "its header says 1 Hz, outside 1,000-768,000 Hz" in reason


def test_audio_that_would_exceed_50_mb_at_8_khz_is_refused_before_transcoding(
    src: Path, cache: Path
) -> None:
    source = src / "long.flac"
    frames = 3_200_000  # at 1 kHz: 3,200 s, 51.2 MB at 8 kHz 16-bit mono
    sf.write(source, np.zeros(frames, dtype=np.float32), 1000, format="FLAC")
    reason = refused(source, cache, prompt_errors.PromptTooLargeError)
    assert "become about 51,200,000 bytes at 8 kHz 16-bit mono" in reason
