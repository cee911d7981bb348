"""SipMediaApplication: the SMA, the Lambda it invokes, and the permission between them.

The SMA (``AWS::Chime::SipMediaApplication``) has exactly one endpoint: by
default the sample PlayAudio handler of ``constructs_pkg/runtime``, or any
function, version or alias you pass. Chime invokes it as the service principal
``voiceconnector.chime.amazonaws.com``; without ``lambda:InvokeFunction`` for
that principal calls hang up unexpectedly, so the permission is always added.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, TypeGuard, cast

import aws_cdk as cdk
from aws_cdk import aws_chime as chime
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_codedeploy as codedeploy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from constructs_pkg import compliance
from constructs_pkg._lambda import LOG_RETENTION, package_function
from constructs_pkg._props import Problems, check_chime_name, describe, implements, real_signature
from constructs_pkg.chime_facts import (
    CHIME_INVOKE_ACTION,
    CHIME_SERVICE_PRINCIPAL,
    E164_EXPECTED,
    E164_NUMBER,
    SMA_REGIONS,
    SMA_TYPE_REGIONS,
)
from constructs_pkg.prompts import UnknownPromptError, WavPrompts
from constructs_pkg.runtime import contract
from constructs_pkg.runtime.actions import dtmf_list_error, positive_int_error

SAMPLE_HANDLER = "runtime.handler.handler"
# Lambda caps a function's whole environment at 4 KB; the number map leaves room for the
# sample handler's other variables (about 300 bytes).
MAX_LANGUAGE_MAP_BYTES = 3072
# The SMA retries an invocation without an answer after chime_facts.SMA_RETRY_SECONDS:
# finish (or fail) well before.
HANDLER_TIMEOUT = cdk.Duration.seconds(3)
# The alias the SMA invokes, so that a handler change can shift calls over gradually.
LIVE_ALIAS = "live"
# 10% of invocations for 10 minutes, then all: long enough for one-minute alarms to see a
# broken change on a fraction of calls (a call lasts minutes, alarms need 1-3 periods).
DEFAULT_ROLLOUT = codedeploy.LambdaDeploymentConfig.CANARY_10_PERCENT_10_MINUTES


@real_signature
class SipMediaApplication(Construct):
    """A SIP media application whose endpoint is a Lambda that Chime may invoke.

    :param prompts: prompt deployments the SMA plays; each grants Chime read of its
        prefix for this SMA. The first one configures the sample handler. Default: none.
    :param function: the endpoint: a function, version or alias. Default: the sample
        PlayAudio handler (needs ``prompts``).
    :param name: the SMA's name, 1-256 of ``[a-zA-Z0-9 _.-]``. Default: the construct's
        unique id.
    :param welcome_prompt: sample handler: the prompt a call hears (with languages, a name
        within a language folder). Default: "welcome".
    :param fallback_prompt: sample handler: the prompt played once when a prompt cannot
        be played (InvalidAudioSource). Default: "error".
    :param playback_terminators: sample handler: DTMF keys that stop a prompt. Default: "#".
    :param playback_repeat: sample handler: times each prompt plays. Default: 1.
    :param log_retention: sample handler: how long its logs are kept. Default: three months.
    :param language_by_number: sample handler: the language (one of the prompts'
        ``languages``) of calls on each of your numbers, E.164 (an inbound call's To, an
        outbound call's From): ``{"+12065550100": "es-US"}``. Other calls hear the default
        language. Default: none.
    :param rollout: how a change of the handler reaches calls: a CodeDeploy Lambda
        deployment config, through the alias the SMA invokes. Default for the sample handler
        (always invoked through its alias ``live``): 10% of calls for 10 minutes, then all,
        rolled back by the alarms given to ``add_rollback_alarm``. For your own function,
        pass a ``lambda.Alias`` as ``function`` and a rollout to opt in; default: none.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        prompts: Sequence[WavPrompts] = (),
        function: lambda_.IFunction | None = None,
        name: str | None = None,
        welcome_prompt: str | None = None,
        fallback_prompt: str | None = None,
        playback_terminators: str | None = None,
        playback_repeat: int | None = None,
        log_retention: logs.RetentionDays | None = None,
        rollout: codedeploy.ILambdaDeploymentConfig | None = None,
        language_by_number: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = cdk.Stack.of(self)
        handler_settings = {
            "welcome_prompt": welcome_prompt,
            "fallback_prompt": fallback_prompt,
            "playback_terminators": playback_terminators,
            "playback_repeat": playback_repeat,
            "log_retention": log_retention,
            "language_by_number": language_by_number,
        }
        self.sma_name = name if name is not None else cdk.Names.unique_id(self)[-256:]
        _check(
            construct_id,
            region=stack.region,
            prompts=prompts,
            function=function,
            name=self.sma_name,
            handler_settings=handler_settings,
            rollout=rollout,
        )

        self.log_group: logs.ILogGroup | None = None
        self.sample_handler: lambda_.Function | None = None
        """The sample handler's function; None when you passed your own."""
        if function is None:
            handler = self.sample_handler = self._sample_handler(
                prompts[0],
                welcome_prompt=welcome_prompt or contract.DEFAULT_WELCOME_PROMPT,
                fallback_prompt=fallback_prompt or contract.DEFAULT_FALLBACK_PROMPT,
                playback_terminators=(
                    contract.DEFAULT_PLAYBACK_TERMINATORS
                    if playback_terminators is None
                    else playback_terminators
                ),
                playback_repeat=(
                    contract.DEFAULT_PLAYBACK_REPEAT if playback_repeat is None else playback_repeat
                ),
                log_retention=log_retention or LOG_RETENTION,
                language_by_number=dict(language_by_number or {}),
            )
            function = lambda_.Alias(
                self, "Live", alias_name=LIVE_ALIAS, version=handler.current_version
            )
            rollout = rollout or DEFAULT_ROLLOUT
        self.function: lambda_.IFunction = function
        """What the SMA invokes: the sample handler's alias, or the function you passed."""
        self.handler_function: lambda_.IFunction = _unqualified(function)
        """The function whose code answers (behind an alias or version): its metrics, by its
        unqualified name, cover every version."""
        self.rollout_group: codedeploy.LambdaDeploymentGroup | None = None
        """Shifts calls to a new version of the alias; None without a rollout."""
        if rollout is not None and isinstance(function, lambda_.Alias):
            self.rollout_group = codedeploy.LambdaDeploymentGroup(
                self,
                "Rollout",
                alias=function,
                deployment_config=rollout,
            )
            compliance.exempt_codedeploy_role(self.rollout_group)
            self._warn_prune_during_rollout(prompts)
        function.add_permission(
            "ChimeInvoke",
            principal=iam.ServicePrincipal(CHIME_SERVICE_PRINCIPAL),
            action=CHIME_INVOKE_ACTION,
            source_account=stack.account,
        )

        self.resource = chime.CfnSipMediaApplication(
            self,
            "Resource",
            aws_region=stack.region,
            name=self.sma_name,
            endpoints=[
                chime.CfnSipMediaApplication.SipMediaApplicationEndpointProperty(
                    lambda_arn=function.function_arn
                )
            ],
        )
        permission = function.permissions_node.try_find_child("ChimeInvoke")
        if permission is not None:
            self.resource.node.add_dependency(permission)
        self.sma_id: str = self.resource.attr_sip_media_application_id
        self.sma_arn: str = self.resource.attr_sip_media_application_arn
        for prompt_set in prompts:
            prompt_set.grant_play(self.sma_arn)

    def _warn_prune_during_rollout(self, prompts: Sequence[WavPrompts]) -> None:
        """Pruned prompts vanish at deploy time, while a rollout still sends calls to the
        version that plays them."""
        pruned = [p.node.path for p in prompts if p.prune]
        if pruned:
            cdk.Annotations.of(self).add_warning_v2(
                "constructs-pkg:prune-during-rollout",
                f"{', '.join(pruned)} deploy with prune=True, and this SMA's handler is rolled "
                "out gradually: a prompt removed from the folder is deleted from the bucket "
                "during the deploy, while the previous handler version still answers part of "
                "the calls and may play it (InvalidAudioSource, then the fallback prompt). "
                "Remove prompts in a later deploy than the one that stops using them, or keep "
                "prune off",
            )

    def add_rollback_alarm(self, alarm: cloudwatch.IAlarm) -> None:
        """Roll a handler change back when ``alarm`` fires during its rollout.

        Does nothing without a rollout (your own function, not an alias), so a monitoring
        construct can offer every alarm it makes.
        """
        if self.rollout_group is not None:
            self.rollout_group.add_alarm(alarm)

    def _sample_handler(
        self,
        prompts: WavPrompts,
        *,
        welcome_prompt: str,
        fallback_prompt: str,
        playback_terminators: str,
        playback_repeat: int,
        log_retention: logs.RetentionDays,
        language_by_number: dict[str, str],
    ) -> lambda_.Function:
        """The sample PlayAudio handler, reading the prompts' catalog from their layer."""
        settings = {
            contract.WELCOME_PROMPT: welcome_prompt,
            contract.FALLBACK_PROMPT: fallback_prompt,
            contract.PLAYBACK_TERMINATORS: playback_terminators,
            contract.PLAYBACK_REPEAT: str(playback_repeat),
        }
        if language_by_number:
            settings[contract.LANGUAGE_BY_NUMBER] = _language_map_json(language_by_number)
        function = package_function(
            self,
            "Handler",
            folder="runtime",
            handler=SAMPLE_HANDLER,
            memory_size=128,
            timeout=HANDLER_TIMEOUT,
            log_retention=log_retention,
            description="Answers Chime SIP media application events with PlayAudio.",
            role_description="Runs the sample PlayAudio handler: writes its own logs only.",
            exemptions=compliance.SAMPLE_HANDLER_EXEMPTIONS,
            environment=settings,
        )
        prompts.bind(function)
        self.log_group = function.log_group
        return function


def check_sip_media_application(
    value: object, problems: Problems
) -> TypeGuard[SipMediaApplication]:
    """Whether ``value``, another construct's ``sip_media_application``, is a
    SipMediaApplication; records the problem otherwise."""
    return problems.check_type(
        "sip_media_application", value, SipMediaApplication, "a SipMediaApplication", optional=False
    )


def _unqualified(function: lambda_.IFunction) -> lambda_.IFunction:
    """The function behind an alias or a version (imported ones too), else ``function``."""
    if implements(function, lambda_.IAlias):
        return cast(lambda_.IAlias, function).version.lambda_
    if implements(function, lambda_.IVersion):
        return cast(lambda_.IVersion, function).lambda_
    return function


def _unknown_prompt(prompts: WavPrompts, name: str) -> str | None:
    """Why ``name`` plays nothing from ``prompts`` (in the default language), or None."""
    try:
        prompts.prompt(name)
    except UnknownPromptError as error:
        some = ", ".join(sorted(prompts.prompts)[:10])
        return f"which {prompts.node.path} does not hold ({error}); expected one of: {some}"
    return None


def _language_map_json(value: Mapping[Any, Any]) -> str:
    """LANGUAGE_BY_NUMBER's value: compact JSON, sorted."""
    return json.dumps(
        {str(k): v for k, v in value.items()}, separators=(",", ":"), sort_keys=True, default=str
    )


def _check_language_by_number(
    problems: Problems, value: object, prompts: WavPrompts | None
) -> None:
    """E.164 numbers to languages the prompts have."""
    if value is None:
        return
    if not isinstance(value, Mapping):
        problems.add(
            f"language_by_number is {describe(value)}; expected a mapping of E.164 numbers "
            "to languages, such as {'+12065550100': 'es-US'}"
        )
        return
    languages = prompts.languages if prompts is not None else ()
    size = len(_language_map_json(value).encode())
    if size > MAX_LANGUAGE_MAP_BYTES:
        problems.add(
            f"language_by_number is {size:,} bytes as {contract.LANGUAGE_BY_NUMBER} "
            f"({len(value)} numbers); "
            f"expected at most {MAX_LANGUAGE_MAP_BYTES:,} bytes (about 120 numbers), since "
            "Lambda caps a function's whole environment at 4 KB. For more numbers, pass your "
            "own function with the number table in its code"
        )
    for number, language in value.items():
        if not (isinstance(number, str) and E164_NUMBER.fullmatch(number)):
            problems.add(f"language_by_number has the number {number!r}; expected {E164_EXPECTED}")
        if language not in languages:
            known = ", ".join(languages) or "none: pass languages=[...] to WavPrompts"
            problems.add(
                f"language_by_number maps {number!r} to {language!r}; expected one of the "
                f"prompts' languages ({known})"
            )


def _check(
    construct_id: str,
    *,
    region: str,
    prompts: object,
    function: object,
    name: object,
    handler_settings: Mapping[str, object],
    rollout: object,
) -> None:
    """Every misuse in one error that names the prop, the value and what is expected."""
    problems = Problems(f"SipMediaApplication '{construct_id}'")
    if isinstance(prompts, WavPrompts):
        problems.add("prompts is one WavPrompts; expected a list of them: prompts=[prompts]")
        prompt_sets: Sequence[WavPrompts] = ()
    else:
        prompt_sets = problems.check_sequence(
            "prompts", prompts, WavPrompts, "a list of WavPrompts"
        )
    problems.check_implements(
        "function", function, lambda_.IFunction, "a lambda.IFunction (function, version or alias)"
    )
    check_chime_name(problems, name)
    if not cdk.Token.is_unresolved(region) and region not in SMA_TYPE_REGIONS:
        where = (
            "where SIP media applications exist but CloudFormation has no "
            "AWS::Chime::SipMediaApplication type, so a deploy would fail; create that SMA "
            "with the API or console and give it prompts with WavPrompts.grant_play(sma_arn)"
            if region in SMA_REGIONS
            else "where SIP media applications do not exist"
        )
        problems.add(
            f"the stack's region is {region!r}, {where}; expected one of "
            f"{', '.join(SMA_TYPE_REGIONS)}"
        )
    if function is None and not prompts:
        problems.add("the sample handler needs prompts; pass prompts=[...] or a function")
    if function is not None:
        given = sorted(key for key, value in handler_settings.items() if value is not None)
        if given:
            problems.add(
                f"{', '.join(given)} configure the sample handler, but a function was passed; "
                "configure your own function instead"
            )
    for key, default in (
        ("welcome_prompt", contract.DEFAULT_WELCOME_PROMPT),
        ("fallback_prompt", contract.DEFAULT_FALLBACK_PROMPT),
    ):
        value = handler_settings[key]
        if not problems.check_type(key, value, str, "a prompt name such as 'menu/main'"):
            continue
        played = default if value is None else str(value)
        why = _unknown_prompt(prompt_sets[0], played) if function is None and prompt_sets else None
        if why:
            said = f"{key} is {played!r}" if value is not None else f"{key} defaults to {played!r}"
            problems.add(f"{said}, {why}")
    _check_language_by_number(
        problems, handler_settings["language_by_number"], prompt_sets[0] if prompt_sets else None
    )
    terminators = handler_settings["playback_terminators"]
    if (
        problems.check_type("playback_terminators", terminators, str, "a string such as '#*'")
        and isinstance(terminators, str)
        and terminators
    ):
        problems.add(dtmf_list_error("playback_terminators", list(terminators)))
    repeat = handler_settings["playback_repeat"]
    if (
        problems.check_type("playback_repeat", repeat, int, "a whole number from 1")
        and repeat is not None
    ):
        problems.add(positive_int_error("playback_repeat", repeat))
    problems.check_type(
        "log_retention",
        handler_settings["log_retention"],
        logs.RetentionDays,
        "a logs.RetentionDays such as RetentionDays.THREE_MONTHS",
    )
    if problems.check_implements(
        "rollout",
        rollout,
        codedeploy.ILambdaDeploymentConfig,
        "a codedeploy.LambdaDeploymentConfig such as LambdaDeploymentConfig.ALL_AT_ONCE",
    ) and (
        rollout is not None and function is not None and not isinstance(function, lambda_.Alias)
    ):
        problems.add(
            f"rollout is set, but function is {describe(function)}; a rollout shifts calls "
            "between versions through an alias: expected function to be a lambda.Alias"
        )
    problems.raise_if_any()
