"""7. Deploy rehearsal: a catalog of thousands of prompts through the real deployment handler.

Runs the large case of tests/rehearsal/test_large_catalog.py under pytest, from the
repo root, with REHEARSAL_PROMPT_COUNTS set to the count: synth, publish, the
BucketDeployment handler's Create against the local S3, every object read back, then
a changed catalog's Update and a second read-back. The figures are the wall times the
test itself recorded for each step (its user properties, read from a JUnit XML report),
so pytest's start-up and the test's fixtures are not in them. `make test` runs the same
test at its default size (500 prompts).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ElementTree
from pathlib import Path

from bench.common import ROOT, VENV_BIN, Row, Sample, Section, log, tool_env

TEST_FILE = "tests/rehearsal/test_large_catalog.py"
TEST_NAME = "test_a_large_catalog_lands_whole_and_a_changed_one_removes_nothing"
COUNTS_VARIABLE = "REHEARSAL_PROMPT_COUNTS"
SECONDS = "seconds: "
UPLOADS = "uploads: "


def run_once(count: int, report: Path) -> dict[str, str]:
    """One pytest run of the rehearsal at ``count`` prompts; the test's user properties."""
    node = f"{TEST_FILE}::{TEST_NAME}[{count}]"
    # xunit1: the JUnit flavour that carries a test's user properties.
    report_options = [f"--junitxml={report}", "-o", "junit_family=xunit1"]
    done = subprocess.run(
        [str(VENV_BIN / "python"), "-m", "pytest", node, "-p", "no:cacheprovider", *report_options],
        cwd=ROOT,
        env=tool_env(**{COUNTS_VARIABLE: str(count)}),
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        tail = (done.stdout + done.stderr).strip().splitlines()[-15:]
        raise RuntimeError(f"pytest {node} exited {done.returncode}:\n" + "\n".join(tail))
    cases = ElementTree.parse(report).getroot().iter("testcase")
    properties = [
        {item.get("name", ""): item.get("value", "") for item in case.iter("property")}
        for case in cases
    ]
    ran = [found for found in properties if found.get("prompts") == str(count)]
    if len(ran) != 1:
        raise RuntimeError(
            f"pytest {node} passed but its report holds {len(ran)} runs of {count} prompts; "
            "expected 1 (was the test renamed?)"
        )
    return ran[0]


def run(count: int, rounds: int) -> Section:
    section = Section("7. Deploy rehearsal")
    samples: dict[str, Sample] = {}
    uploads: dict[str, set[str]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-rehearsal-") as tmp:
        for index in range(rounds):
            log(f"rehearsal of {count:,} prompts: run {index + 1} of {rounds}")
            properties = run_once(count, Path(tmp) / f"report{index}.xml")
            for name, value in properties.items():
                if name.startswith(SECONDS):
                    samples.setdefault(name.removeprefix(SECONDS), Sample("s")).values.append(
                        float(value)
                    )
                elif name.startswith(UPLOADS):
                    uploads.setdefault(name.removeprefix(UPLOADS), set()).add(value)
    for index, (step, sample) in enumerate(samples.items()):
        section.rows.append(
            Row(
                section.title,
                f"{count:,} prompts: {step}",
                sample.text(1),
                target="report",
                verdict="" if index else "passed: every key, its bytes and audio/wav",
            )
        )
        log(f"{count:,} prompts: {step} {sample.text(1)}")
    second = uploads.get("second deploy", set())
    every_prompt = (
        " The second deploy uploaded every prompt of the changed catalog, unchanged ones "
        "too: the handler extracts the zip afresh, so every local file is newer than its "
        "object; in a versioned bucket each deploy adds a version of each prompt."
        if second == {str(count)}
        else ""
    )
    section.notes += [
        f"{rounds} run(s) of `{TEST_FILE}` at {count:,} prompts ({COUNTS_VARIABLE}={count}), "
        "the wall time of each step as the test recorded it; no target, no reference. "
        "Synth is PromptBucket + WavPrompts alone (tiny 8 kHz mono PCM prompts, two "
        "language folders, names up to 150 characters, up to four folders deep), the "
        "first synth of the run paying for the jsii kernel's start; publish zips the "
        "staged folder and puts it in the stand-in asset bucket; each deploy is one "
        "request to aws-cdk-lib's handler, whose `aws s3 sync` (AWS CLI v1) writes to "
        "moto's S3, which runs inside the pytest process; read-back lists the bucket "
        "(paged) and GETs every object.",
        "Objects `aws s3 sync` uploaded, by deploy (the changed catalog has as many "
        "prompts as the first): "
        + "; ".join(f"{deploy} {', '.join(sorted(n))}" for deploy, n in uploads.items())
        + "."
        + every_prompt,
    ]
    return section


if __name__ == "__main__":
    print(run(int(sys.argv[1]) if len(sys.argv) > 1 else 5000, 1), file=sys.stderr)
