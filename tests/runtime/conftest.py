"""Runtime tests import the Lambda asset folder as the top-level package ``runtime``.

That is how Lambda imports it (``runtime.handler.handler``), it proves the
folder is self-contained (relative imports only), and it keeps
``constructs_pkg/__init__.py`` -- which imports aws_cdk -- out of these tests.
"""

from __future__ import annotations

import atexit
import hashlib
import json
import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

PACKAGE_PARENT = Path(__file__).resolve().parents[2] / "constructs_pkg"
if str(PACKAGE_PARENT) not in sys.path:
    sys.path.insert(0, str(PACKAGE_PARENT))

from runtime import events  # noqa: E402 -- the asset folder's package, once it is on the path

BUCKET = "chime-prompts-123456789012"
CALL_ID = events.EXAMPLE_CALL_ID
TRANSACTION_ID = events.EXAMPLE_TRANSACTION_ID
CATALOG = {
    "format": "playaudio-catalog/2",
    "catalog": "TestStack/Prompts",
    "keyPrefix": "prompts/",
    "prompts": {"welcome": "2150,8000,1", "error": "1320,8000,1", "closed": "3040,8000,1"},
}
# Each prompt's S3 key, as the catalog gives it (keyPrefix + name + ".wav").
KEYS = {name: f"prompts/{name}.wav" for name in CATALOG["prompts"]}  # type: ignore[attr-defined]
_CATALOG_DIR = Path(tempfile.mkdtemp(prefix="playaudio-runtime-tests-"))
atexit.register(shutil.rmtree, _CATALOG_DIR, ignore_errors=True)


def write_catalog_text(text: str) -> str:
    """A file holding ``text``, for PROMPT_CATALOG; its path (one file per text)."""
    path = _CATALOG_DIR / f"{hashlib.sha256(text.encode()).hexdigest()[:16]}.json"
    path.write_text(text, encoding="utf-8")
    return str(path)


def write_catalog(document: dict[str, Any]) -> str:
    """A catalog file holding ``document``, for PROMPT_CATALOG; its path."""
    return write_catalog_text(json.dumps(document))


ENV = {"PROMPTS_BUCKET": BUCKET, "PROMPT_CATALOG": write_catalog(CATALOG)}


@pytest.fixture
def make_event() -> Callable[..., dict[str, Any]]:
    """Factory for invocation events: make_event(type, action_data=None, attributes=None)."""

    def factory(
        event_type: str,
        action_data: dict[str, Any] | None = None,
        attributes: dict[str, str] | None = None,
        sequence: int = 2,
        direction: str = "Inbound",
    ) -> dict[str, Any]:
        details = events.example_call_details(attributes, direction)
        return events.invocation_event(event_type, sequence, details, action_data)

    return factory
