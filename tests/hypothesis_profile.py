"""The Hypothesis settings of the property tests: deterministic, with a deadline, no database.

Imported by each property-test module (tests/conftest.py stays untouched). Profiles:

``ci`` (the default)
    ``derandomize=True``: every run draws the same examples (seeded from each test's
    own code), so a red CI run reproduces locally and a green one stays green.
    ``database=None``: nothing is stored between runs (no .hypothesis/ folder).
    ``deadline``: one example may take at most 500 ms, far above what any should.
``explore``
    The same, but random: ``HYPOTHESIS_PROFILE=explore pytest tests/...`` searches new
    examples on every run. A failure prints the example and a ``@reproduce_failure`` blob.

Each property sets its own ``max_examples``, counts the examples that really ran and
fails if fewer did; ``pytest -rP -p no:logging`` prints the counts.
"""

from __future__ import annotations

import os
from datetime import timedelta

from hypothesis import settings

DEADLINE = timedelta(milliseconds=500)

settings.register_profile("ci", derandomize=True, database=None, deadline=DEADLINE, print_blob=True)
settings.register_profile(
    "explore", derandomize=False, database=None, deadline=DEADLINE, print_blob=True
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
