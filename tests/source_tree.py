"""A fingerprint of a user's folder, to prove a synth left every entry of it as it was."""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

Entry = tuple[str, int, str]
"""(kind, permission bits, content): a file's SHA-256, a link's target, '' otherwise."""


def fingerprint(root: Path, *, skip: tuple[str, ...] = ()) -> dict[bytes, Entry]:
    """Every entry under ``root`` (links not followed) by its path as bytes.

    Names are kept as bytes, so a name that is not UTF-8 is compared too. ``skip`` names
    top-level entries to leave out (the synth's own output folder, when it is inside).
    """
    entries: dict[bytes, Entry] = {}
    folders = [b""]
    base = os.fsencode(root)
    while folders:
        folder = folders.pop()
        for name in os.listdir(os.path.join(base, folder) if folder else base):
            relative = os.path.join(folder, name) if folder else name
            if not folder and os.fsdecode(name) in skip:
                continue
            path = os.path.join(base, relative)
            mode = os.lstat(path).st_mode
            if stat.S_ISLNK(mode):
                entries[relative] = ("link", 0, os.fsdecode(os.readlink(path)))
            elif stat.S_ISDIR(mode):
                entries[relative] = ("folder", stat.S_IMODE(mode), "")
                folders.append(relative)
            elif stat.S_ISREG(mode):
                digest = hashlib.sha256(Path(os.fsdecode(path)).read_bytes()).hexdigest()
                entries[relative] = ("file", stat.S_IMODE(mode), digest)
            else:
                entries[relative] = ("other", stat.S_IMODE(mode), "")
    return entries


@contextmanager
def left_as_it_was(root: Path, *, skip: tuple[str, ...] = ()) -> Iterator[None]:
    """Assert that nothing under ``root`` changed inside the block, whether it raised or not."""
    before = fingerprint(root, skip=skip)
    try:
        yield
    finally:
        after = fingerprint(root, skip=skip)
        changed = sorted(
            os.fsdecode(path)
            for path in before.keys() | after.keys()
            if before.get(path) != after.get(path)
        )
        assert not changed, f"the synth changed the user's folder: {changed}"
