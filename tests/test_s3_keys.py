"""The key-prefix rule: a prefix is a folder, named the way `aws s3 sync` writes into it."""

from __future__ import annotations

import pytest

from constructs_pkg.s3_keys import (
    MAX_KEY_BYTES,
    KeyPrefixError,
    deployed_key,
    key_prefix_problem,
    key_problem,
    normalize_key_prefix,
    prefixes_overlap,
)


@pytest.mark.parametrize(
    ("prefix", "folder"),
    [
        ("", ""),
        ("prompts", "prompts/"),
        ("prompts/", "prompts/"),
        ("ivr/en-US/prompts", "ivr/en-US/prompts/"),
        ("ivr/en-US/prompts/", "ivr/en-US/prompts/"),
        ("Ünïcødé prompts", "Ünïcødé prompts/"),
        ("a.b/c-d_e", "a.b/c-d_e/"),
    ],
)
def test_a_prefix_is_a_folder(prefix: str, folder: str) -> None:
    assert normalize_key_prefix(prefix) == folder
    assert deployed_key(prefix, "menu/main.wav") == folder + "menu/main.wav"


@pytest.mark.parametrize(
    ("prefix", "expected"),
    [
        ("/prompts/", "no leading '/'"),
        ("/", "no leading '/'"),
        ("prompts//menu/", "without empty, '.' or '..' segments"),
        ("prompts//", "without empty, '.' or '..' segments"),
        ("../prompts/", "without empty, '.' or '..' segments"),
        ("prompts/../other/", "without empty, '.' or '..' segments"),
        ("./prompts", "without empty, '.' or '..' segments"),
        ("prompts/*", "expected no '*'"),
        ("p?", "expected no '?'"),
        ("${aws:username}/", "expected no '${'"),
        ("prompts\n/", "control characters (found U+000A)"),
        ("tab\there", "control characters (found U+0009)"),
        ("x" * MAX_KEY_BYTES, f"fewer than {MAX_KEY_BYTES} UTF-8 bytes"),
        ("é" * 512, f"fewer than {MAX_KEY_BYTES} UTF-8 bytes"),
    ],
)
def test_refused_prefixes_say_what_was_found_and_expected(prefix: str, expected: str) -> None:
    problem = key_prefix_problem(prefix)
    assert problem is not None
    assert problem.startswith(f"key_prefix is {prefix!r}; expected")
    assert expected in problem
    with pytest.raises(KeyPrefixError, match="expected"):
        normalize_key_prefix(prefix)


@pytest.mark.parametrize("prefix", [None, 5, b"prompts/", ["prompts/"]])
def test_a_prefix_that_is_not_a_string_is_refused_by_type(prefix: object) -> None:
    problem = key_prefix_problem(prefix)
    assert problem is not None
    assert f"({type(prefix).__name__}); expected a string" in problem


def test_keys_are_limited_to_1024_utf8_bytes() -> None:
    assert key_problem("p/" + "x" * (MAX_KEY_BYTES - 2)) is None
    assert key_problem("p/" + "x" * (MAX_KEY_BYTES - 1)) == (
        f"its key is {MAX_KEY_BYTES + 1} UTF-8 bytes; S3 allows at most {MAX_KEY_BYTES}: "
        "shorten its name, its folders or the key prefix"
    )
    # Characters are not bytes: 342 three-byte characters are 1,026 bytes.
    assert key_problem("€" * 342) is not None


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("prompts/caf\udce9.wav", "its key 'prompts/caf\\xe9.wav' is not valid UTF-8"),
        ("prompts/line\nbreak.wav", "holds control characters (U+000A)"),
        ("prompts/del\x7f.wav", "holds control characters (U+007F)"),
        ("prompts/bell\x07\ttab.wav", "holds control characters (U+0007, U+0009)"),
    ],
)
def test_keys_that_cannot_be_named_reliably_are_refused(key: str, expected: str) -> None:
    problem = key_problem(key)
    assert problem is not None and expected in problem


def test_unicode_names_that_are_utf8_are_keys() -> None:
    assert key_problem("prompts/ménu/choix 1 \u2013 été.wav") is None


@pytest.mark.parametrize(
    ("first", "second", "overlap"),
    [
        ("prompts/", "prompts", True),
        ("prompts/", "prompts/menu/", True),
        ("", "anything/", True),
        ("prompts/", "prompts-old/", False),
        ("prompts", "promptsX", False),
        ("en/", "es/", False),
    ],
)
def test_overlap_is_by_folder_not_by_string(first: str, second: str, overlap: bool) -> None:
    assert prefixes_overlap(first, second) is overlap
    assert prefixes_overlap(second, first) is overlap
