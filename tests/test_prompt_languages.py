"""Languages are folders: WavPrompts(languages=[default, ...]) checks them at synth, warns
(acknowledgeably) about prompts a language lacks, and the catalog, the construct and the
runtime helper resolve a name per language the same way."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Annotations, Match, Template

from constructs_pkg import PromptBucket, SipMediaApplication, UnknownPromptError, WavPrompts
from constructs_pkg.chime_facts import E164_EXPECTED
from constructs_pkg.runtime import catalog
from tests.audio import wavgen

MakeStack = Callable[..., cdk.Stack]
MISSING = "constructs-pkg:missing-prompts:"


def folder_of(root: Path, names: list[str]) -> Path:
    for name in names:
        wavgen.write(root / f"{name}.wav", wavgen.pcm(frames=8))
    return root


TWO_LANGUAGES = [
    "en-US/welcome",
    "en-US/error",
    "en-US/menu/main",
    "en-US/menu/billing",
    "es-US/welcome",
    "es-US/menu/main",
    "es-US/solo-es",
    "beep",
]


def languages_stack(
    make_stack: MakeStack, root: Path, languages: Any = ("en-US", "es-US"), **props: Any
) -> tuple[cdk.Stack, WavPrompts]:
    stack = make_stack()
    prompts = WavPrompts(
        stack,
        "Prompts",
        prompt_bucket=PromptBucket(stack, "Bucket"),
        source_dir=folder_of(root, TWO_LANGUAGES),
        languages=languages,
        **props,
    )
    return stack, prompts


def missing_warnings(stack: cdk.Stack) -> list[Any]:
    found: list[Any] = Annotations.from_stack(stack).find_warning(
        "*", Match.string_like_regexp("lacks")
    )
    return found


def test_a_language_lacking_prompts_is_one_warning_naming_them(
    make_stack: MakeStack, tmp_path: Path
) -> None:
    stack, prompts = languages_stack(make_stack, tmp_path)
    (warning,) = missing_warnings(stack)
    text = str(warning.entry.data)
    assert "language 'es-US' lacks 2 of the 4 prompts of the default language 'en-US'" in text
    assert "error, menu/billing." in text
    assert f"{MISSING}es-US" in text
    # A prompt only the other language has is no warning: nothing falls back for it.
    assert "solo-es" not in text
    assert prompts.catalog()["languages"] == ["en-US", "es-US"]


def test_the_warning_is_acknowledgeable_per_language(make_stack: MakeStack, tmp_path: Path) -> None:
    stack, prompts = languages_stack(make_stack, tmp_path)
    cdk.Annotations.of(prompts).acknowledge_warning(f"{MISSING}es-US", "Spanish ships in v2")
    assert missing_warnings(stack) == []


def test_thousands_of_missing_prompts_are_counted_not_listed(
    make_stack: MakeStack, tmp_path: Path
) -> None:
    names = [f"en-US/p{i:04}" for i in range(300)] + ["es-US/p0000"]
    stack = make_stack()
    WavPrompts(
        stack,
        "Prompts",
        prompt_bucket=PromptBucket(stack, "Bucket"),
        source_dir=folder_of(tmp_path, names),
        languages=["en-US", "es-US"],
    )
    (warning,) = missing_warnings(stack)
    text = str(warning.entry.data)
    assert "lacks 299 of the 300 prompts" in text
    assert "p0001, p0002" in text
    assert "and 279 more" in text
    assert len(text) < 2000


def test_the_construct_resolves_names_as_the_runtime_helper_does(
    make_stack: MakeStack, tmp_path: Path
) -> None:
    _, prompts = languages_stack(make_stack, tmp_path)
    assert prompts.prompt("welcome").key == "prompts/en-US/welcome.wav"
    assert prompts.prompt("welcome", "es-US").key == "prompts/es-US/welcome.wav"
    assert prompts.prompt("error", "es-US").key == "prompts/en-US/error.wav"
    assert prompts.prompt("beep", "es-US").key == "prompts/beep.wav"
    assert prompts.prompt("es-US/solo-es").key == "prompts/es-US/solo-es.wav"
    with pytest.raises(UnknownPromptError, match=r"no prompt named 'solo-es' \(in language"):
        prompts.prompt("solo-es")
    runtime = catalog.Catalog(
        "/opt/c.json", "x", "bucket", "prompts/", prompts.catalog()["prompts"], prompts.languages
    )
    for name, language in [("welcome", "es-US"), ("error", "es-US"), ("menu/main", None)]:
        assert runtime.prompt(name, language).key == prompts.prompt(name, language).key


def test_the_runtime_helper_logs_each_fallback_once(caplog: pytest.LogCaptureFixture) -> None:
    entries: dict[str, object] = {
        "en-US/error": "1,8000,1",
        "es-US/welcome": "1,8000,1",
        "en-US/welcome": "1,8000,1",
    }
    helper = catalog.Catalog("/opt/c.json", "x", "b", "p/", entries, ["en-US", "es-US"])
    with caplog.at_level(logging.WARNING, "playaudio.catalog"):
        for _ in range(3):
            assert helper.audio_source("error", "es-US")["Key"] == "p/en-US/error.wav"
            assert helper.audio_source("welcome", "es-US")["Key"] == "p/es-US/welcome.wav"
            assert helper.audio_source("error", "de")["Key"] == "p/en-US/error.wav"
    assert len(caplog.records) == 2
    assert "language 'es-US' lacks it" in caplog.records[0].getMessage()
    assert "language 'de' has no such folder" in caplog.records[1].getMessage()


@pytest.mark.parametrize(
    ("languages", "expected"),
    [
        ("en-US", r"languages is 'en-US', one string; expected a list"),
        (["en_US"], r"languages holds 'en_US'; expected language tags"),
        (["en-US", "en-US"], r"languages names 'en-US' twice"),
        (["en-US/"], r"languages holds 'en-US/'"),
        ([7], r"languages holds 7 \(int\); expected a list of language folder names"),
        (["en-US", "fr-FR"], r"languages 'fr-FR' has no prompts in .*found folders: en-US, es-US"),
    ],
)
def test_bad_languages_are_named(
    make_stack: MakeStack, tmp_path: Path, languages: Any, expected: str
) -> None:
    with pytest.raises(ValueError, match=expected):
        languages_stack(make_stack, tmp_path, languages=languages)


def test_the_sample_handler_gets_languages_by_number(make_stack: MakeStack, tmp_path: Path) -> None:
    stack, prompts = languages_stack(make_stack, tmp_path)
    sma = SipMediaApplication(
        stack, "Sma", prompts=[prompts], language_by_number={"+12065550100": "es-US"}
    )
    assert sma.sample_handler is not None
    Template.from_stack(stack).has_resource_properties(
        "AWS::Lambda::Function",
        {
            "Handler": "runtime.handler.handler",
            "Environment": {
                "Variables": Match.object_like(
                    {"LANGUAGE_BY_NUMBER": '{"+12065550100":"es-US"}', "WELCOME_PROMPT": "welcome"}
                )
            },
        },
    )


@pytest.mark.parametrize(
    ("by_number", "expected"),
    [
        (
            {"2065550100": "es-US"},
            re.escape(f"has the number '2065550100'; expected {E164_EXPECTED}"),
        ),
        ({"+12065550100": "fr-FR"}, r"maps '\+12065550100' to 'fr-FR'; expected one of the "),
        ("es-US", r"language_by_number is 'es-US'.*expected a mapping"),
    ],
)
def test_a_bad_language_map_is_named(
    make_stack: MakeStack, tmp_path: Path, by_number: Any, expected: str
) -> None:
    stack, prompts = languages_stack(make_stack, tmp_path)
    with pytest.raises(ValueError, match=expected):
        SipMediaApplication(stack, "Sma", prompts=[prompts], language_by_number=by_number)


def test_a_language_map_needs_languages(make_stack: MakeStack, tmp_path: Path) -> None:
    stack = make_stack()
    prompts = WavPrompts(
        stack,
        "Prompts",
        prompt_bucket=PromptBucket(stack, "Bucket"),
        source_dir=folder_of(tmp_path, ["welcome", "error"]),
    )
    with pytest.raises(ValueError, match=r"none: pass languages=\[...\] to WavPrompts"):
        SipMediaApplication(
            stack, "Sma", prompts=[prompts], language_by_number={"+12065550100": "es-US"}
        )


def test_the_welcome_prompt_must_exist_in_the_default_language(
    make_stack: MakeStack, tmp_path: Path
) -> None:
    stack, prompts = languages_stack(make_stack, tmp_path, languages=["es-US", "en-US"])
    with pytest.raises(ValueError, match=r"fallback_prompt defaults to 'error', which"):
        SipMediaApplication(stack, "Sma", prompts=[prompts])


def test_pruning_prompts_under_a_rolled_out_handler_warns(
    make_stack: MakeStack, tmp_path: Path
) -> None:
    stack, prompts = languages_stack(make_stack, tmp_path, prune=True)
    SipMediaApplication(stack, "Sma", prompts=[prompts])
    (warning,) = Annotations.from_stack(stack).find_warning(
        "*", Match.string_like_regexp("deploy with prune=True")
    )
    assert "constructs-pkg:prune-during-rollout" in str(warning.entry.data)
    kept_stack, kept = languages_stack(make_stack, tmp_path / "kept")
    SipMediaApplication(kept_stack, "Sma", prompts=[kept])
    assert (
        Annotations.from_stack(kept_stack).find_warning("*", Match.string_like_regexp("prune=True"))
        == []
    )


@pytest.mark.parametrize("language", ["es-us", "fr-FR", 5, ["es-US"]])
def test_a_synth_time_lookup_in_an_unlisted_language_is_an_error(
    make_stack: MakeStack, tmp_path: Path, language: Any
) -> None:
    _, prompts = languages_stack(make_stack, tmp_path)
    with pytest.raises(ValueError, match=r"is not one of its languages \(en-US, es-US\)"):
        prompts.audio_source("welcome", language)


def test_a_language_map_too_big_for_lambdas_environment_is_refused(
    make_stack: MakeStack, tmp_path: Path
) -> None:
    stack, prompts = languages_stack(make_stack, tmp_path)
    numbers = {f"+1206555{i:04}": "es-US" for i in range(140)}
    with pytest.raises(ValueError, match=r"is 3,2\d\d bytes as LANGUAGE_BY_NUMBER \(140 numbers"):
        SipMediaApplication(stack, "Sma", prompts=[prompts], language_by_number=numbers)
    fits = dict(list(numbers.items())[:120])
    SipMediaApplication(stack, "Fits", prompts=[prompts], language_by_number=fits)
