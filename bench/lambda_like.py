"""A Lambda-like Python process: the asset folder, the runtime's JSON log handler, the interpreter.

Stdlib only (the children of the handler benchmarks import it).
"""

from __future__ import annotations

import json
import logging
import shutil
import subprocess
import sys
import time
import traceback
from pathlib import Path

_DATETIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
# The LogRecord attributes the runtime's formatter leaves out of the JSON object.
_RESERVED = frozenset(
    logging.LogRecord("", 0, "", 0, "", (), None).__dict__.keys()
    | {"message", "asctime", "aws_request_id", "_frame_type"}
)


class LambdaJsonFormatter(logging.Formatter):
    """The work the Lambda Python runtime's JSON log formatter does for each record.

    Functions with ``LoggingFormat.JSON`` (as the construct sets) get a root handler
    that turns every record into one JSON object: timestamp, level, message, logger,
    request id, location, the exception if any, and every ``extra`` field. This is a
    stand-in that does the same work, so "logging included" costs what it costs there.
    """

    converter = time.gmtime

    def __init__(self) -> None:
        super().__init__(datefmt=_DATETIME_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        record.message = record.getMessage()
        result: dict[str, object] = {
            "timestamp": self.formatTime(record, self.datefmt),
            "level": record.levelname,
            "message": record.message,
            "logger": record.name,
            "requestId": getattr(record, "aws_request_id", None),
            "location": f"{record.pathname}:{record.funcName}:{record.lineno}",
        }
        if record.exc_info and record.exc_info[0] is not None:
            result["errorType"] = record.exc_info[0].__name__
            result["errorMessage"] = str(record.exc_info[1])
            result["stackTrace"] = traceback.format_tb(record.exc_info[2])
        result.update(
            (key, value)
            for key, value in record.__dict__.items()
            if key not in _RESERVED and key not in result
        )
        return json.dumps(
            {k: v for k, v in result.items() if v is not None}, default=str, ensure_ascii=False
        )


def install_lambda_logging(stream: object) -> None:
    """Root handler with the runtime's JSON formatter, writing to ``stream``; level INFO."""
    handler = logging.StreamHandler(stream)  # type: ignore[arg-type]
    handler.setFormatter(LambdaJsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)


def make_asset(folder: Path, runtime_dir: Path, extra: list[Path], python: str, pyc: bool) -> Path:
    """A Lambda-like asset folder: ``runtime/*.py`` as the construct ships it, plus ``extra``.

    With ``pyc`` the folder is byte-compiled by ``python`` (the interpreter that will
    import it); without, it holds sources only, as the construct ships them, and the
    children run with PYTHONDONTWRITEBYTECODE so it stays that way (Lambda's code
    folder is read-only: nothing is cached between cold starts).
    """
    if folder.exists():
        shutil.rmtree(folder)
    (folder / "runtime").mkdir(parents=True)
    for source in sorted(runtime_dir.glob("*.py")):
        shutil.copyfile(source, folder / "runtime" / source.name)
    for source in extra:
        shutil.copyfile(source, folder / source.name)
    if pyc:
        subprocess.run([python, "-m", "compileall", "-q", str(folder)], check=True)
    return folder


def base_python() -> str:
    """The interpreter under the project venv, without its site-packages hooks."""
    return getattr(sys, "_base_executable", sys.executable)
