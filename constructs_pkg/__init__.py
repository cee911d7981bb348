"""CDK constructs for the Amazon Chime SDK PSTN audio PlayAudio action."""

from constructs_pkg.prompt_bucket import CHIME_SERVICE_PRINCIPAL, PromptBucket

__all__ = ["CHIME_SERVICE_PRINCIPAL", "PromptBucket"]
