"""CloudFormation intrinsic functions, resolved to stand-in values for a local call.

A synthesized template refers to things that exist only after a deploy: the
account, generated bucket names, the SMA's ARN. The simulator needs concrete
strings (the handler's environment, the bucket policy's ARNs), so this module
resolves ``Ref``, ``Fn::GetAtt``, ``Fn::Join``, ``Fn::Sub``, ``Fn::Select``,
``Fn::Split``, ``Fn::If`` (with the template's Conditions), ``Fn::Equals``,
``Fn::Not``, ``Fn::And``, ``Fn::Or``, ``Fn::FindInMap``, ``Fn::GetAZs``,
``Fn::ImportValue`` and ``Fn::Base64`` to deterministic stand-ins:

* account ``123456789012`` (or the stack's own account when it has one),
  the stack's region (``us-east-1`` when environment-agnostic), partition
  ``aws``;
* a bucket without ``BucketName``: ``<stack>-<logicalid>`` in lower case;
  its ``Arn`` ``arn:aws:s3:::<name>``;
* a function: its ``FunctionName`` or ``<stack>-<logicalid>``, and its ARN;
* a layer version (``Ref`` or ``Fn::GetAtt`` ``LayerVersionArn``):
  ``arn:aws:lambda:<region>:<account>:layer:<LayerName or stack-logicalid>:1``;
* ``Fn::ImportValue`` of export ``NAME``: ``import-NAME`` (:func:`import_standin`);
* an SMA: an id derived from the stack and logical id (a UUID), and
  ``arn:aws:chime:<region>:<account>:sma/<id>``;
* a custom resource attribute: the resource property of the same name when
  there is one (CDK's BucketDeployment returns ``DestinationBucketArn`` so),
  else ``<LogicalId>.<Attribute>``.

The same template always resolves to the same values.
"""

from __future__ import annotations

import base64
import json
import re
import uuid
from collections.abc import Mapping
from typing import Any

from constructs_pkg import chime_facts

STANDIN_ACCOUNT = "123456789012"
DEFAULT_REGION = "us-east-1"
LAYER_VERSION_TYPE = "AWS::Lambda::LayerVersion"
_NAMESPACE = uuid.UUID("6f1c2d1e-5b8a-4c6e-9a55-7c0d2a0b9e11")
_MAX_DEPTH = 64
_GETATT = '"LogicalId.Attribute" or [logical id, attribute]'


class UnresolvableError(ValueError):
    """A template value this resolver cannot turn into a stand-in."""


class _NoValue:
    """AWS::NoValue: the property is removed."""


NO_VALUE = _NoValue()


def partition_of(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def import_standin(export_name: str) -> str:
    """What ``Fn::ImportValue`` of ``export_name`` resolves to."""
    return f"import-{export_name}"


def standin_uuid(*parts: str) -> str:
    """A deterministic UUID for a stand-in id (SMA id, call id)."""
    return str(uuid.uuid5(_NAMESPACE, "/".join(parts)))


class Resolver:
    """Resolves the intrinsics of one stack's template to stand-in values."""

    def __init__(
        self, template: Mapping[str, Any], *, stack_name: str, account: str, region: str
    ) -> None:
        self.template = template
        self.resources: Mapping[str, Any] = template.get("Resources", {})
        self.stack_name = stack_name
        self.account = account
        self.region = region
        self.partition = partition_of(region)
        self._depth = 0

    # -- public -----------------------------------------------------------------------------

    def resolve(self, value: Any) -> Any:
        """A deep copy of ``value`` with every intrinsic replaced by its stand-in."""
        self._depth += 1
        try:
            if self._depth > _MAX_DEPTH:
                raise UnresolvableError("references nest too deeply (a cycle?)")
            return self._resolve(value)
        finally:
            self._depth -= 1

    def resolve_str(self, value: Any, where: str) -> str:
        resolved = self.resolve(value)
        if isinstance(resolved, bool):
            return "true" if resolved else "false"
        if isinstance(resolved, (str, int, float)):
            return str(resolved)
        raise UnresolvableError(f"{where} resolves to {resolved!r}; expected a string")

    def resource_type(self, logical_id: str) -> str | None:
        resource = self.resources.get(logical_id)
        return str(resource.get("Type")) if isinstance(resource, Mapping) else None

    def properties(self, logical_id: str) -> Mapping[str, Any]:
        resource = self.resources.get(logical_id, {})
        props = resource.get("Properties", {}) if isinstance(resource, Mapping) else {}
        return props if isinstance(props, Mapping) else {}

    def ref(self, name: str) -> Any:
        pseudo = self._pseudo(name)
        if pseudo is not None:
            return pseudo
        parameters = self.template.get("Parameters", {})
        if name in parameters:
            default = parameters[name].get("Default")
            return default if default is not None else f"{name}-standin"
        if name not in self.resources:
            raise UnresolvableError(f"Ref to {name!r}, which is not in the template")
        return self._physical_ref(name)

    def get_att(self, logical_id: str, attribute: str) -> Any:
        kind = self.resource_type(logical_id)
        if kind is None:
            raise UnresolvableError(f"Fn::GetAtt on {logical_id!r}, which is not in the template")
        props = self.properties(logical_id)
        name = self._physical_ref(logical_id)
        if kind == "AWS::S3::Bucket":
            return {
                "Arn": f"arn:{self.partition}:s3:::{name}",
                "DomainName": f"{name}.s3.amazonaws.com",
                "RegionalDomainName": f"{name}.s3.{self.region}.amazonaws.com",
            }.get(attribute, f"{logical_id}.{attribute}")
        if kind == "AWS::Lambda::Function" and attribute == "Arn":
            return self.function_arn(name)
        if kind == LAYER_VERSION_TYPE and attribute == "LayerVersionArn":
            return name
        if kind == "AWS::Chime::SipMediaApplication":
            sma_id = self.sma_id(logical_id)
            if attribute == "SipMediaApplicationId":
                return sma_id
            if attribute == "SipMediaApplicationArn":
                return self.sma_arn(logical_id)
        if kind in ("AWS::IAM::Role", "AWS::IAM::User") and attribute == "Arn":
            noun = "role" if kind == "AWS::IAM::Role" else "user"
            return f"arn:{self.partition}:iam::{self.account}:{noun}/{name}"
        if kind == "AWS::Logs::LogGroup" and attribute == "Arn":
            return f"arn:{self.partition}:logs:{self.region}:{self.account}:log-group:{name}:*"
        if (kind.startswith("Custom::") or kind == "AWS::CloudFormation::CustomResource") and (
            attribute in props
        ):
            return self.resolve(props[attribute])
        return f"{logical_id}.{attribute}"

    def function_arn(self, name: str) -> str:
        return f"arn:{self.partition}:lambda:{self.region}:{self.account}:function:{name}"

    def sma_id(self, logical_id: str) -> str:
        return standin_uuid(self.stack_name, logical_id)

    def sma_arn(self, logical_id: str) -> str:
        return chime_facts.sma_arn(
            self.partition, self.region, self.account, self.sma_id(logical_id)
        )

    # -- internals ---------------------------------------------------------------------------

    def _pseudo(self, name: str) -> Any:
        return {
            "AWS::AccountId": self.account,
            "AWS::Region": self.region,
            "AWS::Partition": self.partition,
            "AWS::URLSuffix": "amazonaws.com.cn" if self.partition == "aws-cn" else "amazonaws.com",
            "AWS::StackName": self.stack_name,
            "AWS::StackId": (
                f"arn:{self.partition}:cloudformation:{self.region}:{self.account}:stack/"
                f"{self.stack_name}/{standin_uuid(self.stack_name, 'stack')}"
            ),
            "AWS::NotificationARNs": [],
            "AWS::NoValue": NO_VALUE,
        }.get(name)

    def _physical_ref(self, logical_id: str) -> Any:
        """What Ref returns for a resource: its physical name or id, as a stand-in."""
        kind = self.resource_type(logical_id) or ""
        props = self.properties(logical_id)

        def named(prop: str, fallback: str) -> str:
            if prop in props:
                return self.resolve_str(props[prop], f"{logical_id}.{prop}")
            return fallback

        generated = f"{self.stack_name}-{logical_id}"
        if kind == "AWS::S3::Bucket":
            return named("BucketName", _bucket_name(generated))
        if kind == "AWS::Lambda::Function":
            return named("FunctionName", generated[:64])
        if kind == "AWS::Lambda::Version":
            return f"{self.resolve_str(props.get('FunctionName'), logical_id)}:1"
        if kind == "AWS::Lambda::Alias":
            target = self.resolve_str(props.get("FunctionName"), logical_id)
            return f"{target}:{self.resolve_str(props.get('Name'), logical_id)}"
        if kind == "AWS::Chime::SipMediaApplication":
            return self.sma_id(logical_id)
        if kind == LAYER_VERSION_TYPE:
            # Ref of a layer version is its ARN; LayerName may be a name or a layer's ARN.
            layer = named("LayerName", generated[:64])
            if not layer.startswith("arn:"):
                layer = f"arn:{self.partition}:lambda:{self.region}:{self.account}:layer:{layer}"
            return f"{layer}:1"
        if kind == "AWS::IAM::Role":
            return named("RoleName", generated[:64])
        if kind == "AWS::Logs::LogGroup":
            return named("LogGroupName", f"/aws/standin/{generated}")
        return f"{logical_id}-standin"

    def _resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            items = [self.resolve(v) for v in value]
            return [v for v in items if v is not NO_VALUE]
        if not isinstance(value, Mapping):
            return value
        if len(value) == 1:
            ((name, argument),) = value.items()
            if name == "Ref":
                if not isinstance(argument, str):
                    raise UnresolvableError(f"Ref takes a name; found {_show(argument)}")
                return self.ref(argument)
            if name == "Condition" and isinstance(argument, str):
                return self._condition(argument)
            if name.startswith("Fn::"):
                return self._function(name, argument)
        resolved = {k: self.resolve(v) for k, v in value.items()}
        return {k: v for k, v in resolved.items() if v is not NO_VALUE}

    def _function(self, name: str, arg: Any) -> Any:
        if name == "Fn::GetAtt":
            if isinstance(arg, str):
                arg = arg.split(".", 1)
            logical_id, attribute = (self.resolve(a) for a in _args(name, arg, 2, _GETATT))
            return self.get_att(self._text(logical_id), self._text(attribute))
        if name == "Fn::Join":
            delimiter, items = _args(name, arg, 2, "[delimiter, [values]]")
            parts = self.resolve(items)
            if not isinstance(parts, list):
                raise UnresolvableError(f"Fn::Join joins a list; found {_show(parts)}")
            return self._text(self.resolve(delimiter)).join(self._text(p) for p in parts)
        if name == "Fn::Select":
            index, items = _args(name, arg, 2, "[index, [values]]")
            values, position = self.resolve(items), self.resolve(index)
            if isinstance(position, str) and position.isdigit():
                position = int(position)
            if not isinstance(values, list) or not isinstance(position, int):
                raise UnresolvableError(
                    f"Fn::Select takes [index, [values]]; found [{_show(position)}, "
                    f"{_show(values)}]"
                )
            if not 0 <= position < len(values):
                raise UnresolvableError(
                    f"Fn::Select index {position} is outside a list of {len(values)}"
                )
            return values[position]
        if name == "Fn::Split":
            delimiter, text = _args(name, arg, 2, "[delimiter, text]")
            return self._text(self.resolve(text)).split(self._text(self.resolve(delimiter)))
        if name == "Fn::Sub":
            shape = "a string or [string, {variables}]"
            template, variables = (arg, {}) if isinstance(arg, str) else _args(name, arg, 2, shape)
            variables = self.resolve(variables)
            if not isinstance(template, str) or not isinstance(variables, Mapping):
                raise UnresolvableError(f"Fn::Sub takes {shape}; found {_show(arg)}")
            return self._sub(template, variables)
        if name == "Fn::If":
            condition, when_true, when_false = _args(name, arg, 3, "[condition, then, else]")
            if not isinstance(condition, str):
                raise UnresolvableError(f"Fn::If names a condition; found {_show(condition)}")
            return self.resolve(when_true if self._condition(condition) else when_false)
        if name == "Fn::Equals":
            left, right = _args(name, arg, 2, "[value, value]")
            return self.resolve(left) == self.resolve(right)
        if name == "Fn::Not":
            return not self._truth(_args(name, arg, 1, "[condition]")[0])
        if name in ("Fn::And", "Fn::Or"):
            if not isinstance(arg, list):
                raise UnresolvableError(f"{name} takes a list of conditions; found {_show(arg)}")
            truths = (self._truth(a) for a in arg)
            return all(truths) if name == "Fn::And" else any(truths)
        if name == "Fn::FindInMap":
            shape = "[map, top-level key, second-level key]"
            keys = [self.resolve(a) for a in _args(name, arg, 3, shape)]
            value: Any = self.template.get("Mappings", {})
            for depth, key in enumerate(keys):
                if not isinstance(value, Mapping) or not isinstance(key, str) or key not in value:
                    found = ".".join(str(k) for k in keys[: depth + 1])
                    raise UnresolvableError(
                        f"Fn::FindInMap: Mappings.{found} is not in the template"
                    )
                value = value[key]
            return self.resolve(value)
        if name == "Fn::GetAZs":
            return [f"{self.region}{zone}" for zone in "abc"]
        if name == "Fn::ImportValue":
            return import_standin(self._text(self.resolve(arg)))
        if name == "Fn::Base64":
            return base64.b64encode(self._text(self.resolve(arg)).encode()).decode()
        raise UnresolvableError(f"{name} is not modelled")

    def _truth(self, value: Any) -> bool:
        resolved = self.resolve(value)
        if isinstance(resolved, bool):
            return resolved
        raise UnresolvableError(f"condition {value!r} resolves to {resolved!r}, not a boolean")

    def _condition(self, name: str) -> bool:
        conditions = self.template.get("Conditions", {})
        if name not in conditions:
            raise UnresolvableError(f"condition {name!r} is not in the template")
        return self._truth(conditions[name])

    def _sub(self, template: str, variables: Mapping[str, Any]) -> str:
        def replace(match: re.Match[str]) -> str:
            inner = match.group(1)
            if inner.startswith("!"):
                return "${" + inner[1:] + "}"
            if inner in variables:
                return self._text(variables[inner])
            if "." in inner and not inner.startswith("AWS::"):
                logical_id, attribute = inner.split(".", 1)
                return self._text(self.get_att(logical_id, attribute))
            return self._text(self.ref(inner))

        return re.sub(r"\$\{([^}]*)\}", replace, template)

    @staticmethod
    def _text(value: Any) -> str:
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, (str, int, float)):
            return str(value)
        raise UnresolvableError(f"{value!r} is used as text")


def is_intrinsic(value: Any) -> bool:
    """``{"Ref": ...}``, ``{"Fn::...": ...}``: a value that resolves to something else."""
    if not isinstance(value, Mapping) or len(value) != 1:
        return False
    (name,) = value
    return name in ("Ref", "Condition") or str(name).startswith("Fn::")


def _args(name: str, arg: Any, count: int, shape: str) -> list[Any]:
    """The arguments of an intrinsic function that takes a list of ``count``."""
    if not isinstance(arg, list) or len(arg) != count:
        raise UnresolvableError(f"{name} takes {shape}; found {_show(arg)}")
    return arg


def _show(value: Any) -> str:
    """A template value in a message: its JSON, cut short."""
    text = json.dumps(value, default=str)
    return text if len(text) <= 80 else text[:77] + "..."


def _bucket_name(generated: str) -> str:
    """A valid S3 bucket name made from the stack name and logical id."""
    name = re.sub(r"[^a-z0-9-]+", "-", generated.lower()).strip("-")
    return name[:63].rstrip("-") or "standin-bucket"
