"""The E.164 rule, written twice, says the same thing both times.

The sample handler checks its ``LANGUAGE_BY_NUMBER`` numbers with
``runtime.config._is_e164`` (call-time asset, no ``re``); the SIP rule's handler and the
constructs check numbers with ``custom_resources.E164_NUMBER`` (deploy-time asset). The
two assets ship separately, so neither imports the other; this test holds them to one
rule. Both are imported here as the top-level packages Lambda loads (``constructs_pkg/``
is on ``sys.path``, tests/runtime/conftest.py). Each definition's docstring names the other
and this test.

The regex is used with ``fullmatch``: ``re.match`` with a ``$`` anchor would also take a
number followed by one ``"\\n"``, which neither side accepts.
"""

from __future__ import annotations

import re
import string

import pytest
from custom_resources import E164_NUMBER
from hypothesis import given, settings
from hypothesis import strategies as st
from runtime.config import _is_e164

from tests import hypothesis_profile  # noqa: F401  (deterministic CI profile)

EXAMPLES = 3000

VALID = ("+12", "+12065550100", "+442071838750", "+1" + "2" * 14, "+9" + "0" * 14)
INVALID = (
    "",
    "+",
    "+1",  # a country code and no number: at least 2 digits
    "+0123",  # no country code starts with 0
    "+00442071838750",
    "+1" + "2" * 15,  # 16 digits: E.164 allows 15
    "12065550100",  # no '+'
    "++12065550100",
    "+-12065550100",
    "+12 3",
    "+1 206 555 0100",
    " +12065550100",
    "+12065550100 ",
    "+12065550100\n",  # re.match(r"...$") would take it; fullmatch does not
    "\n+12065550100",
    "+12065550100\x00",
    "+1_000",  # int() reads it; it is no digit string
    "+\uff11\uff12\uff13",  # fullwidth digits: str.isdigit() is True for them
    "+\u0661\u0662\u0663",  # Arabic-Indic digits
    "+12\u0663",
    "+\u00b2\u00b3",  # superscripts: isdigit() True, isdecimal() False
    "\uff0b12065550100",  # fullwidth plus
)


@pytest.mark.parametrize("number", VALID)
def test_both_accept_a_valid_number(number: str) -> None:
    assert E164_NUMBER.fullmatch(number)
    assert _is_e164(number)


@pytest.mark.parametrize("number", INVALID)
def test_both_refuse_an_invalid_number(number: str) -> None:
    assert not E164_NUMBER.fullmatch(number)
    assert not _is_e164(number)


def test_a_dollar_anchor_would_take_a_trailing_newline() -> None:
    """Why the rule is a fullmatch: ``$`` also matches before a final newline."""
    assert re.match(rf"(?:{E164_NUMBER.pattern})$", "+12065550100\n")
    assert not E164_NUMBER.fullmatch("+12065550100\n")


# Characters near the rule's edges: ASCII digits, other Unicode digits, '+', blanks.
NEAR = st.sampled_from(
    [
        *string.digits,
        "+",
        " ",
        "\n",
        "\t",
        "_",
        "-",
        "\uff0b",
        "\uff11",
        "\u0661",
        "\u00b2",
        "\u0966",
        "\U0001d7ce",  # mathematical bold digit zero
    ]
)
numbers_and_near_misses = st.one_of(
    st.text(),
    st.text(NEAR, max_size=18),
    st.builds(lambda tail: "+" + tail, st.text(NEAR, max_size=17)),
    st.from_regex(E164_NUMBER, fullmatch=True),
    st.builds(
        lambda number, index, extra: number[:index] + extra + number[index:],
        st.from_regex(E164_NUMBER, fullmatch=True),
        st.integers(0, 16),
        st.text(NEAR, min_size=1, max_size=2),
    ),
)


def test_the_regex_and_the_runtime_check_agree_on_any_text() -> None:
    ran = 0
    accepted = 0

    @settings(max_examples=EXAMPLES)
    @given(numbers_and_near_misses)
    def agree(text: str) -> None:
        nonlocal ran, accepted
        ran += 1
        expected = E164_NUMBER.fullmatch(text) is not None
        accepted += expected
        assert _is_e164(text) is expected, text

    agree()
    print(f"E.164 agreement: {ran} examples, {accepted} valid numbers")
    assert ran >= EXAMPLES, f"only {ran} of {EXAMPLES} examples ran"
    assert accepted >= EXAMPLES // 10, f"only {accepted} valid numbers drawn"
