"""pytest set-up for bench/test_facts.py (`make test` collects bench/ too).

jsii starts ``node`` from PATH: the venv's and the project's Node first, as the Makefile
and the benchmarks set it, also for a bare ``pytest bench``. The benchmark that runs
``make test`` (test_suite.py) is a module of the bench, not a test file.
"""

from __future__ import annotations

import os

from bench.common import tool_env

os.environ["PATH"] = tool_env()["PATH"]

collect_ignore = ["test_suite.py"]
