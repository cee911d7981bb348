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
CALL_ID = "6a7d6ac6-8b1e-4b8f-9a1e-1b2c3d4e5f60"
TRANSACTION_ID = "0e3f6b0a-4c3e-4d1a-9f4e-7c5d2b8a9e10"
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


def call_details(
    transaction_attributes: dict[str, str] | None = None, direction: str = "Inbound"
) -> dict[str, Any]:
    """CallDetails as the SIP media application sends them for a one-leg call."""
    leg_a = events.participant(
        CALL_ID,
        to="+12065550100",
        from_="+15105550101",
        direction=direction,
        start_ms="1700000000000",
        status="Connected",
    )
    return events.call_details(
        TRANSACTION_ID,
        account="123456789012",
        region="us-east-1",
        sip_rule_id="aafbd402-b7a2-4992-92f8-496b4563c492",
        sma_id="e88f4e49-dd21-4a3f-b538-bc84eae11505",
        participants=[leg_a],
        attributes=transaction_attributes,
    )


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
        return events.invocation_event(
            event_type, sequence, call_details(attributes, direction), action_data
        )

    return factory
