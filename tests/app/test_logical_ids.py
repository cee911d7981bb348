"""The logical ids of PlayAudioStack's stateful resources are pinned.

CloudFormation knows a resource by its logical id. Renaming a construct (or moving it
to another scope) renames the id, and then a deploy CREATES a new resource under the
new id and, in the clean-up phase, DELETES the old one: a replacement, whatever the
properties say. For the resources below that means lost data or broken calls, so a
change of any of these ids must be a deliberate decision, made here with a migration
plan, never a side effect of a refactoring.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template
from constructs import IConstruct

from app import PlayAudioStack, build_app

PINNED = {
    # The prompt bucket. A new id is a new, empty bucket; the old one (RETAIN) is
    # orphaned with every prompt and every version of it: prompts uploaded by hand are
    # left behind, and with removal_policy DESTROY they would be deleted.
    "prompt bucket": ("PromptsBucketC8F33F2C", "AWS::S3::Bucket"),
    # The access-log bucket: the same, for the access-log history.
    "access-log bucket": ("PromptsAccessLogsA960D820", "AWS::S3::Bucket"),
    # A bucket has one policy. The new AWS::S3::BucketPolicy is put, then deleting the
    # old resource deletes THE policy: no TLS-only Deny, and no Chime read statement, so
    # every prompt fails with InvalidAudioSource until the next deploy.
    "prompt bucket policy": ("PromptsBucketPolicy2347F822", "AWS::S3::BucketPolicy"),
    # Likewise for the log bucket: S3 log delivery silently loses its permission.
    "access-log bucket policy": ("PromptsAccessLogsPolicy166E6DD6", "AWS::S3::BucketPolicy"),
    # The prompt deployment. The new custom resource uploads the prompts, then the old
    # one is deleted: with retain_on_delete=False that deletes the prompts just uploaded
    # (same bucket, same prefix). aws-cdk-lib puts the handler's memory and /tmp size in
    # this id (256MiB512MiB): changing memory_limit, or prompts large enough to need more
    # /tmp, renames it too.
    "prompt deployment": (
        "PromptFilesDeploymentCustomResource256MiB512MiB08B24CFB",
        "Custom::CDKBucketDeployment",
    ),
    # The sample handler's log group (RETAIN): a new one starts empty, the call history
    # stays in an orphan, and metric filters, alarms and subscriptions on it are lost.
    "handler log group": ("SmaHandlerLogsBC16659B", "AWS::Logs::LogGroup"),
    # The SIP media application. A new id is a new SMA with a new SipMediaApplicationId;
    # deleting the old one breaks every SIP rule (and so every phone number) routed to it
    # outside this stack: calls fail until each rule is re-pointed.
    "SIP media application": ("SmaDBD5ABE5", "AWS::Chime::SipMediaApplication"),
    # The SIP rule (-c phoneNumber=...). The new resource creates (or, with the same name
    # and trigger, adopts) the rule for the same number, then deleting the old resource
    # disables and deletes a rule for that number: the number stops routing.
    "SIP rule": ("SipRuleDEE1758C", "Custom::ChimeSipRule"),
    # The SMA's SIP message log group (RETAIN, named /aws/ChimeSipMediaApplicationSipMessages/
    # <SMA id>). A new id means a new AWS::Logs::LogGroup of the same name while the old one
    # still exists: CloudFormation fails the deploy with "already exists".
    "SIP message log group": ("SipMessageLogsSipMessagesDD8C2D4C", "AWS::Logs::LogGroup"),
    # The logging setting. A new id turns logging on from the new resource, then the old
    # one's Delete turns it OFF on the same SMA: no SIP message logs until the next deploy.
    "SIP message logging": ("SipMessageLogs82DBA282", "Custom::ChimeSipMessageLogs"),
    # The alias the SMA invokes. A new id creates a second alias named "live" while the
    # old one exists: Lambda refuses it (ResourceConflictException) and the deploy fails.
    "live alias": ("SmaLiveB4CA284A", "AWS::Lambda::Alias"),
    # The rollout's deployment group. A new id starts a new group while the alias's
    # UpdatePolicy still names the old one, which the same deploy deletes.
    "rollout deployment group": ("SmaRollout5E42D207", "AWS::CodeDeploy::DeploymentGroup"),
    # The alarm topic's key (RETAIN): a new id is a new key; the old one is left to
    # cost a month's key fee, and the topic re-encrypts under the new one.
    "alarm topic key": ("MonitoringAlarmTopicKeyFFA45DC9", "AWS::KMS::Key"),
    # The alarm topic. A new id is a new topic ARN: every on-call subscription (e-mail,
    # pager, chat) made by hand on the old topic is deleted with it, silently.
    "alarm topic": ("MonitoringAlarmTopicAF62D4F1", "AWS::SNS::Topic"),
}


@pytest.fixture(scope="module")
def stack_and_template(
    make_app: Callable[..., cdk.App],
) -> tuple[PlayAudioStack, dict[str, Any]]:
    stack = build_app(make_app(phoneNumber="+12065550100"), {})
    return stack, dict(Template.from_stack(stack).to_json())


def construct_of(stack: PlayAudioStack, name: str) -> cdk.CfnElement:
    """The CloudFormation element of each pinned resource, found from the constructs."""
    log_bucket = stack.prompt_bucket.log_bucket
    scopes: dict[str, Callable[[], IConstruct | None]] = {
        "prompt bucket": lambda: stack.prompt_bucket.bucket,
        "access-log bucket": lambda: log_bucket,
        "prompt bucket policy": lambda: stack.prompt_bucket.bucket.node.find_child("Policy"),
        "access-log bucket policy": lambda: log_bucket and log_bucket.node.find_child("Policy"),
        "prompt deployment": lambda: only_resource(
            stack.prompts.deployment, "Custom::CDKBucketDeployment"
        ),
        "handler log group": lambda: stack.sma.log_group,
        "SIP media application": lambda: stack.sma.resource,
        "SIP rule": lambda: stack.sip_rule and stack.sip_rule.resource,
        "SIP message log group": lambda: stack.sip_message_logs.log_group,
        "SIP message logging": lambda: stack.sip_message_logs.resource,
        "live alias": lambda: stack.sma.function,
        "rollout deployment group": lambda: stack.sma.rollout_group,
        "alarm topic key": lambda: stack.monitoring.alarm_topic_key,
        "alarm topic": lambda: stack.monitoring.alarm_topic,
    }
    scope = scopes[name]()
    assert scope is not None, f"PlayAudioStack has no {name}"
    element = scope if isinstance(scope, cdk.CfnElement) else scope.node.default_child
    assert isinstance(element, cdk.CfnElement), f"{name}: {scope.node.path} has no resource"
    return element


def only_resource(scope: IConstruct, resource_type: str) -> cdk.CfnResource:
    (found,) = [
        child
        for child in scope.node.find_all()
        if isinstance(child, cdk.CfnResource) and child.cfn_resource_type == resource_type
    ]
    return found


@pytest.mark.parametrize("name", list(PINNED))
def test_stateful_logical_id_is_pinned(
    name: str, stack_and_template: tuple[PlayAudioStack, dict[str, Any]]
) -> None:
    stack, template = stack_and_template
    logical_id, resource_type = PINNED[name]

    found = stack.resolve(construct_of(stack, name).logical_id)

    assert found == logical_id, (
        f"the {name}'s logical id is now {found}, was {logical_id}: deploying this "
        "REPLACES the resource (see the comment on PINNED). Keep the construct ids and "
        "scopes, or plan the migration and update the pin."
    )
    assert template["Resources"][logical_id]["Type"] == resource_type
