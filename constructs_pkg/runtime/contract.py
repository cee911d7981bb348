"""What the constructs hand the sample handler, written once: the environment variables'
names and the defaults both sides use when one is not set.

``SipMediaApplication`` writes these variables (``CallMonitoring`` writes
``METRICS_NAMESPACE`` when its namespace is not the default) and the handler reads them,
each through the names here, so a rename cannot leave one side behind. Stdlib only: this
file ships in the handler's Lambda asset. (The prompt catalog's own variables,
``PROMPT_CATALOG`` and ``PROMPTS_BUCKET``, belong to :mod:`.catalog`, the contract of
``WavPrompts.bind``.)
"""

from __future__ import annotations

WELCOME_PROMPT = "WELCOME_PROMPT"
"""The prompt a call hears (a name in the catalog)."""
FALLBACK_PROMPT = "FALLBACK_PROMPT"
"""The prompt played once when a prompt cannot be played."""
PLAYBACK_TERMINATORS = "PLAYBACK_TERMINATORS"
"""DTMF keys that stop a prompt, e.g. ``#``; empty for none."""
PLAYBACK_REPEAT = "PLAYBACK_REPEAT"
"""How many times each prompt plays."""
LANGUAGE_BY_NUMBER = "LANGUAGE_BY_NUMBER"
"""JSON: the language of the calls on each E.164 number."""
METRICS_NAMESPACE = "METRICS_NAMESPACE"
"""The CloudWatch namespace of the handler's call metrics; its default is
:data:`.metrics.NAMESPACE`."""

DEFAULT_WELCOME_PROMPT = "welcome"
DEFAULT_FALLBACK_PROMPT = "error"
DEFAULT_PLAYBACK_TERMINATORS = "#"
DEFAULT_PLAYBACK_REPEAT = 1

SETTINGS = (
    WELCOME_PROMPT,
    FALLBACK_PROMPT,
    PLAYBACK_TERMINATORS,
    PLAYBACK_REPEAT,
    LANGUAGE_BY_NUMBER,
    METRICS_NAMESPACE,
)
"""Every variable of this contract."""
