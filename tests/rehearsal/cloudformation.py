"""What CloudFormation and the CDK CLI would do with a synthesized assembly, done by hand.

Only the little a BucketDeployment needs: find its custom resource, resolve the few
intrinsics in its properties to stand-in names, turn every scalar into the string
CloudFormation sends, and zip a staged asset folder the way the CDK CLI publishes it.
Anything else (an unknown intrinsic, a Ref nobody supplied) is an error, never a guess.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ACCOUNT = "123456789012"
REGION = "us-east-1"
PSEUDO_PARAMETERS = {
    "AWS::AccountId": ACCOUNT,
    "AWS::Region": REGION,
    "AWS::Partition": "aws",
    "AWS::URLSuffix": "amazonaws.com",
}
DEPLOYMENT_TYPE = "Custom::CDKBucketDeployment"
# The CDK CLI (cdk-assets) stamps every zip entry with this date, so zips are reproducible.
ZIP_DATE = (1980, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class Assembly:
    """One synthesized stack: its template and its assets manifest, read from the outdir."""

    directory: Path
    stack_name: str

    @property
    def template(self) -> dict[str, Any]:
        template: dict[str, Any] = json.loads(
            (self.directory / f"{self.stack_name}.template.json").read_text()
        )
        return template

    def resources_of_type(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return {
            logical_id: resource
            for logical_id, resource in self.template["Resources"].items()
            if resource["Type"] == resource_type
        }

    def deployment(self) -> tuple[str, dict[str, Any]]:
        """The one BucketDeployment custom resource: logical id, properties as synthesized."""
        ((logical_id, resource),) = self.resources_of_type(DEPLOYMENT_TYPE).items()
        properties: dict[str, Any] = resource["Properties"]
        return logical_id, properties

    def file_asset_path(self, object_key: str) -> tuple[Path, str]:
        """The staged source of the file asset published under ``object_key``, and its packaging."""
        manifest = json.loads((self.directory / f"{self.stack_name}.assets.json").read_text())
        matches = [
            asset["source"]
            for asset in manifest["files"].values()
            if any(d["objectKey"] == object_key for d in asset["destinations"].values())
        ]
        (source,) = matches
        return self.directory / source["path"], str(source["packaging"])

    def function_code_path(self, function_logical_id: str) -> Path:
        """The staged code folder of a Lambda function in this template (its S3Key's asset)."""
        function = self.template["Resources"][function_logical_id]
        path, packaging = self.file_asset_path(function["Properties"]["Code"]["S3Key"])
        assert packaging == "zip", f"{function_logical_id}'s code is a {packaging} asset"
        return path


def resolve(value: Any, refs: Mapping[str, str], arns: Mapping[str, str]) -> Any:
    """Resolve Ref, Fn::GetAtt (Arn), Fn::Sub and Fn::Join, as CloudFormation would.

    ``refs`` maps logical ids (and pseudo parameters) to what Ref gives; ``arns`` maps
    logical ids to what Fn::GetAtt [id, "Arn"] gives.
    """
    if isinstance(value, list):
        return [resolve(item, refs, arns) for item in value]
    if not isinstance(value, dict):
        return value
    if len(value) == 1:
        ((name, argument),) = value.items()
        if name == "Ref":
            return {**PSEUDO_PARAMETERS, **refs}[argument]
        if name == "Fn::GetAtt":
            logical_id, attribute = argument
            assert attribute == "Arn", f"no stand-in for Fn::GetAtt {argument}"
            return arns[logical_id]
        if name == "Fn::Sub":
            assert isinstance(argument, str), f"Fn::Sub with a variable map: {argument}"
            names = {**PSEUDO_PARAMETERS, **refs}
            return re.sub(r"\$\{([^}!]+)\}", lambda m: names[m.group(1)], argument)
        if name == "Fn::Join":
            separator, parts = argument
            return separator.join(resolve(parts, refs, arns))
        assert not name.startswith("Fn::"), f"no stand-in for intrinsic {name}"
    return {key: resolve(item, refs, arns) for key, item in value.items()}


def as_cloudformation_sends(value: Any) -> Any:
    """Every scalar as the string CloudFormation hands a custom resource: true -> "true"."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, list):
        return [as_cloudformation_sends(item) for item in value]
    if isinstance(value, dict):
        return {key: as_cloudformation_sends(item) for key, item in value.items()}
    return value


def zip_like_cdk_cli(folder: Path) -> bytes:
    """The folder as the CDK CLI publishes a zip asset: files only, at the zip root, sorted,
    dotfiles included, each dated 1980-01-01 with its file mode, deflated."""
    files = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in files:
            entry = zipfile.ZipInfo(name, date_time=ZIP_DATE)
            entry.external_attr = ((folder / name).stat().st_mode & 0xFFFF) << 16
            entry.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(entry, (folder / name).read_bytes())
    return buffer.getvalue()
