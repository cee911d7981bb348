"""During a canary rollout one call's invocations can reach both handler versions.

The only state a call carries between invocations is its TransactionAttributes, so their
contract is what two versions must share: this version writes ``fallbackPlayed: "true"``
and nothing else of its own, reads that key to stay loop-free, and keeps every key it
does not know (a newer version's) when it answers with attributes. A change here is a
change of the contract: make it readable by the version before, then change this test.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from runtime.handler import FALLBACK_PLAYED

from .test_handler import CLOSED_KEY, ERROR_KEY, WELCOME_KEY, audio_failure, respond

MakeEvent = Callable[..., dict[str, Any]]

CONTRACT = {"fallbackPlayed": "true"}
"""Every attribute this version sets, with its only value."""

EVENTS: list[tuple[str, dict[str, Any] | None]] = [
    ("NEW_INBOUND_CALL", None),
    ("CALL_ANSWERED", None),
    ("ACTION_SUCCESSFUL", {"Type": "PlayAudio", "Parameters": {}}),
    ("ACTION_FAILED", audio_failure(WELCOME_KEY)),
    ("ACTION_FAILED", audio_failure(CLOSED_KEY, action_type="PlayAudioAndGetDigits")),
    ("ACTION_FAILED", audio_failure(ERROR_KEY)),
    ("ACTION_FAILED", audio_failure(WELCOME_KEY, error_type="SystemException")),
    ("INVALID_LAMBDA_RESPONSE", {"Type": "PlayAudio", "Parameters": {}}),
    ("HANGUP", {"Type": "Hangup", "Parameters": {}}),
]


def test_the_contract_key_is_the_one_the_handler_reads() -> None:
    assert {FALLBACK_PLAYED: "true"} == CONTRACT


@pytest.mark.parametrize(("event_type", "action_data"), EVENTS)
def test_the_handler_sets_no_attribute_outside_the_contract(
    make_event: MakeEvent, event_type: str, action_data: dict[str, Any] | None
) -> None:
    incoming = {"caller": "vip"}
    result = respond(make_event(event_type, action_data, dict(incoming)))
    written = result.get("TransactionAttributes", incoming)
    added = {k: v for k, v in written.items() if incoming.get(k) != v}
    assert added.items() <= CONTRACT.items()


@pytest.mark.parametrize(("event_type", "action_data"), EVENTS)
def test_a_newer_versions_attributes_survive_this_versions_answer(
    make_event: MakeEvent, event_type: str, action_data: dict[str, Any] | None
) -> None:
    """Rolled back mid-call, this version must not drop what the newer one stored."""
    newer = {"menuLevel": "2", "language": "fr-CA"}
    result = respond(make_event(event_type, action_data, dict(newer)))
    # No TransactionAttributes in a response keeps the stored ones as they are.
    assert newer.items() <= result.get("TransactionAttributes", newer).items()


def test_a_fallback_played_by_the_other_version_is_not_played_again(
    make_event: MakeEvent,
) -> None:
    """The other version played the fallback (its attribute says so); this one's welcome
    prompt fails next: it must hang up, not play the fallback a second time."""
    result = respond(
        make_event("ACTION_FAILED", audio_failure(WELCOME_KEY), {**CONTRACT, "menuLevel": "2"})
    )
    assert [action["Type"] for action in result["Actions"]] == ["Hangup"]
