"""Tests of playaudio_sim, the call simulator: calls, damaged apps, documented semantics."""
