"""Synth-time audio work, no CDK imports.

wav.py checks prompts with the stdlib only, opening them through prompt_file_io.py
and refusing them with the errors of prompt_errors.py; normalize.py transcodes them
(numpy, soundfile, soxr: the optional ``normalize`` extra).
"""

NORMALIZABLE_CONTAINERS: dict[str, tuple[str, ...]] = {
    ".wav": ("WAV", "WAVEX"),
    ".flac": ("FLAC",),
    ".ogg": ("OGG",),
}
"""The file suffixes normalize.py decodes, and the libsndfile formats each may hold.

libsndfile recognises a file by its content, and only these formats have a structure
check (RIFF chunks; Ogg's end-of-stream; FLAC's own), so a truncated AIFF, W64, RF64, AU,
NIST or IRCAM file named .wav would decode shorter. Here, not in normalize.py, so that the
source folder's walk knows the suffixes without the ``normalize`` extra installed.
"""
NORMALIZABLE_SUFFIXES = tuple(NORMALIZABLE_CONTAINERS)
