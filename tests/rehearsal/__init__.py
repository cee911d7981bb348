"""A deploy rehearsal of the prompts: aws-cdk-lib's BucketDeployment handler against a local S3."""
