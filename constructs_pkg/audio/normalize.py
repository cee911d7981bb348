"""Synth-time transcoding of one prompt file to what Chime PlayAudio plays best.

This module owns the conversion of a user's audio file into an 8 kHz, mono,
16-bit PCM WAV (the format Chime PlayAudio recommends), and the cache that
makes a re-synth cost one streaming hash per prompt and no audio work.

Why these libraries:

- ``soundfile`` (libsndfile, bundled in its PyPI wheel) decodes PCM of any
  width, mu-law, A-law, float, IMA and MS ADPCM WAV, and FLAC and OGG besides,
  so every "not PCM" file that Chime refuses can be fixed here instead of
  being sent back to the user.
- ``soxr`` (the SoX resampler, bundled in its PyPI wheel) is made for audio:
  linear-phase, band-limited, fast, and streamable, so a long file is
  resampled block by block with bounded memory. Quality ``HQ`` (20-bit) is
  flat to about 3.7 kHz (the phone network carries 300-3400 Hz) and rejects
  aliases by about 140 dB, far below 16-bit's 96 dB floor; ``VHQ`` (28-bit)
  costs about 1.4x the time and differs only in the 3.8-4 kHz transition
  band (at most 1 LSB on telephone-band speech once rounded to int16).
- ``numpy`` does the mixdown (mean of channels) and the int16 conversion
  (round half to even, then clip: full-scale input saturates, never wraps).
- The stdlib ``wave`` module writes the output: a canonical 44-byte header and
  the samples, no timestamps or LIST/INFO chunks, so the same input gives the
  same bytes on every run (another CPU or library version may round a sample
  differently; the library versions are part of the cache key).

The cache file is named by a hash of the source's bytes, NORMALIZER_VERSION,
the target format, and the versions of the libraries that shape the output;
it is written to a temporary file in the cache folder and moved into place
with os.replace, so an interrupted synth never leaves half a file behind.
Nothing is ever written beside the source.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import wave
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
import numpy.typing as npt
import soundfile as sf  # type: ignore[import-untyped]
import soxr  # type: ignore[import-untyped]

from .wav import WavError

NORMALIZER_VERSION = "1"
"""Bump when a change here alters output bytes: it invalidates every cached file."""

TARGET_RATE = 8000
TARGET_CHANNELS = 1
TARGET_SAMPLE_WIDTH = 2  # bytes: 16-bit signed PCM
RESAMPLE_QUALITY = "HQ"
BLOCK_FRAMES = 65_536
"""Frames decoded per block: about 0.5 MB of float32 per stereo block, whatever the file's size."""

_HASH_CHUNK_BYTES = 1 << 20
_INT16_SCALE = 32768.0  # libsndfile maps int16 to float as x / 32768; this is the inverse
_EXPECTED = "expected a WAV, FLAC or OGG audio file (PCM, float, mu-law, A-law or ADPCM)"

_EMPTY: npt.NDArray[np.float32] = np.zeros(0, dtype=np.float32)
# From 8 terms on, numpy's sum is pairwise (another order of additions): mean() does it.
_PAIRWISE_CHANNELS = 8

_transcodes = 0


class NormalizeError(WavError):
    """A prompt that cannot be normalized: `path` names it, `reason` says why and what to do.

    A WavError (so a ValueError), so callers gather it with the WAV checker's refusals.
    """


class UndecodableAudioError(NormalizeError):
    """The decoder (libsndfile) cannot read the file."""


class EmptyAudioError(NormalizeError):
    """The file decodes to no audio frames (or too few to make one 8 kHz sample)."""


@dataclass(frozen=True)
class NormalizedPrompt:
    """Where a normalized prompt is, and whether this call found it cached (no audio work).

    It is os.PathLike, so it can be passed wherever the file's path is expected.
    """

    path: Path
    cached: bool
    source_sha256: str

    def __fspath__(self) -> str:
        return os.fspath(self.path)


def normalize_prompt(source: Path, cache_dir: Path) -> NormalizedPrompt:
    """`source` as 8 kHz mono 16-bit PCM WAV inside `cache_dir`, reused if already there.

    The source is opened once: hashed in chunks, then, on a cache miss only,
    rewound and decoded block by block from the same open file. Raises
    UndecodableAudioError or EmptyAudioError (both NormalizeError, a WavError).
    """
    global _transcodes
    source = Path(source)
    cache_dir = Path(cache_dir)
    with source.open("rb") as f:
        digest = _sha256(f)
        target = cache_dir / f"{cache_key(digest)}.wav"
        if target.is_file():
            return NormalizedPrompt(target, cached=True, source_sha256=digest)
        f.seek(0)
        cache_dir.mkdir(parents=True, exist_ok=True)
        _transcode_atomically(f, str(source), target)
    _transcodes += 1
    return NormalizedPrompt(target, cached=False, source_sha256=digest)


def transcode_count() -> int:
    """How many files this process has transcoded (cache misses) so far."""
    return _transcodes


def cache_key(source_sha256: str) -> str:
    """The cache file's name (without .wav) for a source with this SHA-256."""
    recipe = {
        "normalizer": NORMALIZER_VERSION,
        "source_sha256": source_sha256,
        "rate": TARGET_RATE,
        "channels": TARGET_CHANNELS,
        "sample_width": TARGET_SAMPLE_WIDTH,
        "quality": RESAMPLE_QUALITY,
        "libsndfile": str(sf.__libsndfile_version__),
        "soxr": str(soxr.__version__),
        "libsoxr": str(soxr.__libsoxr_version__),
        "numpy": np.__version__,
    }
    return hashlib.sha256(json.dumps(recipe, sort_keys=True).encode()).hexdigest()


def _sha256(f: BinaryIO) -> str:
    h = hashlib.sha256()
    while chunk := f.read(_HASH_CHUNK_BYTES):
        h.update(chunk)
    return h.hexdigest()


def _transcode_atomically(f: BinaryIO, name: str, target: Path) -> None:
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.stem}.", suffix=".tmp")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            _transcode(f, name, out)
            out.flush()
            os.fsync(out.fileno())
        tmp.chmod(0o644)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _transcode(f: BinaryIO, name: str, out: BinaryIO) -> None:
    try:
        snd = sf.SoundFile(f)
    except (sf.SoundFileError, RuntimeError, TypeError, ValueError) as exc:
        reason = f"the decoder said: {_decoder_message(exc)}; {_EXPECTED}"
        raise UndecodableAudioError(name, reason) from exc
    with snd, wave.open(out, "wb") as wav:
        wav.setnchannels(TARGET_CHANNELS)
        wav.setsampwidth(TARGET_SAMPLE_WIDTH)
        wav.setframerate(TARGET_RATE)
        rate = int(snd.samplerate)
        resampler = None
        if rate != TARGET_RATE:
            resampler = soxr.ResampleStream(
                rate, TARGET_RATE, 1, dtype="float32", quality=RESAMPLE_QUALITY
            )
        frames_in = frames_out = 0
        try:
            for block in snd.blocks(blocksize=BLOCK_FRAMES, dtype="float32", always_2d=True):
                mono = _mixdown(block)
                frames_in += len(mono)
                if resampler is not None:
                    mono = resampler.resample_chunk(mono)
                frames_out += _write(wav, mono)
            if resampler is not None:
                frames_out += _write(wav, resampler.resample_chunk(_EMPTY, last=True))
        except (sf.SoundFileError, RuntimeError) as exc:
            raise UndecodableAudioError(
                name, f"decoding failed after {frames_in} frames: {_decoder_message(exc)}"
            ) from exc
        if frames_in == 0:
            raise EmptyAudioError(name, f"the file holds no audio frames; {_EXPECTED} with sound")
        if frames_out == 0:
            raise EmptyAudioError(
                name,
                f"{frames_in} frames at {rate} Hz are shorter than one sample at {TARGET_RATE} Hz",
            )


def _mixdown(block: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """Mean of the channels, with NaN as silence and infinities as full scale."""
    channels = block.shape[1]
    if channels == 1:
        mono = block[:, 0].copy()
    elif channels < _PAIRWISE_CHANNELS:
        # The same float32 sums, in the same order, and the same division as
        # block.mean(axis=1, dtype=np.float32), so the same bytes (below 8 terms numpy
        # adds left to right). mean() over a 2-wide axis is a slow strided reduction:
        # it took about a third of a stereo file's normalization.
        mono = block[:, 0] + block[:, 1]
        for channel in range(2, channels):
            mono += block[:, channel]
        mono += np.float32(0.0)  # numpy's sum starts at +0.0: a row of -0.0 sums to +0.0
        mono /= np.float32(channels)
    else:
        mono = block.mean(axis=1, dtype=np.float32)
    return np.nan_to_num(mono, copy=False, nan=0.0, posinf=1.0, neginf=-1.0)


def _write(wav: wave.Wave_write, samples: npt.NDArray[np.float32]) -> int:
    """Append samples as int16, rounded then clipped: full scale saturates, never wraps."""
    scaled = np.rint(samples.astype(np.float64) * _INT16_SCALE)
    pcm = np.clip(scaled, -32768, 32767).astype(np.int16)  # native order, as wave expects
    wav.writeframesraw(pcm.tobytes())
    return len(pcm)


def _decoder_message(exc: BaseException) -> str:
    detail = getattr(exc, "error_string", None)
    return str(detail).strip() if detail else str(exc).strip() or type(exc).__name__
