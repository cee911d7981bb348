"""The rules of a response's ``TransactionAttributes``: how many pairs, how many bytes.

:func:`.actions.response` and :func:`.actions.validate_response` apply them; stdlib only,
this file ships in the handler's Lambda asset.

* Their size is measured as the UTF-8 byte length of the compact JSON encoding
  (``separators=(",", ":")``, non-ASCII characters kept as characters), and
  "20 KB" is read as 20,000 bytes, the stricter reading.
* They hold at most 10 pairs by default, not the 100 that
  transaction-attributes.md ("a maximum of 100 key/value pairs") states: the
  one rejection the guide shows (attribute-trans-invalid.md) refuses 11 pairs
  with "Maximum number of mappings is 10". A handler within 10 works under both
  pages; ``max_attribute_pairs=`` (up to :data:`MAX_TRANSACTION_ATTRIBUTES_DOCUMENTED`)
  is the explicit opt-in for someone who has seen more pass on a live SMA.
"""

from __future__ import annotations

from ._messages import invalid as _invalid
from ._messages import show as _show

MAX_TRANSACTION_ATTRIBUTES = 10  # attribute-trans-invalid.md: "Maximum number of mappings is 10"
MAX_TRANSACTION_ATTRIBUTES_DOCUMENTED = 100  # transaction-attributes.md: "a maximum of 100"
MAX_TRANSACTION_ATTRIBUTES_BYTES = 20_000

# Bytes of JSON one character of a TransactionAttributes key or value can take at most
# (a control character escaped as \u00XX), and per pair: two pairs of quotes, ':' and ','.
_MAX_BYTES_PER_CHAR = 6
_PAIR_OVERHEAD_BYTES = 6


def transaction_attributes_size(attributes: dict[str, str]) -> int:
    """Size in bytes as checked against MAX_TRANSACTION_ATTRIBUTES_BYTES."""
    # Imported here: json costs ~10 ms to import cold, and most responses carry
    # no TransactionAttributes.
    import json

    text = json.dumps(attributes, ensure_ascii=False, separators=(",", ":"))
    return len(text.encode("utf-8", "surrogatepass"))


def attribute_pairs_limit(max_attribute_pairs: object) -> int:
    """``max_attribute_pairs`` if it is a limit the guide allows (an int from 1 to 100), else a
    ValueError: a Python argument, not a field of a response, so no string or bool passes."""
    number = max_attribute_pairs
    if (
        not isinstance(number, int)
        or isinstance(number, bool)
        or not 1 <= number <= MAX_TRANSACTION_ATTRIBUTES_DOCUMENTED
    ):
        raise ValueError(
            _invalid(
                "max_attribute_pairs",
                max_attribute_pairs,
                f"an integer (int, not str or bool) from 1 to "
                f"{MAX_TRANSACTION_ATTRIBUTES_DOCUMENTED} (the default "
                f"{MAX_TRANSACTION_ATTRIBUTES} is the limit the service was seen to enforce)",
            )
        )
    return number


def transaction_attributes_errors(
    attributes: object, max_attribute_pairs: int = MAX_TRANSACTION_ATTRIBUTES
) -> list[str]:
    """Errors in a TransactionAttributes object (empty if valid)."""
    field = "TransactionAttributes"
    if not isinstance(attributes, dict):
        return [_invalid(field, attributes, "an object of string keys to string values")]
    bad = [
        key
        for key, value in attributes.items()
        if not (isinstance(key, str) and isinstance(value, str))
    ]
    if bad:
        return [
            f"{field} has non-string entries for key(s) {_show(bad)}; "
            "allowed: string keys with string values"
        ]
    errors = []
    if len(attributes) > max_attribute_pairs:
        errors.append(
            f"{field} has {len(attributes)} pairs; allowed: at most {max_attribute_pairs}"
            + (
                f" (the service refused 11 in attribute-trans-invalid.md; pass "
                f"max_attribute_pairs= up to {MAX_TRANSACTION_ATTRIBUTES_DOCUMENTED}, "
                "transaction-attributes.md's limit, to allow more)"
                if max_attribute_pairs == MAX_TRANSACTION_ATTRIBUTES
                else ""
            )
        )
    # Encode only when a cheap upper bound of the size does not already fit.
    chars = sum(map(len, attributes)) + sum(map(len, attributes.values()))
    bound = 2 + chars * _MAX_BYTES_PER_CHAR + len(attributes) * _PAIR_OVERHEAD_BYTES
    if bound > MAX_TRANSACTION_ATTRIBUTES_BYTES:
        size = transaction_attributes_size(attributes)
        if size > MAX_TRANSACTION_ATTRIBUTES_BYTES:
            errors.append(
                f"{field} is {size} bytes (UTF-8 compact JSON); allowed: at most "
                f"{MAX_TRANSACTION_ATTRIBUTES_BYTES} bytes"
            )
    return errors
