"""CDK constructs for the Amazon Chime SDK PSTN audio PlayAudio action.

The constructs are re-exported lazily, so that the stdlib-only parts
(``constructs_pkg.runtime``, ``constructs_pkg.audio``) import without loading the CDK.
"""

from __future__ import annotations

from importlib import import_module
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

try:
    __version__: str = version("chime-playaudio-constructs")
    """The installed distribution's version (pyproject.toml's)."""
except PackageNotFoundError:  # the source tree on sys.path without an install
    __version__ = "unknown: the package is not installed (pip install .)"

if TYPE_CHECKING:
    from constructs_pkg.call_monitoring import AlarmSettings, CallMonitoring
    from constructs_pkg.chime_facts import CHIME_SERVICE_PRINCIPAL
    from constructs_pkg.prompt_bucket import PromptBucket
    from constructs_pkg.prompts import Prompt, UnknownPromptError, WavPrompts
    from constructs_pkg.sip_media_application import SipMediaApplication
    from constructs_pkg.sip_message_logs import SipMessageLogs
    from constructs_pkg.sip_rule import SipRule, SipRuleTarget

_EXPORTS = {
    "AlarmSettings": "constructs_pkg.call_monitoring",
    "CallMonitoring": "constructs_pkg.call_monitoring",
    "CHIME_SERVICE_PRINCIPAL": "constructs_pkg.chime_facts",
    "PromptBucket": "constructs_pkg.prompt_bucket",
    "Prompt": "constructs_pkg.prompts",
    "UnknownPromptError": "constructs_pkg.prompts",
    "WavPrompts": "constructs_pkg.prompts",
    "SipMediaApplication": "constructs_pkg.sip_media_application",
    "SipMessageLogs": "constructs_pkg.sip_message_logs",
    "SipRule": "constructs_pkg.sip_rule",
    "SipRuleTarget": "constructs_pkg.sip_rule",
}

__all__ = [
    "CHIME_SERVICE_PRINCIPAL",
    "AlarmSettings",
    "CallMonitoring",
    "Prompt",
    "PromptBucket",
    "SipMediaApplication",
    "SipMessageLogs",
    "SipRule",
    "SipRuleTarget",
    "UnknownPromptError",
    "WavPrompts",
    "__version__",
]


def __dir__() -> list[str]:
    """The public names (the exports too, though they are imported on first use)."""
    return sorted({*__all__, *(name for name in globals() if name.startswith("__"))})


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'constructs_pkg' has no attribute {name!r}")
    return getattr(import_module(_EXPORTS[name]), name)
