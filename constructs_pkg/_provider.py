"""A custom-resource provider for a chime-sdk-voice handler.

``SipRule`` and ``SipMessageLogs`` each put the CDK provider framework in front of one of
the handlers in ``constructs_pkg/custom_resources``. What they share is built here once: the
handler function (``Handler``, with ``HandlerLogs`` and ``HandlerRole``), the framework's
log group (``ProviderLogs``) and the ``Provider``, under the caller's scope with those
construct ids, each exempted from the compliance checks it fails (``compliance``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import custom_resources as cr
from constructs import Construct

from constructs_pkg import compliance
from constructs_pkg._lambda import LOG_RETENTION, package_function
from constructs_pkg.custom_resources import FOLDER, HANDLER_TIMEOUT_SECONDS

# The handlers keep one deadline per event, from the Lambda context's remaining time
# (custom_resources/_framework.py: CALL_SECONDS, RESPONSE_SECONDS): they fail with the cause
# before this.
HANDLER_TIMEOUT = cdk.Duration.seconds(HANDLER_TIMEOUT_SECONDS)


@dataclass(frozen=True)
class ChimeApiProvider:
    """What ``chime_api_provider`` made: the handler, its role, and the provider."""

    handler: lambda_.Function
    role: iam.IRole
    provider: cr.Provider


def chime_api_provider(
    scope: Construct,
    *,
    handler: str,
    description: str,
    role_description: str,
    exemptions: compliance.OwnFunctionExemptions,
    statements: Sequence[iam.PolicyStatement],
) -> ChimeApiProvider:
    """The handler ``handler`` (``custom_resources.entry_point``) behind a provider framework.

    :param description: the function's description.
    :param role_description: the description of the handler's own role.
    :param exemptions: why the handler and its log group are safe without what the
        compliance checks ask of them.
    :param statements: what the handler may call, added to its role's default policy
        before the provider is made.
    """
    function = package_function(
        scope,
        "Handler",
        folder=FOLDER,
        handler=handler,
        memory_size=256,
        timeout=HANDLER_TIMEOUT,
        log_retention=LOG_RETENTION,
        description=description,
        role_description=role_description,
        exemptions=exemptions,
    )
    role = function.role
    assert role is not None, "package_function always gives the function a role"
    for statement in statements:
        role.add_to_principal_policy(statement)
    provider_logs = logs.LogGroup(scope, "ProviderLogs", retention=LOG_RETENTION)
    provider = cr.Provider(scope, "Provider", on_event_handler=function, log_group=provider_logs)
    compliance.exempt_provider_framework(provider, provider_logs)
    return ChimeApiProvider(function, role, provider)
