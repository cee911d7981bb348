"""How the runtime's validators word a problem: the field, its value shortened, what is allowed.

One wording for :mod:`.actions` and :mod:`.attributes`. Stdlib only: this file ships in the
handler's Lambda asset.
"""

from __future__ import annotations

_SHOW_LIMIT = 80


def show(value: object) -> str:
    """repr() of a value, shortened so error messages stay readable."""
    text = repr(value)
    return text if len(text) <= _SHOW_LIMIT else text[: _SHOW_LIMIT - 3] + "..."


def invalid(field: str, value: object, allowed: str) -> str:
    """``field=value is invalid; allowed: ...``."""
    return f"{field}={show(value)} is invalid; allowed: {allowed}"
