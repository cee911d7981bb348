"""Play prompts by name from your own Lambda function: the catalog ``WavPrompts.bind`` ships.

``WavPrompts.bind(function)`` adds a layer holding the catalog file (and this module, as
``playaudio_catalog`` on the layer's Python path) and sets two variables:

``PROMPT_CATALOG``
    Path of the catalog file, e.g. ``/opt/playaudio/catalogs/PromptFiles-0123456789ab.json``.
``PROMPTS_BUCKET``
    The bucket the prompts are deployed to.

Usage: ``audio_source("menu/main")`` gives the PlayAudio ``AudioSource``.

The file is read once per execution environment, on the first lookup. It is
``{"format": "playaudio-catalog/1", "catalog": <construct path>, "keyPrefix": "prompts/",
"prompts": {"<name>": [durationMs, rate, channels], ...}}``; a prompt's key is
keyPrefix + name + ".wav". Stdlib only, and self-contained (no relative imports), so the
layer can ship this very file. Cold start: json is imported only when the C scanner json
itself uses is missing or refuses the file (then for json's own error message), and
difflib only to suggest close matches for an unknown name.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

CATALOG_ENV = "PROMPT_CATALOG"
BUCKET_ENV = "PROMPTS_BUCKET"
CATALOG_FORMAT = "playaudio-catalog/1"
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
    """The prompts of one catalog file, by name, in one bucket."""

    __slots__ = ("_entries", "bucket", "key_prefix", "label", "path")

    def __init__(
        self, path: str, label: str, bucket: str, key_prefix: str, entries: dict[str, object]
    ) -> None:
        self.path = path
        self.label = label
        self.bucket = bucket
        self.key_prefix = key_prefix
        self._entries = entries

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __len__(self) -> int:
        return len(self._entries)

    def names(self) -> list[str]:
        """Every prompt name, sorted."""
        return sorted(self._entries)

    def prompt(self, name: str) -> PromptInfo:
        """Prompt ``name``'s info; an unknown name raises UnknownPromptError."""
        entry = self._entries.get(name) if isinstance(name, str) else None
        if entry is None:
            raise UnknownPromptError(self._unknown(name))
        if not (
            isinstance(entry, list)
            and len(entry) == 3
            and all(type(n) is int for n in entry)
            and entry[0] >= 0 < entry[1]
            and entry[2] > 0
        ):
            raise CatalogError(
                f"{self._where()}: prompt {name!r} is {entry!r}; expected "
                "[durationMs, rate, channels], integers, rate and channels above 0"
            )
        return PromptInfo(name, self.key_prefix + name + PROMPT_SUFFIX, *entry)

    def audio_source(self, name: str) -> dict[str, str]:
        """The PlayAudio ``AudioSource`` of prompt ``name`` (a new dict each call)."""
        return {"Type": "S3", "BucketName": self.bucket, "Key": self.prompt(name).key}

    def _where(self) -> str:
        return f"prompt catalog {self.path} ({self.label})"

    def _unknown(self, name: object) -> str:
        from difflib import get_close_matches

        close = get_close_matches(name, self._entries, n=3) if isinstance(name, str) else []
        hint = f"close matches: {', '.join(repr(c) for c in close)}" if close else "no close match"
        return (
            f"no prompt named {name!r} in {self._where()}, which has {len(self._entries)} "
            f"prompts; {hint}"
        )


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
        data = _json_loads(raw.decode("utf-8"))
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
    return Catalog(path, data["catalog"], bucket, data["keyPrefix"], data["prompts"])


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


def audio_source(name: str) -> dict[str, str]:
    """The PlayAudio ``AudioSource`` of prompt ``name`` in this function's catalog."""
    return catalog().audio_source(name)


def prompt(name: str) -> PromptInfo:
    """Prompt ``name``'s key, duration, rate and channels in this function's catalog."""
    return catalog().prompt(name)


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


def _json_loads(raw: str) -> object:
    """json.loads(raw), importing json only if the C scanner does not take ``raw`` whole."""
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
