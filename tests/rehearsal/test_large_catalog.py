"""Deploy rehearsal at scale: thousands of prompts, every key, byte and type read back.

A generated catalog (two language folders, names up to 150 characters with spaces,
dashes, dots and accented letters, up to four folders deep) is synthesized with
PromptBucket + WavPrompts in a stack of its own, deployed by aws-cdk-lib's real
BucketDeployment handler against the local S3 (conftest.py), then deployed again
changed (prompts added, removed and re-recorded) with prune off, the default.

The default size runs in every `make test`; more sizes run when named in the
environment variable REHEARSAL_PROMPT_COUNTS (`make bench` runs 5,000). Each step's
wall time is printed (`pytest -s`), kept as the test's user properties (JUnit XML) and
shown at the end of every run (conftest.py); nothing asserts a time.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import aws_cdk as cdk
import pytest

from constructs_pkg import PromptBucket, WavPrompts
from tests.audio import wavgen
from tests.rehearsal.cloudformation import ACCOUNT, REGION, Assembly
from tests.rehearsal.stage import FIGURES_PROPERTY, Deployment, Rehearsal

PREFIX = "prompts/"
STACK = "LargeCatalog"
DEFAULT_COUNT = 500
COUNTS_VARIABLE = "REHEARSAL_PROMPT_COUNTS"
LANGUAGES = ("en-US", "es-US")
MAX_NAME_CHARS = 150
WORDS = (
    "Bienvenida",
    "menú principal",
    "opción",
    "café-bar",
    "información",
    "v2.1",
    "después de horas",
    "re-try",
    "Señal",
    "naïve",
    "billing.and.payments",
    "À la carte",
)
FOLDERS = (
    "Main Menu - Menú Principal",
    "after.hours",
    "Atención al Cliente",
    "billing & pagos",
    "Réseau - voix 2.0",
    "holiday-schedule.2026",
)


def prompt_counts(text: str | None) -> list[int]:
    """The catalog sizes to rehearse: the default, plus those named in ``text`` ("5000")."""
    counts = [DEFAULT_COUNT]
    for word in (text or "").replace(",", " ").split():
        if not word.isdigit() or not 10 <= int(word) <= 100_000:
            raise ValueError(
                f"{COUNTS_VARIABLE} is {text!r}; found {word!r}, expected prompt counts "
                "from 10 (a tenth of them changed) to 100000, separated by commas or spaces: '5000'"
            )
        if int(word) not in counts:
            counts.append(int(word))
    return counts


def prompt_path(index: int) -> str:
    """Where prompt ``index`` lives: a language folder, 0 to 3 folders, a long name."""
    language = LANGUAGES[index % len(LANGUAGES)]
    depth = (index // 2) % 4
    folders = [FOLDERS[(index // 8 + level) % len(FOLDERS)] for level in range(depth)]
    length = 20 + (index * 37) % (MAX_NAME_CHARS - 19)  # 20 to 150 characters
    name = f"{index:05d}"
    word = 0
    while len(name) < length:
        name += f" {WORDS[(index + word) % len(WORDS)]}"
        word += 1
    suffix = ".WAV" if index % 50 == 1 else ".wav"
    stem = name[: length - len(suffix)].rstrip(" .-")
    return "/".join([language, *folders, stem + suffix])


def prompt_bytes(index: int, take: int = 0) -> bytes:
    """A valid 8 kHz mono PCM WAV of 40 to 200 frames whose bytes name ``index`` and ``take``."""
    frames = 40 + (index * 13) % 161
    pattern = index.to_bytes(4, "little") + take.to_bytes(4, "little")
    samples = (pattern * frames)[: frames * 2]
    return wavgen.riff(wavgen.fmt(), wavgen.chunk(b"data", samples))


def expected_key(path: str) -> str:
    """The key `aws s3 sync` gives a prompt: the prefix, its path, a lower-case .wav."""
    return PREFIX + str(PurePosixPath(path).with_suffix(".wav"))


@dataclass(frozen=True)
class Catalog:
    """Prompt files by path in the source folder: their bytes."""

    files: dict[str, bytes]

    @classmethod
    def generated(cls, count: int) -> Catalog:
        return cls({prompt_path(index): prompt_bytes(index) for index in range(count)})

    def changed(self) -> tuple[Catalog, Change]:
        """This generated catalog with a tenth of its prompts removed, a tenth re-recorded
        (other bytes) and a tenth added."""
        count = len(self.files)
        removed = {prompt_path(i) for i in range(count) if i % 10 == 3}
        rerecorded = {prompt_path(i): prompt_bytes(i, take=1) for i in range(count) if i % 10 == 7}
        added = {prompt_path(i): prompt_bytes(i) for i in range(count, count + count // 10)}
        kept = {path: body for path, body in self.files.items() if path not in removed}
        change = Change(removed, set(rerecorded), set(added))
        return Catalog({**kept, **rerecorded, **added}), change

    def write(self, folder: Path) -> Path:
        for path, body in self.files.items():
            wavgen.write(folder / path, body)
        return folder

    def objects(self) -> dict[str, bytes]:
        """What must land: each prompt at its deployed key, byte for byte."""
        return {expected_key(path): body for path, body in self.files.items()}


@dataclass(frozen=True)
class Change:
    removed: set[str]
    rerecorded: set[str]
    added: set[str]


def differences(
    expected: dict[str, bytes],
    landed: dict[str, tuple[str, bytes]],
    content_type: str = "audio/wav",
    shown: int = 5,
) -> list[str]:
    """Each way ``landed`` is not exactly ``expected`` as ``content_type``, a few of each kind."""
    missing = sorted(set(expected) - set(landed))
    unexpected = sorted(set(landed) - set(expected))
    common = sorted(set(expected) & set(landed))
    wrong_type = [key for key in common if landed[key][0] != content_type]
    wrong_bytes = [key for key in common if landed[key][1] != expected[key]]
    kinds: list[tuple[str, list[str], Callable[[str], str]]] = [
        ("missing", missing, lambda key: key),
        ("unexpected", unexpected, lambda key: key),
        (
            "with another Content-Type",
            wrong_type,
            lambda key: f"{key}: {landed[key][0]!r}, expected {content_type!r}",
        ),
        (
            "with other bytes",
            wrong_bytes,
            lambda key: f"{key}: {len(landed[key][1])} bytes, expected {len(expected[key])}",
        ),
    ]
    found: list[str] = []
    for kind, keys, describe in kinds:
        if keys:
            more = f" (and {len(keys) - shown} more)" if len(keys) > shown else ""
            found.append(f"{len(keys)} keys {kind}{more}: {[describe(k) for k in keys[:shown]]}")
    return found


def assert_landed(expected: dict[str, bytes], landed: dict[str, tuple[str, bytes]]) -> None:
    """Exactly ``expected`` landed, each as audio/wav; else every kind of difference, whole."""
    problems = differences(expected, landed)
    assert not problems, "\n".join(problems)


def test_differences_names_every_kind_of_mismatch() -> None:
    """The rehearsal's checker can fail: a missing, an extra, a retyped, a changed object."""
    expected = {"a.wav": b"A", "b.wav": b"B", "c.wav": b"C"}
    landed = {
        "a.wav": ("audio/wav", b"A"),
        "b.wav": ("audio/x-wav", b"B"),
        "c.wav": ("audio/wav", b"CC"),
        "z.wav": ("audio/wav", b"Z"),
    }
    assert differences(expected, {k: ("audio/wav", v) for k, v in expected.items()}) == []
    assert differences(expected, landed) == [
        "1 keys unexpected: ['z.wav']",
        "1 keys with another Content-Type: [\"b.wav: 'audio/x-wav', expected 'audio/wav'\"]",
        "1 keys with other bytes: ['c.wav: 2 bytes, expected 1']",
    ]
    assert differences({**expected, "d.wav": b"D"}, landed)[0] == "1 keys missing: ['d.wav']"


def test_prompt_counts_reads_the_environment_variable() -> None:
    assert prompt_counts(None) == [DEFAULT_COUNT]
    assert prompt_counts("5000") == [DEFAULT_COUNT, 5000]
    assert prompt_counts(f"5000, 2000 {DEFAULT_COUNT}") == [DEFAULT_COUNT, 5000, 2000]
    with pytest.raises(ValueError, match=r"REHEARSAL_PROMPT_COUNTS is '5k'; found '5k'"):
        prompt_counts("5k")
    with pytest.raises(ValueError, match=r"is '5000 9'; found '9', expected prompt counts"):
        prompt_counts("5000 9")


def test_the_generated_catalog_has_the_shapes_it_promises() -> None:
    catalog = Catalog.generated(DEFAULT_COUNT)
    paths = list(catalog.files)
    assert len(set(catalog.objects())) == len(set(catalog.files.values())) == DEFAULT_COUNT
    languages = [path.split("/")[0] for path in paths]
    assert {language: languages.count(language) for language in LANGUAGES} == {
        "en-US": DEFAULT_COUNT // 2,
        "es-US": DEFAULT_COUNT // 2,
    }
    assert max(path.count("/") for path in paths) == 4  # the language and three folders
    names = [PurePosixPath(path).name for path in paths]
    assert max(len(name) for name in names) == MAX_NAME_CHARS
    assert any(" " in n and "-" in n and "é" in n and n.count(".") > 1 for n in names)
    assert any(name.endswith(".WAV") for name in names)
    frames = {(len(body) - 44) // 2 for body in catalog.files.values()}
    assert (min(frames), max(frames)) == (40, 200)


def test_the_changed_catalog_removes_rerecords_and_adds_a_tenth_each() -> None:
    first = Catalog.generated(DEFAULT_COUNT)
    second, change = first.changed()
    tenth = DEFAULT_COUNT // 10
    assert (len(change.removed), len(change.rerecorded), len(change.added)) == (tenth,) * 3
    assert not change.removed & set(second.files)
    assert not change.added & set(first.files)
    assert all(second.files[path] != first.files[path] for path in change.rerecorded)
    unchanged = set(first.files) - change.removed - change.rerecorded
    assert all(second.files[path] == first.files[path] for path in unchanged)
    assert len(set(second.files.values())) == len(second.files)


@dataclass
class Timings:
    """Wall seconds of each step, in the order they ran, each kept as a user property."""

    record_property: Callable[[str, object], None]
    seconds: dict[str, float] = field(default_factory=dict)

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        yield
        self.seconds[name] = time.perf_counter() - start
        self.record_property(f"seconds: {name}", round(self.seconds[name], 2))


def synth(make_bare_app: Callable[..., cdk.App], folder: Path, outdir: Path) -> WavPrompts:
    """PromptBucket + WavPrompts of ``folder``, alone in a stack: no handler, no manifest."""
    app = make_bare_app(outdir=str(outdir))
    stack = cdk.Stack(app, STACK, env=cdk.Environment(account=ACCOUNT, region=REGION))
    prompts = WavPrompts(
        stack, "PromptFiles", prompt_bucket=PromptBucket(stack, "Prompts"), source_dir=folder
    )
    app.synth()
    return prompts


def deploy(
    rehearsal: Rehearsal, request_type: str, deployment: Deployment, **event: Any
) -> tuple[dict[str, Any], int]:
    """One request within Lambda's time limit (a large sync outlasts the small rehearsals'
    bounds); the response, and how many objects the CLI said it uploaded."""
    rehearsal.cli.clear()
    response = rehearsal.send(
        request_type, deployment, time_limit_s=deployment.lambda_timeout_s, **event
    )
    assert response["Status"] == "SUCCESS", response["Reason"]
    return response, sum(output.count("upload: ") for output in rehearsal.cli.outputs)


@pytest.mark.parametrize("count", prompt_counts(os.environ.get(COUNTS_VARIABLE)))
def test_a_large_catalog_lands_whole_and_a_changed_one_removes_nothing(
    rehearsal: Rehearsal,
    make_bare_app: Callable[..., cdk.App],
    tmp_path: Path,
    record_property: Callable[[str, object], None],
    count: int,
) -> None:
    record_property("prompts", count)
    timings = Timings(record_property)
    first = Catalog.generated(count)
    second, _ = first.changed()
    with timings.step("synth"):
        prompts = synth(make_bare_app, first.write(tmp_path / "v1"), tmp_path / "v1.out")
    with timings.step("synth (changed)"):
        synth(make_bare_app, second.write(tmp_path / "v2"), tmp_path / "v2.out")
    assert {prompt.key for prompt in prompts.prompts.values()} == set(first.objects())

    with timings.step("publish"):
        deployment = rehearsal.prepare(Assembly(tmp_path / "v1.out", STACK))
    with timings.step("first deploy"):
        created, first_uploads = deploy(rehearsal, "Create", deployment)
    assert first_uploads == count
    with timings.step("read-back"):
        landed = rehearsal.objects()
    assert_landed(first.objects(), landed)

    with timings.step("publish (changed)"):
        changed = rehearsal.prepare(Assembly(tmp_path / "v2.out", STACK))
    assert changed.properties["SourceObjectKeys"] != deployment.properties["SourceObjectKeys"]
    physical_id = created["PhysicalResourceId"]
    with timings.step("second deploy"):
        _, second_uploads = deploy(
            rehearsal, "Update", changed, old=deployment, physical_id=physical_id
        )
    with timings.step("read-back (changed)"):
        landed = rehearsal.objects()
    # Prune is off: every prompt of the first catalog stays (the removed ones too, which
    # a handler still on the first catalog may play); the re-recorded ones are replaced.
    assert_landed({**first.objects(), **second.objects()}, landed)

    figures = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in timings.seconds.items())
    summary = (
        f"{count} prompts: {figures}; `aws s3 sync` uploaded {first_uploads} objects on the "
        f"first deploy, {second_uploads} on the second ({len(second.files)} prompts)"
    )
    print(f"\n{summary}")
    record_property("uploads: first deploy", first_uploads)
    record_property("uploads: second deploy", second_uploads)
    record_property(FIGURES_PROPERTY, summary)
