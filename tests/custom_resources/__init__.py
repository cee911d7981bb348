"""Tests of constructs_pkg/custom_resources, the deploy-time handlers, with boto3 stubbed."""
