"""Read a cloud assembly's files (cdk.out) as JSON: manifests, templates, asset manifests.

``manifest.json`` names the stacks (nested assemblies of stages included); each
stack's template and asset manifest say where its assets are (``asset.<hash>``
in cdk.out). :func:`load_stacks` returns them as :class:`Stack`; what the
simulator finds in them is :mod:`.call_setup`'s work. No CDK import.

Each file is checked where it is read, once per kind (:func:`_read_manifest`,
:func:`_read_template`, :func:`_read_asset_manifest`, all through
:func:`.jsonfile.read_json`): anything that is not what ``cdk synth`` writes
is an :class:`AssemblyError` naming the file, what was found and what was
expected. The paths a manifest names (``templateFile``, an asset manifest's
``file``, a nested assembly's ``directoryName``) must stay inside cdk.out;
asset source paths need not (``cdk synth --no-staging`` points them at the
sources).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .buckets import (
    BUCKET_POLICY_TYPE,
    DEPLOYMENT_TYPE,
    Asset,
)
from .intrinsics import (
    DEFAULT_REGION,
    LAYER_VERSION_TYPE,
    STANDIN_ACCOUNT,
    Resolver,
    is_intrinsic,
)
from .jsonfile import JsonFileError, describe, read_json

SMA_TYPE = "AWS::Chime::SipMediaApplication"
FUNCTION_TYPE = "AWS::Lambda::Function"
PERMISSION_TYPE = "AWS::Lambda::Permission"
STACK_ARTIFACT = "aws:cloudformation:stack"
ASSET_MANIFEST_ARTIFACT = "cdk:asset-manifest"
# The property each artifact type the simulator follows must have (a path in the assembly).
_ARTIFACT_PROPERTIES = {
    STACK_ARTIFACT: "templateFile",
    ASSET_MANIFEST_ARTIFACT: "file",
    "cdk:cloud-assembly": "directoryName",
}
# The literal shape of each property the simulator reads (an intrinsic may stand for any).
_PROPERTY_SHAPES: dict[str, dict[str, type]] = {
    SMA_TYPE: {"Endpoints": list},
    FUNCTION_TYPE: {"Code": dict, "Environment": dict, "Layers": list},
    LAYER_VERSION_TYPE: {"Content": dict},
    BUCKET_POLICY_TYPE: {"PolicyDocument": dict},
    DEPLOYMENT_TYPE: {
        "SourceObjectKeys": list,
        "Exclude": list,
        "Include": list,
        "SystemMetadata": dict,
    },
}
_KINDS: dict[type, str] = {list: "a list", dict: "an object", str: "a string"}


class AssemblyError(ValueError):
    """cdk.out cannot be read, or holds no single SMA with a Python Lambda to call."""


@dataclass(frozen=True)
class Stack:
    """One stack of the assembly and what the simulator needs from its manifest."""

    artifact_id: str
    name: str
    directory: Path
    template: Mapping[str, Any]
    account: str
    region: str
    assets: Mapping[str, Asset]
    template_path: Path | None = None

    def resolver(self) -> Resolver:
        return Resolver(
            self.template, stack_name=self.name, account=self.account, region=self.region
        )


def load_stacks(cdk_out: Path) -> list[Stack]:
    """Every CloudFormation stack in the assembly, nested stage assemblies included."""
    if not cdk_out.exists():
        raise AssemblyError(
            f"{cdk_out} does not exist; expected the cloud assembly `cdk synth` writes: "
            "synthesize first (make synth), or pass -o/--cdk-out with the folder `cdk synth -o` "
            "wrote"
        )
    if not cdk_out.is_dir():
        raise AssemblyError(
            f"{cdk_out} is a file; expected the folder `cdk synth` writes (cdk.out), "
            "passed with -o/--cdk-out"
        )
    if not (cdk_out / "manifest.json").exists():
        raise AssemblyError(
            f"{cdk_out} has no manifest.json; synthesize first (make synth), or pass "
            "-o/--cdk-out with the folder `cdk synth -o` wrote"
        )
    return list(_stacks(cdk_out, cdk_out, set()))


def _stacks(root: Path, directory: Path, seen: set[Path]) -> Iterator[Stack]:
    seen.add(directory.resolve())
    manifest_path = directory / "manifest.json"
    artifacts = _read_manifest(manifest_path)
    for artifact_id, artifact in artifacts.items():
        kind = artifact["type"]
        props = artifact.get("properties", {})
        where = f"artifacts.{artifact_id}.properties"
        if kind == "cdk:cloud-assembly":
            nested = _member(root, manifest_path, f"{where}.directoryName", props["directoryName"])
            if not nested.is_dir():
                raise AssemblyError(
                    f"{manifest_path}: {where}.directoryName is {props['directoryName']!r}, "
                    f"which is not a folder in {directory}; expected the nested assembly's "
                    "folder (synthesize again?)"
                )
            if nested.resolve() in seen:
                raise AssemblyError(
                    f"{manifest_path}: {where}.directoryName is {props['directoryName']!r}, "
                    "an assembly that contains it (a cycle); expected a nested assembly's folder"
                )
            yield from _stacks(root, nested, seen)
        elif kind == STACK_ARTIFACT:
            template_path = _member(
                root, manifest_path, f"{where}.templateFile", props["templateFile"]
            )
            if not template_path.is_file():
                raise AssemblyError(
                    f"{manifest_path}: {where}.templateFile is {props['templateFile']!r}, "
                    f"which is not a file in {directory}; expected the stack's template "
                    "(synthesize again?)"
                )
            account, region = _environment(artifact.get("environment", ""))
            name = props.get("stackName") or artifact_id
            yield Stack(
                artifact_id=artifact_id,
                name=name,
                directory=directory,
                template=_read_template(template_path, name),
                account=account,
                region=region,
                assets=_assets(root, directory, manifest_path, artifacts, artifact),
                template_path=template_path,
            )


def _environment(environment: str) -> tuple[str, str]:
    """aws://ACCOUNT/REGION; unknown parts become the stand-ins."""
    parts = environment.removeprefix("aws://").split("/")
    account = parts[0] if parts and parts[0].isdigit() else STANDIN_ACCOUNT
    region = parts[1] if len(parts) > 1 and not parts[1].startswith("unknown") else DEFAULT_REGION
    return account, region


def _member(root: Path, manifest_path: Path, where: str, relative: str) -> Path:
    """``relative`` (from ``manifest_path``'s folder) as a path that stays inside ``root``."""
    path = Path(os.path.abspath(manifest_path.parent / relative))
    if Path(relative).is_absolute() or not path.is_relative_to(os.path.abspath(root)):
        raise AssemblyError(
            f"{manifest_path}: {where} is {relative!r}, outside the cloud assembly {root}; "
            "expected a path inside it (the simulator reads nothing else)"
        )
    return path


def _read_manifest(path: Path) -> dict[str, dict[str, Any]]:
    """manifest.json's artifacts, each checked where the simulator reads it."""
    manifest = _read_object(path, "the cloud assembly manifest (a JSON object)")
    if "artifacts" not in manifest:
        raise AssemblyError(
            f'{path}: no "artifacts"; expected the artifacts of the app (its stacks) by id: '
            "an app with no stack has no SMA to call"
        )
    artifacts = manifest["artifacts"]
    if not isinstance(artifacts, dict):
        raise AssemblyError(
            f'{path}: "artifacts" is {describe(artifacts)}; expected an object of artifacts by id'
        )
    for artifact_id, artifact in artifacts.items():
        at = f"artifacts.{artifact_id}"
        if not isinstance(artifact, dict):
            raise AssemblyError(f"{path}: {at} is {describe(artifact)}; expected an object")
        kind = artifact.get("type")
        if not isinstance(kind, str):
            raise AssemblyError(
                f"{path}: {at}.type is {_found(artifact, 'type')}; expected a string such as "
                f"{STACK_ARTIFACT!r}"
            )
        required = _ARTIFACT_PROPERTIES.get(kind)
        if required is None:
            continue
        props = artifact.get("properties")
        if not isinstance(props, dict):
            raise AssemblyError(
                f"{path}: {at}.properties is {_found(artifact, 'properties')}; expected an "
                f"object with {required!r} ({kind} artifact)"
            )
        optional = ("stackName",) if kind == STACK_ARTIFACT else ()
        for key in (required, *(k for k in optional if k in props)):
            if not isinstance(props.get(key), str):
                raise AssemblyError(
                    f"{path}: {at}.properties.{key} is {_found(props, key)}; expected a string"
                )
        if kind != STACK_ARTIFACT:
            continue
        if not isinstance(artifact.get("environment", ""), str):
            raise AssemblyError(
                f"{path}: {at}.environment is {describe(artifact['environment'])}; expected a "
                "string like 'aws://123456789012/us-east-1'"
            )
        dependencies = artifact.get("dependencies", [])
        if not (isinstance(dependencies, list) and all(isinstance(d, str) for d in dependencies)):
            raise AssemblyError(
                f"{path}: {at}.dependencies is {describe(dependencies)}; expected a list of "
                "artifact ids"
            )
    return artifacts


def _read_template(path: Path, stack: str) -> dict[str, Any]:
    """A stack's template, its sections and resources checked where the simulator reads them."""
    template = _read_object(path, f"the CloudFormation template of {stack} (a JSON object)")
    if "Resources" not in template:
        raise AssemblyError(
            f'{path}: no "Resources"; expected a CloudFormation template with the stack\'s '
            "resources"
        )
    for section in ("Resources", "Parameters", "Conditions", "Mappings"):
        value = template.get(section, {})
        if not isinstance(value, dict):
            raise AssemblyError(
                f'{path}: "{section}" is {describe(value)}; expected an object by logical id'
                if section != "Mappings"
                else f'{path}: "Mappings" is {describe(value)}; expected an object of mappings'
            )
    for name, parameter in template.get("Parameters", {}).items():
        if not isinstance(parameter, dict):
            raise AssemblyError(
                f"{path}: Parameters.{name} is {describe(parameter)}; expected an object"
            )
    for logical_id, resource in template["Resources"].items():
        at = f"Resources.{logical_id}"
        if not isinstance(resource, dict):
            raise AssemblyError(
                f'{path}: {at} is {describe(resource)}; expected an object with "Type"'
            )
        if not isinstance(resource.get("Type"), str):
            raise AssemblyError(
                f"{path}: {at}.Type is {_found(resource, 'Type')}; expected a string such as "
                f"{SMA_TYPE!r}"
            )
        for key in ("Properties", "Metadata"):
            if not isinstance(resource.get(key, {}), dict):
                raise AssemblyError(
                    f"{path}: {at}.{key} is {describe(resource[key])}; expected an object"
                )
        properties = resource.get("Properties", {})
        for key, expected in _PROPERTY_SHAPES.get(resource["Type"], {}).items():
            value = properties.get(key)
            if key in properties and not (isinstance(value, expected) or is_intrinsic(value)):
                raise AssemblyError(
                    f"{path}: {at}.Properties.{key} is {describe(value)}; expected "
                    f"{_KINDS[expected]} (or an intrinsic function)"
                )
    return template


def _assets(
    root: Path,
    directory: Path,
    manifest_path: Path,
    artifacts: Mapping[str, Any],
    stack: Mapping[str, Any],
) -> dict[str, Asset]:
    """S3 object key -> asset, from the stack's asset manifest(s)."""
    assets: dict[str, Asset] = {}
    for dependency in stack.get("dependencies", []):
        artifact = artifacts.get(dependency, {})
        if artifact.get("type") != ASSET_MANIFEST_ARTIFACT:
            continue
        file = artifact["properties"]["file"]
        where = f"artifacts.{dependency}.properties.file"
        path = _member(root, manifest_path, where, file)
        for file_hash, source, destinations in _read_asset_manifest(path):
            # Not confined to the assembly: `cdk synth --no-staging` points at the sources.
            asset = Asset(directory / source["path"], source.get("packaging", "file"))
            assets[file_hash] = asset
            for destination in destinations:
                assets[destination["objectKey"]] = asset
    return assets


def _read_asset_manifest(
    path: Path,
) -> Iterator[tuple[str, dict[str, Any], list[dict[str, Any]]]]:
    """(hash, source, destinations) of each file asset with a path, checked as it is read."""
    manifest = _read_object(path, "an asset manifest (a JSON object)")
    files = manifest.get("files", {})
    if not isinstance(files, dict):
        raise AssemblyError(
            f'{path}: "files" is {describe(files)}; expected an object of file assets by hash'
        )
    for file_hash, entry in files.items():
        at = f"files.{file_hash}"
        if not isinstance(entry, dict) or not isinstance(entry.get("source"), dict):
            found = describe(entry) if not isinstance(entry, dict) else _found(entry, "source")
            what = at if not isinstance(entry, dict) else f"{at}.source"
            raise AssemblyError(f'{path}: {what} is {found}; expected an object with "path"')
        source = entry["source"]
        if "path" not in source:
            continue
        for key in ("path", "packaging"):
            if key in source and not isinstance(source[key], str):
                raise AssemblyError(
                    f"{path}: {at}.source.{key} is {describe(source[key])}; expected a string"
                )
        destinations = entry.get("destinations", {})
        if not isinstance(destinations, dict):
            raise AssemblyError(
                f"{path}: {at}.destinations is {describe(destinations)}; expected an object"
            )
        for name, destination in destinations.items():
            if not isinstance(destination, dict) or not isinstance(
                destination.get("objectKey"), str
            ):
                found = (
                    describe(destination)
                    if not isinstance(destination, dict)
                    else _found(destination, "objectKey")
                )
                raise AssemblyError(
                    f"{path}: {at}.destinations.{name} is {found}; expected an object with "
                    'an "objectKey" string'
                )
        yield file_hash, source, list(destinations.values())


def _read_object(path: Path, what: str) -> dict[str, Any]:
    try:
        data = read_json(path, what)
    except JsonFileError as error:
        raise AssemblyError(str(error)) from error
    if not isinstance(data, dict):
        raise AssemblyError(f"{path}: {describe(data)}; expected {what}")
    return data


def _found(container: Mapping[str, Any], key: str) -> str:
    return describe(container[key]) if key in container else "missing"
