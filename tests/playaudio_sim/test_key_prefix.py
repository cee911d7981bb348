"""The simulator serves the keys `aws s3 sync` writes: a prefix is a folder.

Before, a deployment to ``prompts`` (no slash) was simulated as ``promptswelcome.wav``,
the same mistake the catalog made, so `make call` was green while every real call
failed. Both now follow ``constructs_pkg.s3_keys``; tests/rehearsal proves the rule
against aws-cdk-lib's own BucketDeployment handler.
"""

from __future__ import annotations

from collections.abc import Callable

from playaudio_sim.call_setup import CallSetup
from playaudio_sim.engine import Outcome
from tests.playaudio_sim.conftest import BUCKET, run


def test_a_prefix_without_slash_is_served_as_a_folder(
    make_setup: Callable[..., CallSetup],
) -> None:
    setup = make_setup(deploy_prefix="prompts")
    assert setup.store.keys_in(BUCKET) == ["prompts/error.wav", "prompts/welcome.wav"]
    result = run(setup)  # the handler plays prompts/welcome.wav
    assert result.outcome is Outcome.HANGUP
    assert [h["key"] for h in result.heard] == ["prompts/welcome.wav"]


def test_the_old_catalog_key_fails_like_it_fails_on_aws(
    make_setup: Callable[..., CallSetup],
) -> None:
    setup = make_setup(deploy_prefix="prompts")
    assert setup.store.get(BUCKET, "promptswelcome.wav") is None


def test_a_prefix_sync_cannot_take_deploys_nothing_and_says_why(
    make_setup: Callable[..., CallSetup],
) -> None:
    setup = make_setup(deploy_prefix="../prompts/")
    assert setup.store.keys_in(BUCKET) == []
    (note,) = [n for n in setup.store.notes if "PromptDeployment" in n]
    assert "key_prefix is '../prompts/'; expected folder names" in note
    assert note.endswith("its objects are unknown")
