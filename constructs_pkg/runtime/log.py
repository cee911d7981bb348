"""The sample handler's logger, made on first use: the happy path never imports logging.

One logger, named ``runtime.handler`` in the Lambda asset, for the handler's call events
and for the configuration errors :mod:`.config` finds at import; its level is INFO unless
set elsewhere.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    import logging

NAME = f"{__package__}.handler"
"""The logger's name: the handler module's, wherever the package is imported from."""

_LOGGER: logging.Logger | None = None


def handler_logger() -> logging.Logger:
    """The handler's logger, importing logging on first use; level INFO is set once."""
    global _LOGGER
    if _LOGGER is None:
        import logging

        logger = logging.getLogger(NAME)
        if logger.level == logging.NOTSET:
            logger.setLevel(logging.INFO)
        _LOGGER = logger
    return _LOGGER
