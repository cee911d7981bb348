"""The one normalizer every template snapshot goes through.

A snapshot should change when OUR template changes, not when an asset's bytes or
the pinned aws-cdk-lib's own handler code do. So, and nothing more:

* every asset hash (64 hex digits: ``S3Key`` ``<hash>.zip``, the BucketDeployment's
  ``SourceObjectKeys``, the awscli layer and provider-framework code of aws-cdk-lib,
  ``asset.<hash>`` paths) becomes ``<asset-hash>``;
* ``aws:asset:path`` metadata (a folder of the cloud assembly) becomes ``<asset-path>``;
* the ``CDKMetadata`` resource and its condition (a compressed list of library
  versions, only in CLI synths) are dropped.

Everything else is kept as synthesized: logical ids (the CDK's singleton ids such as
``CustomCDKBucketDeployment8693BB...`` are stable), runtimes, policies, properties and
any other metadata (cdk-nag, checkov, cfn-lint), so that a real change shows in a diff.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

ASSET_HASH = re.compile(r"(?<![0-9a-f])[0-9a-f]{64}(?![0-9a-f])")
ASSET_HASH_PLACEHOLDER = "<asset-hash>"
ASSET_PATH_PLACEHOLDER = "<asset-path>"


def normalize_template(template: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of a synthesized template without asset hashes or CDK version noise."""
    normalized: dict[str, Any] = _normalize(template)
    resources = normalized.get("Resources", {})
    resources.pop("CDKMetadata", None)
    conditions = normalized.get("Conditions")
    if conditions is not None:
        conditions.pop("CDKMetadataAvailable", None)
        if not conditions:
            del normalized["Conditions"]
    return normalized


def _normalize(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {
            key: ASSET_PATH_PLACEHOLDER if key == "aws:asset:path" else _normalize(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_normalize(item) for item in value]
    if isinstance(value, str):
        return ASSET_HASH.sub(ASSET_HASH_PLACEHOLDER, value)
    return value
