"""Opening a prompt file safely: regular files only, and every OSError named.

A path is stat()ed before it is opened, so a FIFO (whose open waits for a writer,
forever), a socket, a device or a directory is refused without blocking the synth;
the open itself is non-blocking and checked again, in case the path was swapped.
An OSError met opening or reading becomes an UnreadablePromptError naming the file;
file_size is the size of what was opened.
The WAV check (wav.py), normalizing (normalize.py) and the source folder's walk
(constructs_pkg.prompt_files) open prompts through here. Stdlib only.
"""

from __future__ import annotations

import io
import os
import stat
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import BinaryIO

from .prompt_errors import UnreadablePromptError

# Open without blocking: a FIFO swapped in after the stat() below must not hang the open.
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
_FILE_KINDS: tuple[tuple[Callable[[int], bool], str], ...] = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
)


def open_prompt(path: str | os.PathLike[str]) -> BinaryIO:
    """Open a prompt for reading, refusing what is not a regular file before it can block.

    stat() first, so a FIFO, socket, device or directory is refused without
    being opened (opening a FIFO waits for a writer, forever); then open
    non-blocking and fstat() the open file, in case the path was swapped
    between the two. Raises UnreadablePromptError, never OSError.
    """
    name = str(os.fspath(path))
    with unreadable_on_os_error(name):
        _refuse_non_regular(name, os.stat(path).st_mode)
        f = open(path, "rb", buffering=0, opener=_open_non_blocking)  # noqa: SIM115
        try:
            _refuse_non_regular(name, os.fstat(f.fileno()).st_mode)
        except BaseException:
            f.close()
            raise
        return f


@contextmanager
def unreadable_on_os_error(name: str) -> Iterator[None]:
    """Turn an OSError raised while opening or reading `name` into an UnreadablePromptError."""
    try:
        yield
    except OSError as error:
        raise unreadable_error(name, error) from error


def unreadable_error(name: str, error: OSError) -> UnreadablePromptError:
    """The UnreadablePromptError for an OSError met opening or reading `name`."""
    reason = error.strerror or str(error) or type(error).__name__
    return UnreadablePromptError(
        name,
        f"cannot be read ({reason}); expected a readable file. Check that it exists "
        "and that this user may read it",
    )


def file_size(f: BinaryIO) -> int:
    """The file's real size: fstat for real files, seeking to the end for others."""
    try:
        return os.fstat(f.fileno()).st_size
    except (AttributeError, OSError):  # io.UnsupportedOperation is an OSError
        return f.seek(0, io.SEEK_END)


def non_regular_error(name: str, mode: int) -> UnreadablePromptError | None:
    """The refusal of a directory, FIFO, socket or device (by its stat mode), or None for
    a regular file: only a regular file holds a prompt, and opening a FIFO blocks."""
    if stat.S_ISREG(mode):
        return None
    kind = next((what for is_kind, what in _FILE_KINDS if is_kind(mode)), "not a regular file")
    return UnreadablePromptError(
        name, f"is {kind}, not a regular file; expected a readable file holding the audio"
    )


def _refuse_non_regular(name: str, mode: int) -> None:
    error = non_regular_error(name, mode)
    if error is not None:
        raise error


def _open_non_blocking(path: str, flags: int) -> int:
    """open()'s opener: read-only and non-blocking, whatever mode open() asked for."""
    return os.open(path, _OPEN_FLAGS)
