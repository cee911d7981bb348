"""Generated WAV files for the benchmarks and the fact checks: headers by hand, audio by numpy."""

from __future__ import annotations

import io
import os
import struct
from pathlib import Path

import numpy as np


def pcm_header(data_bytes: int, rate: int = 8000, channels: int = 1, bits: int = 16) -> bytes:
    """A canonical 44-byte PCM WAV header for ``data_bytes`` of samples."""
    align = channels * bits // 8
    fmt = struct.pack("<HHIIHH", 1, channels, rate, rate * align, align, bits)
    return (
        b"RIFF"
        + struct.pack("<I", 36 + data_bytes)
        + b"WAVE"
        + b"fmt "
        + struct.pack("<I", len(fmt))
        + fmt
        + b"data"
        + struct.pack("<I", data_bytes)
    )


def write_sparse_wav(path: Path, total_bytes: int) -> Path:
    """A PCM WAV of exactly ``total_bytes``: its header, then a hole (no data written or held)."""
    with path.open("wb") as f:
        f.write(pcm_header(total_bytes - 44))
        f.truncate(total_bytes)
    return path


def write_wav(path: Path, samples: np.ndarray, rate: int) -> Path:
    """int16 samples, shaped (frames,) or (frames, channels), as a canonical PCM WAV."""
    frames = samples if samples.ndim == 2 else samples[:, None]
    data = np.ascontiguousarray(frames, dtype="<i2").tobytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as f:
        f.write(pcm_header(len(data), rate, frames.shape[1]))
        f.write(data)
    return path


def speechlike(seconds: float, rate: int, channels: int, seed: int) -> np.ndarray:
    """Deterministic int16 audio: a few tones under an envelope, plus noise; distinct per seed."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * rate)) / rate
    out = np.empty((t.size, channels), dtype=np.int16)
    for channel in range(channels):
        tones = sum(
            np.sin(2 * np.pi * f * t + rng.uniform(0, 6.3)) / (i + 1)
            for i, f in enumerate(rng.uniform(120, 3400, size=4))
        )
        envelope = 0.5 + 0.5 * np.sin(2 * np.pi * rng.uniform(2, 5) * t)
        signal = 0.25 * tones * envelope + 0.02 * rng.standard_normal(t.size)
        out[:, channel] = np.clip(signal * 32767, -32768, 32767).astype(np.int16)
    return out


def prompt_folder(folder: Path, count: int, rate: int, seconds: float = 1.0) -> Path:
    """``count`` distinct mono prompts: welcome.wav, error.wav, then menu/pNNNN.wav."""
    names = ["welcome", "error"] + [f"menu/p{i:04d}" for i in range(count - 2)]
    base = speechlike(seconds, rate, 1, seed=rate)
    for index, name in enumerate(names[:count]):
        samples = base.copy()
        samples[:4, 0] = np.frombuffer(index.to_bytes(8, "little"), dtype="<i2")  # distinct bytes
        write_wav(folder / f"{name}.wav", samples, rate)
    return folder


LANGUAGES = ("en-US", "es-US")
_WORDS = "please stay on the line - por favor permanezca en la línea - " * 3


def catalog_folder(folder: Path, count: int, languages: tuple[str, ...] = LANGUAGES) -> Path:
    """``count`` tiny distinct prompts (8 kHz mono, 1 to 8 frames), an equal share in each
    language folder: welcome and error, then long names up to three folders deep."""
    share = count // len(languages)
    names = ["welcome", "error", *(_long_name(i) for i in range(share - 2))]
    for number, language in enumerate(languages):
        for index, name in enumerate(names):
            serial = number * share + index  # distinct bytes: a serial in the samples
            frames = 1 + index % 8
            samples = (serial.to_bytes(4, "little") * 8)[: 2 * frames]
            path = folder / language / f"{name}.wav"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(pcm_header(len(samples)) + samples)
    return folder


def _long_name(i: int) -> str:
    folders = (f"dept {i % 25:02}", f"menu-{i % 9}", "hours")[: i % 4]
    return "/".join((*folders, f"option {i:05} " + _WORDS[: 30 + i % 80].rstrip(" -")))


class CountingFile(io.FileIO):
    """A raw file that counts the bytes its reads return (what a check really read)."""

    bytes_read = 0

    def read(self, size: int = -1) -> bytes:
        data = super().read(size)
        self.bytes_read += len(data)
        return data

    def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def, override]
        n = super().readinto(buffer)
        self.bytes_read += n or 0
        return n  # type: ignore[return-value]


def process_bytes_read() -> int | None:
    """Bytes this process has read through read() calls so far (Linux /proc), else None."""
    try:
        with open(f"/proc/{os.getpid()}/io", "rb", buffering=0) as f:
            for line in f.read().splitlines():
                if line.startswith(b"rchar:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None
