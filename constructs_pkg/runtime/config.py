"""The sample handler's settings: read from the environment once, at the handler's import.

Environment (:func:`load_config` reads it; the handler calls it once at import, tests
call it again):

``PROMPT_CATALOG``, ``PROMPTS_BUCKET``
    The prompt catalog file (shipped in a layer by ``WavPrompts.bind``) and the bucket
    that holds the prompts; :mod:`.catalog` reads them, and resolves names per language.
``WELCOME_PROMPT`` (default ``welcome``), ``FALLBACK_PROMPT`` (default ``error``)
    Prompt names in the catalog; with languages, names within a language folder.
``LANGUAGE_BY_NUMBER`` (default none)
    JSON object ``{"+12065550100": "es-US", ...}``: the language of calls on each of
    your numbers (an inbound call's ``To``, an outbound call's ``From``); other numbers
    hear the catalog's default language.
``PLAYBACK_TERMINATORS`` (default ``#``)
    DTMF digits that stop playback, as one string (``"#*"``); empty for none.
``PLAYBACK_REPEAT`` (default ``1``, also when blank)
    How many times each prompt plays, an integer > 0.
``METRICS_NAMESPACE`` (default ``ChimePlayAudio``, also when blank)
    CloudWatch namespace of the handler's call metrics (:mod:`.handler`).

Bad configuration never breaks the import: each problem is logged at ERROR, by the
handler's logger (:mod:`.log`).
A missing or unusable bucket, catalog or prompt makes calls hang up cleanly; a bad
``LANGUAGE_BY_NUMBER`` entry is ignored (those calls hear the default language);
a bad ``PLAYBACK_TERMINATORS`` or ``PLAYBACK_REPEAT`` falls back to its
default, since a typo in a playback knob should not take the line down; so
does a bad ``METRICS_NAMESPACE``.
All prompts (welcome, fallback, CALL_UPDATE_REQUESTED) play with the same
terminators and repeat count.

Prompts resolve per language as :meth:`.catalog.Catalog.resolve` does; :class:`Config`
caches each prompt's AudioSource and knows the fallback prompt's keys in every language.
"""

from __future__ import annotations

from . import catalog as prompt_catalog
from . import contract, metrics
from .actions import dtmf_list_error, positive_int_error, s3_audio_source
from .log import handler_logger as _logger

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping


class Config:
    """Handler settings parsed from the environment; ``errors`` lists what was wrong."""

    __slots__ = (
        "_sources",
        "catalog",
        "errors",
        "fallback",
        "fallback_keys",
        "language_by_number",
        "metrics_namespace",
        "repeat",
        "terminators",
        "welcome",
    )

    def __init__(
        self,
        catalog: prompt_catalog.Catalog | None,
        welcome: str,
        fallback: str,
        terminators: list[str] | None,
        repeat: int,
        errors: tuple[str, ...],
        metrics_namespace: str = metrics.NAMESPACE,
        language_by_number: dict[str, str] | None = None,
    ) -> None:
        self.catalog = catalog
        self.welcome = welcome
        self.fallback = fallback
        self.terminators = terminators
        self.repeat = repeat
        self.errors = errors
        self.metrics_namespace = metrics_namespace
        self.language_by_number = language_by_number or {}
        self._sources: dict[tuple[str, str | None], dict[str, str] | None] = {}
        self.fallback_keys: frozenset[str] = self._fallback_keys()
        """The fallback prompt's keys in every language: a failure of any of them gets no
        second fallback, even with the transaction attributes lost."""

    def audio_source(self, name: str, language: str | None = None) -> dict[str, str] | None:
        """The S3 AudioSource of prompt ``name`` in ``language`` (a new dict each call), or
        None if the catalog has no such prompt."""
        wanted = (name, language)
        if wanted not in self._sources:
            source = None
            if self.catalog is not None:
                try:
                    key = self.catalog.prompt(name, language).key
                except (prompt_catalog.UnknownPromptError, prompt_catalog.CatalogError):
                    pass
                else:
                    # Built and validated once per prompt; bucket and key do not change.
                    source = s3_audio_source(self.catalog.bucket, key)
            self._sources[wanted] = source
        source = self._sources[wanted]
        return None if source is None else dict(source)

    def _fallback_keys(self) -> frozenset[str]:
        """Every key the fallback can resolve to (its own name, or in a language folder),
        found without resolving: a resolution would log fallbacks no call made."""
        if self.catalog is None:
            return frozenset()
        names = (self.fallback, *(f"{lang}/{self.fallback}" for lang in self.catalog.languages))
        return frozenset(self.catalog.key_of(name) for name in names if name in self.catalog)

    def language_of_key(self, key: object) -> str | None:
        """The language folder a deployed key is in, or None."""
        if self.catalog is None or not isinstance(key, str):
            return None
        folder = key.removeprefix(self.catalog.key_prefix).partition("/")[0]
        return folder if folder in self.catalog.languages else None


def _load_catalog(environ: Mapping[str, str], errors: list[str]) -> prompt_catalog.Catalog | None:
    """The prompt catalog; None (calls hang up) when it cannot be read."""
    try:
        return prompt_catalog.load_from_environment(environ)
    except prompt_catalog.CatalogError as error:
        errors.append(f"{error}; calls will hang up")
        return None


def _parse_language_by_number(
    raw: str | None, catalog: prompt_catalog.Catalog | None, errors: list[str]
) -> dict[str, str]:
    """Phone number -> language; bad entries are skipped (those calls hear the default)."""
    if raw is None or not raw.strip():
        return {}
    try:
        data = prompt_catalog.parse_json(raw)
    except (ValueError, RecursionError) as exc:
        errors.append(
            f"{contract.LANGUAGE_BY_NUMBER} is not valid JSON ({exc}); using the default language"
        )
        return {}
    if not isinstance(data, dict):
        errors.append(
            f"{contract.LANGUAGE_BY_NUMBER} is not a JSON object; using the default language"
        )
        return {}
    if catalog is None:
        return {}  # the catalog's own error says it all: calls hang up
    result = {}
    for number, language in data.items():
        if not _is_e164(number):
            errors.append(
                f"{contract.LANGUAGE_BY_NUMBER} has the number {number!r}; expected E.164 such as "
                "'+12065550100', as call events carry it; ignored"
            )
        elif isinstance(language, str) and language in catalog.languages:
            result[number] = language
        else:
            errors.append(
                f"{contract.LANGUAGE_BY_NUMBER} {number!r} is {language!r}, not one of the "
                f"catalog's languages {list(catalog.languages)}; calls on it hear the default "
                "language"
            )
    return result


def _is_e164(number: str) -> bool:
    """``+``, a country code and up to 15 digits in all (checked without importing re).

    The deploy-time asset's ``custom_resources.E164_NUMBER`` is the same rule; neither asset
    can import the other, so tests/runtime/test_e164_rule.py holds the two to agree.
    """
    digits = number[1:]
    return (
        number.startswith("+")
        and 2 <= len(digits) <= 15
        and digits.isascii()
        and digits.isdigit()
        and digits[0] != "0"
    )


def _parse_terminators(raw: str | None, errors: list[str]) -> list[str] | None:
    value = contract.DEFAULT_PLAYBACK_TERMINATORS if raw is None else raw.strip()
    if not value:
        return None
    error = dtmf_list_error(contract.PLAYBACK_TERMINATORS, list(value))
    if error:
        errors.append(f"{error}; using {contract.DEFAULT_PLAYBACK_TERMINATORS!r}")
        return list(contract.DEFAULT_PLAYBACK_TERMINATORS)
    return list(value)


def _parse_repeat(raw: str | None, errors: list[str]) -> int:
    value = (raw or "").strip()
    if not value:
        return contract.DEFAULT_PLAYBACK_REPEAT
    error = positive_int_error(contract.PLAYBACK_REPEAT, value)
    if error:
        errors.append(f"{error}; using {contract.DEFAULT_PLAYBACK_REPEAT}")
        return contract.DEFAULT_PLAYBACK_REPEAT
    return int(value)


def _parse_metrics_namespace(raw: str | None, errors: list[str]) -> str:
    value = (raw or "").strip()
    if not value:
        return metrics.NAMESPACE
    error = metrics.namespace_error(value)
    if error:
        errors.append(f"{contract.METRICS_NAMESPACE}: {error}; using {metrics.NAMESPACE!r}")
        return metrics.NAMESPACE
    return value


def load_config(environ: Mapping[str, str]) -> Config:
    """Parse the handler settings; never raises, logs each problem at ERROR."""
    errors: list[str] = []
    catalog = _load_catalog(environ, errors)
    welcome = (
        environ.get(contract.WELCOME_PROMPT) or ""
    ).strip() or contract.DEFAULT_WELCOME_PROMPT
    fallback = (
        environ.get(contract.FALLBACK_PROMPT) or ""
    ).strip() or contract.DEFAULT_FALLBACK_PROMPT
    where, calls = "the prompt catalog", ""
    if catalog is not None and catalog.default_language is not None:
        where = f"the prompt catalog's default language {catalog.default_language!r}"
        calls = " in that language"
    for variable, name, consequence in (
        (contract.WELCOME_PROMPT, welcome, f"calls{calls} will hang up"),
        (contract.FALLBACK_PROMPT, fallback, f"audio failures of calls{calls} hang up without it"),
    ):
        if catalog is not None and _missing(catalog, name):
            errors.append(f"{variable} {name!r} is not in {where}; {consequence}")
    language_by_number = _parse_language_by_number(
        environ.get(contract.LANGUAGE_BY_NUMBER), catalog, errors
    )
    terminators = _parse_terminators(environ.get(contract.PLAYBACK_TERMINATORS), errors)
    repeat = _parse_repeat(environ.get(contract.PLAYBACK_REPEAT), errors)
    namespace = _parse_metrics_namespace(environ.get(contract.METRICS_NAMESPACE), errors)
    for error in errors:
        _logger().error("invalid configuration: %s", error)
    return Config(
        catalog,
        welcome,
        fallback,
        terminators,
        repeat,
        tuple(errors),
        namespace,
        language_by_number,
    )


def _missing(catalog: prompt_catalog.Catalog, name: str) -> bool:
    """Whether ``name`` resolves to no prompt in the default language."""
    try:
        catalog.resolve(name)
    except prompt_catalog.UnknownPromptError:
        return True
    return False
