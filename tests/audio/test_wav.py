"""The WAV rules for Chime PlayAudio prompts: every accepted and refused file shape."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from constructs_pkg.audio.prompt_errors import (
    EmptyPromptError,
    MalformedWavError,
    NotWavError,
    PromptCheckError,
    PromptTooLargeError,
    UnsupportedEncodingError,
    WavError,
)
from constructs_pkg.audio.wav import (
    MAX_PROMPT_BYTES,
    WavInfo,
    check_prompt,
    check_prompts,
    read_wav_info,
    recommendation,
)
from tests.audio import wavgen

REENCODE = "Re-encode to 16-bit PCM, or pass normalize=True"


class CountingFile(io.FileIO):
    """A file that counts the bytes read() returns (the reader's only read call)."""

    bytes_read = 0

    def read(self, size: int | None = -1, /) -> bytes:
        chunk = super().read(size)
        self.bytes_read += len(chunk)
        return chunk


def refused(path: Path, error: type[WavError]) -> WavError:
    """Check path, expecting `error`; return it for message assertions."""
    with pytest.raises(error) as caught:
        check_prompt(path)
    assert caught.value.path == str(path)
    assert str(caught.value).startswith(f"{path}: ")
    return caught.value


# --- accepted files ---------------------------------------------------------


@pytest.mark.parametrize(
    ("rate", "channels", "bits", "recommended"),
    [
        (8000, 1, 16, True),
        (8000, 1, 8, True),
        (8000, 1, 24, True),
        (16000, 1, 32, False),
        (44100, 2, 16, False),
    ],
)
def test_plain_pcm_is_accepted(
    tmp_path: Path, rate: int, channels: int, bits: int, recommended: bool
) -> None:
    path = wavgen.write(tmp_path / "p.wav", wavgen.pcm(rate, channels, bits, frames=rate // 10))

    info = check_prompt(path)

    data_bytes = rate // 10 * channels * bits // 8
    assert info == WavInfo(
        path=str(path),
        format_tag=1,
        sample_rate=rate,
        channels=channels,
        bits_per_sample=bits,
        data_offset=44,
        data_bytes=data_bytes,
        file_bytes=44 + data_bytes,
        duration_ms=100,
    )
    assert info.is_recommended is recommended


def test_8k_mono_needs_no_recommendation(tmp_path: Path) -> None:
    info = check_prompt(wavgen.write(tmp_path / "menu.wav", wavgen.pcm()))

    assert recommendation(info) is None


def test_44k_stereo_gets_the_normalize_recommendation(tmp_path: Path) -> None:
    info = check_prompt(wavgen.write(tmp_path / "menu.wav", wavgen.pcm(44100, 2)))

    assert recommendation(info) == (
        f"{tmp_path / 'menu.wav'} is 44100 Hz stereo PCM; Chime recommends 8000 Hz mono. "
        "It will play, but pass normalize=True (context normalizePrompts=true) to convert it"
    )


def test_recommendation_names_many_channels_and_wrong_rate_in_mono(tmp_path: Path) -> None:
    six = check_prompt(wavgen.write(tmp_path / "six.wav", wavgen.pcm(8000, 6)))
    mono = check_prompt(wavgen.write(tmp_path / "mono.wav", wavgen.pcm(16000, 1)))

    assert "is 8000 Hz 6-channel PCM;" in (recommendation(six) or "")
    assert "is 16000 Hz mono PCM;" in (recommendation(mono) or "")


def test_duration_is_rounded_milliseconds(tmp_path: Path) -> None:
    path = wavgen.write(tmp_path / "d.wav", wavgen.pcm(44100, 2, frames=44100 * 3 + 22))

    assert read_wav_info(path).duration_ms == 3000  # 3000.499 ms


def test_extensible_pcm_is_accepted(tmp_path: Path) -> None:
    content = wavgen.riff(wavgen.fmt_extensible(wavgen.PCM, 2, 48000, 24), wavgen.data(600))
    path = wavgen.write(tmp_path / "ext.wav", content)

    info = check_prompt(path)

    assert (info.format_tag, info.sample_rate, info.channels) == (0xFFFE, 48000, 2)
    assert (info.bits_per_sample, info.data_offset, info.data_bytes) == (24, 68, 600)


def test_list_and_fact_chunks_before_fmt_are_skipped(tmp_path: Path) -> None:
    content = wavgen.riff(
        wavgen.chunk(b"LIST", b"INFOINAM\x06\x00\x00\x00menu\x00\x00"),
        wavgen.chunk(b"fact", (800).to_bytes(4, "little")),
        wavgen.chunk(b"JUNK", b"\0" * 28),
        wavgen.fmt(),
        wavgen.data(1600),
    )
    info = check_prompt(wavgen.write(tmp_path / "list.wav", content))

    assert info.data_bytes == 1600
    assert info.data_offset == len(content) - 1600


def test_odd_sized_chunk_with_pad_byte_is_walked(tmp_path: Path) -> None:
    odd = wavgen.chunk(b"LIST", b"abc")  # size 3, then one pad byte
    assert len(odd) == 12
    content = wavgen.riff(odd, wavgen.fmt(), wavgen.data(1600))

    assert check_prompt(wavgen.write(tmp_path / "odd.wav", content)).data_bytes == 1600


def test_odd_sized_data_before_fmt_is_padded(tmp_path: Path) -> None:
    content = wavgen.riff(wavgen.data(801), wavgen.fmt(bits=8))

    info = check_prompt(wavgen.write(tmp_path / "odd-data.wav", content))

    assert (info.data_offset, info.data_bytes, info.duration_ms) == (20, 801, 100)


def test_chunks_after_data_are_not_read(tmp_path: Path) -> None:
    content = wavgen.riff(wavgen.fmt(), wavgen.data(1600), b"garbage that is no chunk")

    assert check_prompt(wavgen.write(tmp_path / "tail.wav", content)).data_bytes == 1600


@pytest.mark.parametrize("riff_size", [0, 4, 0xFFFFFFFF, 10_000_000])
def test_wrong_riff_size_field_is_tolerated(tmp_path: Path, riff_size: int) -> None:
    content = wavgen.riff(wavgen.fmt(), wavgen.data(1600), size=riff_size)

    assert check_prompt(wavgen.write(tmp_path / "riff.wav", content)).data_bytes == 1600


@pytest.mark.parametrize("name", ["MENU.WAV", "main menu.wav", "sub dir/Good Bye.Wav"])
def test_names_with_spaces_and_uppercase_extensions(tmp_path: Path, name: str) -> None:
    path = wavgen.write(tmp_path / name, wavgen.pcm())

    assert check_prompt(path).path == str(path)
    assert check_prompt(str(path)).path == str(path)


def test_uppercase_and_spaced_names_appear_in_errors(tmp_path: Path) -> None:
    path = wavgen.write(tmp_path / "Main Menu.WAV", wavgen.riff(wavgen.fmt(7), wavgen.data()))

    error = refused(path, UnsupportedEncodingError)

    assert "Main Menu.WAV: mu-law (format 7)" in str(error)


def test_exactly_the_limit_is_accepted(tmp_path: Path) -> None:
    header = wavgen.riff(wavgen.fmt(), wavgen.data(0, size=MAX_PROMPT_BYTES - 44))
    path = wavgen.write_sparse(tmp_path / "limit.wav", header, MAX_PROMPT_BYTES)

    assert check_prompt(path).file_bytes == 50_000_000


# --- refused encodings ------------------------------------------------------


def test_mu_law_message_names_file_found_expected_and_fix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    wavgen.write(Path("prompts/menu.wav"), wavgen.riff(wavgen.fmt(7, bits=8), wavgen.data()))

    with pytest.raises(UnsupportedEncodingError) as caught:
        check_prompt("prompts/menu.wav")

    assert str(caught.value) == (
        "prompts/menu.wav: mu-law (format 7) is not PCM; Chime PlayAudio needs "
        "uncompressed PCM WAV. Re-encode to 16-bit PCM, or pass normalize=True"
    )
    assert caught.value.reason.startswith("mu-law (format 7)")


@pytest.mark.parametrize(
    ("tag", "bits", "found"),
    [
        (6, 8, "A-law (format 6)"),
        (3, 32, "IEEE float (format 3)"),
        (2, 4, "MS ADPCM (format 2)"),
        (17, 4, "IMA ADPCM (format 17)"),
        (85, 0, "MPEG Layer 3 (format 85)"),
        (0x1234, 16, "an unknown encoding (format 4660)"),
    ],
)
def test_non_pcm_format_tags_are_refused(tmp_path: Path, tag: int, bits: int, found: str) -> None:
    path = wavgen.write(tmp_path / "x.wav", wavgen.riff(wavgen.fmt(tag, bits=bits), wavgen.data()))

    error = refused(path, UnsupportedEncodingError)

    assert (
        error.reason
        == f"{found} is not PCM; Chime PlayAudio needs uncompressed PCM WAV. {REENCODE}"
    )


@pytest.mark.parametrize(
    ("subformat", "found"),
    [
        (3, "IEEE float (format 3)"),
        (7, "mu-law (format 7)"),
        (
            bytes.fromhex("00112233445566778899aabbccddeeff"),
            "33221100-5544-7766-8899-aabbccddeeff",
        ),
    ],
)
def test_extensible_with_non_pcm_subformat_is_refused(
    tmp_path: Path, subformat: int | bytes, found: str
) -> None:
    content = wavgen.riff(wavgen.fmt_extensible(subformat, bits=32), wavgen.data())

    error = refused(wavgen.write(tmp_path / "ext.wav", content), UnsupportedEncodingError)

    assert error.reason.startswith(f"WAVE_FORMAT_EXTENSIBLE with subformat {found} is not PCM;")
    assert error.reason.endswith(REENCODE)


@pytest.mark.parametrize("bits", [4, 12, 20, 64])
def test_odd_pcm_sample_widths_are_refused(tmp_path: Path, bits: int) -> None:
    content = wavgen.riff(wavgen.fmt(bits=bits, block_align=2), wavgen.data())

    error = refused(wavgen.write(tmp_path / "w.wav", content), UnsupportedEncodingError)

    assert error.reason.startswith(f"{bits}-bit PCM; Chime PlayAudio needs 8-, 16-, 24- or 32-bit")


# --- files that are not WAV -------------------------------------------------


@pytest.mark.parametrize(
    ("content", "found"),
    [
        (b"", "an empty file (0 bytes)"),
        (b"hello, this is a text file\n", "a text file (starts 'hello, this ')"),
        (b"ok\n", "a text file (starts 'ok\\n')"),
        (b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"\xff" * 100, "an MP3 file (ID3 tag)"),
        (b"\xff\xfb\x90\x64" + b"\0" * 100, "raw MPEG audio frames (MP3 or AAC)"),
        (b"OggS\x00\x02" + b"\0" * 100, "an Ogg file"),
        (b"\0\0\0\x20ftypM4A " + b"\0" * 100, "an MP4/M4A file"),
        (b"RF64\xff\xff\xff\xffWAVEds64", "an RF64 (64-bit WAV) file"),
        (b"RIFF\x04\x00\x00\x00AVI LIST", "a RIFF file of form 'AVI ' instead of 'WAVE'"),
        (b"RIFF\x04\x00", "a RIFF header cut short at 6 bytes"),
        (b"\x00\x01\x02\x03" * 10, "a file of 40 bytes starting b'\\x00\\x01\\x02\\x03'"),
    ],
)
def test_non_wav_files_are_refused(tmp_path: Path, content: bytes, found: str) -> None:
    error = refused(wavgen.write(tmp_path / "prompt.wav", content), NotWavError)

    assert error.reason.startswith(f"{found}, not a WAV file; Chime PlayAudio needs uncompressed")
    assert "ffmpeg -i IN -ac 1 -ar 8000 -c:a pcm_s16le OUT.wav" in error.reason


# --- malformed WAV files ----------------------------------------------------


def test_truncated_data_names_declared_and_actual_sizes(tmp_path: Path) -> None:
    content = wavgen.riff(wavgen.fmt(), wavgen.data(1200, size=96000))

    error = refused(wavgen.write(tmp_path / "cut.wav", content), MalformedWavError)

    assert error.reason.startswith("data chunk declares 96000 bytes, file has 1200; ")
    assert "truncated" in error.reason


def test_streaming_data_size_is_refused(tmp_path: Path) -> None:
    content = wavgen.riff(wavgen.fmt(), wavgen.data(1600, size=0xFFFFFFFF), size=0xFFFFFFFF)

    error = refused(wavgen.write(tmp_path / "pipe.wav", content), MalformedWavError)

    assert "0xFFFFFFFF (unknown length" in error.reason


@pytest.mark.parametrize(
    ("chunks", "missing"),
    [
        (
            (wavgen.chunk(b"LIST", b"INFO"), wavgen.data()),
            "no 'fmt ' chunk (chunks found: 'LIST', 'data')",
        ),
        ((wavgen.fmt(),), "no 'data' chunk (chunks found: 'fmt ')"),
        ((), "no 'fmt ' and 'data' chunks (chunks found: none)"),
    ],
)
def test_missing_chunks_are_named(tmp_path: Path, chunks: tuple[bytes, ...], missing: str) -> None:
    error = refused(wavgen.write(tmp_path / "m.wav", wavgen.riff(*chunks)), MalformedWavError)

    assert error.reason.startswith(f"{missing}; a WAV file needs a 'fmt ' chunk and a 'data' chunk")


@pytest.mark.parametrize(
    ("fmt_chunk", "found"),
    [
        (
            wavgen.chunk(b"fmt ", b"\0" * 14),
            "fmt chunk is 14 bytes; a WAV fmt chunk has at least 16",
        ),
        (wavgen.fmt(channels=0), "fmt chunk says 0 channels at 8000 Hz; expected at least 1"),
        (
            wavgen.fmt(block_align=3),
            "fmt chunk says block align 3; expected 2 for 1 channel(s) of 16",
        ),
        (
            wavgen.fmt(wavgen.EXTENSIBLE, extra=b"\x00\x00"),
            "fmt chunk says WAVE_FORMAT_EXTENSIBLE (0xFFFE) but is 18 bytes with cbSize 0;",
        ),
        (
            wavgen.fmt_extensible(cb_size=0),
            "fmt chunk says WAVE_FORMAT_EXTENSIBLE (0xFFFE) but is 40 bytes with cbSize 0;",
        ),
        (
            wavgen.fmt(wavgen.EXTENSIBLE),
            "fmt chunk says WAVE_FORMAT_EXTENSIBLE (0xFFFE) but is 16 bytes with cbSize 0; "
            "EXTENSIBLE needs 40 bytes with cbSize >= 22",
        ),
    ],
)
def test_insane_fmt_fields_are_refused(tmp_path: Path, fmt_chunk: bytes, found: str) -> None:
    content = wavgen.riff(fmt_chunk, wavgen.data())

    error = refused(wavgen.write(tmp_path / "f.wav", content), MalformedWavError)

    assert error.reason.startswith(found)


def test_fmt_running_past_the_end_is_refused(tmp_path: Path) -> None:
    content = wavgen.riff(wavgen.data(), wavgen.fmt(size=100))

    error = refused(wavgen.write(tmp_path / "f.wav", content), MalformedWavError)

    assert error.reason.startswith("fmt chunk declares 100 bytes, file has 16;")


def test_empty_data_is_refused(tmp_path: Path) -> None:
    path = wavgen.write(tmp_path / "silent.wav", wavgen.riff(wavgen.fmt(), wavgen.data(0)))

    assert read_wav_info(path).duration_ms == 0
    assert "data chunk is empty (0 bytes of audio)" in refused(path, EmptyPromptError).reason


# --- bounded walk: sizes that would loop or jump ----------------------------


def test_zero_sized_chunks_stop_at_the_chunk_cap(tmp_path: Path) -> None:
    content = wavgen.riff(*[wavgen.chunk(b"JUNK")] * 10_001, wavgen.fmt(), wavgen.data())

    error = refused(wavgen.write(tmp_path / "zeros.wav", content), MalformedWavError)

    assert error.reason.startswith("more than 10000 chunks without both 'fmt ' and 'data'")


def test_huge_chunk_size_is_refused_not_followed(tmp_path: Path) -> None:
    content = wavgen.riff(wavgen.chunk(b"JUNK", b"\0" * 8, size=0xFFFFFFF0), wavgen.fmt())

    error = refused(wavgen.write(tmp_path / "huge.wav", content), MalformedWavError)

    assert error.reason.startswith("JUNK chunk declares 4294967280 bytes, file has 32;")


def test_garbage_where_a_chunk_should_be_is_refused(tmp_path: Path) -> None:
    content = wavgen.riff(wavgen.fmt(), b"\0" * 64)

    error = refused(wavgen.write(tmp_path / "zero.wav", content), MalformedWavError)

    assert error.reason.startswith("bytes at offset 36 (b'\\x00\\x00\\x00\\x00') are not a RIFF")


# --- header-only reading -----------------------------------------------------


def test_a_normal_file_is_read_in_a_few_small_reads(tmp_path: Path) -> None:
    path = wavgen.write(tmp_path / "p.wav", wavgen.pcm(frames=80_000))

    with CountingFile(path) as f:
        info = read_wav_info(f)

    assert info.path == str(path)
    assert f.bytes_read == 12 + 8 + 16 + 8  # RIFF header, fmt header and body, data header


def test_a_large_sparse_file_is_read_header_only_and_refused(tmp_path: Path) -> None:
    total = MAX_PROMPT_BYTES + 100
    header = wavgen.riff(
        wavgen.chunk(b"LIST", b"x" * 101),
        wavgen.data(0, size=total - 44 - 110),
        wavgen.fmt(rate=44100, channels=2),  # after the data: the walk must seek over it
    )
    path = wavgen.write_sparse(tmp_path / "long.wav", header, total - 24)
    with path.open("r+b") as f:  # the fmt chunk goes at the very end, after the hole
        f.seek(total - 24)
        f.write(wavgen.fmt(rate=44100, channels=2))

    with CountingFile(path) as counting:
        info = read_wav_info(counting)
    assert counting.bytes_read < 4096
    assert info.file_bytes == total

    error = refused(path, PromptTooLargeError)
    assert error.reason == (
        "file is 50,000,100 bytes, over Chime PlayAudio's limit of 50,000,000 bytes (50 MB). "
        "Use shorter audio, or pass normalize=True to convert it to 8 kHz mono 16-bit PCM "
        "(about 4,535,186 bytes)"
    )


def test_too_large_8k_mono_is_told_to_shorten_not_normalize(tmp_path: Path) -> None:
    total = MAX_PROMPT_BYTES + 1
    header = wavgen.riff(wavgen.fmt(), wavgen.data(0, size=total - 44))
    path = wavgen.write_sparse(tmp_path / "long.wav", header, total)

    error = refused(path, PromptTooLargeError)

    assert "50,000,001 bytes" in error.reason and "50,000,000 bytes" in error.reason
    assert "normalize" not in error.reason
    assert error.reason.endswith("at 8 kHz mono 16-bit PCM the limit holds about 52 minutes")


def test_a_file_object_is_read_from_offset_0_and_left_open(tmp_path: Path) -> None:
    path = wavgen.write(tmp_path / "p.wav", wavgen.pcm())

    with path.open("rb") as f:
        f.seek(30)
        info = read_wav_info(f)
        assert not f.closed

    assert (info.path, info.data_bytes) == (str(path), 1600)


def test_an_in_memory_stream_is_read_too() -> None:
    info = check_prompt(io.BytesIO(wavgen.pcm()))

    assert (info.path, info.file_bytes) == ("<stream>", 1644)


# --- many files at once ------------------------------------------------------


def test_check_prompts_reports_every_bad_file_in_one_error(tmp_path: Path) -> None:
    good = wavgen.write(tmp_path / "good.wav", wavgen.pcm())
    text = wavgen.write(tmp_path / "a.wav", b"not audio")
    ulaw = wavgen.write(tmp_path / "b.wav", wavgen.riff(wavgen.fmt(7, bits=8), wavgen.data()))
    cut = wavgen.write(tmp_path / "c.wav", wavgen.riff(wavgen.fmt(), wavgen.data(10, size=20)))

    accepted, errors = check_prompts([text, good, ulaw, cut])

    assert [info.path for info in accepted] == [str(good)]
    assert [type(e) for e in errors] == [NotWavError, UnsupportedEncodingError, MalformedWavError]
    message = str(PromptCheckError(errors))
    assert message == (
        "3 prompt files cannot be played by Chime PlayAudio:\n"
        f"  - {errors[0]}\n  - {errors[1]}\n  - {errors[2]}"
    )
    assert f"  - {text}: a text file" in message
    assert f"  - {cut}: data chunk declares 20 bytes, file has 10;" in message


def test_prompt_check_error_is_singular_for_one_file_and_keeps_the_errors() -> None:
    error = WavError("x.wav", "reason")

    aggregate = PromptCheckError([error])

    assert str(aggregate) == "1 prompt file cannot be played by Chime PlayAudio:\n  - x.wav: reason"
    assert aggregate.errors == (error,)
    assert isinstance(aggregate, ValueError)


@pytest.mark.parametrize(
    "error",
    [
        NotWavError,
        MalformedWavError,
        UnsupportedEncodingError,
        PromptTooLargeError,
        EmptyPromptError,
    ],
)
def test_every_refusal_is_a_wav_error_and_a_value_error(error: type[WavError]) -> None:
    assert issubclass(error, WavError)
    assert issubclass(error, ValueError)
