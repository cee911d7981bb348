"""Play prompts by name from your own Lambda function: the catalog ``WavPrompts.bind`` ships.

``WavPrompts.bind(function)`` adds a layer holding the catalog file (and this module, as
``playaudio_catalog`` on the layer's Python path) and sets two variables:

``PROMPT_CATALOG``
    Path of the catalog file, e.g. ``/opt/playaudio/catalogs/PromptFiles-0123456789ab.json``.
``PROMPTS_BUCKET``
    The bucket the prompts are deployed to.

Usage: ``audio_source("menu/main")`` gives the PlayAudio ``AudioSource``;
``audio_source("menu/main", language="es-US")`` the Spanish one.

Languages are folders: with ``WavPrompts(languages=["en-US", "es-US"])`` the catalog lists
them, the first being the default, and a name is looked up in the asked language's folder
(``es-US/menu/main``), then in the default language's (logged once per name and language
per execution environment, as a WARNING of logger ``playaudio.catalog``), then as given
(a prompt outside the language folders, such as ``beep``, or a full name such as
``en-US/welcome``). A language the catalog lacks is the default language, logged likewise.

The file is read once per execution environment, on the first lookup. It is
``{"format": "playaudio-catalog/2", "catalog": <construct path>, "keyPrefix": "prompts/",
"languages": ["en-US", ...], "prompts": {"<name>": "<durationMs>,<rate>,<channels>", ...}}``
(``languages`` may be absent or empty: no languages); a prompt's key is
keyPrefix + name + ".wav". Stdlib only, and self-contained (no relative imports), so the
layer can ship this very file. Cold start: json is imported only when the C scanner json
itself uses is missing or refuses the file (then for json's own error message), and
difflib only to suggest close matches for an unknown name.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    import logging
    from collections.abc import Callable, Mapping, Sequence

CATALOG_ENV = "PROMPT_CATALOG"
BUCKET_ENV = "PROMPTS_BUCKET"
# 2: each prompt's info is one string: a cold start with 5,000 prompts builds 5,000 strings
# where format 1's lists of three integers made 20,000 objects and woke the garbage collector.
CATALOG_FORMAT = "playaudio-catalog/2"
PROMPT_SUFFIX = ".wav"


class CatalogError(RuntimeError):
    """The catalog cannot be used: a variable is missing, or the file is unreadable or
    not a prompt catalog."""


class UnknownPromptError(LookupError):
    """A prompt name that is not in the catalog; the message names close matches."""

    def __str__(self) -> str:
        return str(self.args[0])


class PromptInfo:
    """One prompt of the catalog: its name, S3 key and what its headers say."""

    __slots__ = ("channels", "duration_ms", "key", "name", "sample_rate")

    def __init__(
        self, name: str, key: str, duration_ms: int, sample_rate: int, channels: int
    ) -> None:
        self.name = name
        self.key = key
        self.duration_ms = duration_ms
        self.sample_rate = sample_rate
        self.channels = channels

    def __repr__(self) -> str:
        return (
            f"PromptInfo(name={self.name!r}, key={self.key!r}, duration_ms={self.duration_ms}, "
            f"sample_rate={self.sample_rate}, channels={self.channels})"
        )


class Catalog:
    """The prompts of one catalog file, by name, in one bucket; ``languages`` are folders,
    the first the default (empty: no languages)."""

    __slots__ = ("_entries", "_told", "bucket", "key_prefix", "label", "languages", "path")

    def __init__(
        self,
        path: str,
        label: str,
        bucket: str,
        key_prefix: str,
        entries: dict[str, object],
        languages: Sequence[str] = (),
    ) -> None:
        self.path = path
        self.label = label
        self.bucket = bucket
        self.key_prefix = key_prefix
        self._entries = entries
        self.languages: tuple[str, ...] = tuple(languages)
        self._told: set[tuple[str, str]] = set()

    @property
    def default_language(self) -> str | None:
        """The language a name is played in when none is asked for; None without languages."""
        return self.languages[0] if self.languages else None

    def resolve(self, name: str, language: str | None = None) -> str:
        """The catalog name that plays for ``name`` in ``language`` (default: the default
        language); an unknown name raises UnknownPromptError.

        Looked up in the language's folder, then the default language's (a fallback, logged
        once per name and language), then as given.
        """
        entries = self._entries
        default = self.default_language
        if default is None or not isinstance(name, str):
            if isinstance(name, str) and name in entries:
                if language is not None:
                    self._tell_fallback(name, language, name)
                return name
            raise UnknownPromptError(self._unknown(name))
        asked = default if language is None else language
        # Only a listed language's folder: a caller-supplied language must not pick any
        # folder of the bucket ("en-US/menu", an unlisted draft translation).
        if asked != default and asked in self.languages:
            own = f"{asked}/{name}"
            if own in entries:
                return own
        fallback = f"{default}/{name}"
        if fallback in entries:
            if asked != default:
                self._tell_fallback(name, asked, fallback)
            return fallback
        if name in entries:
            return name
        raise UnknownPromptError(self._unknown(name, asked))

    def _tell_fallback(self, name: str, language: str, played: str) -> None:
        """Log, once per name and language, that ``played`` stands in for ``language``'s."""
        if (name, language) in self._told:
            return
        self._told.add((name, language))
        why = "has no such folder" if language not in self.languages else "lacks it"
        _logger().warning(
            "prompt %r: language %r %s in %s; playing %r instead (logged once)",
            name,
            language,
            why,
            self._where(),
            played,
        )

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __len__(self) -> int:
        return len(self._entries)

    def names(self) -> list[str]:
        """Every prompt name, sorted."""
        return sorted(self._entries)

    def prompt(self, name: str, language: str | None = None) -> PromptInfo:
        """Prompt ``name``'s info in ``language`` (see :meth:`resolve`); an unknown name
        raises UnknownPromptError."""
        name = self.resolve(name, language)
        entry = self._entries[name]
        fields = entry.split(",") if isinstance(entry, str) else []
        numbers = [int(f) for f in fields if f.isascii() and f.isdigit()]
        if len(fields) != 3 or len(numbers) != 3 or numbers[1] == 0 or numbers[2] == 0:
            raise CatalogError(
                f"{self._where()}: prompt {name!r} is {entry!r}; expected "
                '"<durationMs>,<rate>,<channels>", whole numbers, rate and channels above 0'
            )
        return PromptInfo(name, self.key_of(name), *numbers)

    def key_of(self, name: str) -> str:
        """The S3 key of catalog name ``name`` (as :meth:`resolve` returns it)."""
        return self.key_prefix + name + PROMPT_SUFFIX

    def audio_source(self, name: str, language: str | None = None) -> dict[str, str]:
        """The PlayAudio ``AudioSource`` of prompt ``name`` in ``language`` (a new dict).

        Spelled out, not ``actions.s3_audio_source``: this file ships alone in the catalog
        layer, so it imports nothing of the package; tests/test_prompt_catalog.py holds the
        two to one shape.
        """
        return {"Type": "S3", "BucketName": self.bucket, "Key": self.prompt(name, language).key}

    def _where(self) -> str:
        if not self.path:  # the construct's own lookup, at synth
            return f"the prompts of {self.label}"
        return f"prompt catalog {self.path} ({self.label})"

    def _unknown(self, name: object, language: str | None = None) -> str:
        from difflib import get_close_matches

        close = []
        if isinstance(name, str):
            wanted = name if language is None else f"{language}/{name}"
            close = get_close_matches(wanted, list(self._entries), n=3)
        hint = f"close matches: {', '.join(repr(c) for c in close)}" if close else "no close match"
        where = "" if language is None else f" (in language {language!r} or the default)"
        return (
            f"no prompt named {name!r}{where} in {self._where()}, which has "
            f"{len(self._entries)} prompts; {hint}"
        )


def document(
    label: str,
    key_prefix: str,
    languages: Sequence[str],
    prompts: Mapping[str, tuple[int, int, int]],
) -> dict[str, object]:
    """The catalog document of ``prompts`` (name: duration in ms, rate, channels), as
    WavPrompts writes it at synth and :func:`load` reads it back: one format, written here."""
    return {
        "format": CATALOG_FORMAT,
        "catalog": label,
        "keyPrefix": key_prefix,
        "languages": list(languages),
        "prompts": {
            name: f"{ms},{rate},{channels}"
            for name, (ms, rate, channels) in sorted(prompts.items())
        },
    }


def load(path: str, bucket: str) -> Catalog:
    """Read the catalog file at ``path``, for prompts deployed to ``bucket``."""
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except FileNotFoundError:
        raise CatalogError(
            f"{CATALOG_ENV} is {path!r}, but there is no such file; expected a catalog file "
            "there: the layer WavPrompts.bind adds, or a file you bundle yourself"
        ) from None
    except OSError as error:
        raise CatalogError(
            f"{CATALOG_ENV} is {path!r}, which cannot be read ({error.strerror}); expected "
            "a readable prompt catalog file"
        ) from None
    try:
        data = parse_json(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise CatalogError(
            f"prompt catalog {path} is not valid UTF-8 JSON ({error}); expected the file "
            "WavPrompts writes. Synthesize and deploy again"
        ) from None
    problems = _document_problems(data)
    if problems:
        raise CatalogError(
            f"prompt catalog {path} is not a {CATALOG_FORMAT} catalog: {problems}; expected "
            "the file WavPrompts writes"
        )
    assert isinstance(data, dict)
    return Catalog(
        path,
        data["catalog"],
        bucket,
        data["keyPrefix"],
        data["prompts"],
        data.get("languages") or (),
    )


def load_from_environment(environ: Mapping[str, str] | None = None) -> Catalog:
    """The catalog named by PROMPT_CATALOG, for the bucket PROMPTS_BUCKET names."""
    env = os.environ if environ is None else environ
    missing = [name for name in (CATALOG_ENV, BUCKET_ENV) if not env.get(name, "").strip()]
    if missing:
        raise CatalogError(
            f"{' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} not set; expected "
            f"{CATALOG_ENV} (a catalog file's path) and {BUCKET_ENV} (the prompt bucket), "
            "which WavPrompts.bind(function) sets; a function it cannot bind bundles "
            "WavPrompts.catalog_json() and sets both itself"
        )
    return load(env[CATALOG_ENV], env[BUCKET_ENV])


_CATALOG: Catalog | None = None


def catalog() -> Catalog:
    """This execution environment's catalog, loaded on first use (a failure is retried)."""
    global _CATALOG
    if _CATALOG is None:
        _CATALOG = load_from_environment()
    return _CATALOG


def audio_source(name: str, language: str | None = None) -> dict[str, str]:
    """The PlayAudio ``AudioSource`` of prompt ``name`` (in ``language``) in this
    function's catalog."""
    return catalog().audio_source(name, language)


def prompt(name: str, language: str | None = None) -> PromptInfo:
    """Prompt ``name``'s key, duration, rate and channels (in ``language``) in this
    function's catalog."""
    return catalog().prompt(name, language)


_LOGGER: logging.Logger | None = None


def _logger() -> logging.Logger:
    """The catalog's logger, importing logging on first use (a fallback is rare)."""
    global _LOGGER
    if _LOGGER is None:
        import logging

        _LOGGER = logging.getLogger("playaudio.catalog")
    return _LOGGER


def _document_problems(data: object) -> str | None:
    """What is wrong with a parsed catalog's top level, or None."""
    if not isinstance(data, dict):
        return f"its top level is {type(data).__name__}, not an object"
    if data.get("format") != CATALOG_FORMAT:
        return f"format is {data.get('format')!r}"
    wrong = [
        f"{field} is {type(data.get(field)).__name__}"
        for field, kind in (("catalog", str), ("keyPrefix", str), ("prompts", dict))
        if not isinstance(data.get(field), kind)
    ]
    languages = data.get("languages", [])
    if not (isinstance(languages, list) and all(isinstance(x, str) and x for x in languages)):
        wrong.append(f"languages is {languages!r}, not a list of language folder names")
    return ", ".join(wrong) or None


def _c_scanner() -> Callable[[str, int], tuple[object, int]] | None:
    """json's C scanner with json.loads' default settings, or None without it."""
    try:
        from _json import make_scanner
    except ImportError:
        return None

    class _Context:
        strict = True
        object_hook = None
        object_pairs_hook = None
        parse_float = float
        parse_int = int
        parse_constant = staticmethod(
            {"-Infinity": float("-inf"), "Infinity": float("inf"), "NaN": float("nan")}.__getitem__
        )

    scanner: Callable[[str, int], tuple[object, int]] = make_scanner(
        _Context()  # type: ignore[arg-type]
    )
    return scanner


_SCAN = _c_scanner()
_JSON_SPACE = " \t\n\r"


def parse_json(raw: str) -> object:
    """json.loads(raw), importing json only if the C scanner does not take ``raw`` whole.

    The same steps as json.loads with its default decoder: whitespace, one value from the
    C scanner, whitespace, end; anything else (no scanner, a BOM, a syntax error, trailing
    data) is left to json.loads itself, so results and errors are exactly json's.
    """
    if _SCAN is not None and not raw.startswith("\ufeff"):
        start = len(raw) - len(raw.lstrip(_JSON_SPACE))
        try:
            value, end = _SCAN(raw, start)
        except (StopIteration, ValueError):
            pass
        else:
            if end == len(raw.rstrip(_JSON_SPACE)):
                return value
    import json

    result: object = json.loads(raw)
    return result
