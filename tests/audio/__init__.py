"""Tests of constructs_pkg/audio: the WAV rules and normalization, on made and damaged files."""
