"""Run the synthesized Lambda's handler as Lambda would: isolated, warm, with its timeout.

Why a subprocess, not an import into the simulator: the handler gets its own
interpreter, its own ``os.environ`` (exactly the function's environment,
references resolved, plus Lambda's reserved variables, and nothing of the
caller's: no AWS credentials leak in), its own module state, and a timeout
that can really be enforced: a handler stuck in a loop or a C call is killed,
which a thread in this process could never be. One worker serves a whole
call, as a warm execution environment does, so module state (the sample
handler's ``CONFIG``, read at import) behaves as in Lambda; a worker that
timed out or crashed is replaced by a fresh one (a cold start), as Lambda
resets an environment after a timeout. Cost: one interpreter start per call
(tens of milliseconds).

Layers: Lambda merges a function's layers into ``/opt`` in ``Layers`` order, a
later layer's file replacing an earlier one's at the same path, and its Python
runtimes import from ``/opt/python/lib/python3.X/site-packages`` and
``/opt/python``. The runner emulates that with a temporary folder per runner
that stands for ``/opt``: each layer's folder is copied over it in order, those
two folders of it go on the worker's import path (after the code folder, as
``/var/task`` comes first in Lambda), and ``close()`` removes it. Without
layers it is empty, as ``/opt`` is.

**The one place the simulated environment differs from Lambda's**: ``/opt`` is
that temporary folder, not ``/opt``, so every environment variable whose value
is ``/opt`` or starts with ``/opt/`` is rewritten to point into it (e.g.
``PROMPT_CATALOG=/opt/playaudio/catalogs/...``, which ``WavPrompts.bind`` sets).
A handler that spells out an ``/opt`` path in its code, not through a
variable, does not find the layer's files here.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from constructs_pkg.chime_facts import LAYER_MOUNT, LAYER_PYTHON

from .call_setup import Function
from .cloud_assembly import AssemblyError

WORKER = Path(__file__).with_name("_lambda_worker.py")
# Where Python runtimes find a layer's modules, relative to /opt. Lambda's "Layer paths for
# each Lambda runtime" (docs.aws.amazon.com/lambda/latest/dg/packaging-layers.html): Python
# `python` and `python/lib/python3.x/site-packages` (site directories). Their order on
# sys.path, site-packages first, right after /var/task, is how Lambda's Python runtimes
# print sys.path (UNVERIFIED here: the page lists the folders, not their order). Merge
# order: "The order in which you add the layers is the order in which Lambda merges the
# layer content into the execution environment" (.../lambda/latest/dg/adding-layers.html).
LAYER_SITE_PACKAGES = LAYER_PYTHON + "/lib/{runtime}/site-packages"


@dataclass
class InvokeResult:
    """What one invocation returned, or how it failed."""

    ok: bool
    response: Any = None
    error_type: str | None = None
    error_message: str | None = None
    logs: list[Any] = field(default_factory=list)
    duration_ms: float = 0.0
    timed_out: bool = False
    cold_start: bool = False


def lambda_environment(function: Function, code_dir: Path, region: str) -> dict[str, str]:
    """The function's variables plus the reserved ones Lambda sets; nothing from this process."""
    runtime_version = function.runtime.removeprefix("python")
    reserved = {
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        "AWS_LAMBDA_FUNCTION_NAME": function.name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory_mb),
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{function.name}",
        "AWS_LAMBDA_LOG_STREAM_NAME": "simulated",
        "AWS_EXECUTION_ENV": f"AWS_Lambda_python{runtime_version}",
        "LAMBDA_TASK_ROOT": str(code_dir),
        "TZ": ":UTC",
        "LANG": "en_US.UTF-8",
        "PATH": "/usr/local/bin:/usr/bin:/bin",
    }
    return {**function.environment, **reserved}


def merge_layers(function: Function, opt_dir: Path) -> None:
    """Copy the function's layer folders into ``opt_dir`` in order, as Lambda extracts them
    into /opt: a later layer's file replaces an earlier one's at the same path."""
    for layer in function.layers:
        try:
            shutil.copytree(layer, opt_dir, dirs_exist_ok=True)
        except (OSError, shutil.Error) as error:
            raise AssemblyError(
                f"layer {layer} of function {function.logical_id} cannot be merged into the "
                f"simulated /opt ({error}); expected a readable folder of files whose paths "
                "do not clash (a file in one layer where another has a folder)"
            ) from error


def opt_paths(environment: dict[str, str], opt_dir: Path) -> dict[str, str]:
    """``environment`` with each value that is /opt or under it pointing into ``opt_dir``."""
    return {
        name: (
            f"{opt_dir}{value[len(LAYER_MOUNT) :]}"
            if value == LAYER_MOUNT or value.startswith(f"{LAYER_MOUNT}/")
            else value
        )
        for name, value in environment.items()
    }


class LambdaRunner:
    """Invokes one function's handler in a worker process; ``close()`` ends the worker."""

    def __init__(
        self,
        function: Function,
        *,
        region: str,
        environment: dict[str, str] | None = None,
    ) -> None:
        self.function = function
        self._scratch: Path | None = None
        # Stands for /opt: the function's layers, merged (module docstring).
        self.opt_dir = Path(tempfile.mkdtemp(prefix="playaudio-sim-opt-")).resolve()
        try:
            merge_layers(function, self.opt_dir)
        except AssemblyError:
            shutil.rmtree(self.opt_dir, ignore_errors=True)
            raise
        code_dir = function.code_dir
        if code_dir is None:
            # Inline code (Code.ZipFile): Lambda writes it to index.py.
            self._scratch = Path(tempfile.mkdtemp(prefix="playaudio-sim-inline-"))
            (self._scratch / "index.py").write_text(function.inline_code or "", encoding="utf-8")
            code_dir = self._scratch
        self.code_dir = code_dir.resolve()
        self.environment = opt_paths(
            environment
            if environment is not None
            else lambda_environment(function, self.code_dir, region),
            self.opt_dir,
        )
        self._process: subprocess.Popen[bytes] | None = None
        self._stderr: IO[bytes] | None = None
        self._buffer = b""

    def invoke(self, event: dict[str, Any], timeout_s: float) -> InvokeResult:
        """Call the handler with ``event``; kill and report a timeout after ``timeout_s``."""
        cold = self._process is None
        process = self._start() if cold else self._process
        assert process is not None and process.stdin is not None
        request = {
            "event": event,
            "timeout_s": timeout_s,
            "context": {
                "function_name": self.function.name,
                "invoked_function_arn": self.function.arn,
                "memory_limit_in_mb": self.function.memory_mb,
                "aws_request_id": str(uuid.uuid4()),
            },
        }
        started = time.monotonic()
        try:
            process.stdin.write(json.dumps(request).encode() + b"\n")
            process.stdin.flush()
        except BrokenPipeError:
            return self._crashed(cold, started)
        line = self._read_line(process, started + timeout_s)
        if line is None:
            if process.poll() is not None:
                return self._crashed(cold, started)
            return self._end_environment(
                "Sandbox.Timedout",
                f"Task timed out after {timeout_s:.2f} seconds",
                cold=cold,
                started=started,
                timed_out=True,
            )
        data = json.loads(line)
        return InvokeResult(
            ok=bool(data.get("ok")),
            response=data.get("response"),
            error_type=data.get("errorType"),
            error_message=data.get("errorMessage"),
            logs=list(data.get("logs", [])),
            duration_ms=float(data.get("durationMs", 0.0)),
            cold_start=cold,
        )

    def close(self) -> None:
        self._stop(graceful=True)
        for folder in (self._scratch, self.opt_dir):
            if folder is not None:
                shutil.rmtree(folder, ignore_errors=True)
        self._scratch = None

    def __enter__(self) -> LambdaRunner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- internals ---------------------------------------------------------------------------

    def _start(self) -> subprocess.Popen[bytes]:
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 - closed by _stop()
        self._buffer = b""
        site_packages = LAYER_SITE_PACKAGES.format(runtime=self.function.runtime)
        self._process = subprocess.Popen(
            [
                sys.executable,
                "-I",
                "-B",
                str(WORKER),
                str(self.code_dir),
                self.function.handler,
                str(self.opt_dir / site_packages),
                str(self.opt_dir / LAYER_PYTHON),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            env=self.environment,
            cwd=self.code_dir,
            start_new_session=True,
        )
        return self._process

    def _read_line(self, process: subprocess.Popen[bytes], deadline: float) -> bytes | None:
        assert process.stdout is not None
        fd = process.stdout.fileno()
        while b"\n" not in self._buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            ready, _, _ = select.select([fd], [], [], remaining)
            if not ready:
                return None
            chunk = os.read(fd, 65536)
            if not chunk:
                return None
            self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        return line

    def _crashed(self, cold: bool, started: float) -> InvokeResult:
        detail = self._stderr_tail()
        return self._end_environment(
            "Runtime.ExitError",
            f"the execution environment exited: {detail or 'no output'}",
            cold=cold,
            started=started,
        )

    def _end_environment(
        self, error_type: str, message: str, *, cold: bool, started: float, timed_out: bool = False
    ) -> InvokeResult:
        """Stop the worker (the next invocation starts cold) and report how this one failed."""
        self._stop()
        return InvokeResult(
            ok=False,
            error_type=error_type,
            error_message=message,
            duration_ms=round((time.monotonic() - started) * 1000, 3),
            timed_out=timed_out,
            cold_start=cold,
        )

    def _stderr_tail(self) -> str:
        if self._stderr is None:
            return ""
        self._stderr.seek(0)
        text = self._stderr.read().decode("utf-8", "replace").strip()
        return " | ".join(text.splitlines()[-3:])

    def _stop(self, *, graceful: bool = False) -> None:
        process, self._process = self._process, None
        if process is not None:
            if graceful and process.stdin is not None:
                process.stdin.close()  # the worker's request loop ends
                with contextlib.suppress(subprocess.TimeoutExpired):
                    process.wait(timeout=2)
            if process.poll() is None:
                # The worker leads its own session: end it and anything it started.
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            for stream in (process.stdin, process.stdout):
                if stream is not None and not stream.closed:
                    stream.close()
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None
