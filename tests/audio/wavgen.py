"""Build WAV files from hand-written headers, so tests can make any valid or broken file.

Every function returns bytes except the writers; sizes default to the honest
value and can be overridden to produce lying headers.
"""

from __future__ import annotations

from pathlib import Path

PCM = 1
EXTENSIBLE = 0xFFFE
# KSDATAFORMAT_SUBTYPE_* GUIDs are the format tag followed by this tail (bytes_le).
_GUID_TAIL = bytes.fromhex("0000 1000 8000 00aa00389b71")


def subformat_guid(format_tag: int) -> bytes:
    """The EXTENSIBLE SubFormat GUID (in file byte order) for a format tag."""
    return format_tag.to_bytes(4, "little") + _GUID_TAIL


def chunk(chunk_id: bytes, body: bytes = b"", *, size: int | None = None) -> bytes:
    """A RIFF chunk: id, declared size (default: the body's), body, pad byte if odd."""
    declared = len(body) if size is None else size
    pad = b"\0" if len(body) % 2 else b""
    return chunk_id + declared.to_bytes(4, "little") + body + pad


def fmt(
    format_tag: int = PCM,
    channels: int = 1,
    rate: int = 8000,
    bits: int = 16,
    *,
    block_align: int | None = None,
    extra: bytes = b"",
    size: int | None = None,
) -> bytes:
    """A 'fmt ' chunk; `extra` follows the 16-byte core (cbSize and beyond)."""
    align = channels * bits // 8 if block_align is None else block_align
    core = (
        format_tag.to_bytes(2, "little")
        + channels.to_bytes(2, "little")
        + rate.to_bytes(4, "little")
        + ((rate * align) & 0xFFFFFFFF).to_bytes(4, "little")  # a damaged rate may overflow
        + align.to_bytes(2, "little")
        + bits.to_bytes(2, "little")
    )
    return chunk(b"fmt ", core + extra, size=size)


def fmt_extensible(
    subformat: int | bytes = PCM,
    channels: int = 1,
    rate: int = 8000,
    bits: int = 16,
    *,
    cb_size: int = 22,
) -> bytes:
    """A WAVE_FORMAT_EXTENSIBLE 'fmt ' chunk; `subformat` is a format tag or a raw GUID."""
    guid = subformat_guid(subformat) if isinstance(subformat, int) else subformat
    extension = (
        cb_size.to_bytes(2, "little")
        + bits.to_bytes(2, "little")  # wValidBitsPerSample
        + (0x4 if channels == 1 else 0x3).to_bytes(4, "little")  # dwChannelMask
        + guid
    )
    return fmt(EXTENSIBLE, channels, rate, bits, extra=extension)


def data(n_bytes: int = 1600, *, size: int | None = None) -> bytes:
    """A 'data' chunk of n_bytes of silence, declaring `size` if given."""
    return chunk(b"data", b"\0" * n_bytes, size=size)


def riff(*chunks: bytes, form: bytes = b"WAVE", size: int | None = None) -> bytes:
    """A RIFF file of the given chunks; `size` overrides the RIFF size field."""
    body = b"".join(chunks)
    declared = 4 + len(body) if size is None else size
    return b"RIFF" + declared.to_bytes(4, "little") + form + body


def pcm(rate: int = 8000, channels: int = 1, bits: int = 16, *, frames: int = 800) -> bytes:
    """A plain PCM WAV holding `frames` frames of silence."""
    return riff(fmt(PCM, channels, rate, bits), data(frames * channels * bits // 8))


def write(path: Path, content: bytes) -> Path:
    """Write content to path (creating folders) and return the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return path


def write_sparse(path: Path, header: bytes, total_bytes: int) -> Path:
    """Write header, then extend the file to total_bytes with a hole (no data in memory)."""
    write(path, header)
    with path.open("r+b") as f:
        f.truncate(total_bytes)
    return path
