"""Synth-time audio work (WAV checking, normalizing); stdlib only, no CDK imports."""
