"""Real catalogs, end to end through the CDK CLI and the call simulator.

- The sample app (app.py) with a 5,000-prompt, two-language folder of the user's,
  nested and with long names, chosen by context as a user would: it synthesizes with
  every compliance pack, and a simulated call on a Spanish number hears the Spanish
  welcome, on any other number the English one.
- examples/play_by_name, copied out of the repo: the user's own function plays prompts
  by name in the caller's language, with no S3 key written by hand.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from playaudio_sim.cli import main as simulator
from tests.audio import wavgen
from tests.cli import ROOT, cli_synth, keys_heard

PROMPTS_PER_LANGUAGE = 2500
SPANISH_NUMBER = "+12065550123"
LONG = "por favor permanezca en la línea - please stay on the line - " * 2


def two_language_folder(root: Path) -> Path:
    """5,000 prompts: en-US and es-US, each with welcome and error, the rest nested
    three folders deep with long names; es-US lacks one prompt en-US has."""
    for language in ("en-US", "es-US"):
        names = ["welcome", "error"] + [
            f"dept {i % 25:02}/menu-{i % 9}/option {i:05} {LONG[: 40 + i % 60]}".rstrip()
            for i in range(PROMPTS_PER_LANGUAGE - 2)
        ]
        if language == "es-US":
            names[-1] = "solo-es"
        for index, name in enumerate(names):
            wavgen.write(root / language / f"{name}.wav", wavgen.pcm(frames=1 + index % 7))
    return root


def heard(cdk_out: Path, out: Path, *options: str) -> list[str]:
    """The keys a simulated call hears, in order."""
    status = simulator(["call", "--cdk-out", str(cdk_out), "--out", str(out), "-q", *options])
    assert status == 0, (out / "transcript.jsonl").read_text()
    return keys_heard(out)


@pytest.fixture(scope="module")
def large_sample_app(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("large-catalog")
    folder = two_language_folder(tmp / "prompts")
    outdir = tmp / "cdk.out"
    context = {
        "promptsDir": str(folder),
        "languages": "en-US,es-US",
        "languageByNumber": json.dumps({SPANISH_NUMBER: "es-US"}),
    }
    done = cli_synth(".venv/bin/python app.py", ROOT, outdir, context, tmp)
    assert done.returncode == 0, done.stderr[-4000:]
    return outdir


def test_the_sample_app_synthesizes_five_thousand_prompts_in_two_languages(
    large_sample_app: Path,
) -> None:
    (catalog,) = large_sample_app.glob("asset.*/playaudio/catalogs/PromptFiles-*.json")
    document = json.loads(catalog.read_text(encoding="utf-8"))
    assert len(document["prompts"]) == 2 * PROMPTS_PER_LANGUAGE
    assert document["languages"] == ["en-US", "es-US"]
    template = json.loads((large_sample_app / "PlayAudioStack.template.json").read_text())
    (handler,) = [
        r
        for r in template["Resources"].values()
        if r["Type"] == "AWS::Lambda::Function"
        and r["Properties"].get("Handler") == "runtime.handler.handler"
    ]
    variables = handler["Properties"]["Environment"]["Variables"]
    assert json.loads(variables["LANGUAGE_BY_NUMBER"]) == {SPANISH_NUMBER: "es-US"}
    # Lambda's 4 KB environment is no longer where the catalog lives.
    assert len(json.dumps(variables)) < 1500
    # The prompt es-US lacks is a warning naming it, not an error.
    metadata = (large_sample_app / "PlayAudioStack.metadata.json").read_text()
    assert "language 'es-US' lacks 1 of the 2500 prompts" in metadata


def test_a_call_hears_the_language_of_the_number_it_reaches(
    large_sample_app: Path, tmp_path: Path
) -> None:
    spanish = heard(large_sample_app, tmp_path / "es", "--sma-number", SPANISH_NUMBER)
    english = heard(large_sample_app, tmp_path / "en")
    assert spanish == ["prompts/es-US/welcome.wav"]
    assert english == ["prompts/en-US/welcome.wav"]


def test_a_users_own_function_plays_prompts_by_name(tmp_path: Path) -> None:
    example = shutil.copytree(ROOT / "examples" / "play_by_name", tmp_path / "play_by_name")
    outdir = example / "cdk.out"
    done = cli_synth(f"{ROOT / '.venv' / 'bin' / 'python'} app.py", example, outdir, {}, tmp_path)
    assert done.returncode == 0, done.stderr[-4000:]
    # The acknowledged warning (es-US has no goodbye) is not printed.
    assert "lacks" not in done.stderr
    spanish = heard(outdir, tmp_path / "es", "--sma-number", "+12065550199")
    english = heard(outdir, tmp_path / "en")
    assert spanish == [
        "prompts/es-US/welcome.wav",
        "prompts/es-US/menu/main.wav",
        "prompts/en-US/goodbye.wav",
    ]
    assert english == [
        "prompts/en-US/welcome.wav",
        "prompts/en-US/menu/main.wav",
        "prompts/en-US/goodbye.wav",
    ]
