"""Read a synthesized cloud assembly (cdk.out) as JSON: the SMA, its Lambda, the prompts.

No CDK import: ``manifest.json`` names the stacks (nested assemblies of
stages included), each stack's template and asset manifest say where the
code and prompt assets are (``asset.<hash>`` in cdk.out). From the template
this module finds

* the ``AWS::Chime::SipMediaApplication`` (``--stack``/``--sma`` choose one when
  there are several);
* the Lambda behind its endpoint (through a version or alias), with its code
  folder, handler, runtime, timeout, memory and environment, every
  CloudFormation reference resolved to a stand-in (:mod:`.intrinsics`);
* the ``AWS::Lambda::Permission`` statements on that function, so the
  simulator can check that Chime may invoke it;
* the buckets, prompt deployments and bucket policies (:mod:`.objects`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .intrinsics import DEFAULT_REGION, STANDIN_ACCOUNT, Resolver, UnresolvableError
from .objects import Asset, ObjectStore, build_store

SMA_TYPE = "AWS::Chime::SipMediaApplication"
FUNCTION_TYPE = "AWS::Lambda::Function"
PERMISSION_TYPE = "AWS::Lambda::Permission"
# Lambda's own default when a function sets no Timeout.
LAMBDA_DEFAULT_TIMEOUT_S = 3
LAMBDA_DEFAULT_MEMORY_MB = 128


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

    def resolver(self) -> Resolver:
        return Resolver(
            self.template, stack_name=self.name, account=self.account, region=self.region
        )


@dataclass(frozen=True)
class Sma:
    """The SIP media application: stand-in id and ARN, name, region, account."""

    logical_id: str
    path: str
    id: str
    arn: str
    name: str
    region: str
    account: str


@dataclass(frozen=True)
class Function:
    """The Lambda behind the SMA's endpoint."""

    logical_id: str
    path: str
    name: str
    arn: str
    handler: str
    runtime: str
    timeout_s: float
    memory_mb: int
    environment: dict[str, str]
    code_dir: Path | None = None
    inline_code: str | None = None


@dataclass(frozen=True)
class CallSetup:
    """Everything a simulated call needs, read from one stack."""

    stack: Stack
    sma: Sma
    function: Function
    store: ObjectStore
    invoke_policy: dict[str, Any]
    notes: list[str] = field(default_factory=list)


def load_stacks(cdk_out: Path) -> list[Stack]:
    """Every CloudFormation stack in the assembly, nested stage assemblies included."""
    manifest_path = cdk_out / "manifest.json"
    if not manifest_path.is_file():
        raise AssemblyError(
            f"{cdk_out} has no manifest.json; synthesize first (make synth), or pass "
            "-o/--cdk-out with the folder `cdk synth -o` wrote"
        )
    return list(_stacks(cdk_out, _read_json(manifest_path)))


def _stacks(directory: Path, manifest: Mapping[str, Any]) -> Iterator[Stack]:
    artifacts: Mapping[str, Any] = manifest.get("artifacts", {})
    for artifact_id, artifact in artifacts.items():
        kind = artifact.get("type")
        props = artifact.get("properties", {})
        if kind == "cdk:cloud-assembly":
            nested = directory / props["directoryName"]
            yield from _stacks(nested, _read_json(nested / "manifest.json"))
        elif kind == "aws:cloudformation:stack":
            account, region = _environment(str(artifact.get("environment", "")))
            yield Stack(
                artifact_id=artifact_id,
                name=str(props.get("stackName") or artifact_id),
                directory=directory,
                template=_read_json(directory / props["templateFile"]),
                account=account,
                region=region,
                assets=_assets(directory, artifacts, artifact),
            )


def _environment(environment: str) -> tuple[str, str]:
    """aws://ACCOUNT/REGION; unknown parts become the stand-ins."""
    parts = environment.removeprefix("aws://").split("/")
    account = parts[0] if parts and parts[0].isdigit() else STANDIN_ACCOUNT
    region = parts[1] if len(parts) > 1 and not parts[1].startswith("unknown") else DEFAULT_REGION
    return account, region


def _assets(
    directory: Path, artifacts: Mapping[str, Any], stack: Mapping[str, Any]
) -> dict[str, Asset]:
    """S3 object key -> asset, from the stack's asset manifest(s)."""
    assets: dict[str, Asset] = {}
    for dependency in stack.get("dependencies", []):
        artifact = artifacts.get(dependency, {})
        if artifact.get("type") != "cdk:asset-manifest":
            continue
        files = _read_json(directory / artifact["properties"]["file"]).get("files", {})
        for file_hash, entry in files.items():
            source = entry.get("source", {})
            if "path" not in source:
                continue
            asset = Asset(directory / source["path"], str(source.get("packaging", "file")))
            assets[file_hash] = asset
            for destination in entry.get("destinations", {}).values():
                assets[str(destination.get("objectKey"))] = asset
    return assets


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise AssemblyError(f"cannot read {path}: {error}") from error
    if not isinstance(data, dict):
        raise AssemblyError(f"{path} is not a JSON object")
    return data


def load_call_setup(
    cdk_out: Path, *, stack: str | None = None, sma: str | None = None
) -> CallSetup:
    """The SMA to call, its function, and the prompt store, from ``cdk_out``."""
    stacks = load_stacks(cdk_out)
    candidates = [
        (s, logical_id)
        for s in stacks
        if stack is None or stack in (s.artifact_id, s.name)
        for logical_id, resource in s.template.get("Resources", {}).items()
        if resource.get("Type") == SMA_TYPE
        and (sma is None or sma == logical_id or _path(resource).endswith(sma))
    ]
    if not candidates:
        where = f" in stack {stack}" if stack else ""
        raise AssemblyError(
            f"no {SMA_TYPE}{where} matching {sma!r}"
            if sma
            else f"no {SMA_TYPE}{where} in {cdk_out}"
        )
    if len(candidates) > 1:
        listed = ", ".join(f"{s.name}/{lid}" for s, lid in candidates)
        raise AssemblyError(
            f"{len(candidates)} SIP media applications ({listed}); choose one with "
            "--stack STACK and/or --sma LOGICAL_ID"
        )
    chosen_stack, sma_logical_id = candidates[0]
    try:
        return _call_setup(chosen_stack, sma_logical_id)
    except UnresolvableError as error:
        raise AssemblyError(f"{chosen_stack.name}: {error}") from error


def _path(resource: Mapping[str, Any]) -> str:
    return str(resource.get("Metadata", {}).get("aws:cdk:path", ""))


def _call_setup(stack: Stack, sma_logical_id: str) -> CallSetup:
    resolver = stack.resolver()
    resources = resolver.resources
    sma_props = resolver.properties(sma_logical_id)
    sma = Sma(
        logical_id=sma_logical_id,
        path=_path(resources[sma_logical_id]),
        id=resolver.sma_id(sma_logical_id),
        arn=resolver.sma_arn(sma_logical_id),
        name=resolver.resolve_str(sma_props.get("Name", sma_logical_id), "Name"),
        region=resolver.resolve_str(sma_props.get("AwsRegion", stack.region), "AwsRegion"),
        account=stack.account,
    )
    endpoints = sma_props.get("Endpoints", [])
    if not isinstance(endpoints, list) or len(endpoints) != 1:
        raise AssemblyError(f"{sma_logical_id} has {len(endpoints)} endpoints; expected exactly 1")
    function_id = _function_behind(resolver, endpoints[0].get("LambdaArn"))
    if function_id is None:
        raise AssemblyError(
            f"the endpoint of {sma_logical_id} ({endpoints[0].get('LambdaArn')!r}) is not a "
            "function of this stack; the simulator can only call a Lambda it has the code of"
        )
    function = _function(stack, resolver, function_id)
    return CallSetup(
        stack=stack,
        sma=sma,
        function=function,
        store=build_store(resolver, stack.assets),
        invoke_policy=_invoke_policy(resolver, function),
    )


def _function_behind(resolver: Resolver, reference: Any) -> str | None:
    """The logical id of the function an endpoint ARN points at, through versions and aliases."""
    for _ in range(8):
        logical_id: str | None = None
        if isinstance(reference, Mapping) and "Fn::GetAtt" in reference:
            target = reference["Fn::GetAtt"]
            logical_id = str(target.split(".")[0] if isinstance(target, str) else target[0])
        elif isinstance(reference, Mapping) and "Ref" in reference:
            logical_id = str(reference["Ref"])
        if logical_id is None:
            return None
        kind = resolver.resource_type(logical_id)
        if kind == FUNCTION_TYPE:
            return logical_id
        if kind in ("AWS::Lambda::Version", "AWS::Lambda::Alias"):
            reference = resolver.properties(logical_id).get("FunctionName")
            continue
        return None
    return None


def _function(stack: Stack, resolver: Resolver, logical_id: str) -> Function:
    resource = resolver.resources[logical_id]
    props = resolver.properties(logical_id)
    runtime = str(props.get("Runtime", ""))
    if not runtime.startswith("python"):
        raise AssemblyError(
            f"{logical_id} runs {runtime or 'a container image'}; the simulator runs Python "
            "handlers only"
        )
    code = props.get("Code", {})
    code_dir: Path | None = None
    inline: str | None = None
    asset_path = resource.get("Metadata", {}).get("aws:asset:path")
    if isinstance(code, Mapping) and "ZipFile" in code:
        inline = resolver.resolve_str(code["ZipFile"], f"{logical_id}.Code.ZipFile")
    elif asset_path:
        code_dir = stack.directory / str(asset_path)
    elif isinstance(code, Mapping) and "S3Key" in code:
        asset = stack.assets.get(resolver.resolve_str(code["S3Key"], f"{logical_id}.Code"))
        code_dir = asset.path if asset is not None else None
    if inline is None and (code_dir is None or not code_dir.is_dir()):
        raise AssemblyError(
            f"the code of {logical_id} is not a folder in {stack.directory} "
            f"({code_dir or 'no asset'}); the simulator needs the unzipped asset"
        )
    variables = props.get("Environment", {}).get("Variables", {})
    name = resolver.resolve_str({"Ref": logical_id}, logical_id)
    return Function(
        logical_id=logical_id,
        path=_path(resource),
        name=name,
        arn=resolver.function_arn(name),
        handler=str(props.get("Handler", "")),
        runtime=runtime,
        timeout_s=float(resolver.resolve(props.get("Timeout", LAMBDA_DEFAULT_TIMEOUT_S))),
        memory_mb=int(resolver.resolve(props.get("MemorySize", LAMBDA_DEFAULT_MEMORY_MB))),
        environment={
            str(k): resolver.resolve_str(v, f"{logical_id} environment {k}")
            for k, v in variables.items()
        },
        code_dir=code_dir,
        inline_code=inline,
    )


def _invoke_policy(resolver: Resolver, function: Function) -> dict[str, Any]:
    """The function's resource policy, as statements built from its AWS::Lambda::Permissions."""
    statements: list[dict[str, Any]] = []
    for logical_id, resource in resolver.resources.items():
        if resource.get("Type") != PERMISSION_TYPE:
            continue
        props = resolver.resolve(resolver.properties(logical_id))
        target = str(props.get("FunctionName", ""))
        if target not in (function.name, function.arn):
            continue
        principal = str(props.get("Principal", ""))
        if principal == "*":
            principal_element: Any = "*"
        elif principal.isdigit() or principal.startswith("arn:"):
            principal_element = {"AWS": principal}
        else:
            principal_element = {"Service": principal}
        condition: dict[str, Any] = {}
        if "SourceAccount" in props:
            condition["StringEquals"] = {"aws:SourceAccount": str(props["SourceAccount"])}
        if "SourceArn" in props:
            condition["ArnLike"] = {"aws:SourceArn": str(props["SourceArn"])}
        statement: dict[str, Any] = {
            "Sid": logical_id,
            "Effect": "Allow",
            "Principal": principal_element,
            "Action": str(props.get("Action", "")),
            "Resource": function.arn,
        }
        if condition:
            statement["Condition"] = condition
        statements.append(statement)
    return {"Statement": statements}
