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
"""

from __future__ import annotations

import fnmatch
import io
import mimetypes
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from constructs_pkg.s3_keys import deployed_key, key_prefix_problem, normalize_key_prefix

from .intrinsics import Resolver

DEPLOYMENT_TYPE = "Custom::CDKBucketDeployment"
BUCKET_TYPE = "AWS::S3::Bucket"
BUCKET_POLICY_TYPE = "AWS::S3::BucketPolicy"
# What `aws s3 sync` labels a .wav without an explicit content type (observed).
SYNC_GUESSES = {".wav": "audio/x-wav"}


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
        """The key without the deployment's prefix and .wav: the prompt's name."""
        name = self.key[len(self.prefix) :]
        return name[:-4] if name.lower().endswith(".wav") else name

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


def build_store(resolver: Resolver, assets: Mapping[str, Asset]) -> ObjectStore:
    """Read the buckets, deployments and bucket policies of one stack's template."""
    store = ObjectStore()
    for logical_id, resource in resolver.resources.items():
        kind = resource.get("Type")
        if kind == BUCKET_TYPE:
            store.buckets[resolver.resolve_str({"Ref": logical_id}, logical_id)] = logical_id
        elif kind == BUCKET_POLICY_TYPE:
            props = resolver.properties(logical_id)
            bucket = resolver.resolve_str(props.get("Bucket"), f"{logical_id}.Bucket")
            document = resolver.resolve(props.get("PolicyDocument", {}))
            merged = store.policies.setdefault(bucket, {"Statement": []})
            statements = document.get("Statement", [])
            merged["Statement"].extend(statements if isinstance(statements, list) else [statements])
    for logical_id, resource in resolver.resources.items():
        if resource.get("Type") == DEPLOYMENT_TYPE:
            _add_deployment(store, resolver, logical_id, assets)
    return store


def _add_deployment(
    store: ObjectStore, resolver: Resolver, logical_id: str, assets: Mapping[str, Asset]
) -> None:
    props = resolver.properties(logical_id)
    bucket = resolver.resolve_str(props.get("DestinationBucketName"), logical_id)
    prefix = (
        resolver.resolve_str(props["DestinationBucketKeyPrefix"], logical_id)
        if "DestinationBucketKeyPrefix" in props
        else ""
    )
    problem = key_prefix_problem(prefix)
    if problem is not None:
        store.notes.append(f"{logical_id}: {problem}; its objects are unknown")
        return
    # aws s3 sync treats the prefix as a folder: "prompts" writes prompts/<file>.
    prefix = normalize_key_prefix(prefix)
    metadata = resolver.resolve(props.get("SystemMetadata", {}))
    content_type = metadata.get("content-type") if isinstance(metadata, Mapping) else None
    excludes = [str(p) for p in resolver.resolve(props.get("Exclude", []))]
    includes = [str(p) for p in resolver.resolve(props.get("Include", []))]
    for source_key in resolver.resolve(props.get("SourceObjectKeys", [])):
        asset = assets.get(str(source_key))
        if asset is None:
            store.notes.append(
                f"{logical_id}: source {source_key} is not an asset of this assembly; "
                "its objects are unknown"
            )
            continue
        for relative, size, file, member in _asset_files(asset):
            if not _sync_includes(relative, excludes, includes):
                continue
            key = deployed_key(prefix, relative)
            store.objects[(bucket, key)] = StoredObject(
                bucket=bucket,
                key=key,
                content_type=str(content_type) if content_type else _sync_guess(relative),
                size=size,
                deployment=logical_id,
                prefix=prefix,
                file=file,
                member=member,
            )


def _asset_files(asset: Asset) -> Iterator[tuple[str, int, Path, str | None]]:
    """(relative key, size, file, zip member) of each file a deployment extracts."""
    if asset.path.is_dir():
        for path in sorted(asset.path.rglob("*")):
            if path.is_file():
                yield path.relative_to(asset.path).as_posix(), path.stat().st_size, path, None
    elif asset.path.suffix.lower() == ".zip":
        with zipfile.ZipFile(asset.path) as archive:
            for info in archive.infolist():
                if not info.is_dir():
                    yield info.filename, info.file_size, asset.path, info.filename
    elif asset.path.is_file():
        yield asset.path.name, asset.path.stat().st_size, asset.path, None


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
