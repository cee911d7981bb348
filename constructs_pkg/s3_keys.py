"""The one rule for S3 key prefixes and prompt keys: what a deployment writes is what we name.

``aws s3 sync DIR s3://BUCKET/PREFIX`` (what aws-cdk-lib's BucketDeployment runs) treats
a prefix as a folder: ``prompts`` and ``prompts/`` both put ``welcome.wav`` at
``prompts/welcome.wav``. So a prefix is normalized to end in ``/`` before any key is
derived from it; the construct (its catalog and the deployment), ``grant_play`` (the
bucket-policy resource) and the call simulator (the keys it serves) all call
``normalize_key_prefix`` and ``deployed_key`` here, so they cannot disagree.

Refused, because the deployed keys or the policy's resource would not be what they look
like: a leading ``/``, empty, ``.`` or ``..`` segments (``a//b/``, ``./a/``), IAM wildcards
and policy variables (``*``, ``?``, ``${``) that would widen the grant, control
characters, and keys over S3's limit of 1,024 UTF-8 bytes. Stdlib only: the simulator
imports it without the CDK.
"""

from __future__ import annotations

MAX_KEY_BYTES = 1024
"""S3's limit on an object key, in UTF-8 bytes."""


class KeyPrefixError(ValueError):
    """A key prefix that cannot be deployed as written; the message says why."""


def key_prefix_problem(prefix: object) -> str | None:
    """Why ``prefix`` is not a usable key prefix (what was found, what is expected), or None."""
    if not isinstance(prefix, str):
        return (
            f"key_prefix is {prefix!r} ({type(prefix).__name__}); expected a string "
            "such as 'prompts/', or '' for the whole bucket"
        )
    found = f"key_prefix is {prefix!r}"
    if not prefix:
        return None
    if prefix.startswith("/"):
        return f"{found}; expected no leading '/' (S3 keys are relative: 'prompts/')"
    wildcards = sorted({c for c in prefix if c in "*?"} | ({"${"} if "${" in prefix else set()))
    if wildcards:
        return (
            f"{found}; expected no {' or '.join(repr(w) for w in wildcards)}: IAM reads them "
            "as wildcards or policy variables in the bucket policy, widening the grant"
        )
    controls = _control_characters(prefix)
    if controls:
        return f"{found}; expected no control characters (found {controls})"
    segments = prefix.removesuffix("/").split("/")
    bad = [segment for segment in segments if segment in ("", ".", "..")]
    if bad:
        return (
            f"{found}; expected folder names separated by single '/', without empty, "
            "'.' or '..' segments"
        )
    if len(normalize_unchecked(prefix).encode()) >= MAX_KEY_BYTES:
        return f"{found}; expected fewer than {MAX_KEY_BYTES} UTF-8 bytes (S3's key limit)"
    return None


def normalize_key_prefix(prefix: str) -> str:
    """``prefix`` as the folder ``aws s3 sync`` writes into: '' or ending in '/'.

    Raises KeyPrefixError (a ValueError) for a prefix ``key_prefix_problem`` refuses.
    """
    problem = key_prefix_problem(prefix)
    if problem is not None:
        raise KeyPrefixError(problem)
    return normalize_unchecked(prefix)


def normalize_unchecked(prefix: str) -> str:
    """'' stays ''; anything else ends in exactly the '/' that ``aws s3 sync`` adds."""
    return prefix if not prefix or prefix.endswith("/") else prefix + "/"


def deployed_key(prefix: str, relative_path: str) -> str:
    """The key ``aws s3 sync`` gives the file at ``relative_path`` (POSIX) under ``prefix``."""
    return normalize_key_prefix(prefix) + relative_path


def key_problem(key: str) -> str | None:
    """Why ``key`` cannot be an S3 object key we deploy and name, or None.

    A file name that is not valid UTF-8 (Python carries its bytes as surrogates) has no
    S3 key; control characters (a newline or tab from a script) are refused like in
    prefixes: a key that prints as two lines or blank cannot be named reliably in a
    catalog, a policy or a log.
    """
    try:
        size = len(key.encode())
    except UnicodeEncodeError:
        shown = key.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
        return (
            f"its key '{shown}' is not valid UTF-8; expected a name in UTF-8, as S3 keys "
            "are: rename the file"
        )
    controls = _control_characters(key)
    if controls:
        return f"its key {key!r} holds control characters ({controls}); expected none: rename it"
    if size > MAX_KEY_BYTES:
        return (
            f"its key is {size} UTF-8 bytes; S3 allows at most {MAX_KEY_BYTES}: shorten "
            "its name, its folders or the key prefix"
        )
    return None


def asset_path_problem(relative_path: str) -> str | None:
    """Why a file at ``relative_path`` (POSIX) cannot travel in a CDK asset zip as named.

    The CDK CLI zips folder assets with yazl, which turns ``\\`` into ``/`` and refuses a
    path that starts with a drive letter (``C:``) or holds a ``..`` segment after that: a
    backslash would deploy another key than the catalog's, or fail the deploy.
    """
    if "\\" in relative_path:
        return (
            f"its path {relative_path!r} holds a backslash, which the CDK CLI's asset zip "
            "turns into '/' (another key than the catalog's); expected no backslash: rename it"
        )
    if (
        len(relative_path) >= 2
        and relative_path[1] == ":"
        and relative_path[0].isascii()
        and relative_path[0].isalpha()
    ):
        return (
            f"its path {relative_path!r} starts like a drive ('{relative_path[:2]}'), which the "
            "CDK CLI's asset zip refuses as absolute; expected a name that does not: rename it"
        )
    return None


def _control_characters(text: str) -> str:
    """The control characters in ``text`` as U+XXXX, comma-separated; '' if none."""
    if text.isprintable():  # the common case, in C: control characters are not printable
        return ""
    return ", ".join(sorted({f"U+{ord(c):04X}" for c in text if ord(c) < 0x20 or ord(c) == 0x7F}))


def prefixes_overlap(first: str, second: str) -> bool:
    """Whether the folders ``first`` and ``second`` (normalized) are equal or nested."""
    a, b = normalize_unchecked(first), normalize_unchecked(second)
    return a.startswith(b) or b.startswith(a)
