"""What the caller hears: prompts and silences, assembled into an 8 kHz mono 16-bit call.wav.

The engine's clock counts samples of this 8 kHz track, so the transcript,
the timeline and call.wav agree to the sample. A prompt that is already
8 kHz mono 16-bit PCM (the sample app's are) is copied byte for byte from its
data chunk, found by ``constructs_pkg.audio.wav.check_prompt`` (the one copy
of the WAV rules; nothing here parses a header). Any other PCM prompt is
converted with ``constructs_pkg.audio.normalize`` (libsndfile + the SoX
resampler, the ``normalize`` extra) when it is installed, else by averaging
channels and linear interpolation (approximate, and said so in the transcript).
The phone network's own coding (G.711, jitter, loss) is not modelled.
"""

from __future__ import annotations

import tempfile
import wave
from pathlib import Path

from constructs_pkg.audio.wav import RECOMMENDED_RATE, WavInfo, check_prompt

from .buckets import StoredObject

RATE = RECOMMENDED_RATE  # the call is mixed at the rate prompts are recommended at
SAMPLES_PER_MS = RATE // 1000
SAMPLE_WIDTH = 2


def ms_to_samples(ms: float) -> int:
    return round(ms * SAMPLES_PER_MS)


def samples_to_ms(samples: int) -> float:
    return samples / SAMPLES_PER_MS


class PromptLoader:
    """Decoded 8 kHz mono 16-bit PCM of each prompt, loaded once per call."""

    def __init__(self, cache_dir: Path | None = None) -> None:
        self._cache: dict[tuple[str, str], bytes] = {}
        self._cache_dir = cache_dir
        self.notes: list[str] = []

    def samples(self, stored: StoredObject, info: WavInfo) -> bytes:
        """Little-endian int16 samples at 8 kHz mono."""
        cache_key = (stored.bucket, stored.key)
        if cache_key not in self._cache:
            self._cache[cache_key] = self._load(stored, info)
        return self._cache[cache_key]

    def _load(self, stored: StoredObject, info: WavInfo) -> bytes:
        with stored.open() as handle:
            handle.seek(info.data_offset)
            raw = handle.read(info.data_bytes)
        if info.is_recommended and info.bits_per_sample == 16:
            return raw[: len(raw) - len(raw) % 2]
        converted = self._normalize(stored)
        if converted is not None:
            return converted
        self.notes.append(
            f"{stored.key} is {info.sample_rate} Hz, {info.channels} channel(s), "
            f"{info.bits_per_sample}-bit: converted approximately (linear interpolation); "
            "install the 'normalize' extra for the SoX resampler"
        )
        return _approximate(raw, info)

    def _normalize(self, stored: StoredObject) -> bytes | None:
        try:
            from constructs_pkg.audio.normalize import normalize_prompt
        except ImportError:
            return None
        with tempfile.TemporaryDirectory() as scratch:
            source = stored.file
            if stored.member is not None:
                source = Path(scratch) / Path(stored.member).name
                with stored.open() as handle:
                    source.write_bytes(handle.read())
            cache = self._cache_dir or Path(scratch) / "cache"
            normalized = normalize_prompt(source, cache).path
            info = check_prompt(normalized)
            with open(normalized, "rb") as handle:
                handle.seek(info.data_offset)
                return handle.read(info.data_bytes)


def _approximate(raw: bytes, info: WavInfo) -> bytes:
    """Mix to mono and resample linearly to 8 kHz; stdlib only."""
    width = info.bits_per_sample // 8
    frame = width * info.channels
    frames = len(raw) // frame
    mono: list[float] = []
    for index in range(frames):
        total = 0.0
        for channel in range(info.channels):
            start = index * frame + channel * width
            chunk = raw[start : start + width]
            if width == 1:
                total += (chunk[0] - 128) / 128.0
            else:
                total += int.from_bytes(chunk, "little", signed=True) / float(1 << (8 * width - 1))
        mono.append(total / info.channels)
    if not mono:
        return b""
    count = max(1, round(len(mono) * RATE / info.sample_rate))
    step = info.sample_rate / RATE
    out = bytearray()
    for index in range(count):
        position = index * step
        low = min(int(position), len(mono) - 1)
        high = min(low + 1, len(mono) - 1)
        value = mono[low] + (mono[high] - mono[low]) * (position - low)
        sample = max(-32768, min(32767, round(value * 32768)))
        out += sample.to_bytes(2, "little", signed=True)
    return bytes(out)


class CallAudio:
    """The caller's side of the call: int16 samples at 8 kHz, appended in time order."""

    def __init__(self) -> None:
        self._samples = bytearray()

    @property
    def length(self) -> int:
        """Length in samples (the engine's clock)."""
        return len(self._samples) // SAMPLE_WIDTH

    def silence(self, samples: int) -> None:
        if samples > 0:
            self._samples += bytes(samples * SAMPLE_WIDTH)

    def play(self, pcm: bytes, samples: int | None = None) -> int:
        """Append ``pcm`` (or its first ``samples``); return the samples appended."""
        count = len(pcm) // SAMPLE_WIDTH if samples is None else min(samples, len(pcm) // 2)
        self._samples += pcm[: count * SAMPLE_WIDTH]
        return count

    def truncate(self, samples: int) -> None:
        del self._samples[samples * SAMPLE_WIDTH :]

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        # Opened here, not by wave: a failed open in wave.open leaves a Wave_write whose
        # __del__ prints a second, spurious traceback.
        with open(path, "wb") as raw, wave.open(raw, "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(SAMPLE_WIDTH)
            out.setframerate(RATE)
            out.writeframes(bytes(self._samples))
