"""cdk-nag packs by report name: a benchmark app runs exactly the packs the sample app ran."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk


def add_packs(app: cdk.App, names: str) -> list[str]:
    """Add the packs named in ``names`` (comma-separated report names, e.g. "AwsSolutions")."""
    import cdk_nag

    classes: dict[str, Any] = {
        "AwsSolutions": cdk_nag.AwsSolutionsChecks,
        "HIPAA.Security": cdk_nag.HIPAASecurityChecks,
        "NIST.800.53.R5": cdk_nag.NIST80053R5Checks,
        "PCI.DSS.321": cdk_nag.PCIDSS321Checks,
        "Serverless": cdk_nag.ServerlessChecks,
    }
    chosen = [name.strip() for name in names.split(",") if name.strip()]
    unknown = sorted(set(chosen) - set(classes))
    if unknown:
        raise ValueError(f"unknown nag packs {unknown}; known: {', '.join(classes)}")
    cdk.Validations.of(app).add_plugins(*(classes[name](app) for name in chosen))
    return chosen
