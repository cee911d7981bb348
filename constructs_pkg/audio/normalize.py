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

The cache serves only what it wrote: beside ``<key>.wav`` a record
``<key>.sha256`` holds the SHA-256 of the WAV's bytes, written after the WAV.
A hit hashes the cached WAV and compares; a foreign, half-written or rotted
file, a missing record, or a link or FIFO in place of either means a miss,
and the file is transcoded again and moved over it (os.replace replaces a
link itself, never the file it points to). The check is cheap: 8 kHz mono
16-bit is 16 kB per second of audio, so a 5-minute prompt hashes 4.8 MB.

A damaged source is refused, not decoded into a shorter prompt. libsndfile
(1.2.2) decodes a WAV whose data chunk is cut short, or an Ogg Opus file cut
at a page boundary, as less audio without an error, so before decoding a
RIFF/WAVE file goes through wav.check_wav_structure and an Ogg file must end
with a complete page that marks the end of its stream. A cut FLAC file makes
libsndfile report an error ("flac decoder lost sync", "psf_fseek() failed"),
and a decoder that returns fewer frames than its header declared is refused
too, as a guard for formats and versions that stop early without a word.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import tempfile
import wave
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import numpy.typing as npt
import soundfile as sf  # type: ignore[import-untyped]
import soxr  # type: ignore[import-untyped]

from . import NORMALIZABLE_CONTAINERS
from .prompt_errors import PromptTooLargeError, WavError
from .prompt_file_io import open_prompt, unreadable_error, unreadable_on_os_error
from .wav import (
    MAX_PLAUSIBLE_RATE,
    MAX_PROMPT_BYTES,
    MIN_PLAUSIBLE_RATE,
    RECOMMENDED_CHANNELS,
    RECOMMENDED_RATE,
    check_wav_structure,
)

NORMALIZER_VERSION = "1"
"""Bump when a change here alters output bytes: it invalidates every cached file."""

TARGET_RATE = RECOMMENDED_RATE  # normalizing gives what check_prompt recommends
TARGET_CHANNELS = RECOMMENDED_CHANNELS
TARGET_SAMPLE_WIDTH = 2  # bytes: 16-bit signed PCM
RESAMPLE_QUALITY = "HQ"
BLOCK_FRAMES = 65_536
"""Frames decoded per block: about 0.5 MB of float32 per stereo block, whatever the file's size."""

_HASH_CHUNK_BYTES = 1 << 20
_RECORD_SUFFIX = ".sha256"
_RECORD_BYTES = 64  # a SHA-256 in hex
# The largest Ogg page: a 27-byte header, 255 lacing values, 255 segments of 255 bytes.
_OGG_MAX_PAGE_BYTES = 27 + 255 + 255 * 255
_OGG_END_OF_STREAM = 0x04
# libsndfile's frame count for a file of unknown length (SF_COUNT_MAX).
_UNKNOWN_FRAMES = 2**63 - 1
_REEXPORT = "Re-export or re-copy it"
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


class DamagedAudioError(NormalizeError):
    """The file is cut short or damaged: decoding it would deploy less audio than it holds."""


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

    The source is opened once: its structure checked, hashed in chunks, then,
    on a cache miss only, rewound and decoded block by block from the same
    open file. Raises a WavError: UnreadablePromptError (a path that cannot be
    read), MalformedWavError (a damaged WAV), or a NormalizeError:
    DamagedAudioError, UndecodableAudioError or EmptyAudioError.
    """
    global _transcodes
    source = Path(source)
    cache_dir = Path(cache_dir)
    name = str(source)
    with open_prompt(source) as f:
        with unreadable_on_os_error(name):
            check_wav_structure(f)
            _check_ogg_ends_its_stream(f, name)
            f.seek(0)
            digest = _sha256(f)
        target = cache_dir / f"{cache_key(digest)}.wav"
        if _cached_copy_is_intact(target):
            return NormalizedPrompt(target, cached=True, source_sha256=digest)
        f.seek(0)
        cache_dir.mkdir(parents=True, exist_ok=True)
        _transcode_atomically(f, name, target)
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


def _record_path(target: Path) -> Path:
    """Where the SHA-256 of the cached WAV `target` is kept."""
    return target.with_suffix(_RECORD_SUFFIX)


def _cached_copy_is_intact(target: Path) -> bool:
    """True if `target` and its record are plain files and the record holds target's SHA-256.

    lstat(), not stat(): the cache writes neither links nor FIFOs, so one found
    there is foreign (and a FIFO would block the read).
    """
    record = _record_path(target)
    try:
        if not (_is_plain_file(target) and _is_plain_file(record)):
            return False
        with record.open("rb") as r:
            expected = r.read(_RECORD_BYTES + 2).strip()
        with target.open("rb") as cached:
            actual = _sha256(cached)
    except OSError:
        return False
    return actual.encode("ascii") == expected


def _is_plain_file(path: Path) -> bool:
    return stat.S_ISREG(path.lstat().st_mode)


def _transcode_atomically(f: BinaryIO, name: str, target: Path) -> None:
    """Transcode into `target`, then write its record; each moved into place whole."""

    def transcode(out: BinaryIO) -> None:
        _transcode(f, name, out)

    _write_atomically(target, transcode)
    with target.open("rb") as written:
        digest = _sha256(written)
    _write_atomically(_record_path(target), lambda out: out.write(f"{digest}\n".encode()))


def _write_atomically(target: Path, write: Callable[[BinaryIO], object]) -> None:
    """Write a temporary file beside `target` and os.replace it onto target (a link included)."""
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.stem}.", suffix=".tmp")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            write(out)
            out.flush()
            os.fsync(out.fileno())
        tmp.chmod(0o644)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _check_ogg_ends_its_stream(f: BinaryIO, name: str) -> None:
    """Refuse an Ogg file that does not end with a complete end-of-stream page.

    libsndfile decodes an Ogg Opus file cut at a page boundary as shorter
    audio, silently, and a Vorbis one cut mid-page as no audio at all. Every
    Ogg encoder (libogg, ffmpeg, libsndfile) sets the end-of-stream flag on
    the last page, so a file that ends otherwise was cut. Reads at most one
    page (64 kB) from the end.
    """
    f.seek(0)
    if f.read(4) != b"OggS":
        return
    size = f.seek(0, os.SEEK_END)
    start = max(0, size - _OGG_MAX_PAGE_BYTES)
    f.seek(start)
    tail = f.read(size - start)
    page = tail.rfind(b"OggS")
    while page >= 0:
        if _ogg_page_end(tail, page) == len(tail):
            if tail[page + 5] & _OGG_END_OF_STREAM:
                return
            raise DamagedAudioError(
                name,
                "its last Ogg page does not mark the end of the stream: the file is "
                f"truncated; expected a complete Ogg file. {_REEXPORT}",
            )
        page = tail.rfind(b"OggS", 0, page)
    raise DamagedAudioError(
        name,
        f"it ends inside an Ogg page ({size:,} bytes): the file is truncated; "
        f"expected a complete Ogg file. {_REEXPORT}",
    )


def _ogg_page_end(tail: bytes, page: int) -> int | None:
    """Where the Ogg page starting at `page` ends, or None if its header is cut or not one."""
    header_end = page + 27
    if header_end > len(tail) or tail[page + 4] != 0:  # stream structure version 0
        return None
    segments = tail[page + 26]
    lacing = tail[header_end : header_end + segments]
    if len(lacing) < segments:
        return None
    return header_end + segments + sum(lacing)


class _ReadErrorCatcher:
    """The source as libsndfile reads it, keeping an OSError instead of raising it.

    soundfile reads a file object through cffi callbacks, where an exception
    is printed as a raw traceback and the read returns 0 bytes; this keeps the
    error so the caller raises UnreadablePromptError once decoding stops.
    """

    def __init__(self, f: BinaryIO) -> None:
        self._f = f
        self.error: OSError | None = None

    def read(self, size: int = -1) -> bytes:
        try:
            return self._f.read(size)
        except OSError as error:
            self.error = error
            return b""

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        return self._f.seek(offset, whence)

    def tell(self) -> int:
        return self._f.tell()


def _transcode(f: BinaryIO, name: str, out: BinaryIO) -> None:
    source = _ReadErrorCatcher(f)
    try:
        _decode_into(source, name, out)
    except WavError:
        if source.error is None:
            raise
    if source.error is not None:
        raise unreadable_error(name, source.error) from source.error


def _decode_into(f: _ReadErrorCatcher, name: str, out: BinaryIO) -> None:
    try:
        snd = sf.SoundFile(f)
    except (sf.SoundFileError, RuntimeError, TypeError, ValueError) as exc:
        reason = f"the decoder said: {_decoder_message(exc)}; {_EXPECTED}"
        raise UndecodableAudioError(name, reason) from exc
    try:
        _check_container(snd, name)
    except WavError:
        snd.close()
        raise
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
                if f.error is not None:
                    break  # the block was not read: _transcode names the error
                mono = _mixdown(block)
                frames_in += len(mono)
                if resampler is not None:
                    mono = resampler.resample_chunk(mono)
                frames_out += _write(wav, mono)
            if resampler is not None:
                frames_out += _write(wav, resampler.resample_chunk(_EMPTY, last=True))
        except (sf.SoundFileError, RuntimeError) as exc:
            raise UndecodableAudioError(
                name,
                f"decoding failed after {frames_in} frames ({_decoder_message(exc)}): the "
                f"file is damaged or truncated; expected a complete audio file. {_REEXPORT}",
            ) from exc
        declared = int(snd.frames)
        if declared != _UNKNOWN_FRAMES and frames_in < declared:
            raise DamagedAudioError(
                name,
                f"its header declares {declared} frames but only {frames_in} could be "
                f"decoded: the file is truncated or damaged; expected a complete audio "
                f"file. {_REEXPORT}",
            )
        if frames_in == 0:
            raise EmptyAudioError(name, f"the file holds no audio frames; {_EXPECTED} with sound")
        if frames_out == 0:
            raise EmptyAudioError(
                name,
                f"{frames_in} frames at {rate} Hz are shorter than one sample at {TARGET_RATE} Hz",
            )


def _check_container(snd: Any, name: str) -> None:
    """Refuse a container the suffix does not stand for, an implausible rate, and output
    over Chime's size limit, before any audio work (a 1 Hz header would grow 8,000-fold)."""
    expected = NORMALIZABLE_CONTAINERS.get(Path(name).suffix.lower())
    if expected is not None and snd.format not in expected:
        raise UndecodableAudioError(
            name,
            f"it holds {snd.format_info or snd.format} audio, not what its suffix stands for "
            f"({' or '.join(expected)}); expected a {' or '.join(expected)} file. {_REEXPORT}",
        )
    rate = int(snd.samplerate)
    if not MIN_PLAUSIBLE_RATE <= rate <= MAX_PLAUSIBLE_RATE:
        raise DamagedAudioError(
            name,
            f"its header says {rate} Hz, outside {MIN_PLAUSIBLE_RATE:,}-{MAX_PLAUSIBLE_RATE:,} "
            f"Hz: the header is damaged; expected a real sample rate. {_REEXPORT}",
        )
    frames = int(snd.frames)
    if frames != _UNKNOWN_FRAMES:
        output = frames * TARGET_RATE // rate * TARGET_SAMPLE_WIDTH
        if output > MAX_PROMPT_BYTES:
            raise PromptTooLargeError(
                name,
                f"{frames:,} frames at {rate} Hz become about {output:,} bytes at 8 kHz "
                f"16-bit mono, over Chime PlayAudio's limit of {MAX_PROMPT_BYTES:,} bytes; "
                "expected shorter audio, or split it into several prompts",
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
