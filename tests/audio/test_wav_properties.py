"""Properties of the WAV reader: any damage to a valid file is refused cleanly, by headers only.

Starting from valid files built with tests/audio/wavgen.py, each holding about 1 MB of
audio (a sparse hole on disk, so nothing is written), Hypothesis changes bytes in the
first 100, rewrites chunk sizes with edge values, and truncates at any point. For every
such file ``check_prompt``

* returns a WavInfo that is consistent with the file, or raises one of its own WavError
  subclasses, and nothing else;
* reads fewer than READ_BOUND bytes (counted on the file object), whatever the audio size;
* finishes within the profile's deadline (its chunk walk is bounded);
* says the same through a path as through an open file.
"""

from __future__ import annotations

import io
import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from constructs_pkg.audio.prompt_errors import MalformedWavError, WavError
from constructs_pkg.audio.wav import WavInfo, check_prompt
from tests import hypothesis_profile  # noqa: F401  (deterministic CI profile)
from tests.audio import wavgen

EXAMPLES = 1000
SIZE_EXAMPLES = 200
AUDIO_BYTES = 1_000_000
# Headers only: the walk reads 8 bytes per chunk header and at most 40 of a fmt chunk.
READ_BOUND = 4096
HANG_SECONDS = 5.0


@dataclass(frozen=True)
class Layout:
    """A WAV file as ``head`` + ``hole`` zero bytes + ``tail``; ``sizes``: size-field offsets."""

    name: str
    head: bytes
    hole: int
    tail: bytes
    sizes: tuple[int, ...]

    @property
    def length(self) -> int:
        return len(self.head) + self.hole + len(self.tail)


def layout(
    name: str, *chunks: bytes, audio: int = AUDIO_BYTES, audio_first: bool = False
) -> Layout:
    """A RIFF/WAVE file of ``chunks`` and a data chunk of ``audio`` bytes (last, or first)."""
    data_header = b"data" + audio.to_bytes(4, "little")
    hole = audio + (audio & 1)  # the audio and its pad byte
    before, after = ((), chunks) if audio_first else (chunks, ())
    head = b"WAVE" + b"".join(before) + data_header
    tail = b"".join(after)
    head = b"RIFF" + (len(head) + hole + len(tail)).to_bytes(4, "little") + head
    sizes = [4, *_size_fields(12, before), len(head) - 4]
    sizes += _size_fields(len(head) + hole, after)
    return Layout(name, head, hole, tail, tuple(sizes))


def _size_fields(start: int, chunks: tuple[bytes, ...]) -> list[int]:
    """Offsets of the size fields of ``chunks`` (whole chunks, pad bytes included) at start."""
    offsets = []
    for chunk in chunks:
        offsets.append(start + 4)
        start += len(chunk)
    return offsets


def layouts(audio: int = AUDIO_BYTES) -> tuple[Layout, ...]:
    return (
        layout("pcm 8k mono 16-bit", wavgen.fmt(), audio=audio),
        layout("pcm 44.1k stereo 16-bit", wavgen.fmt(rate=44100, channels=2), audio=audio),
        layout(
            "LIST and odd chunk before fmt",
            wavgen.chunk(b"LIST", b"INFOINAM\x06\x00\x00\x00menu\x00\x00"),
            wavgen.chunk(b"JUNK", b"abc"),
            wavgen.fmt(bits=8),
            audio=audio,
        ),
        layout("EXTENSIBLE pcm 24-bit", wavgen.fmt_extensible(bits=24), audio=audio - audio % 3),
        layout("data before fmt", wavgen.fmt(), audio=audio + 1, audio_first=True),
    )


LAYOUTS = layouts()
# Edge values for a chunk size: empty, odd, the fmt sizes, around the audio, the maximum.
SIZE_VALUES = (
    *(0, 1, 2, 3, 4, 7, 8, 15, 16, 17, 18, 22, 39, 40, 41),
    *(AUDIO_BYTES - 1, AUDIO_BYTES, AUDIO_BYTES + 1, AUDIO_BYTES + 200),
    *(0x7FFFFFFF, 0xFFFFFFFE, 0xFFFFFFFF),
)


@dataclass(frozen=True)
class Damage:
    """What to do to a layout: byte writes (offset, value), then a truncation (or none)."""

    writes: tuple[tuple[int, bytes], ...]
    truncate_at: int | None


@st.composite
def damaged(draw: st.DrawFn) -> tuple[Layout, Damage]:
    base = draw(st.sampled_from(LAYOUTS))
    writes: list[tuple[int, bytes]] = []
    for _ in range(draw(st.integers(0, 3))):  # bytes in the first 100 (of the head)
        # sampled_from a range: uniform, where st.integers favours the RIFF magic at 0.
        offset = draw(st.sampled_from(range(min(100, len(base.head)))))
        writes.append((offset, bytes([draw(st.integers(0, 255))])))
    for _ in range(draw(st.integers(0, 2))):  # chunk sizes, RIFF size included
        offset = draw(st.sampled_from(base.sizes))
        size = draw(st.sampled_from(SIZE_VALUES) | st.integers(0, 0xFFFFFFFF))
        writes.append((offset, size.to_bytes(4, "little")))
    truncate_at = draw(
        st.none()
        | st.sampled_from(range(len(base.head) + 16))  # in the headers
        | st.sampled_from(range(base.length + 1))  # anywhere, mostly in the audio
        | st.sampled_from(range(base.length - len(base.tail) - 16, base.length + 1))  # the end
    )
    return base, Damage(tuple(writes), truncate_at)


def write(base: Layout, damage: Damage, path: Path) -> Path:
    """The damaged file, sparse: the hole of audio costs no disk space and no writing."""
    with path.open("wb") as f:
        f.write(base.head)
        f.seek(len(base.head) + base.hole)
        f.write(base.tail)
        f.truncate(base.length)
        for offset, value in damage.writes:
            f.seek(offset)
            f.write(value)
        if damage.truncate_at is not None:
            f.truncate(damage.truncate_at)
    return path


class CountingFile(io.FileIO):
    """A file that counts the bytes its read() returns (the reader's only read call)."""

    bytes_read = 0

    def read(self, size: int | None = -1, /) -> bytes:
        chunk = super().read(size)
        self.bytes_read += len(chunk)
        return chunk


class Hang(Exception):
    """The reader ran past HANG_SECONDS: a loop that does not end."""


@contextmanager
def hang_guard() -> Iterator[None]:
    """Interrupt a reader that hangs (the deadline only measures readers that return)."""

    def interrupt(signum: int, frame: object) -> None:
        raise Hang(f"check_prompt ran for more than {HANG_SECONDS} s")

    previous = signal.signal(signal.SIGALRM, interrupt)
    signal.setitimer(signal.ITIMER_REAL, HANG_SECONDS)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def outcome(result: Callable[[], WavInfo]) -> tuple[str, Any]:
    """("ok", info without its path) or (error type, reason); anything else propagates."""
    try:
        return "ok", replace(result(), path="")
    except WavError as error:
        return type(error).__name__, error.reason


def check_consistent(info: WavInfo, size: int) -> None:
    """An accepted file's info describes a playable prompt inside the file."""
    assert info.file_bytes == size
    assert info.data_offset >= 12 and info.data_offset + info.data_bytes <= size
    assert info.data_bytes > 0 and info.channels >= 1 and info.sample_rate >= 1
    assert info.bits_per_sample in (8, 16, 24, 32) and info.duration_ms >= 0


def report(kind: str, count: int, minimum: int, outcomes: dict[str, int]) -> None:
    print(f"{kind}: {count} examples, outcomes {dict(sorted(outcomes.items()))}")
    assert count >= minimum, f"only {count} of {minimum} examples ran"


@pytest.mark.parametrize("base", LAYOUTS, ids=lambda base: base.name)
def test_valid_files_are_read_by_their_headers_only(base: Layout, tmp_path: Path) -> None:
    path = write(base, Damage((), None), tmp_path / "valid.wav")

    with CountingFile(path) as f:
        info = check_prompt(f)

    check_consistent(info, base.length)
    assert info.data_bytes >= AUDIO_BYTES - 2
    assert f.bytes_read < 100  # RIFF header, a few chunk headers, one fmt body


def test_damaged_files_are_refused_cleanly_by_headers_only(tmp_path: Path) -> None:
    ran, outcomes = 0, dict[str, int]()

    @settings(max_examples=EXAMPLES)
    @given(damaged())
    def prop(case: tuple[Layout, Damage]) -> None:
        nonlocal ran
        ran += 1
        base, damage = case
        path = write(base, damage, tmp_path / "damaged.wav")
        size = path.stat().st_size
        with hang_guard(), CountingFile(path) as f:
            kind, detail = outcome(lambda: check_prompt(f))
        assert f.bytes_read < READ_BOUND
        if kind == "ok":
            check_consistent(detail, size)
        # The same answer through a path (the reader's other way in).
        with hang_guard():
            assert outcome(lambda: check_prompt(path)) == (kind, detail)
        outcomes[kind] = outcomes.get(kind, 0) + 1

    prop()
    report("damaged files", ran, EXAMPLES, outcomes)
    # The damage really damages: most files are refused, and for more than one reason.
    assert outcomes.get("MalformedWavError", 0) > EXAMPLES // 4
    assert len(outcomes) >= 4


def test_bytes_read_do_not_depend_on_the_audio_size(tmp_path: Path) -> None:
    ran = 0
    small = {base.name: base for base in layouts(audio=1_000)}

    @settings(max_examples=SIZE_EXAMPLES)
    @given(st.sampled_from([base.name for base in LAYOUTS]), st.integers(1_000, 49_000_000))
    def prop(name: str, audio: int) -> None:
        nonlocal ran
        ran += 1
        reads = []
        for base in (small[name], {b.name: b for b in layouts(audio=audio)}[name]):
            path = write(base, Damage((), None), tmp_path / "sized.wav")
            with CountingFile(path) as f:
                check_prompt(f)
            reads.append(f.bytes_read)
        assert reads[0] == reads[1] < READ_BOUND

    prop()
    report("audio sizes", ran, SIZE_EXAMPLES, {})


def test_a_truncated_data_chunk_is_malformed_at_every_length(tmp_path: Path) -> None:
    """Cutting a valid file anywhere inside its audio names the truncation, never passes."""
    base = LAYOUTS[0]
    ran = 0

    @settings(max_examples=SIZE_EXAMPLES)
    @given(st.integers(len(base.head), base.length - 1))
    def prop(cut: int) -> None:
        nonlocal ran
        ran += 1
        path = write(base, Damage((), cut), tmp_path / "cut.wav")
        with pytest.raises(
            MalformedWavError, match=r"\.wav: data chunk declares 1000000 bytes, file has "
        ):
            check_prompt(path)

    prop()
    report("truncations inside the audio", ran, SIZE_EXAMPLES, {})
