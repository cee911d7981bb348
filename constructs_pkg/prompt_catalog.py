"""The catalog layer: how a WavPrompts' by-name catalog reaches the functions bound to it.

``WavPrompts.bind`` ships the catalog file and the runtime helper
(constructs_pkg.runtime.catalog) in a Lambda layer, staged once into the cloud assembly,
with one LayerVersion per stack that holds a bound function, and sets PROMPT_CATALOG and
PROMPTS_BUCKET on the function. The catalog document itself is the construct's
(``WavPrompts.catalog``); this module only packs and wires it.
"""

from __future__ import annotations

import hashlib
import re
import weakref
from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3_deployment as s3deploy
from constructs import Construct, IConstruct

from constructs_pkg._props import describe
from constructs_pkg.chime_facts import LAYER_MOUNT, LAYER_PYTHON
from constructs_pkg.prompt_files import CATALOG_STAGING, own_folder, path_digest
from constructs_pkg.runtime.catalog import BUCKET_ENV, CATALOG_ENV

# The catalog layer: the file under /opt (where Lambda extracts layers), and the runtime
# helper as a module on the layer's Python path (/opt/python).
CATALOG_FOLDER = "playaudio/catalogs"
CATALOG_MODULE = f"{LAYER_PYTHON}/playaudio_catalog.py"
_CATALOG_HELPER = Path(__file__).resolve().parent / "runtime" / "catalog.py"

# The functions bound to a catalog, by the app and the function's construct path.
_BOUND_CATALOGS: weakref.WeakKeyDictionary[IConstruct, dict[str, Construct]] = (
    weakref.WeakKeyDictionary()
)


def catalog_file(construct_id: str, catalog_json: str) -> str:
    """The catalog's path on a bound function: /opt/playaudio/catalogs/<id>-<digest>.json."""
    digest = hashlib.sha256(catalog_json.encode()).hexdigest()[:12]
    safe_id = re.sub(r"[^A-Za-z0-9_.-]", "_", construct_id)[:64]
    return f"{LAYER_MOUNT}/{CATALOG_FOLDER}/{safe_id}-{digest}.json"


class CatalogLayers:
    """The catalog layer of one WavPrompts (``prompts``, deploying with ``deployment``): its
    folder, staged once into the cloud assembly, and one LayerVersion per stack that holds
    a bound function."""

    def __init__(
        self, prompts: Construct, assembly: Path, deployment: s3deploy.BucketDeployment
    ) -> None:
        self._prompts = prompts
        self._assembly = assembly
        self._deployment = deployment
        self._staged: tuple[Path, str] | None = None
        self._by_stack: dict[str, lambda_.LayerVersion] = {}

    def bind(self, function: lambda_.Function, catalog_json: str) -> None:
        """Add the layer holding ``catalog_json`` to ``function``, and set its PROMPT_CATALOG
        (the file) and PROMPTS_BUCKET (the deployed bucket)."""
        prompts = self._prompts
        _check_bindable(prompts, function)
        bound = _BOUND_CATALOGS.setdefault(prompts.node.root, {})
        path = function.node.path
        current = bound.get(path)
        if current is prompts:
            return
        if current is not None:
            raise ValueError(
                f"WavPrompts '{prompts.node.id}': function {path} is bound to the catalog of "
                f"{current.node.path} already; expected one catalog per function, since "
                "PROMPT_CATALOG and PROMPTS_BUCKET name one. Put the prompts in one "
                "WavPrompts, or give each catalog its own function"
            )
        layer = self._layer(cdk.Stack.of(function), catalog_json)
        try:
            function.add_layers(layer)
        except RuntimeError as error:
            raise ValueError(
                f"WavPrompts '{prompts.node.id}': cannot add the catalog layer to function "
                f"{path} ({error}); expected a function with a free layer slot (Lambda "
                "allows five layers per function)"
            ) from None
        function.add_environment(CATALOG_ENV, catalog_file(prompts.node.id, catalog_json))
        function.add_environment(BUCKET_ENV, self._deployment.deployed_bucket.bucket_name)
        bound[path] = prompts

    def _layer(self, stack: cdk.Stack, catalog_json: str) -> lambda_.LayerVersion:
        """The catalog layer for functions of ``stack``, created on first use.

        A function of another stack gets a layer in its own stack (from the same asset):
        a layer ARN exported across stacks would change with every catalog and
        CloudFormation refuses to update an export that another stack imports.
        """
        prompts = self._prompts
        layer = self._by_stack.get(stack.node.path)
        if layer is None:
            if self._staged is None:
                self._staged = self._stage(catalog_json)
            folder, asset_hash = self._staged
            cdk.AssetStaging.clear_asset_hash_cache()  # as for the prompts' asset
            code = lambda_.Code.from_asset(
                str(folder), asset_hash=asset_hash, asset_hash_type=cdk.AssetHashType.CUSTOM
            )
            description = f"PlayAudio prompt catalog of {prompts.node.path}"[:256]
            if stack.node.path == cdk.Stack.of(prompts).node.path:
                layer = lambda_.LayerVersion(
                    prompts, "CatalogLayer", code=code, description=description
                )
            else:
                layer = lambda_.LayerVersion(
                    stack,
                    f"{prompts.node.id}CatalogLayer{path_digest(prompts.node.path)[:8]}",
                    code=code,
                    description=description,
                )
            self._by_stack[stack.node.path] = layer
        return layer

    def _stage(self, catalog_json: str) -> tuple[Path, str]:
        """The layer's folder, staged into the assembly, and the hash of what it holds."""
        prompts = self._prompts
        folder = own_folder(
            prompts.node.id, self._assembly, CATALOG_STAGING, path_digest(prompts.node.path)
        )
        files = {
            catalog_file(prompts.node.id, catalog_json).removeprefix(f"{LAYER_MOUNT}/"): (
                catalog_json.encode()
            ),
            CATALOG_MODULE: _CATALOG_HELPER.read_bytes(),
        }
        digest = hashlib.sha256()
        for relative, content in sorted(files.items()):
            _write_readable(folder, relative, content)
            digest.update(f"{relative}\0{len(content)}\0".encode() + content)
        # A custom hash, as for the prompts: aws-cdk-lib caches a folder's fingerprint by
        # its path for the life of the process.
        return folder, digest.hexdigest()


def _check_bindable(prompts: Construct, function: object) -> None:
    """Refuse what cannot take a layer: an imported function, an alias, a container image."""
    if isinstance(function, lambda_.Function) and not isinstance(
        function, lambda_.DockerImageFunction
    ):
        return
    kind = "a container image function" if isinstance(function, lambda_.Function) else ""
    raise ValueError(
        f"WavPrompts '{prompts.node.id}': cannot bind {kind or describe(function)}; expected "
        "a lambda_.Function (.zip) defined in this app, since only such a function takes a "
        "layer and environment variables here. For any other function, bundle "
        "prompts.catalog_json() with its code as a file and set PROMPT_CATALOG to that "
        "file's path and PROMPTS_BUCKET to the prompt bucket's name (README: 'Play by name "
        "from your own function')"
    )


def _write_readable(folder: Path, relative: str, content: bytes) -> None:
    """Write ``folder/relative``, readable by all (Lambda reads layers as another user)."""
    target = folder / relative
    for parent in reversed(target.relative_to(folder).parents):
        (folder / parent).mkdir(exist_ok=True)
        (folder / parent).chmod(0o755)
    target.write_bytes(content)
    target.chmod(0o644)
