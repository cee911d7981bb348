"""Tests of constructs_pkg/runtime, the call-time handler, imported as Lambda loads it."""
