"""Find the call in a synthesized cloud assembly (cdk.out): the SMA, its Lambda, the prompts.

No CDK import: ``manifest.json`` names the stacks (nested assemblies of
stages included), each stack's template and asset manifest say where the
code and prompt assets are (``asset.<hash>`` in cdk.out). From the template
this module finds

* the ``AWS::Chime::SipMediaApplication`` (``--stack``/``--sma`` choose one when
  there are several);
* the Lambda behind its endpoint (through a version or alias), with its code
  folder, handler, runtime, timeout, memory and environment, every
  CloudFormation reference resolved to a stand-in (:mod:`.intrinsics`), and
  the folders of its layers in ``Layers`` order: each entry must resolve to an
  ``AWS::Lambda::LayerVersion`` of the stack (``Ref``, ``Fn::GetAtt``
  ``LayerVersionArn``, or any intrinsic that resolves to one), or to one another
  stack of the assembly exports (``Fn::ImportValue``), whose content is an
  unzipped asset folder in cdk.out; any other layer (an ARN of a layer that is not
  in the assembly) is an :class:`AssemblyError`, since the simulator runs only
  code it has;
* the ``AWS::Lambda::Permission`` statements on that function, so the
  simulator can check that Chime may invoke it;
* the buckets, prompt deployments and bucket policies (:mod:`.buckets`).

Reading and checking the files themselves is :mod:`.cloud_assembly`'s work.
What :mod:`.buckets` finds once intrinsics are resolved (a deployment's or
bucket policy's property of the wrong shape, a prompt asset it cannot
extract) and what cannot be resolved become an :class:`AssemblyError` too,
prefixed with the template's path.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .buckets import (
    AssetError,
    ObjectStore,
    PropertyError,
    build_store,
)
from .cloud_assembly import (
    FUNCTION_TYPE,
    PERMISSION_TYPE,
    SMA_TYPE,
    AssemblyError,
    Stack,
    load_stacks,
)
from .intrinsics import (
    LAYER_VERSION_TYPE,
    NO_VALUE,
    Resolver,
    UnresolvableError,
    import_standin,
)
from .jsonfile import describe

# Lambda's own default when a function sets no Timeout.
LAMBDA_DEFAULT_TIMEOUT_S = 3
LAMBDA_DEFAULT_MEMORY_MB = 128


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
    qualifier: str | None = None
    """The alias (or version) the endpoint names; None for the function itself."""
    layers: tuple[Path, ...] = ()
    """The unzipped folders of its layers, in the order Lambda merges them into /opt."""

    @property
    def invoked_arn(self) -> str:
        """The ARN Chime invokes: qualified when the endpoint is an alias or a version."""
        return f"{self.arn}:{self.qualifier}" if self.qualifier else self.arn

    @property
    def invoked_name(self) -> str:
        return f"{self.name}:{self.qualifier}" if self.qualifier else self.name


@dataclass(frozen=True)
class CallSetup:
    """Everything a simulated call needs, read from one stack."""

    stack: Stack
    sma: Sma
    function: Function
    store: ObjectStore
    invoke_policy: dict[str, Any]
    notes: list[str] = field(default_factory=list)


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
        return _call_setup(chosen_stack, sma_logical_id, stacks)
    except (UnresolvableError, PropertyError, AssetError) as error:
        raise AssemblyError(f"{_template(chosen_stack)}: {error}") from error


def _template(stack: Stack) -> str:
    """How messages name the stack's template: its file, else the stack."""
    return str(stack.template_path or stack.name)


def _path(resource: Mapping[str, Any]) -> str:
    return str(resource.get("Metadata", {}).get("aws:cdk:path", ""))


def _call_setup(stack: Stack, sma_logical_id: str, stacks: list[Stack]) -> CallSetup:
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
    at = f"{_template(stack)}: Resources.{sma_logical_id}.Properties.Endpoints"
    if not isinstance(endpoints, list):
        raise AssemblyError(f"{at} is {describe(endpoints)}; expected a list of one endpoint")
    if len(endpoints) != 1:
        raise AssemblyError(f"{at} lists {len(endpoints)} endpoints; expected exactly 1")
    if not isinstance(endpoints[0], Mapping):
        raise AssemblyError(
            f'{at}[0] is {describe(endpoints[0])}; expected an object with "LambdaArn"'
        )
    function_id, qualifier = _function_behind(resolver, endpoints[0].get("LambdaArn"))
    if function_id is None:
        raise AssemblyError(
            f"{_template(stack)}: the endpoint of {sma_logical_id} "
            f"({endpoints[0].get('LambdaArn')!r}) is not a function of this stack; the "
            "simulator can only call a Lambda it has the code of"
        )
    function = dataclasses.replace(
        _function(stack, resolver, function_id),
        qualifier=qualifier,
        layers=_layers(stack, resolver, function_id, stacks),
    )
    return CallSetup(
        stack=stack,
        sma=sma,
        function=function,
        store=build_store(resolver, stack.assets),
        invoke_policy=_invoke_policy(resolver, function),
    )


def _function_behind(resolver: Resolver, reference: Any) -> tuple[str | None, str | None]:
    """The logical id of the function an endpoint ARN points at, through versions and
    aliases, and the qualifier the endpoint itself names (an alias's name, a version)."""
    qualifier: str | None = None
    for hop in range(8):
        logical_id: str | None = None
        if isinstance(reference, Mapping) and "Fn::GetAtt" in reference:
            target = reference["Fn::GetAtt"]
            logical_id = str(target.split(".")[0] if isinstance(target, str) else target[0])
        elif isinstance(reference, Mapping) and "Ref" in reference:
            logical_id = str(reference["Ref"])
        if logical_id is None:
            return None, None
        kind = resolver.resource_type(logical_id)
        if kind == FUNCTION_TYPE:
            return logical_id, qualifier
        if kind in ("AWS::Lambda::Version", "AWS::Lambda::Alias"):
            if hop == 0:
                physical = resolver.resolve_str({"Ref": logical_id}, logical_id)
                qualifier = physical.rsplit(":", 1)[-1]
            reference = resolver.properties(logical_id).get("FunctionName")
            continue
        return None, None
    return None, None


def _function(stack: Stack, resolver: Resolver, logical_id: str) -> Function:
    resource = resolver.resources[logical_id]
    props = resolver.properties(logical_id)
    at = f"{_template(stack)}: Resources.{logical_id}"
    runtime = resolver.resolve_str(props.get("Runtime", ""), f"{logical_id}.Runtime")
    if not runtime.startswith("python"):
        raise AssemblyError(
            f"{_template(stack)}: {logical_id} runs {runtime or 'a container image'}; the "
            "simulator runs Python handlers only"
        )
    code = props.get("Code", {})
    code_dir = _asset_folder(stack, resolver, logical_id, "Code")
    inline: str | None = None
    if isinstance(code, Mapping) and "ZipFile" in code:
        inline = resolver.resolve_str(code["ZipFile"], f"{logical_id}.Code.ZipFile")
        code_dir = None
    if inline is None and (code_dir is None or not code_dir.is_dir()):
        raise AssemblyError(
            f"{_template(stack)}: the code of {logical_id} is not a folder in {stack.directory} "
            f"({code_dir or 'no asset'}); the simulator needs the unzipped asset"
        )
    variables = props.get("Environment", {}).get("Variables", {})
    if not isinstance(variables, Mapping):
        raise AssemblyError(
            f"{at}.Properties.Environment.Variables is {describe(variables)}; expected an "
            "object of variables by name"
        )
    name = resolver.resolve_str({"Ref": logical_id}, logical_id)
    return Function(
        logical_id=logical_id,
        path=_path(resource),
        name=name,
        arn=resolver.function_arn(name),
        handler=resolver.resolve_str(props.get("Handler", ""), f"{logical_id}.Handler"),
        runtime=runtime,
        timeout_s=_positive(resolver, props, "Timeout", LAMBDA_DEFAULT_TIMEOUT_S, at),
        memory_mb=int(_positive(resolver, props, "MemorySize", LAMBDA_DEFAULT_MEMORY_MB, at)),
        environment={
            str(k): resolver.resolve_str(v, f"{logical_id} environment {k}")
            for k, v in variables.items()
        },
        code_dir=code_dir,
        inline_code=inline,
    )


def _asset_folder(stack: Stack, resolver: Resolver, logical_id: str, key: str) -> Path | None:
    """Where the asset of a function's Code or a layer's Content is: the resource's
    ``aws:asset:path`` metadata, else the asset its ``S3Key`` names in the asset manifest."""
    asset_path = resolver.resources[logical_id].get("Metadata", {}).get("aws:asset:path")
    if asset_path is not None and not isinstance(asset_path, str):
        raise AssemblyError(
            f'{_template(stack)}: Resources.{logical_id}.Metadata."aws:asset:path" is '
            f"{describe(asset_path)}; expected the {key} folder's path (a string)"
        )
    if asset_path:
        return stack.directory / asset_path
    content = resolver.properties(logical_id).get(key, {})
    if isinstance(content, Mapping) and "S3Key" in content:
        asset = stack.assets.get(resolver.resolve_str(content["S3Key"], f"{logical_id}.{key}"))
        return asset.path if asset is not None else None
    return None


def _layers(
    stack: Stack, resolver: Resolver, logical_id: str, stacks: list[Stack]
) -> tuple[Path, ...]:
    """The folders of the function's layers, in ``Layers`` order (Lambda's merge order)."""
    at = f"{_template(stack)}: Resources.{logical_id}.Properties.Layers"
    layers = resolver.resolve(resolver.properties(logical_id).get("Layers", []))
    if layers is NO_VALUE:
        return ()
    if not isinstance(layers, list):
        raise AssemblyError(f"{at} resolves to {describe(layers)}; expected a list of layer ARNs")
    known = _stack_layers(stack)
    if any(isinstance(arn, str) and arn not in known for arn in layers):
        known = {**_exported_layers(stacks), **known}
    folders: list[Path] = []
    for index, arn in enumerate(layers):
        if not isinstance(arn, str):
            raise AssemblyError(f"{at}[{index}] is {describe(arn)}; expected a layer's ARN")
        if arn not in known:
            imported = import_standin("")
            what = (
                f"the layer of export {arn.removeprefix(imported)!r} (Fn::ImportValue), which "
                "no stack of this cloud assembly exports"
                if arn.startswith(imported)
                else f"layer {arn!r}, which is not a layer of this cloud assembly"
            )
            raise AssemblyError(
                f"{at}[{index}]: function {logical_id} uses {what}; expected a Ref (or "
                f"Fn::GetAtt LayerVersionArn) to an {LAYER_VERSION_TYPE} of the stack, or an "
                "Fn::ImportValue of one another stack of the assembly exports: the simulator "
                "runs only code it has, and cannot fetch a layer from AWS (layers it knows: "
                f"{_listed(known)})"
            )
        layer_stack, layer_id = known[arn]
        folder = _asset_folder(layer_stack, layer_stack.resolver(), layer_id, "Content")
        if folder is None or not folder.is_dir():
            raise AssemblyError(
                f"{_template(layer_stack)}: the content of layer {layer_id} (used by function "
                f"{logical_id}) is not a folder in {layer_stack.directory} "
                f"({folder or 'no asset'}); the simulator needs the unzipped asset"
            )
        folders.append(folder)
    return tuple(folders)


def _stack_layers(stack: Stack) -> dict[str, tuple[Stack, str]]:
    """The layer versions of ``stack`` by the ARN a Ref to one resolves to."""
    resolver = stack.resolver()
    return {
        resolver.resolve_str({"Ref": layer_id}, layer_id): (stack, layer_id)
        for layer_id, resource in stack.template["Resources"].items()
        if resource["Type"] == LAYER_VERSION_TYPE
    }


def _exported_layers(stacks: list[Stack]) -> dict[str, tuple[Stack, str]]:
    """The layer versions the stacks export (an Output whose Value is a Ref or Fn::GetAtt
    LayerVersionArn of one), by what an Fn::ImportValue of the export resolves to."""
    exported: dict[str, tuple[Stack, str]] = {}
    for stack in stacks:
        outputs = stack.template.get("Outputs", {})
        if not isinstance(outputs, Mapping):
            continue
        resolver = stack.resolver()
        for output in outputs.values():
            export = output.get("Export") if isinstance(output, Mapping) else None
            if not isinstance(export, Mapping) or "Name" not in export:
                continue
            layer_id = _layer_reference(resolver, output.get("Value"))
            if layer_id is None:
                continue
            try:
                name = resolver.resolve_str(export["Name"], f"the export of {layer_id}")
            except UnresolvableError as error:
                raise AssemblyError(f"{_template(stack)}: {error}") from error
            exported[import_standin(name)] = (stack, layer_id)
    return exported


def _layer_reference(resolver: Resolver, value: Any) -> str | None:
    """The logical id of the layer version ``value`` refers to (Ref, Fn::GetAtt), if any."""
    if not isinstance(value, Mapping) or len(value) != 1:
        return None
    if "Ref" in value:
        target = value["Ref"]
    elif "Fn::GetAtt" in value:
        argument = value["Fn::GetAtt"]
        parts = argument.split(".", 1) if isinstance(argument, str) else argument
        if not (isinstance(parts, list) and parts[1:] == ["LayerVersionArn"]):
            return None
        target = parts[0]
    else:
        return None
    if isinstance(target, str) and resolver.resource_type(target) == LAYER_VERSION_TYPE:
        return target
    return None


def _listed(known: Mapping[str, tuple[Stack, str]]) -> str:
    """A few known layers for a message: stack/logical id."""
    names = sorted({f"{stack.name}/{layer_id}" for stack, layer_id in known.values()})
    if not names:
        return "none"
    return ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")


def _positive(
    resolver: Resolver, props: Mapping[str, Any], key: str, default: float, at: str
) -> float:
    """A positive number property (CloudFormation also takes one as a string)."""
    value = resolver.resolve(props.get(key, default))
    number: float | None = None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        number = float(value)
    elif isinstance(value, str):
        with contextlib.suppress(ValueError):
            number = float(value)
    if number is None or not math.isfinite(number) or number <= 0:
        raise AssemblyError(
            f"{at}.Properties.{key} is {describe(value)}; expected a positive number"
        )
    return number


def _invoke_policy(resolver: Resolver, function: Function) -> dict[str, Any]:
    """The function's resource policy, as statements built from its AWS::Lambda::Permissions."""
    statements: list[dict[str, Any]] = []
    for logical_id, resource in resolver.resources.items():
        if resource.get("Type") != PERMISSION_TYPE:
            continue
        props = resolver.resolve(resolver.properties(logical_id))
        target = str(props.get("FunctionName", ""))
        if "Qualifier" in props:
            target = f"{target}:{props['Qualifier']}"
        # A permission of the function covers unqualified invocations only; one of an
        # alias or version covers invocations of that qualified ARN only (Lambda's
        # AddPermission reference).
        if target not in (function.invoked_name, function.invoked_arn):
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
            "Resource": function.invoked_arn,
        }
        if condition:
            statement["Condition"] = condition
        statements.append(statement)
    return {"Statement": statements}
