"""8. Prompt catalogs: synth, cold start and per-event latency with thousands of prompts.

Synth: `cdk synth` of PlayAudioStack, the full sample app (app.py: the sample handler
and its catalog layer, the SMA, SIP message logs, monitoring, its five cdk-nag packs),
through the CLI as section 3 runs it (bench/synth.py's helpers), with 10, 1,000 and
5,000 generated prompts (bench/wavfiles.py catalog_folder, context
``languages=en-US,es-US``), against section 3's floor: one plain bucket under the same
packs (bench/plain_bucket_app.py); alternating, each into a fresh output folder.

Cold start: section 1's method (bench/cold_start.py: its driver, interpreter and
floor) with the 3-prompt catalog and a 5,000-prompt one (bench/sma_events.py),
alternating; the figure is the difference of the medians. Then where a first load of
each catalog spends its time, step by step, in fresh interpreters.

Per event: section 2's child (bench/per_event.py) in separate processes, one catalog
each, alternating; the 3-prompt and 5,000-prompt medians side by side.
"""

from __future__ import annotations

import ast
import itertools
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.cold_start import OURS, child_env, driver, runner
from bench.common import (
    POWERTOOLS_PYTHON,
    RUNTIME_DIR,
    Row,
    Sample,
    Section,
    alternate,
    log,
    shown,
    verdict_at_most,
)
from bench.lambda_like import base_python, make_asset
from bench.per_event import run_child
from bench.sma_events import PROMPT_NAMES
from bench.synth import CDK, PLAIN_APP, SAMPLE_APP, cdk_synth, nag_packs, profile_run
from bench.wavfiles import LANGUAGES, catalog_folder

TITLE = "8. Prompt catalogs"
TARGET_SYNTH_RATIO = 2.0
TARGET_COLD_MS = 5.0
SMALL = len(PROMPT_NAMES)
LARGE = 5000
EVENTS = ("NEW_INBOUND_CALL", "ACTION_FAILED", "CALL_UPDATE_REQUESTED")
LOAD_STEPS = ("read", "decode", "scan", "check and build")
NO_EXIT = "bare interpreter, no exit"
VARIANTS = ("bare interpreter", "json+logging preloaded", NO_EXIT)

# A fresh interpreter's first load of a catalog, as catalog.load does it, step by step.
_LOAD_PROGRAM = """\
import gc, sys, time
sys.path.insert(0, {asset!r})
from runtime import catalog
clock = time.perf_counter
t0 = clock()
with open({path!r}, "rb") as f:
    raw = f.read()
t1 = clock()
text = raw.decode("utf-8")
t2 = clock()
before = sum(generation["collections"] for generation in gc.get_stats())
data = catalog.parse_json(text)
t3 = clock()
after = sum(generation["collections"] for generation in gc.get_stats())
assert catalog._document_problems(data) is None
built = catalog.Catalog({path!r}, data["catalog"], "b", data["keyPrefix"], data["prompts"])
t4 = clock()
assert len(built) == {count}
print(t1 - t0, t2 - t1, t3 - t2, t4 - t3, after - before)
"""


def run(
    synth_repeats: dict[int, int],
    cold_rounds: int,
    event_children: int,
    event_rounds: int,
    batch: int,
) -> Section:
    """``synth_repeats``: synths per prompt count (the floor gets the most of them)."""
    section = Section(TITLE)
    python = str(POWERTOOLS_PYTHON) if POWERTOOLS_PYTHON.exists() else base_python()
    with tempfile.TemporaryDirectory(prefix="bench-catalog-") as tmp_name:
        tmp = Path(tmp_name)
        parts = [
            _synth(tmp, synth_repeats),
            _cold_start(tmp, python, cold_rounds),
            _per_event(tmp, python, event_children, event_rounds, batch),
        ]
    for part in parts:
        section.rows += part.rows
        section.notes += part.notes
    return section


def _synth(tmp: Path, repeats: dict[int, int]) -> Section:
    part = Section(TITLE)
    folders = {count: catalog_folder(tmp / f"prompts{count}", count) for count in repeats}
    outdirs = (tmp / f"synth{n}" for n in itertools.count())

    def context(count: int) -> dict[str, str]:
        return {"promptsDir": str(folders[count]), "languages": ",".join(LANGUAGES)}

    # Warm-up, untimed: finds the packs PlayAudioStack runs, for the floor to run too.
    first = next(outdirs)
    cdk_synth(SAMPLE_APP, first, context(min(repeats)))
    packs = nag_packs(first)
    floor_context = {"nagPacks": ",".join(packs)}
    cdk_synth(PLAIN_APP, next(outdirs), floor_context)
    counts: dict[str | int, int] = {"floor": max(repeats.values()), **repeats}
    samples = {case: Sample("s") for case in counts}
    cases = list(counts)
    log(f"catalog synth: {counts} synths, alternating; packs {', '.join(packs)}")
    for index in range(max(counts.values())):
        shift = index % len(cases)
        for case in cases[shift:] + cases[:shift]:
            if index >= counts[case]:
                continue
            outdir = next(outdirs)
            if isinstance(case, int):
                samples[case].values.append(cdk_synth(SAMPLE_APP, outdir, context(case)))
                _check_catalog(outdir, case)
            else:
                samples[case].values.append(cdk_synth(PLAIN_APP, outdir, floor_context))
            shutil.rmtree(outdir)
    profile = _profile(tmp, [context(count) for count in (min(repeats), max(repeats))])
    floor = samples["floor"]
    smallest = samples[min(repeats)]
    for count in repeats:
        sample = samples[count]
        ratio = sample.median / floor.median
        row = Row(
            TITLE,
            f"cdk synth PlayAudioStack, {count:,} prompts in 2 languages, fresh cdk.out",
            sample.text(2),
            reference=f"floor (one plain bucket, same packs) {floor.text(2)}",
            ratio=f"ours/floor {ratio:.2f}",
            target="report",
            verdict=f"{len(sample.values)} synths",
        )
        if count != min(repeats):
            row.verdict += f"; {sample.median - smallest.median:+.2f} s over {min(repeats)} prompts"
        if count == LARGE:
            row.target = f"<= {TARGET_SYNTH_RATIO:g}x the floor"
            row.verdict = verdict_at_most(ratio, TARGET_SYNTH_RATIO, "x", 2)
        part.rows.append(row)
        log(f"synth {count:,} prompts: {sample.text(2)}; floor {floor.text(2)}")
    part.notes += [
        f"Synth: {shown(CDK)} synth --quiet -o <fresh folder> of app.py (PlayAudioStack, the "
        "whole sample app) with context promptsDir and languages=en-US,es-US, from the repo "
        f"root; the floor is section 3's: one plain bucket (bench/plain_bucket_app.py) under "
        f"the same packs ({', '.join(packs)}, read from PlayAudioStack's validation report). "
        "Synths per case: "
        + ", ".join(f"{case:,}" if isinstance(case, int) else str(case) for case in counts)
        + " -> "
        + ", ".join(str(n) for n in counts.values())
        + ", the cases in rotating order each round, after one untimed synth of each app.",
        "Prompts (bench/wavfiles.py catalog_folder): half in en-US/, half in es-US/, the same "
        "names in both (welcome, error, then file names of 42 to 122 characters, up to three "
        "folders deep), 8 kHz mono PCM of 1 to 8 frames, distinct bytes each; every timed "
        "synth's catalog file was read back: all prompts, both languages.",
        "Where a synth's time goes (one in-process run each, no CLI, bench/synth_profile.py; "
        "'constructs' holds WavPrompts checking and staging every prompt in Python, and the "
        "prompts' asset, which Node stages into cdk.out through jsii): " + profile + ".",
    ]
    return part


def _profile(tmp: Path, contexts: list[dict[str, str]]) -> str:
    """PlayAudioStack's synth phases in-process, per context, as one line of text."""
    texts = []
    for index, context in enumerate(contexts):
        outdir = tmp / f"profile{index}"
        try:
            figures = profile_run("sample", outdir, [], context)
        except RuntimeError as error:
            return f"profile failed: {error}"
        shutil.rmtree(outdir, ignore_errors=True)
        count = sum(1 for _ in Path(context["promptsDir"]).rglob("*.wav"))
        texts.append(
            f"{count:,} prompts: constructs {figures['phase:constructs']:.2f} s (Node, through "
            f"jsii, {figures['jsii_seconds:constructs']:.2f} s of it), synth "
            f"{figures['phase:synth']:.2f} s"
        )
    return "; ".join(texts)


def _check_catalog(outdir: Path, count: int) -> None:
    """The synthesized catalog lists ``count`` prompts in both languages."""
    (path,) = outdir.glob("asset.*/playaudio/catalogs/PromptFiles-*.json")
    document = json.loads(path.read_text(encoding="utf-8"))
    assert len(document["prompts"]) == count, (path, len(document["prompts"]))
    assert document["languages"] == list(LANGUAGES), document["languages"]


def _cold_start(tmp: Path, python: str, rounds: int) -> Section:
    part = Section(TITLE)
    asset = make_asset(tmp / "cold", RUNTIME_DIR, [], python, pyc=False)
    envs = {count: child_env(tmp, count - SMALL) for count in (SMALL, LARGE)}
    _check_answers(python, asset, envs)
    # (case, variant) -> (command, env); variants: the two interpreters of section 1, and
    # the bare one ending in os._exit(0): without the interpreter's teardown at exit.
    commands: dict[tuple[str, str], tuple[list[str], dict[str, str]]] = {}
    for variant in VARIANTS:
        preload, ending = variant != "bare interpreter", "\nimport os\nos._exit(0)"
        floor = driver(asset, None, preload) + (ending if variant == NO_EXIT else "")
        ours = driver(asset, OURS, preload) + (ending if variant == NO_EXIT else "")
        commands[("floor", variant)] = ([python, "-c", floor], envs[SMALL])
        for count in envs:
            commands[(str(count), variant)] = ([python, "-c", ours], envs[count])
    log(f"catalog cold start: {len(commands)} interpreters per round, {rounds} rounds")
    cpu: dict[str, list[float]] = {repr(key): [] for key in commands}
    cases = {repr(key): runner(cmd, env, cpu[repr(key)]) for key, (cmd, env) in commands.items()}
    walls = alternate(cases, rounds)

    def over_floor(values: dict[str, list[float]], count: int, variant: str, skip: int) -> Sample:
        def ms(case: str) -> Sample:
            return Sample("ms", [v * 1000 for v in values[repr((case, variant))][skip:]])

        return ms(str(count)).shifted(ms("floor").median)

    differences, paired = {}, []
    for variant in VARIANTS:
        small, large = (over_floor(walls, count, variant, 0) for count in (SMALL, LARGE))
        cpu_small, cpu_large = (over_floor(cpu, count, variant, 1) for count in (SMALL, LARGE))
        difference = differences[variant] = large.median - small.median
        # Within a round the two ran moments apart: the median of those differences.
        pairs = zip(large.values, small.values, strict=True)
        paired.append(f"{variant} {statistics.median(a - b for a, b in pairs):+.1f} ms")
        log(f"cold start, {variant}: {LARGE:,} {large.text(1)}; {SMALL} {small.text(1)}")
        if variant == NO_EXIT:
            continue
        part.rows.append(
            Row(
                TITLE,
                f"cold start, {LARGE:,}-prompt catalog vs {SMALL}: {variant}, .py only",
                f"{LARGE:,} prompts {large.text(1)} over the floor",
                reference=f"{SMALL} prompts {small.text(1)}",
                ratio=f"{difference:+.1f} ms (CPU {cpu_large.median - cpu_small.median:+.1f} ms)",
                target=f"<= {TARGET_COLD_MS:g} ms more",
                verdict=verdict_at_most(difference, TARGET_COLD_MS, "ms"),
            )
        )
    steps = _load_steps(python, asset, envs, rounds)
    large_size = Path(envs[LARGE]["PROMPT_CATALOG"]).stat().st_size
    part.notes += [
        f"Cold start: section 1's driver and floor, {shown(python)}, the handler's sources "
        f"only (.py, as shipped); catalogs of {SMALL} prompts and of {LARGE:,} "
        f"(bench/sma_events.py: {LARGE - SMALL:,} more in nested folders with long names, "
        f"{large_size / 1024:,.0f} KiB); {rounds} rounds, the floors and both catalogs "
        "rotating, one warm-up round. The difference column is the "
        f"{LARGE:,}-prompt median minus the {SMALL}-prompt one, wall time, with the CPU time "
        "(user+system) difference beside it.",
        f"The same bare runs ending in os._exit(0) (measured in the same rounds, floor "
        f"likewise): {differences[NO_EXIT]:+.1f} ms; the bare difference minus this one, "
        f"{differences[VARIANTS[0]] - differences[NO_EXIT]:+.1f} ms, estimates what freeing "
        "the catalog at the interpreter's exit costs, which a Lambda cold start never pays.",
        "The median of the per-round differences (each round runs both catalogs moments "
        "apart, so a slow minute of the machine moves both): " + "; ".join(paired) + ".",
        f"Where a first load of each catalog goes (fresh interpreter, `catalog.load`'s steps "
        f"timed one by one, median of {rounds} interpreters each, alternating): {steps}.",
    ]
    return part


def _check_answers(python: str, asset: Path, envs: dict[int, dict[str, str]]) -> None:
    """Each catalog's handler loads all its prompts and answers as the other does."""
    answers = {}
    for count, env in envs.items():
        program = driver(asset, OURS, False, show=True)
        program += "\nprint(len(handler_module.CONFIG.catalog))"
        done = subprocess.run(
            [python, "-c", program], env=env, capture_output=True, text=True, check=True
        )
        *_, answer, loaded = done.stdout.strip().splitlines()  # after the metrics line
        assert int(loaded) == count, (count, loaded)
        answers[count] = ast.literal_eval(answer)
    assert answers[SMALL] == answers[LARGE], answers
    assert answers[SMALL]["Actions"][0]["Type"] == "PlayAudio", answers[SMALL]


def _load_steps(python: str, asset: Path, envs: dict[int, dict[str, str]], rounds: int) -> str:
    """The median milliseconds of each load step per catalog, as one line of text."""
    timings: dict[int, list[list[float]]] = {count: [] for count in envs}

    def case(count: int) -> float:
        path = envs[count]["PROMPT_CATALOG"]
        program = _LOAD_PROGRAM.format(asset=str(asset), path=path, count=count)
        done = subprocess.run(
            [python, "-c", program], env=envs[count], capture_output=True, text=True, check=True
        )
        values = [float(word) for word in done.stdout.split()]
        timings[count].append(values)
        return sum(values[:-1])

    alternate({str(count): (lambda count=count: case(count)) for count in envs}, rounds)
    texts = []
    for count, runs in timings.items():
        runs = runs[1:]  # the warm-up
        medians = [statistics.median(run[step] for run in runs) * 1000 for step in range(4)]
        collections = statistics.median(run[4] for run in runs)
        steps = ", ".join(
            f"{name} {value:.2f}" for name, value in zip(LOAD_STEPS, medians, strict=True)
        )
        texts.append(
            f"{count:,} prompts: {steps} ms (total {sum(medians):.2f} ms; "
            f"{collections:.0f} GC collections during the scan)"
        )
    return "; ".join(texts)


def _per_event(tmp: Path, python: str, children: int, rounds: int, batch: int) -> Section:
    part = Section(TITLE)
    asset = make_asset(tmp / "event", RUNTIME_DIR, [], python, pyc=True)
    envs = {count: child_env(tmp, count - SMALL) for count in (SMALL, LARGE)}
    options = ["--events", ",".join(EVENTS)]
    runs: dict[int, list[dict[str, dict[str, list[float]]]]] = {count: [] for count in envs}
    log(f"catalog per-event: {children} children per catalog, {rounds} rounds of {batch} calls")
    order = list(envs)
    for index in range(children):
        for count in order if index % 2 == 0 else order[::-1]:
            runs[count].append(run_child(python, asset, rounds, batch, envs[count], options))
    child_notes = []
    for event in EVENTS:
        samples = {
            count: Sample("us", [value for run in runs[count] for value in run[event]["ours"]])
            for count in envs
        }
        child_medians = {
            count: [statistics.median(run[event]["ours"]) for run in runs[count]] for count in envs
        }
        noise = max(child_medians[SMALL]) - min(child_medians[SMALL])
        small, large = samples[SMALL], samples[LARGE]
        difference = large.median - small.median
        verdict = (
            f"holds ({difference:+.1f} us; noise {noise:.1f} us)"
            if difference <= noise
            else f"MISSES: {difference:+.1f} us, beyond the noise ({noise:.1f} us)"
        )
        part.rows.append(
            Row(
                TITLE,
                f"per event, warm, {LARGE:,}-prompt catalog: {event}",
                large.text(1),
                reference=f"{SMALL} prompts {small.text(1)}",
                ratio=f"{LARGE:,}/{SMALL} {large.median / small.median:.2f}x",
                target="unchanged within noise",
                verdict=verdict,
            )
        )
        child_notes.append(
            f"{event} "
            + ", ".join(
                f"{count:,}: " + " / ".join(f"{m:.1f}" for m in medians)
                for count, medians in child_medians.items()
            )
        )
    part.notes += [
        f"Per event: section 2's child (bench/per_event.py: byte-compiled handler, the "
        f"runtime's JSON log handler and stdout on /dev/null), {children} child processes "
        f"per catalog, the catalogs alternating, each {rounds} rounds of {batch} calls per "
        "event (one warm-up round); each figure is over all batches of all children of that "
        f"catalog. CALL_UPDATE_REQUESTED asks for a prompt by name ('goodbye'). Noise: the "
        f"spread (max - min) of the {SMALL}-prompt children's medians, the same catalog in "
        "separate processes; 'unchanged' means the difference of the medians is no larger. "
        "Each child's median, us: " + "; ".join(child_notes) + ".",
    ]
    return part


if __name__ == "__main__":
    start = time.perf_counter()
    print(run({10: 1, 1000: 1, LARGE: 1}, 5, 2, 2, 500), file=sys.stderr)
    print(f"{time.perf_counter() - start:.0f} s", file=sys.stderr)
