"""The four invocation events the handler benchmarks use, the configuration, a fake context.

Stdlib only: the cold-start and per-event children import it from the Powertools
venv's interpreter too. So the event builders and names, the handler's variables and
defaults, and the catalog's variables and format are loaded by path from
``constructs_pkg/runtime/``'s ``events.py``, ``contract.py`` and ``catalog.py`` (which
import nothing from the package), not imported through ``constructs_pkg``, which the
Powertools venv does not have installed.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType
from typing import Any


def _load_runtime_module(name: str) -> ModuleType:
    path = Path(__file__).resolve().parents[1] / "constructs_pkg" / "runtime" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"_bench_runtime_{name}", path)
    assert spec is not None and spec.loader is not None, path
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_events = _load_runtime_module("events")
_contract = _load_runtime_module("contract")
_catalog = _load_runtime_module("catalog")
CALL_ID = _events.EXAMPLE_CALL_ID

BUCKET = "playaudiostack-promptsbucket-1a2b3c4d5e6f"
PROMPT_NAMES = ("error", "goodbye", "welcome")


def catalog_document(extra_prompts: int = 0) -> dict[str, Any]:
    """The sample app's catalog (3 prompts), with ``extra_prompts`` more in nested folders
    with long names, as a large IVR has them."""
    prompts = {name: (1320 + 10 * i, 8000, 1) for i, name in enumerate(PROMPT_NAMES)}
    for i in range(extra_prompts):
        name = f"department-{i % 40:02}/menu {i % 13}/option {i:05} - please hold the line"
        prompts[name] = (2000 + i % 997, 8000, 1)
    document: dict[str, Any] = _catalog.document(
        "PlayAudioStack/PromptFiles", "prompts/", [], prompts
    )
    return document


def handler_environment(folder: Path, extra_prompts: int = 0) -> dict[str, str]:
    """What SipMediaApplication sets for the sample handler with its defaults, with the
    catalog written into ``folder`` (as the layer holds it)."""
    catalog = folder / f"catalog-{extra_prompts}.json"
    catalog.write_text(
        json.dumps(catalog_document(extra_prompts), separators=(",", ":"), ensure_ascii=False),
        encoding="utf-8",
    )
    return {
        _catalog.BUCKET_ENV: BUCKET,
        _catalog.CATALOG_ENV: str(catalog),
        _contract.WELCOME_PROMPT: _contract.DEFAULT_WELCOME_PROMPT,
        _contract.FALLBACK_PROMPT: _contract.DEFAULT_FALLBACK_PROMPT,
        _contract.PLAYBACK_TERMINATORS: _contract.DEFAULT_PLAYBACK_TERMINATORS,
        _contract.PLAYBACK_REPEAT: str(_contract.DEFAULT_PLAYBACK_REPEAT),
    }


def _welcome_action() -> dict[str, Any]:
    return {
        "Type": "PlayAudio",
        "Parameters": {
            "CallId": CALL_ID,
            "ParticipantTag": _events.LEG_A,
            "PlaybackTerminators": list(_contract.DEFAULT_PLAYBACK_TERMINATORS),
            "Repeat": _contract.DEFAULT_PLAYBACK_REPEAT,
            "AudioSource": {"Type": "S3", "BucketName": BUCKET, "Key": "prompts/welcome.wav"},
        },
    }


def events() -> dict[str, dict[str, Any]]:
    """The benchmarked events, by name, as the SIP media application sends them."""
    failed = _welcome_action()
    error = _events.INVALID_AUDIO_SOURCE
    failed.update(ErrorType=error, ErrorMessage=_events.ACTION_ERROR_MESSAGES[error])
    event = _events.invocation_event
    return {
        _events.NEW_INBOUND_CALL: event(
            _events.NEW_INBOUND_CALL, 1, _events.example_call_details()
        ),
        _events.ACTION_SUCCESSFUL: event(
            _events.ACTION_SUCCESSFUL, 2, _events.example_call_details(), _welcome_action()
        ),
        _events.ACTION_FAILED: event(
            _events.ACTION_FAILED, 2, _events.example_call_details(), failed
        ),
        _events.HANGUP: event(
            _events.HANGUP,
            4,
            _events.example_call_details(),
            {
                "Type": "Hangup",
                "Parameters": {
                    "SipResponseCode": "0",
                    "CallId": CALL_ID,
                    "ParticipantTag": _events.LEG_A,
                },
            },
        ),
    }


def update_event(prompt: str = "goodbye") -> dict[str, Any]:
    """CALL_UPDATE_REQUESTED asking to play ``prompt`` by name: a catalog lookup per call."""
    arguments = {"Type": "CallUpdateRequest", "Parameters": {"Arguments": {"prompt": prompt}}}
    event: dict[str, Any] = _events.invocation_event(
        _events.CALL_UPDATE_REQUESTED, 3, _events.example_call_details(), arguments
    )
    return event


class FakeContext:
    """The attributes of a Lambda context object that the handlers (and Powertools) read."""

    function_name = "PlayAudioStack-SmaHandler"
    function_version = "$LATEST"
    memory_limit_in_mb = 128
    invoked_function_arn = (
        "arn:aws:lambda:us-east-1:123456789012:function:PlayAudioStack-SmaHandler"
    )
    aws_request_id = "5b2f3c1e-7d4a-4e8b-9c6f-0a1b2c3d4e5f"
    log_group_name = "/aws/lambda/PlayAudioStack-SmaHandler"
    log_stream_name = "2026/11/23/[$LATEST]0123456789abcdef"

    def get_remaining_time_in_millis(self) -> int:
        return 3000
