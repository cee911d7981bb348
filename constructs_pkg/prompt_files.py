"""The prompt files of a source folder, and their copies in the cloud assembly.

Which entries are prompts (a walk that follows no link to a folder and skips a cloud
assembly), the name and deployed file name of each, every reason one cannot deploy
(a name S3 refuses, two files for one key, an unreadable entry), the checked copy
into the assembly and the folders there that a WavPrompts owns. ``WavPrompts``
(prompts.py) and its catalog layer (prompt_catalog.py) run these; no CDK here.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import os
import re
import shutil
import stat
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from constructs_pkg.audio import NORMALIZABLE_SUFFIXES
from constructs_pkg.audio.prompt_errors import WavError
from constructs_pkg.audio.prompt_file_io import (
    non_regular_error,
    open_prompt,
    unreadable_error,
    unreadable_on_os_error,
)
from constructs_pkg.audio.wav import WavInfo, check_prompt
from constructs_pkg.runtime.catalog import PROMPT_SUFFIX
from constructs_pkg.s3_keys import asset_path_problem, deployed_key, key_problem

# The folders WavPrompts writes in the cloud assembly (a source folder holding one of them
# is a cloud assembly, never prompts).
CACHE_FOLDER = ".playaudio-cache"
STAGING_FOLDER = ".playaudio-prompts"
CATALOG_STAGING = ".playaudio-catalogs"
# What aws-cdk-lib names a staged asset in the cloud assembly.
_ASSET_FOLDER = re.compile(r"asset\.[0-9a-f]{64}(\.zip)?")
_COPY_CHUNK_BYTES = 1 << 20


class PromptSourceError(WavError):
    """A source entry named like a prompt that cannot be deployed as one (not a readable
    file, or a name S3 refuses)."""


class PromptCollisionError(WavError):
    """Two or more source files that would be deployed to one key."""


def check_source_outside(construct_id: str, source: Path, assembly: Path) -> None:
    """Refuse a source folder inside the cloud assembly, which every synth rewrites."""
    resolved = source.resolve()
    if resolved.is_relative_to(assembly):
        raise ValueError(
            f"WavPrompts '{construct_id}': source_dir {printable_path(source)!r} is inside the "
            f"cloud assembly {str(assembly)!r}, which every synth rewrites; expected a folder "
            "of your prompts outside it."
        )


def key_problems(key_prefix: str, source: Path, files: list[Path]) -> list[WavError]:
    """The files whose deployed key S3 would refuse (too long, not UTF-8, control characters)."""
    problems: list[WavError] = []
    for relative in files:
        staged = staged_name(relative)
        problem = key_problem(deployed_key(key_prefix, staged)) or asset_path_problem(staged)
        if problem:
            problems.append(PromptSourceError(printable_path(source / relative), problem))
    return problems


def collisions(source: Path, files: list[Path]) -> list[WavError]:
    """The files that would be deployed to one key (``a.wav`` and ``a.WAV``, ``a.flac``)."""
    by_key: dict[str, list[Path]] = {}
    for relative in files:
        by_key.setdefault(staged_name(relative), []).append(relative)
    problems: list[WavError] = []
    for staged, group in by_key.items():
        # A file staged where another prompt needs a folder (x.WAV beside x.wav/y.wav).
        for folder in PurePosixPath(staged).parents:
            for relative in by_key.get(str(folder), []):
                problems.append(
                    PromptCollisionError(
                        printable_path(source / relative),
                        f"would be deployed as {str(folder)!r}, which "
                        f"{printable_path(source / group[0])} needs as a folder; expected a prompt "
                        "name that is no other prompt's folder. Rename one of them",
                    )
                )
        if len(group) > 1:
            for relative in group:
                others = " and ".join(
                    printable_path(source / other) for other in group if other != relative
                )
                problems.append(
                    PromptCollisionError(
                        printable_path(source / relative),
                        f"would be deployed as {staged!r}, as would {others}; expected one "
                        "file per prompt name. Rename or remove all but one",
                    )
                )
    return problems


@dataclass
class SourceFiles:
    """What a walk of the source folder found, each list relative to it and sorted."""

    prompts: list[Path] = field(default_factory=list)
    skipped: list[Path] = field(default_factory=list)
    linked_folders: list[Path] = field(default_factory=list)
    assemblies: list[Path] = field(default_factory=list)
    refused: list[WavError] = field(default_factory=list)


def find_prompt_files(source: Path, normalize: bool, assembly: Path) -> SourceFiles:
    """Walk ``source`` without following links to folders; dotfiles are ignored.

    A prompt is a regular file (or a link to one) with a prompt suffix. Anything else
    named like a prompt (a broken or looping link, a FIFO that would block the synth, a
    device) is refused; other entries are skipped with a warning, and so is a cloud
    assembly found inside (the synth's own output, or another one).
    """
    suffixes = NORMALIZABLE_SUFFIXES if normalize else (PROMPT_SUFFIX,)
    found = SourceFiles()
    folders = [Path()]
    while folders:
        folder = folders.pop()
        try:
            entries = list(os.scandir(source / folder))
        except OSError as error:
            found.refused.append(
                PromptSourceError(
                    printable_path(source / folder),
                    f"cannot be read ({error.strerror}); expected a readable folder",
                )
            )
            continue
        for entry in entries:
            if entry.name.startswith("."):
                continue
            relative = folder / entry.name
            path = source / relative
            if entry.is_dir(follow_symlinks=False):
                if is_assembly(path, assembly):
                    found.assemblies.append(relative)
                else:
                    folders.append(relative)
                continue
            named_prompt = path.suffix.lower() in suffixes
            try:
                mode = path.stat().st_mode
            except OSError as error:
                target = os.readlink(path) if entry.is_symlink() else None
                if named_prompt and target is not None:
                    found.refused.append(
                        PromptSourceError(
                            printable_path(path),
                            f"is a link to {target!r}, which cannot be opened "
                            f"({error.strerror}); expected a link to a readable file",
                        )
                    )
                elif named_prompt:
                    found.refused.append(unreadable_error(printable_path(path), error))
                else:
                    found.skipped.append(relative)
                continue
            if stat.S_ISDIR(mode):
                found.linked_folders.append(relative)
            elif not named_prompt:
                found.skipped.append(relative)
            elif (not_a_file := non_regular_error(printable_path(path), mode)) is not None:
                found.refused.append(not_a_file)
            else:
                found.prompts.append(relative)
    for paths in (found.prompts, found.skipped, found.linked_folders, found.assemblies):
        paths.sort()
    return found


def is_assembly(folder: Path, assembly: Path) -> bool:
    """This synth's own output folder, or any folder that holds a cloud assembly, finished
    (manifest.json and cdk.out) or not (a synth that stopped leaves asset.<hash> folders)."""
    if folder.resolve() == assembly:
        return True
    if (folder / "manifest.json").is_file() and (folder / "cdk.out").is_file():
        return True
    try:
        names = os.listdir(folder)
    except OSError:
        return False
    return any(
        name in (STAGING_FOLDER, CACHE_FOLDER, CATALOG_STAGING)
        or _ASSET_FOLDER.fullmatch(name) is not None
        for name in names
    )


def expected_files(normalize: bool) -> str:
    """``files ending in .wav (any case)``, or with normalize the suffixes it decodes."""
    if normalize:
        *first, last = NORMALIZABLE_SUFFIXES
        return f"files ending in {', '.join(first)} or {last} (any case)"
    return f"files ending in {PROMPT_SUFFIX} (any case)"


def prompt_name(relative: Path) -> str:
    return relative.with_suffix("").as_posix()


@functools.lru_cache(maxsize=1 << 16)
def staged_name(relative: Path) -> str:
    """The deployed file name: the same path, with a lower-case .wav suffix (cached: each
    prompt's is asked for by the key checks, the collision check, staging and the catalog)."""
    return relative.with_suffix(PROMPT_SUFFIX).as_posix()


def make_folder(folder: Path, name: str) -> None:
    """The staging folder a prompt goes into; a file in its way is named, not a traceback."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise PromptCollisionError(
            name,
            f"its staging folder {str(folder)!r} cannot be made ({error.strerror}): another "
            "prompt is staged where it needs a folder; expected prompt names that are no "
            "other prompt's folder",
        ) from error


def check_and_copy(audio: Path, target: Path, name: str) -> tuple[WavInfo, str]:
    """Check ``audio`` and copy the bytes checked into ``target``, which must not exist.

    One open file serves both, so a file changed between check and copy cannot slip
    through; opening never blocks (a FIFO swapped in is refused, not waited on), and the
    exclusive create never writes through a link or onto a file already staged.
    Returns the info and the SHA-256 of the bytes; errors name ``name``, the user's file.
    """
    try:
        with open_prompt(audio) as f, unreadable_on_os_error(str(audio)):
            info = check_prompt(f)
            f.seek(0)
            digest, copied = _copy_exclusive(f, target, name)
    except WavError as error:
        raise type(error)(name, error.reason) from None
    if copied != info.file_bytes:
        raise PromptSourceError(
            name,
            f"changed while the synth read it ({info.file_bytes} bytes checked, {copied} "
            "copied); expected it to stay unchanged during the synth. Synthesize again",
        )
    return dataclasses.replace(info, path=name), digest


def _copy_exclusive(f: BinaryIO, target: Path, name: str) -> tuple[str, int]:
    """Copy ``f`` into a new file ``target``; its SHA-256 and the bytes copied."""
    digest = hashlib.sha256()
    copied = 0
    try:
        out = open(target, "xb")  # noqa: SIM115 - closed below, after the exclusive create
    except FileExistsError:
        raise PromptCollisionError(
            name,
            f"its staged copy {str(target)!r} exists already: another prompt's name differs "
            "only in case, and the cloud assembly's file system ignores case; expected names "
            "that differ in more than case",
        ) from None
    with out:
        while chunk := f.read(_COPY_CHUNK_BYTES):
            out.write(chunk)
            digest.update(chunk)
            copied += len(chunk)
    return digest.hexdigest(), copied


def own_folder(construct_id: str, assembly: Path, *parts: str, fresh: bool = True) -> Path:
    """A folder of a WavPrompts' own inside the cloud assembly, emptied if ``fresh``.

    A link planted in its place, or in place of a folder above it, is refused before
    anything is created: following it, the clean-up would delete and staging would
    write someone else's files.
    """
    folder = assembly
    for part in parts:
        folder = folder / part
        if folder.is_symlink():
            raise ValueError(
                f"WavPrompts '{construct_id}': {folder} is a link to "
                f"{os.readlink(folder)!r}; expected a plain folder inside the cloud "
                "assembly, never followed through a link. Delete the link and "
                "synthesize again."
            )
        if folder.exists() and not folder.is_dir():
            raise ValueError(
                f"WavPrompts '{construct_id}': {folder} is not a folder; expected the "
                "folder the synth makes inside the cloud assembly. Delete it and "
                "synthesize again."
            )
    if fresh and folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def path_digest(construct_path: str) -> str:
    """A short, stable folder name for a construct: a hash of its path in the tree."""
    return hashlib.sha256(construct_path.encode()).hexdigest()[:16]


def printable_path(path: Path) -> str:
    """``path`` as printable text: bytes that are not UTF-8 as \\x escapes."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")
