"""5. Normalization throughput: seconds of audio converted per second, against the sox CLI.

Input: generated 44.1 kHz stereo 16-bit PCM WAVs. Subject:
``constructs_pkg.audio.normalize.normalize_prompt`` into an empty cache folder
(so every call transcodes: hash, decode, mix down, resample, write, fsync, rename),
in this process, as the synth runs it. Reference, in the same run, alternating:
``sox IN -r 8000 -c 1 -b 16 OUT`` (Debian's sox; one process per file, so its
start-up is included, as it would be for anyone scripting it).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from bench.common import Row, Sample, Section, alternate, log, timed_run
from bench.wavfiles import speechlike, write_wav
from constructs_pkg.audio.normalize import normalize_prompt, transcode_count

RATE = 44_100
TARGET_RATIO = 2.0


def ensure_sox() -> str | None:
    """The sox command, installing Debian's package when root with apt-get; else None."""
    found = shutil.which("sox")
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        log("sox is missing: apt-get install -y sox")
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        for command in (["apt-get", "update"], ["apt-get", "install", "-y", "sox"]):
            done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
            if done.returncode != 0:
                log(f"{' '.join(command)} failed: {done.stderr.strip()[-500:]}")
                break
    return shutil.which("sox")


def run(rounds: int, files: int, seconds: float) -> Section:
    section = Section("5. Normalization throughput")
    sox = ensure_sox()
    audio_seconds = files * seconds
    with tempfile.TemporaryDirectory(prefix="bench-normalize-") as tmp:
        sources = [
            write_wav(Path(tmp) / "in" / f"stereo{i}.wav", speechlike(seconds, RATE, 2, i), RATE)
            for i in range(files)
        ]
        out = Path(tmp) / "out"

        def ours() -> float:
            shutil.rmtree(out, ignore_errors=True)
            before = transcode_count()
            start = time.perf_counter()
            for source in sources:
                normalize_prompt(source, out)
            elapsed = time.perf_counter() - start
            assert transcode_count() - before == files, "every call must transcode"
            return audio_seconds / elapsed

        cases = {"ours": ours}
        if sox is not None:

            def reference() -> float:
                shutil.rmtree(out, ignore_errors=True)
                out.mkdir()
                elapsed = sum(
                    timed_run([sox, str(s), "-r", "8000", "-c", "1", "-b", "16", str(out / s.name)])
                    for s in sources
                )
                return audio_seconds / elapsed

            cases["sox"] = reference
        log(f"normalize: {rounds} rounds of {files} files x {seconds:g} s, 44.1 kHz stereo")
        results = alternate(cases, rounds)
        version = (
            subprocess.run([sox, "--version"], capture_output=True, text=True)
            .stdout.strip()
            .split(":")[-1]
            .strip()
            if sox
            else ""
        )
    subject = Sample("x realtime", results["ours"])
    row = Row(
        section.title,
        f"44.1 kHz stereo 16-bit -> 8 kHz mono 16-bit ({files} files x {seconds:g} s)",
        subject.text(0),
        target=f"within {TARGET_RATIO:g}x of sox",
    )
    if "sox" in results:
        theirs = Sample("x realtime", results["sox"])
        ratio = theirs.median / subject.median
        row.reference = f"sox {theirs.text(0)}"
        row.ratio = f"sox/ours {ratio:.2f}"
        row.verdict = (
            f"holds ({'ours faster' if ratio < 1 else f'{TARGET_RATIO / ratio:.2f}x margin'})"
            if ratio <= TARGET_RATIO
            else f"MISSES: sox is {ratio:.2f}x faster"
        )
    else:
        row.reference = "not measured: sox missing (apt-get install sox, as root)"
        row.verdict = "not measured"
    section.rows.append(row)
    section.notes += [
        f"{rounds} alternating rounds, one warm-up round; figure: seconds of audio converted "
        "per wall second (x realtime), per round over all files. "
        + (
            f"Reference: {version.splitlines()[0]}, its default rate quality (high)." if sox else ""
        ),
        "Ours: soundfile (libsndfile) decodes, numpy mixes down, soxr (the SoX resampler "
        "library, quality HQ) resamples, the stdlib wave module writes; each output is "
        "written to a temporary file, fsynced and renamed into the cache.",
    ]
    return section
