"""3. Synth overhead: `cdk synth` of PlayAudioStack against one plain bucket, through the CLI.

Both go through the real CLI (node_modules/.bin/cdk, the venv's Node 24), as
`make synth` runs it: ``cdk synth --quiet -o OUTDIR --app "..."``, from the repo
root (so cdk.json's feature flags apply to both), each into a fresh output folder,
alternating. The plain-bucket app (bench/plain_bucket_app.py) runs the same
cdk-nag packs that the sample app's own synth reported in its validation report.

Growth: bench/prompts_app.py (PromptBucket + WavPrompts alone; PlayAudioStack with
thousands of prompts is section 8, bench/catalog.py) with 10, 100 and 1,000
generated prompts, normalization off (8 kHz mono prompts, ready for Chime) and on
(16 kHz mono prompts, resampled), cold (a fresh output folder: nothing cached) and
cached (the same folder again: normalized prompts come from the cache).

Profile: the same two apps in-process (bench/synth_profile.py): where the time
goes between Python, the jsii kernel's round trips to Node, and the synth.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.common import (
    NODE_BIN,
    ROOT,
    VENV_BIN,
    Row,
    Sample,
    Section,
    log,
    shown,
    timed_run,
    tool_env,
)
from bench.wavfiles import prompt_folder

TARGET_RATIO = 1.3
CDK = str(NODE_BIN / "cdk")
PYTHON = str(VENV_BIN / "python")
SAMPLE_APP = f"{PYTHON} app.py"
PLAIN_APP = f"{PYTHON} bench/plain_bucket_app.py"
PROMPTS_APP = f"{PYTHON} bench/prompts_app.py"
GROWTH_COUNTS = (10, 100, 1000)


def cdk_synth(app: str, outdir: Path, context: dict[str, str] | None = None) -> float:
    """Wall seconds of one `cdk synth` through the CLI; a failed synth raises."""
    command = [CDK, "synth", "--quiet", "-o", str(outdir), "--app", app]
    for key, value in (context or {}).items():
        command += ["-c", f"{key}={value}"]
    return timed_run(command, env=tool_env(), cwd=ROOT)


def nag_packs(outdir: Path) -> list[str]:
    """The packs a synth ran, from its validation report."""
    report = json.loads((outdir / "validation-report.json").read_text())
    return [plugin["pluginName"] for plugin in report["pluginReports"]]


def cache_state(outdir: Path) -> dict[str, int]:
    """Normalized files in the synth's cache, by name, with their modification times."""
    cache = outdir / ".playaudio-cache"
    return {p.name: p.stat().st_mtime_ns for p in cache.glob("*.wav")} if cache.exists() else {}


def run(rounds: int, growth_repeats: dict[int, int], profile_rounds: int) -> Section:
    section = Section("3. Synth overhead")
    with tempfile.TemporaryDirectory(prefix="bench-synth-") as tmp_name:
        tmp = Path(tmp_name)
        counter = iter(range(1_000_000))

        def fresh() -> Path:
            return tmp / f"out{next(counter)}"

        # Warm-up (also finds the packs the sample app runs).
        first = fresh()
        cdk_synth(SAMPLE_APP, first)
        packs = nag_packs(first)
        context = {"nagPacks": ",".join(packs)}
        cdk_synth(PLAIN_APP, fresh(), context)
        log(f"synth: {rounds} rounds of PlayAudioStack vs plain bucket; packs {', '.join(packs)}")
        sample, plain = Sample("s"), Sample("s")
        for index in range(rounds):
            pair = [(sample, SAMPLE_APP, None), (plain, PLAIN_APP, context)]
            for target, app, app_context in pair if index % 2 == 0 else pair[::-1]:
                target.values.append(cdk_synth(app, fresh(), app_context))
        ratio = sample.median / plain.median
        section.rows.append(
            Row(
                section.title,
                "cdk synth PlayAudioStack (3 sample prompts), fresh cdk.out",
                sample.text(2),
                reference=f"one plain bucket {plain.text(2)}",
                ratio=f"ours/plain {ratio:.2f}",
                target=f"<= {TARGET_RATIO:g}",
                verdict=(
                    f"holds ({TARGET_RATIO - ratio:.2f} to spare)"
                    if ratio <= TARGET_RATIO
                    else f"MISSES by {ratio - TARGET_RATIO:.2f} ({ratio / TARGET_RATIO:.2f}x)"
                ),
            )
        )

        growth = _growth(tmp, fresh, context, growth_repeats, plain.median)
        section.rows += growth.rows
        section.notes += growth.notes
        profile = _profile(packs, profile_rounds, tmp)
    section.notes = [
        f"CLI: {shown(CDK)} synth --quiet -o <fresh folder>, from the repo root; {rounds} rounds, "
        "PlayAudioStack and the plain bucket alternating (order swapped every round), after "
        "one warm-up synth of each. Both apps run the same cdk-nag packs: "
        f"{', '.join(packs)} (read from PlayAudioStack's validation report).",
        *section.notes,
        *profile,
    ]
    return section


def _growth(
    tmp: Path,
    fresh: Callable[[], Path],
    context: dict[str, str],
    repeats: dict[int, int],
    plain_median: float,
) -> Section:
    result = Section("growth")
    folders = {}
    for count in GROWTH_COUNTS:
        # Without normalization, prompts ready for Chime; with it, 16 kHz ones to resample.
        folders[(count, False)] = prompt_folder(tmp / f"prompts{count}-8k", count, 8000)
        folders[(count, True)] = prompt_folder(tmp / f"prompts{count}-16k", count, 16000)
    configs = list(folders)
    cold = {config: Sample("s") for config in configs}
    cached = {config: Sample("s") for config in configs}
    transcoded_on_cached: dict[tuple[int, bool], list[int]] = {config: [] for config in configs}
    most = max(repeats.values())
    log(f"synth growth: {len(configs)} configurations, up to {most} cold+cached pairs each")
    for index in range(most):
        shift = index % len(configs)
        for count, normalize in configs[shift:] + configs[:shift]:
            if index >= repeats[count]:
                continue
            outdir = fresh()
            app_context = {
                **context,
                "promptsDir": str(folders[(count, normalize)]),
                "normalizePrompts": str(normalize).lower(),
            }
            cold[(count, normalize)].values.append(cdk_synth(PROMPTS_APP, outdir, app_context))
            before = cache_state(outdir)
            cached[(count, normalize)].values.append(cdk_synth(PROMPTS_APP, outdir, app_context))
            after = cache_state(outdir)
            transcoded_on_cached[(count, normalize)].append(
                sum(1 for name, mtime in after.items() if before.get(name) != mtime)
            )
            if normalize:
                assert len(before) == count, (count, len(before))
    for count, normalize in configs:
        key = (count, normalize)
        transcoded = max(transcoded_on_cached[key])
        result.rows.append(
            Row(
                "3. Synth overhead",
                f"growth: {count:,} prompts, normalization {'on' if normalize else 'off'}",
                f"cold {cold[key].text(2)}; cached {cached[key].text(2)}",
                reference=f"plain bucket {plain_median:.2f} s",
                ratio=(
                    f"cold {cold[key].median / plain_median:.2f}; "
                    f"cached {cached[key].median / plain_median:.2f}"
                ),
                target="report; cached re-synth transcodes 0" if normalize else "report",
                verdict=(
                    f"{transcoded} files transcoded on the cached re-synths"
                    if normalize
                    else f"{repeats[count]} cold+cached pairs"
                ),
            )
        )
    result.notes.append(
        "Growth: PromptBucket + WavPrompts (bench/prompts_app.py) under the same packs; 1 s "
        "prompts, distinct bytes each; 'cold' is a fresh output folder, 'cached' the same "
        "folder synthesized again right after. Pairs per prompt count: "
        + ", ".join(f"{count:,}: {repeats[count]}" for count in GROWTH_COUNTS)
        + " (fewer for 1,000: each pair takes the longest, and the spread is small next to "
        "the growth). Files transcoded on a cached re-synth: counted from the cache "
        "folder (a new or rewritten file counts). PlayAudioStack itself, the whole sample "
        "app, with 10 to 5,000 prompts: section 8."
    )
    return result


def profile_run(
    which: str, outdir: Path, packs: list[str], context: dict[str, str] | None = None
) -> dict[str, Any]:
    """One in-process run of bench/synth_profile.py: its figures; a failure raises."""
    arguments = [which, str(outdir), ",".join(packs), json.dumps(context or {})]
    done = subprocess.run(
        [PYTHON, "-m", "bench.synth_profile", *arguments],
        env=tool_env(),
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(done.stderr.strip()[-1000:])
    figures: dict[str, Any] = json.loads(done.stdout)
    return figures


def _profile(packs: list[str], rounds: int, tmp: Path) -> list[str]:
    """Phase timings of the two apps in-process: import, construct, synth, jsii round trips."""
    runs: dict[str, list[dict[str, Any]]] = {"sample": [], "plain": []}
    for index in range(rounds):
        order = ["sample", "plain"] if index % 2 == 0 else ["plain", "sample"]
        for which in order:
            try:
                runs[which].append(profile_run(which, tmp / f"profile{index}{which}", packs))
            except RuntimeError as error:
                return [f"Profile failed: {error}"]

    def median(which: str, key: str) -> float:
        values = sorted(run[key] for run in runs[which])
        return values[len(values) // 2]

    lines = []
    for which, title in (("sample", "PlayAudioStack"), ("plain", "plain bucket")):
        keys = [k for k in runs[which][0] if k.startswith("phase:")]
        phases = ", ".join(f"{k[6:]} {median(which, k):.2f} s" for k in keys)
        lines.append(
            f"{title}: {phases}; jsii round trips {median(which, 'jsii_calls'):,.0f} taking "
            f"{median(which, 'jsii_seconds'):.2f} s in all"
        )
    sites = ", ".join(f"`{site}` {count:,}" for site, count in runs["sample"][0]["sites"][:5])
    return [
        f"Profile (in-process, no CLI; median of {rounds}): " + "; ".join(lines) + ".",
        f"PlayAudioStack's jsii round trips by the project code that made them: {sites}.",
    ]


if __name__ == "__main__":
    start = time.perf_counter()
    print(run(1, {10: 1, 100: 1, 1000: 1}, 1), file=sys.stderr)
    print(f"{time.perf_counter() - start:.0f} s", file=sys.stderr)
