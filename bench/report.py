"""The results table (stdout) and BENCHMARKS.md: machine, method, table, notes, changes."""

from __future__ import annotations

import subprocess

from bench.common import ROOT, Section

COLUMNS = ("benchmark", "ours: median (min-max)", "reference", "ratio", "target", "verdict")

METHOD = """\
- Every figure is the **median** over repeated runs, with the **min and max** in
  brackets. Where there is a reference it is measured **in the same run**, the
  subject and the reference **alternating** (the order rotated every round, after
  an untimed warm-up round), and the ratio is the ratio of the two medians.
- The machine is shared (other work runs on the same 2 cores), so single runs
  swing widely; medians of alternating runs are what to compare. Cold starts also
  report CPU time (user+system of the child), which competition for the cores
  hardly moves.
- Benchmarks print figures and never assert a time bound. The machine-independent
  facts (bytes read by the WAV check, files transcoded on a cached re-synth) are
  asserted by `bench/test_facts.py`, which `make test` runs.
- `make bench` runs `python -m bench` (`python -m bench --help`: `--only`,
  `--quick`). The Powertools reference lives in its own venv, `.tools/powertools/`,
  installed from `tools/powertools.lock`; sox comes from Debian's package."""

CHANGES = """\
**Handler cold start** (`constructs_pkg/runtime/handler.py`). A bare cold import
spent about two thirds of its time importing `json`, which imports `re`, `enum`,
`functools` and more, only to parse its prompt list (then the `PROMPTS_MANIFEST`
variable, now the catalog file `PROMPT_CATALOG` names). It is now parsed
by the C scanner that `json.loads` itself uses (`_json.make_scanner` with
`json.loads`' default settings); anything it does not accept (a syntax error, a
BOM, trailing data, an interpreter without `_json`) goes to `json.loads`, so
results and error messages are json's exactly (checked against `json.loads` on
generated documents, valid and broken). The happy path now imports neither `json`
nor `logging`. In Lambda both are already imported by the runtime, so this gains
nothing there; it is what the issue's "fresh interpreter" measures.

**Per-event latency** (`constructs_pkg/runtime/actions.py`, `handler.py`). The
builders and `response()` validate every action with one rule table, and did so
by building the full field path (`"Actions[0].Parameters.AudioSource"`) for every
parameter before checking it. Checkers are pure, so each value is now checked with
its short name and the path is built only to word an error; a valid AudioSource
and a valid digit list take a fast path before the detailed checks; the
TransactionAttributes size is JSON-encoded only when a cheap upper bound (6 bytes
a character) does not already fit in 20,000 bytes; the handler's logger is looked
up once, and each prompt's AudioSource is validated once per configuration (a copy
is returned each call). Error messages are unchanged (validate_response compared
with the previous version on generated responses, valid and invalid).

**Normalization** (`constructs_pkg/audio/normalize.py`). `block.mean(axis=1)` on a
(frames, 2) float32 block is a slow strided reduction: it took about a third of a
stereo file's time. Below 8 channels the mixdown now adds the channel columns
left to right and divides, the same float32 operations in the same order as
numpy's mean (bit-identical, checked on random, extreme and special values), so
cached files and asset hashes do not change and NORMALIZER_VERSION stays.

**Still missed: ACTION_FAILED at 30 us.** Without its log line the handler
answers ACTION_FAILED in about 18 us (section 2's notes); the one structured ERROR
line (message, errorType, errorMessage, the failed action with its parameters,
callId, transactionId, recovery: what the README and tests/runtime specify) costs
about 45 us more through the Lambda runtime's JSON formatter, and even a bare
one-line record costs about 20 us there. Meeting 30 us would mean logging less on
a failed action; that is a product decision, not a speed-up, so it is left as is.
Powertools' handler takes about twice as long for the same event.

**Call metrics cost** (`constructs_pkg/runtime/metrics.py`, `handler.py`). The
handler now writes one EMF line per counted event (section 2's notes). Measured
side by side: the runtime of the commit before the metrics (ed8daa0) and the new
one imported into one child process (section 2's set-up: byte-compiled, JSON log
handler and stdout on /dev/null), alternating, 25 rounds of 1,000 calls, median
(min-max) on the quietest of three runs (the load average was about 4 on 2 cores):
NEW_INBOUND_CALL 9.1 (9.0-16.3) us before, 13.5 (13.1-23.6) us after (+4.4 us;
+4.4 to +7.4 over the three runs); ACTION_SUCCESSFUL 4.6 to 4.8 us (+0.2);
ACTION_FAILED 34.3 (31.4-57.4) us to 41.8 (37.6-72.6) us (+7.6; +3.8 to +7.7);
HANGUP 2.3 to 2.7 us (+0.4). The other two events pay only for deciding that
nothing is counted. Kept small by building each line from a template checked
once per record shape (namespace, metric names, dimension names), so a call
formats a timestamp and quotes its dimension values; no `json` import. The 30 us
target still holds for NEW_INBOUND_CALL; ACTION_FAILED, already over it because
of its log line (above), moves further over by the same few microseconds.

**Not changed yet, proposed** (synth overhead, found while measuring the call
metrics; each is a change to `compliance/` or `prompts.py` of its own):
1. Done: `compliance/nag.py` keeps what it acknowledged in Python (by the resource's
   jsii reference) instead of reading the construct's metadata back, one round trip
   per entry, O(k^2); a batch of acknowledgments is one `Validations.acknowledge`
   call, with the same metadata. PlayAudioStack's round trips went from 2,938 to 453
   (section 3's profile, median of 3 each).
2. `BucketDeployment` brings aws-cdk-lib's AWS CLI layer: jsii loads the
   `asset-awscli-v1` assembly on import (about 0.2 s) and every fresh cloud assembly
   gets a 21 MB layer zip, fingerprinted and copied (and uploaded on deploy). A small
   custom-resource handler that copies the staged prompts with boto3 and sets
   `ContentType: audio/wav` would drop the layer and the findings acknowledged on the
   deployment handler; the cost is a handler this project must own and test.
3. aws-cdk-lib's built-in CloudFormation validation (the `@aws/cloudformation-validate`
   WASM engine, on by default; cdk.json also sets
   `@aws-cdk/core:validateAgainstDefaultRules`) is the largest single item in both
   synths' Node CPU profile (`NODE_OPTIONS=--cpu-prof`, one run: about 1.8 s for
   PlayAudioStack, 1.0 s for the plain bucket): a fixed start-up plus checks that grow
   with the template. It is the app's choice (`App(builtin_cloud_formation_validation=False)`,
   `cdk synth --no-validation` or `CDK_VALIDATION=false`), not the constructs'; worth
   keeping, worth knowing.
4. Growth with the prompt count is small without normalization (checking, and one
   copy per prompt, hashed as it is copied, so the staging folder is not fingerprinted
   again); with it, a cold synth pays
   the transcodes once and a cached re-synth transcodes nothing (section 3's rows).
"""


def table(rows: list[list[str]]) -> str:
    """A Markdown table (readable as plain text too)."""
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "|".join("---" for _ in COLUMNS) + "|"]
    for row in rows:
        lines.append("| " + " | ".join(cell.replace("|", "/") for cell in row) + " |")
    return "\n".join(lines)


def rows_of(sections: list[Section]) -> list[list[str]]:
    out = []
    for section in sections:
        number = section.title.split(".")[0]
        for row in section.rows:
            out.append(
                [
                    f"{number}. {row.name}",
                    row.subject,
                    row.reference,
                    row.ratio,
                    row.target,
                    row.verdict,
                ]
            )
    return out


def missed(sections: list[Section]) -> str:
    """One line: which targets this run missed (or that none was)."""
    misses = [
        f"{section.title.split('.')[0]}. {row.name} ({row.verdict})"
        for section in sections
        for row in section.rows
        if "MISSES" in row.verdict or row.subject.startswith("FAILED")
    ]
    if not misses:
        return "Every target held in this run."
    return "Missed or failed in this run: " + "; ".join(misses) + "."


def commit() -> str:
    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)
        return done.stdout.strip()

    head = git("rev-parse", "--short", "HEAD") or "unknown"
    dirty = " with uncommitted changes" if git("status", "--porcelain") else ""
    return head + dirty


def markdown(
    sections: list[Section],
    machine: dict[str, str],
    load_after: str,
    seconds: float,
    started: str,
    arguments: str,
) -> str:
    parts = [
        "# Benchmarks",
        "",
        "Written by `make bench` (`python -m bench"
        + (f" {arguments}" if arguments else "")
        + f"`); this run started {started} at commit {commit()} and took "
        f"{seconds / 60:.1f} minutes.",
        "",
        "## Machine",
        "",
        f"- Cores: {machine['cores']} ({machine['cpu']})",
        f"- OS: {machine['os']}",
        f"- Python: {machine['python']}",
        f"- Node: {machine['node']}",
        f"- Load average (1/5/15 min): {machine['load']} at the start, {load_after} at the end",
        "",
        "## Method",
        "",
        METHOD,
        "",
        "## Results",
        "",
        table(rows_of(sections)),
        "",
        missed(sections),
        "",
    ]
    for section in sections:
        parts += [f"### {section.title}", ""]
        parts += [f"- {note}" for note in section.notes]
        parts += [f"- Took {section.seconds:.0f} s.", ""]
    parts += ["## What was changed to reach the targets", "", CHANGES, ""]
    return "\n".join(parts)
