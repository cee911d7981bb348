"""Synth-time audio work, no CDK imports.

wav.py checks prompts with the stdlib only; normalize.py transcodes them
(numpy, soundfile, soxr: the optional ``normalize`` extra).
"""
