"""`make bench`: figures for the handler, the synth, the WAV check, normalization and the tests.

Run as ``python -m bench`` (``--help`` for the options). Every figure is a median
over repeated runs with its min and max; where a reference exists it is measured
in the same run, the subject and the reference alternating, and the ratio is the
ratio of the two medians. Benchmarks print figures and write BENCHMARKS.md; they
never assert a wall-clock bound (bench/test_facts.py checks the
machine-independent facts).
"""
