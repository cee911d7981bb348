"""The simulated S3 side of a call: what the deployments put in which bucket, and the policies.

Built from the synthesized template, never from AWS: every
``Custom::CDKBucketDeployment`` contributes the files of its source assets
(``asset.<hash>`` folders or zip files in the cloud assembly) under its
``DestinationBucketKeyPrefix`` in its ``DestinationBucketName`` (a folder, as ``aws s3
sync`` takes it: ``constructs_pkg.s3_keys``, the rule the constructs use), with the
content type its ``SystemMetadata`` sets. Without one, the object gets what
``aws s3 sync`` (which the deployment runs) guesses from the file name: for
``.wav`` that is ``audio/x-wav``, seen in a local deploy rehearsal with the
BucketDeployment handler, so a WAV deployed without ``content_type`` is not
``audio/wav``. ``Exclude``/``Include`` filters apply as ``aws s3 sync`` applies
them (later filters win). Each ``AWS::S3::BucketPolicy`` is the policy of
the bucket it names.

Objects someone uploads by hand (``prune=False`` keeps them) are not known.

Each property is checked right after its intrinsics are resolved (an ``Fn::If``
or ``Fn::Select`` can hide any shape from the template check in
:mod:`.call_setup`); ``{"Ref": "AWS::NoValue"}`` is an absent property. A value
of the wrong shape is a :class:`PropertyError`, an asset the deployment cannot
extract (missing, of the wrong kind, a zip that is not one or is damaged, a
member that would land outside the prefix) an :class:`AssetError`; both name
the resource and property, what was found and what was expected, and
:mod:`.call_setup` turns them into an ``AssemblyError`` (exit 7). Bucket policy
statements are checked for shape only; what :mod:`.policy` does not model
(``NotPrincipal``...) is still reported when a call evaluates the policy.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import io
import lzma
import mimetypes
import re
import zipfile
import zlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from constructs_pkg.runtime.catalog import PROMPT_SUFFIX
from constructs_pkg.s3_keys import deployed_key, key_prefix_problem, normalize_key_prefix

from .intrinsics import NO_VALUE, Resolver, is_intrinsic
from .jsonfile import describe

DEPLOYMENT_TYPE = "Custom::CDKBucketDeployment"
BUCKET_TYPE = "AWS::S3::Bucket"
BUCKET_POLICY_TYPE = "AWS::S3::BucketPolicy"
# What `aws s3 sync` labels a .wav without an explicit content type (observed).
SYNC_GUESSES = {".wav": "audio/x-wav"}
# The elements of a policy statement (IAM's grammar); anything else is a malformed policy.
STATEMENT_ELEMENTS = (
    "Sid",
    "Effect",
    "Principal",
    "NotPrincipal",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Condition",
)
# What reading a damaged zip member can raise (RuntimeError: encrypted, NotImplementedError:
# an unknown compression method).
_ZIP_READ_ERRORS = (
    zipfile.BadZipFile,
    zlib.error,
    lzma.LZMAError,
    EOFError,
    OSError,
    ValueError,
    RuntimeError,
    NotImplementedError,
)
_ABSENT: Any = object()  # a property that is missing or resolves to AWS::NoValue


class PropertyError(ValueError):
    """A deployment's or bucket policy's property that resolves to a shape it cannot have."""


class AssetError(ValueError):
    """A deployment's source asset that cannot be extracted as the deployment would."""


@dataclass(frozen=True)
class Asset:
    """A file asset of the cloud assembly: a folder (packaging zip) or a file."""

    path: Path
    packaging: str


@dataclass(frozen=True)
class StoredObject:
    """One object a deployment puts in a bucket, and where its bytes are in cdk.out."""

    bucket: str
    key: str
    content_type: str | None
    size: int
    deployment: str
    prefix: str
    file: Path
    member: str | None = None

    @property
    def name(self) -> str:
        """The key without the deployment's prefix and .wav (any case): the prompt's name."""
        name = self.key[len(self.prefix) :]
        return name[: -len(PROMPT_SUFFIX)] if name.lower().endswith(PROMPT_SUFFIX) else name

    def open(self) -> BinaryIO:
        """The object's bytes: the asset file, or the zip member read into memory."""
        if self.member is None:
            return open(self.file, "rb")
        with zipfile.ZipFile(self.file) as archive:
            return io.BytesIO(archive.read(self.member))


@dataclass
class ObjectStore:
    """The buckets of the assembly, their objects and their policies."""

    buckets: dict[str, str] = field(default_factory=dict)  # bucket name -> logical id
    objects: dict[tuple[str, str], StoredObject] = field(default_factory=dict)
    policies: dict[str, dict[str, Any]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def get(self, bucket: str, key: str) -> StoredObject | None:
        return self.objects.get((bucket, key))

    def keys_in(self, bucket: str) -> list[str]:
        return sorted(key for b, key in self.objects if b == bucket)

    def without(self, keys: Sequence[str]) -> ObjectStore:
        """A copy without the objects of ``keys``, from every bucket that holds one, as if
        someone deleted them by hand; a note names each. A key no deployment puts in any
        bucket is a ValueError naming it and a few deployed keys."""
        deployed = sorted({key for _, key in self.objects})
        for key in keys:
            if key not in deployed:
                few = ", ".join(deployed[:5]) + (
                    f" and {len(deployed) - 5} more" if len(deployed) > 5 else ""
                )
                raise ValueError(
                    f"{key!r} is not deployed; expected the exact key (prefix included) of a "
                    "deployed object: "
                    + (f"the deployed keys are {few}" if deployed else "nothing is deployed")
                )
        removed = {where for where in self.objects if where[1] in keys}
        return dataclasses.replace(
            self,
            objects={where: o for where, o in self.objects.items() if where not in removed},
            notes=[
                *self.notes,
                *(
                    f"s3://{bucket}/{key} was removed before the call"
                    for bucket, key in sorted(removed)
                ),
            ],
        )


def build_store(resolver: Resolver, assets: Mapping[str, Asset]) -> ObjectStore:
    """Read the buckets, deployments and bucket policies of one stack's template."""
    store = ObjectStore()
    for logical_id, resource in resolver.resources.items():
        kind = resource.get("Type")
        if kind == BUCKET_TYPE:
            store.buckets[resolver.resolve_str({"Ref": logical_id}, logical_id)] = logical_id
        elif kind == BUCKET_POLICY_TYPE:
            props = _Properties(resolver, logical_id)
            bucket = props.string("Bucket", "the bucket's name (a string)")
            statements = _policy_statements(props)
            store.policies.setdefault(bucket, {"Statement": []})["Statement"].extend(statements)
    for logical_id, resource in resolver.resources.items():
        if resource.get("Type") == DEPLOYMENT_TYPE:
            _add_deployment(store, resolver, logical_id, assets)
    return store


class _Properties:
    """One resource's properties, each resolved when read; ``at`` names one in a message."""

    def __init__(self, resolver: Resolver, logical_id: str) -> None:
        self.resolver = resolver
        self.logical_id = logical_id
        self.raw = resolver.properties(logical_id)

    def at(self, key: str) -> str:
        return f"Resources.{self.logical_id}.Properties.{key}"

    def get(self, key: str) -> Any:
        """The resolved value, or _ABSENT when it is missing or AWS::NoValue."""
        if key not in self.raw:
            return _ABSENT
        value = self.resolver.resolve(self.raw[key])
        return _ABSENT if value is NO_VALUE else value

    def fail(self, key: str, value: Any, expected: str) -> PropertyError:
        """``KEY is/resolves to WHAT; expected ...`` ("is missing" for _ABSENT)."""
        if value is _ABSENT:
            found = "is missing"
        elif is_intrinsic(self.raw.get(key)):
            found = f"resolves to {describe(value)}"
        else:
            found = f"is {describe(value)}"
        return PropertyError(f"{self.at(key)} {found}; expected {expected}")

    def string(self, key: str, expected: str, default: str | None = None) -> str:
        value = self.get(key)
        if value is _ABSENT and default is not None:
            return default
        if not isinstance(value, str):
            raise self.fail(key, value, expected)
        return value

    def strings(self, key: str, expected: str, item: str, *, required: bool = False) -> list[str]:
        value = self.get(key)
        if value is _ABSENT and not required:
            return []
        if not isinstance(value, list):
            raise self.fail(key, value, expected)
        for index, entry in enumerate(value):
            if not isinstance(entry, str):
                raise PropertyError(
                    f"{self.at(key)}[{index}] is {describe(entry)}; expected {item}"
                )
        return value


def _add_deployment(
    store: ObjectStore, resolver: Resolver, logical_id: str, assets: Mapping[str, Asset]
) -> None:
    props = _Properties(resolver, logical_id)
    bucket = props.string("DestinationBucketName", "the bucket's name (a string)")
    prefix = props.string(
        "DestinationBucketKeyPrefix",
        "a string such as 'prompts/' ('' or none for the whole bucket)",
        default="",
    )
    content_type = _content_type(props)
    patterns = ("a list of patterns (strings)", "a pattern (a string)")
    excludes = props.strings("Exclude", *patterns)
    includes = props.strings("Include", *patterns)
    source_keys = props.strings(
        "SourceObjectKeys",
        "a list of asset object keys (strings)",
        "an asset object key (a string)",
        required=True,
    )
    source_buckets = props.strings(
        "SourceBucketNames",
        "a list of bucket names (strings), one per source object key",
        "a bucket name (a string)",
    )
    if props.get("SourceBucketNames") is not _ABSENT and len(source_buckets) != len(source_keys):
        raise PropertyError(
            f"{props.at('SourceBucketNames')} lists {len(source_buckets)} buckets for "
            f"{len(source_keys)} source object key(s); expected one bucket per key"
        )
    problem = key_prefix_problem(prefix)
    if problem is not None:
        store.notes.append(f"{logical_id}: {problem}; its objects are unknown")
        return
    # aws s3 sync treats the prefix as a folder: "prompts" writes prompts/<file>.
    prefix = normalize_key_prefix(prefix)
    for index, source_key in enumerate(source_keys):
        asset = assets.get(source_key)
        if asset is None:
            store.notes.append(
                f"{logical_id}: source {source_key} is not an asset of this assembly; "
                "its objects are unknown"
            )
            continue
        where = f"{props.at('SourceObjectKeys')}[{index}] ({source_key!r}) is the asset"
        for relative, size, file, member in _asset_files(asset, where):
            if not _sync_includes(relative, excludes, includes):
                continue
            key = deployed_key(prefix, relative)
            store.objects[(bucket, key)] = StoredObject(
                bucket=bucket,
                key=key,
                content_type=content_type or _sync_guess(relative),
                size=size,
                deployment=logical_id,
                prefix=prefix,
                file=file,
                member=member,
            )


def _content_type(props: _Properties) -> str | None:
    """SystemMetadata's content-type (None: absent or empty); SystemMetadata maps names to
    strings."""
    metadata = props.get("SystemMetadata")
    if metadata is _ABSENT:
        return None
    if not isinstance(metadata, Mapping):
        raise props.fail(
            "SystemMetadata", metadata, "an object of metadata values (strings) by name"
        )
    for name, value in metadata.items():
        if not isinstance(value, str):
            raise PropertyError(
                f"{props.at('SystemMetadata')}.{name} is {describe(value)}; expected a string"
            )
    content_type = metadata.get("content-type")
    return content_type or None


def _policy_statements(props: _Properties) -> list[dict[str, Any]]:
    """The statements of a bucket policy's PolicyDocument, each checked for shape."""
    document = props.get("PolicyDocument")
    if not isinstance(document, Mapping):
        raise props.fail(
            "PolicyDocument", document, 'a policy document (an object with "Statement")'
        )
    at = props.at("PolicyDocument.Statement")
    expected = "a statement (an object) or a list of statements"
    if "Statement" not in document:
        raise PropertyError(f"{at} is missing; expected {expected}")
    statements = document["Statement"]
    if isinstance(statements, Mapping):
        _check_statement(statements, at)
        return [dict(statements)]
    if not isinstance(statements, list):
        raise PropertyError(f"{at} is {describe(statements)}; expected {expected}")
    for index, statement in enumerate(statements):
        if not isinstance(statement, Mapping):
            raise PropertyError(
                f"{at}[{index}] is {describe(statement)}; expected a statement (an object)"
            )
        _check_statement(statement, f"{at}[{index}]")
    return [dict(statement) for statement in statements]


def _check_statement(statement: Mapping[str, Any], at: str) -> None:
    """The shape IAM's grammar gives each element (not whether .policy models it)."""
    unknown = sorted(set(statement) - set(STATEMENT_ELEMENTS))
    if unknown:
        raise PropertyError(
            f"{at} has unknown field(s) {unknown}; expected only {', '.join(STATEMENT_ELEMENTS)}"
        )
    effect = statement.get("Effect", _ABSENT)
    if effect not in ("Allow", "Deny"):
        found = "missing" if effect is _ABSENT else describe(effect)
        raise PropertyError(f"{at}.Effect is {found}; expected 'Allow' or 'Deny'")
    for key in ("Action", "NotAction", "Resource", "NotResource"):
        if key in statement:
            _check_strings(statement[key], f"{at}.{key}")
    for key in ("Principal", "NotPrincipal"):
        principal = statement.get(key, "*")
        if isinstance(principal, Mapping):
            for kind, names in principal.items():
                _check_strings(names, f"{at}.{key}.{kind}")
        elif principal != "*":
            raise PropertyError(
                f"{at}.{key} is {describe(principal)}; expected '*' or an object such as "
                '{"Service": ...}'
            )
    condition = statement.get("Condition", {})
    if not isinstance(condition, Mapping):
        raise PropertyError(
            f"{at}.Condition is {describe(condition)}; expected an object of condition operators"
        )
    for operator, keys in condition.items():
        if not isinstance(keys, Mapping):
            raise PropertyError(
                f"{at}.Condition.{operator} is {describe(keys)}; expected an object of "
                "condition keys"
            )
        for key, values in keys.items():
            if not all(_is_scalar(v) for v in (values if isinstance(values, list) else [values])):
                raise PropertyError(
                    f"{at}.Condition.{operator}.{key} is {describe(values)}; expected a string "
                    "or a list of strings"
                )


def _check_strings(value: Any, at: str) -> None:
    """A policy element that is a string or a list of strings."""
    if isinstance(value, str):
        return
    if not isinstance(value, list):
        raise PropertyError(f"{at} is {describe(value)}; expected a string or a list of strings")
    for index, entry in enumerate(value):
        if not isinstance(entry, str):
            raise PropertyError(f"{at}[{index}] is {describe(entry)}; expected a string")


def _is_scalar(value: Any) -> bool:
    """A condition value: a string, or a number or boolean IAM reads as one."""
    return isinstance(value, (str, int, float))


def _asset_files(asset: Asset, where: str) -> Iterator[tuple[str, int, Path, str | None]]:
    """(relative key, size, file, zip member) of each file a deployment extracts.

    ``packaging`` says what the asset is, as cdk-assets reads it: ``zip`` a folder
    (zipped when published), ``file`` a file published as it is, which the
    deployment unzips, so a zip archive. ``where`` begins each message.
    """
    path = asset.path
    kinds = {"zip": "a folder", "file": "a zip file"}
    if asset.packaging not in kinds:
        raise AssetError(
            f"{where} {path}, which has packaging {asset.packaging!r}; expected 'zip' (a "
            "folder) or 'file' (a zip file)"
        )
    expected = f"expected {kinds[asset.packaging]} (packaging {asset.packaging!r})"
    if not path.exists():
        raise AssetError(f"{where} {path}, which does not exist; {expected} (synthesize again?)")
    found = "a folder" if path.is_dir() else "a file" if path.is_file() else None
    if found != ("a folder" if asset.packaging == "zip" else "a file"):
        found = found or "neither a file nor a folder"
        raise AssetError(f"{where} {path}, which is {found}; {expected}")
    if asset.packaging == "zip":
        for file in sorted(path.rglob("*")):
            if file.is_file():
                yield file.relative_to(path).as_posix(), file.stat().st_size, file, None
        return
    yield from _zip_members(path, where)


def _zip_members(path: Path, where: str) -> Iterator[tuple[str, int, Path, str | None]]:
    """The files of a zip asset, each read through once so a damaged one fails here."""
    try:
        archive = zipfile.ZipFile(path)
    except OSError as error:
        raise AssetError(
            f"{where} {path}, which cannot be read ({error.strerror or error}); expected a "
            "readable zip archive"
        ) from error
    except _ZIP_READ_ERRORS as error:
        raise AssetError(
            f"{where} {path}, which is not a zip archive ({error}); expected a zip archive "
            "(packaging 'file': the deployment unzips it)"
        ) from error
    with archive:
        members = [info for info in archive.infolist() if not info.is_dir()]
        for info in members:
            problem = _member_problem(info.filename)
            if problem is not None:
                raise AssetError(f"{where} {path}, whose member {info.filename!r} {problem}")
            try:
                with archive.open(info) as member:
                    while member.read(1 << 20):
                        pass
            except _ZIP_READ_ERRORS as error:
                raise AssetError(
                    f"{where} {path}, whose member {info.filename!r} cannot be read ({error}); "
                    "expected an intact zip archive"
                ) from error
    for info in members:
        yield info.filename, info.file_size, path, info.filename


def _member_problem(name: str) -> str | None:
    """Why a zip member cannot be extracted under the prefix as named (found; expected)."""
    inside = "expected a path relative to the destination prefix"
    if name.startswith("/") or re.match(r"[A-Za-z]:", name):
        return f"is an absolute path; {inside}"
    if ".." in name.replace("\\", "/").split("/"):
        return f"has a '..' segment; {inside}"
    if "\\" in name:
        return "has a backslash; expected '/' between folders (a zip made on Windows?)"
    return None


def _sync_includes(relative: str, excludes: list[str], includes: list[str]) -> bool:
    """aws s3 sync --exclude/--include: every file is in, later matching filters win."""
    included = True
    for pattern in excludes:
        if fnmatch.fnmatch(relative, pattern):
            included = False
    for pattern in includes:
        if fnmatch.fnmatch(relative, pattern):
            included = True
    return included


def _sync_guess(relative: str) -> str | None:
    suffix = Path(relative).suffix.lower()
    if suffix in SYNC_GUESSES:
        return SYNC_GUESSES[suffix]
    return mimetypes.guess_type(relative)[0]
