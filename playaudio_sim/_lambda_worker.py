"""The process a simulated Lambda execution environment runs in (stdlib only, run as a script).

Started by :mod:`.lambda_runner` as ``python -I -B _lambda_worker.py CODE_DIR HANDLER
SITE_DIR PYTHON_DIR``: ``-I`` keeps the caller's PYTHON* variables, user site and
working directory off ``sys.path``; ``-B`` writes no ``__pycache__`` into the
asset folder. The environment is exactly the function's (set by the runner).
The code folder comes first on ``sys.path``, as ``/var/task`` does in Lambda,
then the layers' folders of the simulated /opt: SITE_DIR
(``python/lib/python3.X/site-packages``, a site directory: its ``.pth`` files
are read) and PYTHON_DIR (``python``). ``constructs_pkg`` and ``playaudio_sim`` are
hidden unless the asset or a layer ships them: a handler that imports what neither
carries fails here as it would in Lambda.

Protocol: one JSON request per line on stdin (``{"event", "context"}``), one
JSON result per line on the inherited stdout, which the handler cannot write
to (its ``print`` and logging are captured and returned with the result).
The module is imported on the first request, so an import error is reported
as ``Runtime.ImportModuleError`` on every invocation, as Lambda does.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import json
import logging
import os
import site
import sys
import time
import traceback
import types
from collections.abc import Callable, Sequence
from typing import Any

HIDDEN_PACKAGES = ("constructs_pkg", "playaudio_sim")
_RESERVED_LOG_FIELDS = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


class _HideProjectPackages:
    """A meta path finder that refuses the project's own packages unless the asset or a layer
    carries them.

    (A plain class with ``find_spec``: importing importlib.abc would cost every cold start.)
    """

    def __init__(self, folders: Sequence[str]) -> None:
        self._folders = list(folders)

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None,
        target: types.ModuleType | None = None,
    ) -> None:
        top = fullname.split(".")[0]
        if top in HIDDEN_PACKAGES and not any(
            os.path.isdir(os.path.join(folder, top)) for folder in self._folders
        ):
            raise ModuleNotFoundError(
                f"No module named {fullname!r} (not in the Lambda asset or its layers)"
            )
        return None


class _CapturedLogs(logging.Handler):
    """Lambda's JSON log format, roughly: level, logger, message and any extra fields."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.records: list[dict[str, Any]] = []

    def emit(self, record: logging.LogRecord) -> None:
        entry: dict[str, Any] = {
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name, value in vars(record).items():
            if name not in _RESERVED_LOG_FIELDS:
                entry[name] = value
        if record.exc_info:
            entry["stackTrace"] = traceback.format_exception(*record.exc_info)[-3:]
        self.records.append(json.loads(json.dumps(entry, default=repr)))


class _Context:
    """The fields of Lambda's context object that handlers read."""

    def __init__(self, fields: dict[str, Any], deadline: float) -> None:
        self.function_name = str(fields["function_name"])
        self.function_version = "$LATEST"
        self.invoked_function_arn = str(fields["invoked_function_arn"])
        self.memory_limit_in_mb = str(fields["memory_limit_in_mb"])
        self.aws_request_id = str(fields["aws_request_id"])
        self.log_group_name = f"/aws/lambda/{self.function_name}"
        self.log_stream_name = "simulated"
        self.identity = None
        self.client_context = None
        self._deadline = deadline

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def _load(handler: str) -> Callable[[Any, Any], Any]:
    module_name, _, function_name = handler.rpartition(".")
    if not module_name:
        raise _LambdaError("Runtime.MalformedHandlerName", f"Bad handler '{handler}'")
    try:
        module = importlib.import_module(module_name.replace("/", "."))
    except Exception as error:
        raise _LambdaError(
            "Runtime.ImportModuleError", f"Unable to import module '{module_name}': {error}"
        ) from error
    function = getattr(module, function_name, None)
    if not callable(function):
        raise _LambdaError(
            "Runtime.HandlerNotFound",
            f"Handler '{function_name}' missing on module '{module_name}'",
        )
    return function  # type: ignore[no-any-return]


class _LambdaError(Exception):
    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(message)
        self.error_type = error_type


def main(argv: list[str]) -> None:
    code_dir, handler_spec, site_dir, python_dir = argv[1:5]
    protocol = os.fdopen(os.dup(1), "w", buffering=1, encoding="utf-8")
    os.dup2(2, 1)  # anything written to fd 1 from now on goes to stderr, not the protocol
    sys.stdout = sys.stderr
    sys.path[:0] = [code_dir, site_dir, python_dir]
    site.addsitedir(site_dir)  # on sys.path already: this reads its .pth files
    sys.meta_path.insert(0, _HideProjectPackages([code_dir, site_dir, python_dir]))
    logs = _CapturedLogs()
    root = logging.getLogger()
    root.addHandler(logs)
    root.setLevel(logging.INFO)
    handler: Callable[[Any, Any], Any] | None = None
    init_error: _LambdaError | None = None
    for line in sys.stdin:
        request = json.loads(line)
        deadline = time.monotonic() + float(request["timeout_s"])
        printed = io.StringIO()
        logs.records = []
        started = time.perf_counter()
        result: dict[str, Any]
        with contextlib.redirect_stdout(printed), contextlib.redirect_stderr(printed):
            try:
                if handler is None and init_error is None:
                    try:
                        handler = _load(handler_spec)
                    except _LambdaError as error:
                        init_error = error
                if init_error is not None:
                    raise init_error
                assert handler is not None
                returned = handler(request["event"], _Context(request["context"], deadline))
                try:
                    text = json.dumps(returned)
                except (TypeError, ValueError) as error:
                    raise _LambdaError(
                        "Runtime.MarshalError", f"Unable to marshal response: {error}"
                    ) from error
                result = {"ok": True, "response": json.loads(text)}
            except _LambdaError as error:
                result = {"ok": False, "errorType": error.error_type, "errorMessage": str(error)}
            except SystemExit as error:
                result = {
                    "ok": False,
                    "errorType": "Runtime.ExitError",
                    "errorMessage": f"the handler called sys.exit({error.code!r})",
                }
            except Exception as error:
                result = {
                    "ok": False,
                    "errorType": type(error).__name__,
                    "errorMessage": str(error),
                    "stackTrace": traceback.format_exc().splitlines()[-6:],
                }
        result["durationMs"] = round((time.perf_counter() - started) * 1000, 3)
        result["logs"] = logs.records + [
            {"stream": "stdout/stderr", "message": text_line}
            for text_line in printed.getvalue().splitlines()
        ]
        protocol.write(json.dumps(result, default=repr) + "\n")


if __name__ == "__main__":
    main(sys.argv)
