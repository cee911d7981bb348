"""The errors that refuse a prompt: each names the file, says why, and how to fix it.

WavError and its kinds are raised by the WAV check (wav.py), by opening a prompt file
(prompt_file_io.py) and by normalizing (normalize.py); PromptCheckError gathers every
refusal of a synth into one error. They live apart so that each of those modules can
raise them without importing another. Stdlib only.
"""

from __future__ import annotations

from collections.abc import Sequence


class WavError(ValueError):
    """A file Chime PlayAudio cannot play: `path` names it, `reason` says why and how to fix it."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


class UnreadablePromptError(WavError):
    """A path that cannot be read as a file: the OS refused (permissions, gone, I/O error),
    or it is a directory, FIFO, socket or device."""


class NotWavError(WavError):
    """The file is not RIFF/WAVE at all (text, MP3, empty, another RIFF form)."""


class MalformedWavError(WavError):
    """A RIFF/WAVE file whose chunks are missing, inconsistent or cut short."""


class UnsupportedEncodingError(WavError):
    """A well-formed WAV whose samples are not uncompressed PCM Chime can play."""


class PromptTooLargeError(WavError):
    """A PCM WAV over Chime PlayAudio's 50 MB limit."""


class EmptyPromptError(WavError):
    """A PCM WAV with no audio in its data chunk."""


class PromptCheckError(ValueError):
    """Every refused prompt in one error, so the user fixes them all in one pass."""

    def __init__(self, errors: Sequence[WavError]) -> None:
        self.errors = tuple(errors)
        noun = "file" if len(self.errors) == 1 else "files"
        lines = "".join(f"\n  - {error}" for error in self.errors)
        super().__init__(
            f"{len(self.errors)} prompt {noun} cannot be played by Chime PlayAudio:{lines}"
        )
