"""The Python Lambdas this library ships: one folder of constructs_pkg each, own logs and role."""

from __future__ import annotations

from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from constructs_pkg import compliance

# The newest Python runtime in the pinned aws-cdk-lib.
PYTHON_RUNTIME = lambda_.Runtime.PYTHON_3_14
_PACKAGE_DIR = Path(__file__).resolve().parent
LOG_RETENTION = logs.RetentionDays.THREE_MONTHS
"""How long this library's own Lambdas' logs are kept, unless a construct is told otherwise."""


def package_function(
    scope: Construct,
    construct_id: str,
    *,
    folder: str,
    handler: str,
    memory_size: int,
    timeout: cdk.Duration,
    log_retention: logs.RetentionDays,
    description: str,
    role_description: str,
    exemptions: compliance.OwnFunctionExemptions,
    environment: dict[str, str] | None = None,
) -> lambda_.Function:
    """An arm64 function shipping only ``constructs_pkg/<folder>/*.py`` (asset root: the package).

    It gets its own log group (``<id>Logs``, with a retention period, Lambda's JSON log
    format) and its own role (``<id>Role``) that may write to that log group and nothing
    else, instead of the managed AWSLambdaBasicExecutionRole.

    ``exemptions`` say why the function and its log group are safe without what the
    compliance checks ask of them (``compliance.exempt_own_function``).
    """
    log_group = logs.LogGroup(scope, f"{construct_id}Logs", retention=log_retention)
    role = iam.Role(
        scope,
        f"{construct_id}Role",
        assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
        description=role_description,
    )
    log_group.grant_write(role)
    function = lambda_.Function(
        scope,
        construct_id,
        runtime=PYTHON_RUNTIME,
        architecture=lambda_.Architecture.ARM_64,
        memory_size=memory_size,
        timeout=timeout,
        handler=handler,
        code=lambda_.Code.from_asset(
            str(_PACKAGE_DIR),
            exclude=["*", f"!{folder}", f"!{folder}/*.py"],
            ignore_mode=cdk.IgnoreMode.GLOB,
        ),
        role=role,
        log_group=log_group,
        logging_format=lambda_.LoggingFormat.JSON,
        environment=environment,
        description=description,
    )
    compliance.exempt_own_function(function, log_group=log_group, role=role, exemptions=exemptions)
    return function
