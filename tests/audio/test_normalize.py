"""Synth-time normalization: every input encoding lands as 8 kHz mono 16-bit PCM, cached.

Inputs are generated here with soundfile and numpy; no audio is committed.
"""

from __future__ import annotations

import wave
from collections.abc import Callable
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
import soundfile as sf

from constructs_pkg.audio import normalize as norm
from constructs_pkg.audio.prompt_errors import WavError
from constructs_pkg.audio.wav import check_prompt

Signal = Callable[[npt.NDArray[np.float64]], npt.NDArray[np.float64]]
TONES = ((300.0, 0.20), (1000.0, 0.15), (2200.0, 0.10), (3300.0, 0.05))


def speechlike(t: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Tones below 3.5 kHz under a 2 Hz amplitude envelope, faded in and out over 20 ms."""
    tones = sum(a * np.sin(2 * np.pi * f * t + f / 1000) for f, a in TONES)
    envelope = 0.6 + 0.4 * np.sin(2 * np.pi * 2.0 * t)
    fade = np.clip(np.minimum(t, t[-1] - t) / 0.02, 0.0, 1.0)
    return np.asarray(tones * envelope * fade, dtype=np.float64)


def tone(freq: float, amp: float) -> Signal:
    return lambda t: amp * np.sin(2 * np.pi * freq * t)


def times(rate: int, seconds: float) -> npt.NDArray[np.float64]:
    return np.arange(round(rate * seconds)) / rate


def write_audio(
    path: Path,
    rate: int,
    subtype: str,
    channels: list[Signal],
    *,
    seconds: float = 1.0,
    fmt: str = "WAV",
) -> Path:
    t = times(rate, seconds)
    sf.write(path, np.stack([c(t) for c in channels], axis=1), rate, subtype=subtype, format=fmt)
    return path


def read_output(path: Path) -> tuple[tuple[int, int, int, str], npt.NDArray[np.float64]]:
    """(rate, channels, sample width, compression) from stdlib wave, and samples in [-1, 1)."""
    with wave.open(str(path), "rb") as w:
        params = (w.getframerate(), w.getnchannels(), w.getsampwidth(), w.getcomptype())
        raw = w.readframes(w.getnframes())
    return params, np.frombuffer(raw, dtype="<i2").astype(np.float64) / 32768


def amplitude_at(x: npt.NDArray[np.float64], freq: float, rate: int = 8000) -> float:
    """Least-squares amplitude of one sinusoid in x."""
    t = np.arange(len(x)) / rate
    basis = np.stack([np.sin(2 * np.pi * freq * t), np.cos(2 * np.pi * freq * t)], axis=1)
    (s, c), *_ = np.linalg.lstsq(basis, x, rcond=None)
    return float(np.hypot(s, c))


INPUTS = [
    # (file name, rate, subtype, channels, container)
    ("pcm16-44k1-stereo.wav", 44100, "PCM_16", 2, "WAV"),
    ("pcm24-48k.wav", 48000, "PCM_24", 1, "WAV"),
    ("float32-16k.wav", 16000, "FLOAT", 1, "WAV"),
    ("ulaw-8k.wav", 8000, "ULAW", 1, "WAV"),
    ("alaw-11k025.wav", 11025, "ALAW", 1, "WAV"),
    ("ima-adpcm-22k05.wav", 22050, "IMA_ADPCM", 1, "WAV"),
    ("ms-adpcm-16k.wav", 16000, "MS_ADPCM", 1, "WAV"),
    ("pcm16-32k.flac", 32000, "PCM_16", 1, "FLAC"),
]


@pytest.mark.parametrize(("name", "rate", "subtype", "channels", "fmt"), INPUTS)
def test_every_encoding_becomes_8k_mono_pcm16_with_the_audio_intact(
    src: Path, cache: Path, name: str, rate: int, subtype: str, channels: int, fmt: str
) -> None:
    source = write_audio(src / name, rate, subtype, [speechlike] * channels, fmt=fmt)
    frames_in = sf.info(str(source)).frames

    result = norm.normalize_prompt(source, cache)

    params, out = read_output(result.path)
    assert params == (8000, 1, 2, "NONE")
    assert abs(len(out) / 8000 - frames_in / rate) <= 0.005
    # ADPCM encoders pad the last block with silence, so compare against the 1 s written.
    reference = np.zeros(len(out))
    reference[:8000] = speechlike(times(8000, 1.0))[: len(out)]
    correlation = np.corrcoef(out, reference)[0, 1]
    assert correlation > 0.99, f"{name}: correlation {correlation:.5f}"
    assert check_prompt(result.path).sample_rate == 8000  # the WAV checker accepts it


def test_mixdown_averages_channels(src: Path, cache: Path) -> None:
    source = write_audio(src / "lr.wav", 44100, "PCM_16", [tone(440, 0.5), tone(1300, 0.5)])

    _, out = read_output(norm.normalize_prompt(source, cache).path)

    assert amplitude_at(out, 440) == pytest.approx(0.25, rel=0.01)
    assert amplitude_at(out, 1300) == pytest.approx(0.25, rel=0.01)


@pytest.mark.parametrize("rate", [8000, 16000])
def test_full_scale_clips_instead_of_wrapping(src: Path, cache: Path, rate: int) -> None:
    source = write_audio(src / "loud.wav", rate, "FLOAT", [tone(500, 2.0)], seconds=0.25)

    _, out = read_output(norm.normalize_prompt(source, cache).path)

    assert out.max() == pytest.approx(32767 / 32768)
    assert out.min() == -1.0
    ideal = 2.0 * np.sin(2 * np.pi * 500 * np.arange(len(out)) / 8000)
    loud = np.abs(ideal) > 0.5
    assert np.all(np.sign(out[loud]) == np.sign(ideal[loud])), "a clipped sample wrapped around"
    assert np.all(np.abs(out[loud]) > 0.49)


def test_full_scale_square_wave_saturates(src: Path, cache: Path) -> None:
    t = times(44100, 0.25)
    square = np.where(np.sin(2 * np.pi * 100 * t) >= 0, 32767, -32768).astype(np.int16)
    source = src / "square.wav"
    sf.write(source, square, 44100, subtype="PCM_16")

    _, out = read_output(norm.normalize_prompt(source, cache).path)

    # Mid-half-period samples of the 100 Hz square stay at full scale with their sign.
    mid = np.arange(len(out))[(np.arange(len(out)) % 80) == 20]
    assert np.all(out[mid] > 0.95)
    assert np.all(out[mid + 40] < -0.95)
    assert out.max() == pytest.approx(32767 / 32768)  # Gibbs overshoot was clipped


def test_output_bytes_are_identical_across_runs(src: Path, tmp_path: Path) -> None:
    source = write_audio(src / "a.wav", 44100, "PCM_16", [speechlike, speechlike])

    first = norm.normalize_prompt(source, tmp_path / "cache1").path.read_bytes()
    second = norm.normalize_prompt(source, tmp_path / "cache2").path.read_bytes()

    assert first == second
    assert first[:4] == b"RIFF" and first[36:40] == b"data"  # canonical 44-byte header
    assert b"LIST" not in first[:44]


def test_second_call_is_a_cache_hit_with_no_audio_work(
    src: Path, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = write_audio(src / "a.wav", 48000, "PCM_24", [speechlike])
    first = norm.normalize_prompt(source, cache)
    mtime = first.path.stat().st_mtime_ns
    count = norm.transcode_count()

    def no_decoding(*args: object, **kwargs: object) -> None:
        raise AssertionError("the cache hit decoded audio")

    monkeypatch.setattr(norm.sf, "SoundFile", no_decoding)
    second = norm.normalize_prompt(source, cache)

    assert (first.cached, second.cached) == (False, True)
    assert second.path == first.path
    assert norm.transcode_count() == count
    assert second.path.stat().st_mtime_ns == mtime


def test_cache_is_keyed_by_content_and_normalizer_version(
    src: Path, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    a = write_audio(src / "a.wav", 16000, "PCM_16", [speechlike])
    copy = src / "copy-of-a.wav"
    copy.write_bytes(a.read_bytes())
    b = write_audio(src / "b.wav", 16000, "PCM_16", [tone(440, 0.3)])

    path_a = norm.normalize_prompt(a, cache).path
    assert norm.normalize_prompt(copy, cache).cached  # same bytes, other name: same file
    assert norm.normalize_prompt(b, cache).path != path_a

    monkeypatch.setattr(norm, "NORMALIZER_VERSION", "test-bump")
    bumped = norm.normalize_prompt(a, cache)
    assert not bumped.cached
    assert bumped.path != path_a


def test_only_the_cache_folder_is_written(src: Path, cache: Path) -> None:
    write_audio(src / "a.wav", 44100, "PCM_16", [speechlike, speechlike])
    write_audio(src / "b.wav", 22050, "IMA_ADPCM", [speechlike])
    before = {p.name: (p.stat().st_mtime_ns, p.read_bytes()) for p in src.iterdir()}

    for name in sorted(before):
        norm.normalize_prompt(src / name, cache)

    after = {p.name: (p.stat().st_mtime_ns, p.read_bytes()) for p in src.iterdir()}
    assert after == before
    # A WAV and its SHA-256 record per prompt, and no temporary files.
    assert sorted(p.suffix for p in cache.iterdir()) == [".sha256", ".sha256", ".wav", ".wav"]


def test_a_failed_transcode_leaves_nothing_in_the_cache(
    src: Path, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = write_audio(src / "a.wav", 44100, "PCM_16", [speechlike])
    calls = 0
    real_write = norm._write

    def write_then_fail(wav: wave.Wave_write, samples: npt.NDArray[np.float32]) -> int:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise KeyboardInterrupt  # as if the synth were stopped mid-file
        return real_write(wav, samples)

    monkeypatch.setattr(norm, "BLOCK_FRAMES", 4096)
    monkeypatch.setattr(norm, "_write", write_then_fail)
    with pytest.raises(KeyboardInterrupt):
        norm.normalize_prompt(source, cache)

    assert list(cache.iterdir()) == []
    monkeypatch.setattr(norm, "_write", real_write)
    assert not norm.normalize_prompt(source, cache).cached


def test_small_blocks_give_the_same_bytes_as_large_ones(
    src: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = write_audio(src / "a.wav", 44100, "PCM_16", [speechlike, tone(700, 0.2)])
    large = norm.normalize_prompt(source, tmp_path / "large").path.read_bytes()

    monkeypatch.setattr(norm, "BLOCK_FRAMES", 1000)
    small = norm.normalize_prompt(source, tmp_path / "small").path.read_bytes()

    assert small == large


@pytest.mark.parametrize(
    ("content", "said"),
    [
        (b"this is a text file, not audio\n", "Format not recognised"),
        (b"", "Format not recognised"),
    ],
    ids=["text", "empty-file"],
)
def test_undecodable_file_is_refused_with_what_was_expected(
    src: Path, cache: Path, content: bytes, said: str
) -> None:
    source = src / "broken.wav"
    source.write_bytes(content)

    with pytest.raises(norm.UndecodableAudioError) as caught:
        norm.normalize_prompt(source, cache)

    message = str(caught.value)
    assert str(source) in message
    assert "the decoder said:" in message and said in message
    assert "expected a WAV, FLAC or OGG audio file" in message
    assert isinstance(caught.value, WavError) and isinstance(caught.value, ValueError)
    assert not cache.exists() or list(cache.iterdir()) == []


def test_audio_with_no_frames_is_refused(src: Path, cache: Path) -> None:
    source = src / "silent.wav"
    sf.write(source, np.zeros((0, 1)), 44100, subtype="PCM_16")

    with pytest.raises(norm.EmptyAudioError, match="no audio frames") as caught:
        norm.normalize_prompt(source, cache)

    assert str(source) in str(caught.value)
    assert list(cache.iterdir()) == []


def test_result_is_path_like(src: Path, cache: Path) -> None:
    source = write_audio(src / "a.wav", 8000, "PCM_16", [speechlike], seconds=0.1)

    result = norm.normalize_prompt(source, cache)

    assert Path(result) == result.path == cache / f"{norm.cache_key(result.source_sha256)}.wav"


def test_8k_mono_pcm16_passes_through_sample_exact(src: Path, cache: Path) -> None:
    source = write_audio(src / "a.wav", 8000, "PCM_16", [speechlike], seconds=0.5)
    original, _ = sf.read(source, dtype="int16")

    _, out = read_output(norm.normalize_prompt(source, cache).path)

    assert np.array_equal(np.round(out * 32768).astype(np.int16), original)
