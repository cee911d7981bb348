"""The compliance answers: each resource the checks would flag, exempted with why it is safe.

A construct calls one function (or passes one constant) per exemption; the reasons
and the cdk-nag, checkov and cfn-lint mechanics live in this package.
"""

from constructs_pkg.compliance.aws_cdk_lib_resources import (
    exempt_bucket_deployment_handler,
    exempt_codedeploy_role,
    exempt_provider_framework,
)
from constructs_pkg.compliance.own_resources import (
    SAMPLE_HANDLER_EXEMPTIONS,
    SIP_MESSAGE_LOGS_HANDLER_EXEMPTIONS,
    SIP_RULE_HANDLER_EXEMPTIONS,
    OwnFunctionExemptions,
    exempt_access_log_bucket,
    exempt_own_function,
    exempt_prompt_bucket,
    exempt_sip_messages_log_group,
    exempt_sip_rule_api,
)

__all__ = [
    "SAMPLE_HANDLER_EXEMPTIONS",
    "SIP_MESSAGE_LOGS_HANDLER_EXEMPTIONS",
    "SIP_RULE_HANDLER_EXEMPTIONS",
    "OwnFunctionExemptions",
    "exempt_access_log_bucket",
    "exempt_bucket_deployment_handler",
    "exempt_codedeploy_role",
    "exempt_own_function",
    "exempt_prompt_bucket",
    "exempt_provider_framework",
    "exempt_sip_messages_log_group",
    "exempt_sip_rule_api",
]
