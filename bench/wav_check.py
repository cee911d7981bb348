"""4. WAV check: time and bytes read to check a 50 MB file, a 1 KB file and 1,000 prompts.

Subject: ``constructs_pkg.audio.wav.check_prompt`` (what WavPrompts runs on every
prompt at synth time). Reference, in the same run, alternating: libsndfile's
header reader, ``soundfile.info`` (the decoder normalization uses).

Bytes read: for ours, counted exactly by handing the checker a file object that
counts what its reads return; for both, also the process's read() total from
/proc (Linux), which is how the reference is counted. The 50 MB file is sparse
(a header, then a hole), so nothing of that size is ever held or written.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import soundfile as sf  # type: ignore[import-untyped]

from bench.common import Row, Sample, Section, alternate, log
from bench.wavfiles import CountingFile, process_bytes_read, prompt_folder, write_sparse_wav
from constructs_pkg.audio.wav import MAX_PROMPT_BYTES, check_prompt, check_prompts

FOLDER_PROMPTS = 1000
FOLDER_TARGET_S = 1.0


def run(rounds: int, calls: int) -> Section:
    section = Section("4. WAV check")
    with tempfile.TemporaryDirectory(prefix="bench-wav-") as tmp:
        big = write_sparse_wav(Path(tmp) / "fifty.wav", MAX_PROMPT_BYTES)
        small = write_sparse_wav(Path(tmp) / "one-kb.wav", 1000)
        folder = prompt_folder(Path(tmp) / "prompts", FOLDER_PROMPTS, 8000)
        paths = sorted(folder.rglob("*.wav"))
        assert len(paths) == FOLDER_PROMPTS

        counted = {}
        for label, path in (("50 MB", big), ("1 KB", small)):
            with CountingFile(path) as f:
                check_prompt(f)
                counted[label] = f.bytes_read
        accepted, refused = check_prompts(paths)
        assert len(accepted) == FOLDER_PROMPTS and not refused, refused

        read_by = {
            "ours 50 MB": _proc_bytes(lambda: check_prompt(big)),
            "ours 1 KB": _proc_bytes(lambda: check_prompt(small)),
            "ref 50 MB": _proc_bytes(lambda: sf.info(str(big))),
            "ref 1 KB": _proc_bytes(lambda: sf.info(str(small))),
            "ours folder": _proc_bytes(lambda: check_prompts(paths)),
            "ref folder": _proc_bytes(lambda: [sf.info(str(p)) for p in paths]),
        }
        log(f"wav check: {rounds} rounds of {calls} checks per file, and of the folder")
        singles = alternate(
            {
                "ours 50 MB": _per_call(lambda: check_prompt(big), calls, 1e6),
                "ref 50 MB": _per_call(lambda: sf.info(str(big)), calls, 1e6),
                "ours 1 KB": _per_call(lambda: check_prompt(small), calls, 1e6),
                "ref 1 KB": _per_call(lambda: sf.info(str(small)), calls, 1e6),
            },
            rounds,
        )
        folder_runs = alternate(
            {
                "ours": _per_call(lambda: check_prompts(paths), 1, 1e3),
                "ref": _per_call(lambda: [sf.info(str(p)) for p in paths], 1, 1e3),
            },
            rounds,
        )

    for label in ("50 MB", "1 KB"):
        ours = Sample("us", singles[f"ours {label}"])
        theirs = Sample("us", singles[f"ref {label}"])
        section.rows.append(
            Row(
                section.title,
                f"one {label} PCM WAV: time per check; bytes read",
                f"{ours.text(1)}; {counted[label]:,} B ({_fmt(read_by[f'ours {label}'])} B in "
                "read() calls)",
                reference=f"soundfile.info {theirs.text(0)}; {_fmt(read_by[f'ref {label}'])} B",
                ratio=f"ours/ref {ours.median / theirs.median:.2f}",
                target="bytes read independent of size",
                verdict=(
                    "holds (50 MB and 1 KB read the same bytes)"
                    if counted["50 MB"] == counted["1 KB"]
                    else f"MISSES ({counted['50 MB']:,} B vs {counted['1 KB']:,} B)"
                ),
            )
        )
    ours = Sample("ms", folder_runs["ours"])
    theirs = Sample("ms", folder_runs["ref"])
    section.rows.append(
        Row(
            section.title,
            f"folder of {FOLDER_PROMPTS:,} prompts (8 kHz mono, 1 s): all checked; bytes read",
            f"{ours.text(1)}; {_fmt(read_by['ours folder'])} B",
            reference=f"soundfile.info {theirs.text(0)}; {_fmt(read_by['ref folder'])} B",
            ratio=f"ours/ref {ours.median / theirs.median:.2f}",
            target=f"< {FOLDER_TARGET_S:g} s",
            verdict=(
                f"holds ({FOLDER_TARGET_S * 1000 / ours.median:.0f}x under)"
                if ours.median < FOLDER_TARGET_S * 1000
                else f"MISSES by {ours.median - FOLDER_TARGET_S * 1000:.0f} ms"
            ),
        )
    )
    section.notes += [
        f"{rounds} alternating rounds, one warm-up round; single files: the mean of {calls} "
        "checks per round. Files in the page cache (the folder was just written), as at a "
        "synth right after editing prompts.",
        "Bytes read: ours exactly 44 B for any size, the canonical header (RIFF, fmt, data "
        "chunk header); the checker seeks over the audio and takes the size from fstat. "
        "The read() totals come from /proc/<pid>/io (rchar), calibrated for the read of "
        "that file itself.",
    ]
    return section


def _per_call(function: Callable[[], object], calls: int, scale: float) -> Callable[[], float]:
    """A case for alternate(): the mean time of ``calls`` calls, times ``scale`` (1e6: us)."""

    def once() -> float:
        start = time.perf_counter()
        for _ in range(calls):
            function()
        return (time.perf_counter() - start) / calls * scale

    return once


def _proc_bytes(function: Callable[[], object]) -> int | None:
    """Bytes read() by this process while ``function`` ran, less reading /proc itself."""
    first = process_bytes_read()
    second = process_bytes_read()
    if first is None or second is None:
        return None
    function()
    after = process_bytes_read()
    assert after is not None
    return after - second - (second - first)


def _fmt(value: int | None) -> str:
    return "n/a" if value is None else f"{value:,}"
