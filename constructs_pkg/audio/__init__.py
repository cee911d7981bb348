"""Synth-time audio work, no CDK imports.

wav.py checks prompts with the stdlib only, opening them through prompt_file_io.py
and refusing them with the errors of prompt_errors.py; normalize.py transcodes them
(numpy, soundfile, soxr: the optional ``normalize`` extra).
"""
