"""What a user finds from the interpreter: the exports in ``dir()``, real signatures in
``help()``, a docstring for every public construct and every one of its props, and the
installed version."""

from __future__ import annotations

import inspect
import pydoc
import re
from importlib.metadata import version

import pytest

import constructs_pkg

CONSTRUCTS = [
    "PromptBucket",
    "WavPrompts",
    "SipMediaApplication",
    "SipRule",
    "SipMessageLogs",
    "CallMonitoring",
]


def test_dir_lists_every_export() -> None:
    listed = dir(constructs_pkg)
    assert set(constructs_pkg.__all__) <= set(listed)
    assert set(CONSTRUCTS) <= set(constructs_pkg.__all__)
    # Only the exports and dunders: no helper the module happens to import.
    assert [name for name in listed if not name.startswith("__")] == sorted(
        name for name in constructs_pkg.__all__ if not name.startswith("__")
    )


def test_the_version_is_the_installed_distributions() -> None:
    assert constructs_pkg.__version__ == version("chime-playaudio-constructs")
    assert re.fullmatch(r"\d+\.\d+\.\d+\S*", constructs_pkg.__version__)


@pytest.mark.parametrize("name", CONSTRUCTS)
def test_help_shows_the_real_signature_and_documents_every_prop(name: str) -> None:
    construct = getattr(constructs_pkg, name)
    parameters = inspect.signature(construct).parameters
    assert list(parameters)[:2] == ["scope", "construct_id"]
    assert not any(p.kind is p.VAR_POSITIONAL for p in parameters.values())
    props = [p for p in parameters.values() if p.kind is p.KEYWORD_ONLY]
    text = pydoc.render_doc(construct, renderer=pydoc.plaintext)
    assert all(f"{p.name}:" in text for p in props)
    docstring = inspect.getdoc(construct) or ""
    assert docstring.strip(), f"{name} has no docstring"
    undocumented = [p.name for p in props if f":param {p.name}:" not in docstring]
    assert undocumented == [], f"{name} documents no :param for {undocumented}"
