"""Header-only WAV reader and the rules for Chime PlayAudio prompts.

This module is the one place the WAV rules live: what Chime PlayAudio plays
(uncompressed PCM WAV of at most 50 MB, 8 kHz mono recommended), why a file is
refused and how to fix it (raised as the errors of prompt_errors.py), and the
warning text for files that play but are not 8 kHz mono. The prompt construct,
the call simulator and the tests all call it; nothing else parses WAV headers.

Only chunk headers and the fmt chunk are read; every other chunk body, the
audio included, is skipped with seek(), so checking a 50 MB prompt costs a
few hundred bytes of I/O. Stdlib only, no CDK imports.

The rules come in two layers. The structure (chunks inside the file, a fmt
chunk with a plausible rate and channel count, a block align that fits the
samples) applies to every WAV, whatever its encoding: check_wav_structure
checks only that, and normalize=True calls it before decoding, because a
decoder plays a cut-short WAV as a shorter prompt without a word. The
encoding rule (uncompressed PCM) applies only to files deployed as they are.
Paths are opened by open_prompt (prompt_file_io.py): regular files only (a FIFO
would block the synth forever), and an OSError becomes an UnreadablePromptError
naming the file.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import BinaryIO, NamedTuple, TypeAlias, TypeVar

from .prompt_errors import (
    EmptyPromptError,
    MalformedWavError,
    NotWavError,
    PromptTooLargeError,
    UnsupportedEncodingError,
    WavError,
)
from .prompt_file_io import file_size, open_prompt, unreadable_on_os_error

# Chime's "50 MB" read as 10**6-based: 50,000,000 is below the binary reading
# (52,428,800), so this side never deploys a file that Chime refuses.
MAX_PROMPT_BYTES = 50_000_000
RECOMMENDED_RATE = 8000
RECOMMENDED_CHANNELS = 1

# The sample rates a recording can have. The lowest rate any audio format uses
# is a few kHz (8 kHz telephony; 2-6 kHz in old sound formats), and the highest
# that audio hardware records is 768 kHz (DXD is 352.8 kHz). A rate outside is
# a damaged header (bit rot, a shifted field: 1 Hz, 0xFFFFFFFF Hz), not audio;
# decoding it would resample nonsense, or exhaust memory upsampling from 1 Hz.
MIN_PLAUSIBLE_RATE = 1_000
MAX_PLAUSIBLE_RATE = 768_000

WAVE_FORMAT_PCM = 0x0001
WAVE_FORMAT_IEEE_FLOAT = 0x0003
WAVE_FORMAT_ALAW = 0x0006
WAVE_FORMAT_MULAW = 0x0007
WAVE_FORMAT_EXTENSIBLE = 0xFFFE

WavSource: TypeAlias = str | os.PathLike[str] | BinaryIO
"""A path to a WAV file, or an open binary file (read from offset 0, left open)."""

_MAX_CHUNKS = 10_000
# The 16-byte core of a fmt chunk, cbSize, and the 22-byte EXTENSIBLE part.
_FMT_BYTES_NEEDED = 40
_STREAMING_SIZE = 0xFFFFFFFF
_PCM_SUBFORMAT = uuid.UUID("00000001-0000-0010-8000-00aa00389b71")
# Every KSDATAFORMAT_SUBTYPE_* GUID built from a format tag ends like this.
_SUBFORMAT_TAIL = _PCM_SUBFORMAT.bytes_le[4:]
_SAMPLE_BITS = (8, 16, 24, 32)
# One sample per channel per block: the block align follows from the sample width.
# Compressed encodings (ADPCM, GSM, MPEG) set it to their own block size instead.
_FIXED_WIDTH_ENCODINGS = (
    WAVE_FORMAT_PCM,
    WAVE_FORMAT_IEEE_FLOAT,
    WAVE_FORMAT_ALAW,
    WAVE_FORMAT_MULAW,
)
_NORMALIZED_BYTES_PER_SECOND = RECOMMENDED_RATE * RECOMMENDED_CHANNELS * 2
# RIFF header + 16-byte fmt chunk + data header: what a normalized file carries.
_CANONICAL_HEADER_BYTES = 44

_FORMAT_NAMES = {
    0x0000: "unknown format",
    0x0001: "PCM",
    0x0002: "MS ADPCM",
    0x0003: "IEEE float",
    0x0006: "A-law",
    0x0007: "mu-law",
    0x0011: "IMA ADPCM",
    0x0031: "GSM 6.10",
    0x0050: "MPEG",
    0x0055: "MPEG Layer 3",
    0x00FF: "AAC",
    0x2000: "Dolby AC-3",
}

_MAGIC = (
    (b"ID3", "an MP3 file (ID3 tag)"),
    (b"RF64", "an RF64 (64-bit WAV) file"),
    (b"RIFX", "a big-endian RIFX file"),
    (b"OggS", "an Ogg file"),
    (b"fLaC", "a FLAC file"),
    (b"FORM", "an AIFF/IFF file"),
    (b"caff", "a Core Audio (CAF) file"),
    (b"#!AMR", "an AMR file"),
)

_REENCODE = "Re-encode to 16-bit PCM, or pass normalize=True"
_DAMAGED = "Re-export or re-copy it; normalize=True cannot repair a damaged file"

_T = TypeVar("_T")
_CONVERT = (
    "Convert it to PCM WAV, e.g. ffmpeg -i IN "
    f"-ac {RECOMMENDED_CHANNELS} -ar {RECOMMENDED_RATE} -c:a pcm_s16le OUT.wav"
)


@dataclass(frozen=True)
class WavInfo:
    """What the headers of an accepted PCM WAV say; `data_offset` is where the samples start."""

    path: str
    format_tag: int
    sample_rate: int
    channels: int
    bits_per_sample: int
    data_offset: int
    data_bytes: int
    file_bytes: int
    duration_ms: int

    @property
    def is_recommended(self) -> bool:
        """True for the 8 kHz mono that Chime recommends."""
        return self.sample_rate == RECOMMENDED_RATE and self.channels == RECOMMENDED_CHANNELS


class _Format(NamedTuple):
    tag: int
    channels: int
    sample_rate: int
    block_align: int
    bits_per_sample: int
    subformat: bytes | None  # WAVE_FORMAT_EXTENSIBLE only: the SubFormat GUID

    @property
    def encoding(self) -> int | None:
        """The format tag, or an EXTENSIBLE file's subformat code (None for a custom GUID)."""
        if self.subformat is None:
            return self.tag
        if self.subformat[4:] == _SUBFORMAT_TAIL:
            return int.from_bytes(self.subformat[:4], "little")
        return None


def read_wav_info(source: WavSource) -> WavInfo:
    """Read the headers of a PCM WAV file, raising a WavError subclass if it is not one.

    Accepts a path or an open binary file. Chunks (LIST, fact, unknown ones)
    may come in any order; odd-sized chunks carry a pad byte. The walk stops
    once both 'fmt ' and 'data' are found, so trailing chunks are never read.
    """
    return _with_file(source, _read_headers)


def check_wav_structure(source: WavSource) -> None:
    """Refuse a RIFF/WAVE file whose chunks or fmt header are damaged, whatever its encoding.

    Raises MalformedWavError for a chunk running past the end of the file (a
    truncated file), a missing 'fmt ' or 'data' chunk, an implausible sample
    rate, no channels, or a block align that does not fit the samples; any
    encoding is accepted (normalize=True converts it). A file that is not
    RIFF/WAVE (FLAC, OGG) passes: its decoder checks it.
    """
    _with_file(source, _check_structure)


def check_prompt(source: WavSource) -> WavInfo:
    """Check one file against every Chime PlayAudio rule; return its info or raise a WavError."""
    info = read_wav_info(source)
    if info.data_bytes == 0:
        raise EmptyPromptError(
            info.path,
            "data chunk is empty (0 bytes of audio); a prompt needs audio to play. "
            "Re-export the recording",
        )
    if info.file_bytes > MAX_PROMPT_BYTES:
        raise PromptTooLargeError(info.path, _too_large_reason(info))
    return info


def check_prompts(sources: Iterable[WavSource]) -> tuple[list[WavInfo], list[WavError]]:
    """Check many files, returning the accepted ones and every refusal (in input order)."""
    accepted: list[WavInfo] = []
    refused: list[WavError] = []
    for source in sources:
        try:
            accepted.append(check_prompt(source))
        except WavError as error:
            refused.append(error)
    return accepted, refused


def recommendation(info: WavInfo) -> str | None:
    """Warning text for a playable prompt that is not 8 kHz mono, or None if it is."""
    if info.is_recommended:
        return None
    return (
        f"{info.path} is {info.sample_rate} Hz {_channel_words(info.channels)} PCM; "
        f"Chime recommends {RECOMMENDED_RATE} Hz mono. It will play, but pass "
        "normalize=True (context normalizePrompts=true) to convert it"
    )


def _with_file(source: WavSource, read: Callable[[BinaryIO, str], _T]) -> _T:
    """Call read(file, name) on a path (opened by open_prompt) or an open file."""
    if isinstance(source, (str, os.PathLike)):
        name = str(os.fspath(source))
        with open_prompt(source) as f, unreadable_on_os_error(name):
            return read(f, name)
    name = str(getattr(source, "name", "<stream>"))
    with unreadable_on_os_error(name):
        return read(source, name)


def _read_headers(f: BinaryIO, name: str) -> WavInfo:
    """Walk the RIFF chunks of `f` by seeking, reading only chunk headers and fmt."""
    size = file_size(f)
    f.seek(0)
    head = f.read(12)
    if not _is_riff_wave(head):
        raise NotWavError(
            name,
            f"{_describe_non_wav(head, size)}, not a WAV file; Chime PlayAudio needs "
            f"uncompressed PCM WAV (RIFF/WAVE). {_CONVERT}",
        )
    fmt, (data_offset, data_bytes) = _walk_chunks(f, name, size)
    _check_pcm(name, fmt)
    _check_block_align(name, fmt)
    return WavInfo(
        path=name,
        format_tag=fmt.tag,
        sample_rate=fmt.sample_rate,
        channels=fmt.channels,
        bits_per_sample=fmt.bits_per_sample,
        data_offset=data_offset,
        data_bytes=data_bytes,
        file_bytes=size,
        # Cannot divide by zero: the block align is at least 1 byte (checked PCM) and
        # the rate at least MIN_PLAUSIBLE_RATE; Python's ints do not overflow, and a
        # data chunk of at most 2**32 bytes is exact in a float.
        duration_ms=round(data_bytes * 1000 / (fmt.block_align * fmt.sample_rate)),
    )


def _check_structure(f: BinaryIO, name: str) -> None:
    """The structural half of _read_headers: chunks and fmt fields, any encoding."""
    size = file_size(f)
    f.seek(0)
    if _is_riff_wave(f.read(12)):
        fmt, _ = _walk_chunks(f, name, size)
        _check_block_align(name, fmt)


def _is_riff_wave(head: bytes) -> bool:
    return len(head) == 12 and head[:4] == b"RIFF" and head[8:12] == b"WAVE"


def _walk_chunks(f: BinaryIO, name: str, size: int) -> tuple[_Format, tuple[int, int]]:
    """Find the fmt chunk (parsed) and the data chunk (offset, size) of a RIFF/WAVE file."""
    # The RIFF size field (head[4:8]) is ignored: encoders often write it
    # wrong (0 or 0xFFFFFFFF when writing to a pipe, stale after tag edits)
    # and common readers (ffmpeg, libsndfile) play such files. Only the chunk
    # sizes matter, checked against the real file size. The walk is bounded:
    # each step advances at least 8 bytes, stops at the end of the file, and
    # gives up after _MAX_CHUNKS chunks.
    fmt: _Format | None = None
    data: tuple[int, int] | None = None
    seen: list[str] = []
    pos = 12
    while fmt is None or data is None:
        if pos + 8 > size:
            if pos < size:
                raise MalformedWavError(
                    name,
                    f"the file ends {size - pos} bytes into the chunk header at offset "
                    f"{pos}, before {_missing_chunks(fmt, data)}; the file is truncated. "
                    f"{_DAMAGED}",
                )
            raise MalformedWavError(name, _missing_reason(fmt, data, seen))
        if len(seen) == _MAX_CHUNKS:
            raise MalformedWavError(
                name,
                f"more than {_MAX_CHUNKS} chunks without both 'fmt ' and 'data'; "
                f"the file is corrupt. {_CONVERT}",
            )
        f.seek(pos)
        header = _read_exact(f, 8, name)
        chunk_id, chunk_size = header[:4], int.from_bytes(header[4:], "little")
        if not all(0x20 <= b <= 0x7E for b in chunk_id):
            raise MalformedWavError(
                name,
                f"bytes at offset {pos} ({chunk_id!r}) are not a RIFF chunk id; "
                f"expected a chunk such as 'fmt ' or 'data'. The file is corrupt "
                f"after offset {pos}. {_CONVERT}",
            )
        label = chunk_id.decode("ascii")
        seen.append(label)
        body = pos + 8
        available = size - body
        if chunk_id == b"data" and chunk_size == _STREAMING_SIZE:
            raise MalformedWavError(
                name,
                "data chunk size is 0xFFFFFFFF (unknown length, as streaming encoders "
                "write it); Chime needs the real size. Re-save it to a file, not a pipe",
            )
        if chunk_size > available:
            raise MalformedWavError(
                name,
                f"{label.strip()} chunk declares {chunk_size} bytes, file has "
                f"{available}; the file is truncated or its header is wrong. {_DAMAGED}",
            )
        if chunk_id == b"fmt ":
            raw = _read_exact(f, min(chunk_size, _FMT_BYTES_NEEDED), name)
            fmt = _parse_fmt(name, raw, chunk_size)
        elif chunk_id == b"data":
            data = (body, chunk_size)
        pos = body + chunk_size + (chunk_size & 1)
    return fmt, data


def _parse_fmt(name: str, raw: bytes, declared: int) -> _Format:
    """Decode a fmt chunk body, refusing a damaged one; the encoding is checked elsewhere."""
    if declared < 16:
        raise MalformedWavError(
            name,
            f"fmt chunk is {declared} bytes; a WAV fmt chunk has at least 16. {_DAMAGED}",
        )
    tag = int.from_bytes(raw[0:2], "little")
    channels = int.from_bytes(raw[2:4], "little")
    rate = int.from_bytes(raw[4:8], "little")
    block_align = int.from_bytes(raw[12:14], "little")
    bits = int.from_bytes(raw[14:16], "little")
    # The byte rate (raw[8:12]) is ignored: it is derived, often wrong, and
    # the block align already pins the frame size.
    subformat = None
    if tag == WAVE_FORMAT_EXTENSIBLE:
        cb_size = int.from_bytes(raw[16:18], "little") if declared >= 18 else 0
        if declared < _FMT_BYTES_NEEDED or cb_size < 22:
            raise MalformedWavError(
                name,
                f"fmt chunk says WAVE_FORMAT_EXTENSIBLE (0xFFFE) but is {declared} "
                f"bytes with cbSize {cb_size}; EXTENSIBLE needs 40 bytes with "
                f"cbSize >= 22. {_DAMAGED}",
            )
        subformat = raw[24:40]
    if channels < 1:
        raise MalformedWavError(
            name,
            f"fmt chunk says 0 channels at {rate} Hz; expected at least 1 channel. "
            f"The header is damaged. {_DAMAGED}",
        )
    if not MIN_PLAUSIBLE_RATE <= rate <= MAX_PLAUSIBLE_RATE:
        raise MalformedWavError(
            name,
            f"fmt chunk says a sample rate of {rate:,} Hz; the header is damaged: "
            f"expected a rate from {MIN_PLAUSIBLE_RATE:,} to {MAX_PLAUSIBLE_RATE:,} Hz. "
            f"{_DAMAGED}",
        )
    return _Format(tag, channels, rate, block_align, bits, subformat)


def _check_pcm(name: str, fmt: _Format) -> None:
    """Refuse an encoding Chime PlayAudio does not play: anything but 8- to 32-bit PCM."""
    if fmt.subformat is not None:
        if fmt.subformat != _PCM_SUBFORMAT.bytes_le:
            raise UnsupportedEncodingError(
                name,
                f"WAVE_FORMAT_EXTENSIBLE with subformat {_describe_subformat(fmt.subformat)} "
                f"is not PCM; Chime PlayAudio needs uncompressed PCM WAV. {_REENCODE}",
            )
    elif fmt.tag != WAVE_FORMAT_PCM:
        raise UnsupportedEncodingError(
            name,
            f"{_format_name(fmt.tag)} (format {fmt.tag}) is not PCM; Chime PlayAudio needs "
            f"uncompressed PCM WAV. {_REENCODE}",
        )
    if fmt.bits_per_sample not in _SAMPLE_BITS:
        raise UnsupportedEncodingError(
            name,
            f"{fmt.bits_per_sample}-bit PCM; Chime PlayAudio needs 8-, 16-, 24- or 32-bit "
            f"samples. {_REENCODE}",
        )


def _check_block_align(name: str, fmt: _Format) -> None:
    """Refuse a fixed-width encoding whose block align is not one sample per channel."""
    encoding = fmt.encoding
    if encoding is None or encoding not in _FIXED_WIDTH_ENCODINGS:
        return
    bits = fmt.bits_per_sample
    if bits == 0:
        raise MalformedWavError(
            name,
            f"fmt chunk says 0 bits per sample for {_format_name(encoding)}; the header "
            f"is damaged: expected the sample width. {_DAMAGED}",
        )
    expected = fmt.channels * ((bits + 7) // 8)
    if fmt.block_align != expected:
        raise MalformedWavError(
            name,
            f"fmt chunk says block align {fmt.block_align}; expected {expected} for "
            f"{fmt.channels} channel(s) of {bits} bits. The header is damaged. {_DAMAGED}",
        )


def _read_exact(f: BinaryIO, n: int, name: str) -> bytes:
    """Read n bytes, treating a short read (the file shrank under us) as truncation."""
    raw = f.read(n)
    if len(raw) != n:
        raise MalformedWavError(name, f"file ended early (wanted {n} bytes, got {len(raw)})")
    return raw


def _describe_non_wav(head: bytes, size: int) -> str:
    """Name what a non-WAV file looks like from its first 12 bytes."""
    if size == 0:
        return "an empty file (0 bytes)"
    if head[:4] == b"RIFF":
        if len(head) < 12:
            return f"a RIFF header cut short at {size} bytes"
        return f"a RIFF file of form {head[8:12].decode('latin-1')!r} instead of 'WAVE'"
    if head[4:8] == b"ftyp":
        return "an MP4/M4A file"
    for magic, what in _MAGIC:
        if head.startswith(magic):
            return what
    if len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0:
        return "raw MPEG audio frames (MP3 or AAC)"
    if all(0x20 <= b <= 0x7E or b in b"\t\r\n" for b in head):
        return f"a text file (starts {head.decode('ascii')!r})"
    return f"a file of {size} bytes starting {head[:4]!r}"


def _describe_subformat(guid: bytes) -> str:
    """Name an EXTENSIBLE SubFormat GUID by its format code when it has one."""
    if guid[4:] == _SUBFORMAT_TAIL:
        code = int.from_bytes(guid[:4], "little")
        return f"{_format_name(code)} (format {code})"
    return str(uuid.UUID(bytes_le=guid))


def _format_name(tag: int) -> str:
    return _FORMAT_NAMES.get(tag, "an unknown encoding")


def _missing_reason(fmt: _Format | None, data: tuple[int, int] | None, seen: list[str]) -> str:
    """Say which required chunks the walk did not find, and which it did."""
    found = ", ".join(repr(cid) for cid in seen[:10]) or "none"
    return (
        f"no {_missing_chunks(fmt, data)} (chunks found: {found}); a WAV file needs a "
        f"'fmt ' chunk and a 'data' chunk. {_CONVERT}"
    )


def _missing_chunks(fmt: _Format | None, data: tuple[int, int] | None) -> str:
    """ "'fmt ' chunk", "'data' chunk" or "'fmt ' and 'data' chunks": what the walk lacks."""
    missing = " and ".join(
        repr(cid) for cid, found in (("fmt ", fmt), ("data", data)) if found is None
    )
    return f"{missing} {'chunk' if fmt is not None or data is not None else 'chunks'}"


def _too_large_reason(info: WavInfo) -> str:
    """Explain the size limit, suggesting normalize=True only where its output would fit."""
    limit = f"over Chime PlayAudio's limit of {MAX_PROMPT_BYTES:,} bytes (50 MB)"
    block_align = info.channels * info.bits_per_sample // 8
    normalized = _CANONICAL_HEADER_BYTES + (
        info.data_bytes * _NORMALIZED_BYTES_PER_SECOND // (block_align * info.sample_rate)
    )
    if normalized <= MAX_PROMPT_BYTES:
        fix = (
            "Use shorter audio, or pass normalize=True to convert it to 8 kHz mono "
            f"16-bit PCM (about {normalized:,} bytes)"
        )
    else:
        minutes = MAX_PROMPT_BYTES // _NORMALIZED_BYTES_PER_SECOND // 60
        fix = (
            "Use shorter audio or split it into several prompts: at 8 kHz mono "
            f"16-bit PCM the limit holds about {minutes} minutes"
        )
    return f"file is {info.file_bytes:,} bytes, {limit}. {fix}"


def _channel_words(channels: int) -> str:
    return {1: "mono", 2: "stereo"}.get(channels, f"{channels}-channel")
