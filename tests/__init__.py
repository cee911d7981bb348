"""Tests, laid out like the packages they test (README, Layout)."""
