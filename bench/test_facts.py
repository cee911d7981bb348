"""Machine-independent facts behind `make bench`'s figures (the figures themselves are timed there).

They test the benchmarks' own claims and inputs, so they live with them; `make test` runs
them (pytest's testpaths name bench/ beside tests/), and tests/ imports nothing from bench/.

- Checking a prompt reads its headers only: a sparse 50 MB WAV costs the same bytes as a 1 KB one.
- A cached re-synth transcodes nothing: a second App over the same cloud assembly finds every
  normalized prompt in the cache.
- The sample handler's cold path imports neither json nor re (nor logging): what keeps a bare
  cold start cheap.
- The catalog benchmark's prompts are what its rows say: distinct, valid, half per language,
  welcome and error in each; its CALL_UPDATE_REQUESTED plays the prompt it names.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import aws_cdk as cdk

from bench.common import ROOT
from bench.sma_events import BUCKET, events, handler_environment, update_event
from bench.wavfiles import LANGUAGES, CountingFile, catalog_folder, prompt_folder, write_sparse_wav
from constructs_pkg import PromptBucket, WavPrompts
from constructs_pkg.audio import normalize
from constructs_pkg.audio.wav import MAX_PROMPT_BYTES, check_prompt
from constructs_pkg.runtime.config import load_config
from constructs_pkg.runtime.handler import handle


def bytes_read_to_check(path: Path) -> int:
    with CountingFile(path) as f:
        check_prompt(f)
        return f.bytes_read


def test_checking_a_50_mb_prompt_reads_what_a_1_kb_one_does(tmp_path: Path) -> None:
    big = write_sparse_wav(tmp_path / "fifty.wav", MAX_PROMPT_BYTES)
    small = write_sparse_wav(tmp_path / "small.wav", 1000)
    assert big.stat().st_size == MAX_PROMPT_BYTES
    assert bytes_read_to_check(big) == bytes_read_to_check(small) == 44


def test_a_cached_re_synth_transcodes_no_file(tmp_path: Path) -> None:
    prompts = prompt_folder(tmp_path / "prompts", 4, 16000, seconds=0.2)
    outdir = tmp_path / "cdk.out"

    def synth_prompts() -> int:
        before = normalize.transcode_count()
        stack = cdk.Stack(cdk.App(outdir=str(outdir)), "Facts")
        WavPrompts(
            stack,
            "Prompts",
            prompt_bucket=PromptBucket(stack, "Bucket"),
            source_dir=prompts,
            normalize=True,
        )
        return normalize.transcode_count() - before

    assert synth_prompts() == 4
    assert synth_prompts() == 0


def test_the_handler_cold_path_imports_neither_json_nor_re(tmp_path: Path) -> None:
    script = f"""
import sys
sys.path.insert(0, {str(ROOT / "constructs_pkg")!r})
import runtime.handler as h
result = h.handler({events()["NEW_INBOUND_CALL"]!r}, None)
assert result["Actions"][0]["Type"] == "PlayAudio", result
assert h.CONFIG.errors == (), h.CONFIG.errors
print(" ".join(sorted(sys.modules)))
"""
    done = subprocess.run(
        [sys.executable, "-S", "-c", script],
        env={**os.environ, **handler_environment(tmp_path, extra_prompts=500)},
        capture_output=True,
        text=True,
        check=True,
    )
    loaded = set(done.stdout.split())
    assert "runtime.handler" in loaded
    assert loaded.isdisjoint({"json", "re", "logging", "enum"}), loaded & {"json", "re"}


def test_the_catalog_benchmark_prompts_are_distinct_valid_and_split_by_language(
    tmp_path: Path,
) -> None:
    folder = catalog_folder(tmp_path, 200)
    files = sorted(folder.rglob("*.wav"))
    assert len(files) == 200
    assert len({path.read_bytes() for path in files}) == 200
    assert all(2 <= check_prompt(path).data_bytes <= 16 for path in files)  # 1 to 8 frames
    for language in LANGUAGES:
        names = {
            path.relative_to(folder / language).as_posix()
            for path in files
            if path.is_relative_to(folder / language)
        }
        assert len(names) == 100
        assert {"welcome.wav", "error.wav"} <= names
    assert max(len(path.name) for path in files) > 100
    assert any(path.relative_to(folder).as_posix().count("/") == 4 for path in files)


def test_the_benchmarked_call_update_plays_the_prompt_it_names(tmp_path: Path) -> None:
    config = load_config(handler_environment(tmp_path, extra_prompts=10))
    actions = handle(update_event("goodbye"), config)["Actions"]
    source = actions[0]["Parameters"]["AudioSource"]
    assert source == {"Type": "S3", "BucketName": BUCKET, "Key": "prompts/goodbye.wav"}
