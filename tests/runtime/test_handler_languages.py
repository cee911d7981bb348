"""The sample handler in a two-language catalog: a call's language comes from the number
of yours it is on, a prompt a language lacks plays in the default language (logged once
per cold start), and the fallback after a failure plays in the failed audio's language."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

import pytest
from runtime.actions import validate_response
from runtime.config import Config, load_config
from runtime.handler import handle

from .conftest import BUCKET, CALL_ID, ENV, write_catalog
from .test_handler import audio_failure

MakeEvent = Callable[..., dict[str, Any]]

OUR_NUMBER = "+12065550100"  # the To of conftest's inbound call
CALLER = "+15105550101"  # its From; an outbound call's From is ours
LANGUAGES_CATALOG = {
    "format": "playaudio-catalog/2",
    "catalog": "TestStack/Prompts",
    "keyPrefix": "ivr/",
    "languages": ["en-US", "es-US"],
    "prompts": {
        "en-US/welcome": "1000,8000,1",
        "en-US/error": "900,8000,1",
        "en-US/menu/main": "900,8000,1",
        "es-US/welcome": "1100,8000,1",
        "es-US/menu/main": "950,8000,1",
        "beep": "200,8000,1",
    },
}
CATALOG_LOGGER = "playaudio.catalog"


def config(by_number: dict[str, str] | None = None, **extra: str) -> Config:
    environ = {**ENV, "PROMPT_CATALOG": write_catalog(LANGUAGES_CATALOG), **extra}
    if by_number is not None:
        environ["LANGUAGE_BY_NUMBER"] = json.dumps(by_number)
    return load_config(environ)


def played_keys(result: dict[str, Any]) -> list[str]:
    assert validate_response(result) == []
    return [
        action["Parameters"]["AudioSource"]["Key"]
        for action in result["Actions"]
        if action["Type"] == "PlayAudio"
    ]


def test_a_call_on_a_mapped_number_hears_its_language(make_event: MakeEvent) -> None:
    spanish = config({OUR_NUMBER: "es-US"})
    assert spanish.errors == ()
    assert played_keys(handle(make_event("NEW_INBOUND_CALL"), spanish)) == ["ivr/es-US/welcome.wav"]


def test_any_other_number_hears_the_default_language(make_event: MakeEvent) -> None:
    mapped_elsewhere = config({"+442079460000": "es-US"})
    assert played_keys(handle(make_event("NEW_INBOUND_CALL"), mapped_elsewhere)) == [
        "ivr/en-US/welcome.wav"
    ]
    # The caller's number is not ours: mapping it must not change the language.
    assert played_keys(handle(make_event("NEW_INBOUND_CALL"), config({CALLER: "es-US"}))) == [
        "ivr/en-US/welcome.wav"
    ]


def test_an_outbound_call_takes_the_language_of_the_number_it_is_made_from(
    make_event: MakeEvent,
) -> None:
    outbound = make_event("CALL_ANSWERED", direction="Outbound")
    assert played_keys(handle(outbound, config({CALLER: "es-US"}))) == ["ivr/es-US/welcome.wav"]
    assert played_keys(handle(outbound, config({OUR_NUMBER: "es-US"}))) == ["ivr/en-US/welcome.wav"]


def test_the_fallback_plays_in_the_default_language_and_is_logged_once(
    make_event: MakeEvent, caplog: pytest.LogCaptureFixture
) -> None:
    spanish = config({OUR_NUMBER: "es-US"})
    failure = make_event("ACTION_FAILED", audio_failure("ivr/es-US/welcome.wav"))
    with caplog.at_level(logging.WARNING, CATALOG_LOGGER):
        first = handle(failure, spanish)
        second = handle(failure, spanish)
    # es-US has no error prompt: the default language's plays, and one line says so.
    assert played_keys(first) == played_keys(second) == ["ivr/en-US/error.wav"]
    told = [r for r in caplog.records if r.name == CATALOG_LOGGER]
    assert len(told) == 1
    assert "'error'" in told[0].getMessage()
    assert "'es-US' lacks it" in told[0].getMessage()


def test_the_fallback_follows_the_language_of_the_audio_that_failed(
    make_event: MakeEvent,
) -> None:
    both = dict(
        LANGUAGES_CATALOG, prompts={**LANGUAGES_CATALOG["prompts"], "es-US/error": "1,8000,1"}
    )  # type: ignore[dict-item]
    spanish_error = load_config({**ENV, "PROMPT_CATALOG": write_catalog(both)})
    # No number mapping: the call is in the default language, but the prompt that failed
    # was Spanish (played by a CALL_UPDATE_REQUESTED), so the apology is Spanish too.
    failure = make_event("ACTION_FAILED", audio_failure("ivr/es-US/menu/main.wav"))
    assert played_keys(handle(failure, spanish_error)) == ["ivr/es-US/error.wav"]


def test_call_update_plays_a_prompt_in_the_asked_language(
    make_event: MakeEvent, caplog: pytest.LogCaptureFixture
) -> None:
    def update(arguments: dict[str, str]) -> dict[str, Any]:
        action = {"Type": "CallUpdateRequest", "Parameters": {"Arguments": arguments}}
        return handle(make_event("CALL_UPDATE_REQUESTED", action), config())

    assert played_keys(update({"prompt": "menu/main", "language": "es-US"})) == [
        "ivr/es-US/menu/main.wav"
    ]
    assert played_keys(update({"prompt": "menu/main"})) == ["ivr/en-US/menu/main.wav"]
    assert played_keys(update({"prompt": "beep", "language": "es-US"})) == ["ivr/beep.wav"]
    with caplog.at_level(logging.WARNING, CATALOG_LOGGER):
        assert played_keys(update({"prompt": "menu/main", "language": "fr-FR"})) == [
            "ivr/en-US/menu/main.wav"
        ]
    assert any("'fr-FR' has no such folder" in m for m in caplog.messages)
    assert played_keys(update({"prompt": "es-US/welcome"})) == ["ivr/es-US/welcome.wav"]


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        ('{"+12065550100": "de-DE"}', "LANGUAGE_BY_NUMBER '+12065550100' is 'de-DE', not one of"),
        ('{"+12065550100": 7}', "LANGUAGE_BY_NUMBER '+12065550100' is 7, not one of"),
        ('["es-US"]', "LANGUAGE_BY_NUMBER is not a JSON object"),
        ("{es-US", "LANGUAGE_BY_NUMBER is not valid JSON"),
    ],
)
def test_a_bad_language_map_is_reported_and_calls_hear_the_default(
    raw: str, error: str, make_event: MakeEvent
) -> None:
    broken = load_config(
        {**ENV, "PROMPT_CATALOG": write_catalog(LANGUAGES_CATALOG), "LANGUAGE_BY_NUMBER": raw}
    )
    assert any(error in e for e in broken.errors), broken.errors
    assert played_keys(handle(make_event("NEW_INBOUND_CALL"), broken)) == ["ivr/en-US/welcome.wav"]


def test_a_language_map_on_a_catalog_without_languages_is_reported(
    make_event: MakeEvent,
) -> None:
    flat = load_config({**ENV, "LANGUAGE_BY_NUMBER": json.dumps({OUR_NUMBER: "es-US"})})
    assert any("not one of the catalog's languages []" in e for e in flat.errors)
    result = handle(make_event("NEW_INBOUND_CALL"), flat)
    assert played_keys(result) == ["prompts/welcome.wav"]
    assert result["Actions"][0]["Parameters"]["AudioSource"]["BucketName"] == BUCKET
    assert result["Actions"][0]["Parameters"]["CallId"] == CALL_ID


def test_the_fallback_prompt_must_exist_in_the_default_language() -> None:
    spanish_only = dict(LANGUAGES_CATALOG, languages=["es-US", "en-US"])
    broken = load_config({**ENV, "PROMPT_CATALOG": write_catalog(spanish_only)})
    assert broken.errors == (
        "FALLBACK_PROMPT 'error' is not in the prompt catalog's default language 'es-US'; "
        "audio failures of calls in that language hang up without it",
    )


def test_a_caller_supplied_language_picks_only_a_listed_language_folder(
    make_event: MakeEvent, caplog: pytest.LogCaptureFixture
) -> None:
    drafts = {
        **LANGUAGES_CATALOG,
        "prompts": {**LANGUAGES_CATALOG["prompts"], "fr-FR/welcome": "1,8000,1"},  # type: ignore[dict-item]
    }
    configured = load_config({**ENV, "PROMPT_CATALOG": write_catalog(drafts)})

    def update(arguments: dict[str, str]) -> list[str]:
        action = {"Type": "CallUpdateRequest", "Parameters": {"Arguments": arguments}}
        return played_keys(handle(make_event("CALL_UPDATE_REQUESTED", action), configured))

    with caplog.at_level(logging.WARNING, CATALOG_LOGGER):
        # fr-FR is a folder, not a listed language: the default plays, and it is logged.
        assert update({"prompt": "welcome", "language": "fr-FR"}) == ["ivr/en-US/welcome.wav"]
        # A "language" that is a path into another folder picks nothing there: an unknown
        # request, so the call's own welcome starts again.
        assert update({"prompt": "main", "language": "en-US/menu"}) == ["ivr/en-US/welcome.wav"]
    assert any("'fr-FR' has no such folder" in m for m in caplog.messages)


def test_the_fallback_plays_once_across_languages_even_without_attributes(
    make_event: MakeEvent,
) -> None:
    # The default language lacks the fallback; a neutral one and a Spanish one exist.
    catalog = {
        **LANGUAGES_CATALOG,
        "prompts": {"en-US/welcome": "1,8000,1", "es-US/error": "1,8000,1", "error": "1,8,1"},
    }
    spanish = load_config(
        {
            **ENV,
            "PROMPT_CATALOG": write_catalog(catalog),
            "LANGUAGE_BY_NUMBER": json.dumps({OUR_NUMBER: "es-US"}),
        }
    )
    # The Spanish call heard the English stand-in welcome; the apology is Spanish.
    first = handle(make_event("ACTION_FAILED", audio_failure("ivr/en-US/welcome.wav")), spanish)
    assert played_keys(first) == ["ivr/es-US/error.wav"]
    # That fallback fails and the attributes are lost: no second fallback of any language.
    for failed in ("ivr/es-US/error.wav", "ivr/error.wav"):
        again = handle(make_event("ACTION_FAILED", audio_failure(failed)), spanish)
        assert played_keys(again) == []
        assert again["Actions"] == [{"Type": "Hangup", "Parameters": {"SipResponseCode": "0"}}]


@pytest.mark.parametrize(
    "number", ["+1 206 555 0100", "12065550100", "+0123", "+", "+\uff11\uff12\uff10\uff16"]
)
def test_a_number_that_is_not_e164_is_reported(number: str) -> None:
    broken = config({number: "es-US"})
    assert broken.errors == (
        f"LANGUAGE_BY_NUMBER has the number {number!r}; expected E.164 such as "
        "'+12065550100', as call events carry it; ignored",
    )
    assert broken.language_by_number == {}


def test_an_unreadable_catalog_is_the_only_error_reported() -> None:
    broken = load_config(
        {
            **ENV,
            "PROMPT_CATALOG": "/opt/missing.json",
            "LANGUAGE_BY_NUMBER": json.dumps({OUR_NUMBER: "es-US"}),
        }
    )
    assert len(broken.errors) == 1
    assert "but there is no such file" in broken.errors[0]


def test_a_failure_logs_no_fallback_for_a_language_the_call_does_not_use(
    make_event: MakeEvent, caplog: pytest.LogCaptureFixture
) -> None:
    three = {
        **LANGUAGES_CATALOG,
        "languages": ["en-US", "es-US", "fr-FR"],
        "prompts": {
            "en-US/welcome": "1,8000,1",
            "en-US/error": "1,8000,1",
            "es-US/error": "1,8000,1",
            "fr-FR/welcome": "1,8000,1",
        },
    }
    spanish = load_config(
        {
            **ENV,
            "PROMPT_CATALOG": write_catalog(three),
            "LANGUAGE_BY_NUMBER": json.dumps({OUR_NUMBER: "es-US"}),
        }
    )
    with caplog.at_level(logging.WARNING, CATALOG_LOGGER):
        result = handle(
            make_event("ACTION_FAILED", audio_failure("ivr/en-US/welcome.wav")), spanish
        )
    assert played_keys(result) == ["ivr/es-US/error.wav"]
    # fr-FR lacks the fallback, but no fr-FR call asked for it: nothing to log.
    assert [r for r in caplog.records if r.name == CATALOG_LOGGER] == []
    assert spanish.fallback_keys == {"ivr/en-US/error.wav", "ivr/es-US/error.wav"}
