"""WavPrompts: check, optionally normalize, and deploy a folder of prompts; a by-name catalog.

A prompt Chime cannot play must fail the build, not a live call. Every WAV is
checked at synth time by its headers (constructs_pkg.audio.wav); the deployment
carries only the prompt WAVs and labels them ``audio/wav``, because ``aws s3 sync``
(which BucketDeployment runs) would label them ``audio/x-wav``.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import aws_cdk as cdk
from aws_cdk import aws_s3_assets as s3_assets
from aws_cdk import aws_s3_deployment as s3deploy
from constructs import Construct

from constructs_pkg._checks import (
    BASIC_EXECUTION_ROLE,
    DEPLOY_TIME_CONCURRENCY,
    INLINE_POLICY,
    LATEST_RUNTIME,
    LOG_GROUP_KMS,
    FunctionExemptions,
    exempt,
    exempt_function,
)
from constructs_pkg._nag import acknowledge, wildcard_resource_finding
from constructs_pkg.audio.wav import (
    PromptCheckError,
    WavError,
    WavInfo,
    check_prompt,
    recommendation,
)
from constructs_pkg.prompt_bucket import PromptBucket

if TYPE_CHECKING:
    from constructs_pkg.audio.normalize import NormalizedPrompt

PROMPT_SUFFIX = ".wav"
# With normalize=True these are decoded too, and deployed as .wav.
NORMALIZABLE_SUFFIXES = (".wav", ".flac", ".ogg")
WAV_CONTENT_TYPE = "audio/wav"
# Lambda's whole environment is capped at 4 KB; the manifest must leave room for the rest.
MAX_MANIFEST_BYTES = 3072

# Why aws-cdk-lib's BucketDeployment handler is safe without what the compliance checks
# ask of every function; the construct offers none of these settings but a VPC.
DEPLOYMENT_HANDLER_EXEMPTIONS = FunctionExemptions(
    concurrency=DEPLOY_TIME_CONCURRENCY,
    dead_letter="CloudFormation invokes aws-cdk-lib's BucketDeployment handler for a custom "
    "resource, and the handler answers CloudFormation's pre-signed response URL itself, FAILED "
    "included, so a failed copy fails the stack operation visibly; an event parked in a "
    "dead-letter queue could not be answered later.",
    vpc="aws-cdk-lib's BucketDeployment handler reaches only S3 (the CDK asset bucket, the "
    "prompt bucket, CloudFormation's pre-signed response URL); there is no VPC resource for it "
    "to reach, and inside a VPC it would need a NAT gateway or S3 endpoint to work at all.",
    tracing="aws-cdk-lib's BucketDeployment handler offers no tracing setting and carries no "
    "X-Ray SDK; it runs only at deploy time, each run recorded in the stack's events and its "
    "own log group.",
    environment="Its only variable is AWS_CA_BUNDLE, the path of the CA certificate file in "
    "the runtime: nothing secret, and Lambda encrypts it at rest with its AWS managed key.",
)


@dataclass(frozen=True)
class Prompt:
    """One deployed prompt: its name, its S3 key and what its headers say."""

    name: str
    key: str
    duration_ms: int
    sample_rate: int
    channels: int


class UnknownPromptError(LookupError):
    """A prompt name that is not in the catalog; the message lists the known names."""

    def __str__(self) -> str:
        return str(self.args[0])


class WavPrompts(Construct):
    """A folder of WAV prompts, checked at synth time and deployed to a PromptBucket.

    Files are found recursively: ``menu/main.wav`` becomes key ``<key_prefix>menu/main.wav``
    and prompt name ``menu/main``. A file that is not a prompt is skipped with a
    warning, never deployed as audio/wav. Every refused WAV is reported in one error.

    :param prompt_bucket: where the prompts go.
    :param source_dir: the folder of prompt files.
    :param key_prefix: key prefix of the deployed prompts. Default: "prompts/".
    :param normalize: transcode every prompt to 8 kHz mono 16-bit PCM at synth time
        (mu-law, A-law, float, any rate or width; also .flac and .ogg). Default: False.
    :param prune: delete objects under ``key_prefix`` that this deployment did not put
        there. Default: False (prompts uploaded by hand are kept). Needs a non-empty prefix.
    :param retain_on_delete: keep the prompts when this deployment is removed. Default: True.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        prompt_bucket: PromptBucket,
        source_dir: str | os.PathLike[str],
        key_prefix: str = "prompts/",
        normalize: bool = False,
        prune: bool = False,
        retain_on_delete: bool = True,
    ) -> None:
        super().__init__(scope, construct_id)
        source = Path(source_dir)
        _check_props(construct_id, source, key_prefix, prune)
        self.prompt_bucket = prompt_bucket
        self.key_prefix = key_prefix
        self.normalize = normalize

        files, skipped = _find_prompt_files(source, normalize)
        for relative in skipped:
            cdk.Annotations.of(self).add_warning_v2(
                "constructs-pkg:prompt-skipped",
                f"{source / relative} is not a prompt ({_expected_files(normalize)}), "
                "so it is not deployed.",
            )
        if not files:
            raise ValueError(
                f"WavPrompts '{construct_id}': source_dir {str(source)!r} holds no prompt "
                f"files; expected {_expected_files(normalize)}."
            )

        self.staging_dir = self._staging_dir()
        infos = self._stage(source, files, self.staging_dir)
        self.prompts: dict[str, Prompt] = {
            _prompt_name(relative): Prompt(
                name=_prompt_name(relative),
                key=f"{key_prefix}{_staged_name(relative)}",
                duration_ms=info.duration_ms,
                sample_rate=info.sample_rate,
                channels=info.channels,
            )
            for relative, info in zip(files, infos, strict=True)
        }
        staged_bytes = sum(info.file_bytes for info in infos)
        self.asset = s3_assets.Asset(self, "Asset", path=str(self.staging_dir))
        self.deployment = s3deploy.BucketDeployment(
            self,
            "Deployment",
            sources=[s3deploy.Source.bucket(self.asset.bucket, self.asset.s3_object_key)],
            destination_bucket=prompt_bucket.bucket,
            destination_key_prefix=key_prefix or None,
            content_type=WAV_CONTENT_TYPE,
            prune=prune,
            retain_on_delete=retain_on_delete,
            memory_limit=256,
            ephemeral_storage_size=cdk.Size.mebibytes(_scratch_mebibytes(staged_bytes)),
        )
        self._acknowledge_deployment_handler()

    def _acknowledge_deployment_handler(self) -> None:
        """The findings on aws-cdk-lib's own BucketDeployment handler, each with why it is safe."""
        role = self.deployment.handler_role
        function = role.node.scope
        assert function is not None, "a role inside a Lambda function always has a scope"
        policy = role.node.find_child("DefaultPolicy")
        exempt_function(function, DEPLOYMENT_HANDLER_EXEMPTIONS)
        exempt(
            function,
            LATEST_RUNTIME,
            "aws-cdk-lib sets its BucketDeployment handler's runtime, a Python version Lambda "
            "still supports, and offers no setting for it; a newer one comes with an "
            "aws-cdk-lib upgrade.",
        )
        exempt(
            function.node.find_child("LogGroup"),
            LOG_GROUP_KMS,
            "The BucketDeployment handler logs its CloudFormation events (without the pre-signed "
            "response URL) and the `aws s3 sync` of the prompts: bucket names and object keys, "
            "no caller data, no secrets. CloudWatch Logs encrypts all log data at rest already.",
        )
        exempt(
            policy,
            INLINE_POLICY,
            "aws-cdk-lib keeps the BucketDeployment handler's S3 grants inline in the handler's "
            "own role: bound to that role alone, deleted with it, attachable to no other "
            "principal.",
        )
        exempt(
            role,
            BASIC_EXECUTION_ROLE,
            "aws-cdk-lib gives its BucketDeployment handler's role AWSLambdaBasicExecutionRole, "
            "which allows only creating log groups and streams and putting log events: it reads "
            "no log and reaches no other service.",
        )
        read_write = "s3:GetObject* s3:GetBucket* s3:List* s3:Abort* s3:DeleteObject*"
        for action in read_write.split():
            acknowledge(
                policy,
                f"AwsSolutions::AwsSolutions-IAM5[Action::{action}]",
                "aws-cdk-lib's BucketDeployment grant: read of the asset bucket, read-write of "
                "the prompt bucket, which `aws s3 sync` needs; no other bucket.",
            )
        for bucket in (self.asset.bucket, self.prompt_bucket.bucket):
            acknowledge(
                policy,
                wildcard_resource_finding(
                    policy, "AwsSolutions::AwsSolutions-IAM5", bucket.arn_for_objects("*")
                ),
                "The deployment copies whole folders of prompts, so it reads the asset zip's "
                "bucket and writes object keys it cannot list in advance.",
            )

    def grant_play(self, sma_arn: str) -> None:
        """Let Chime read exactly these prompts (this deployment's prefix) for the SMA."""
        self.prompt_bucket.grant_play(sma_arn, key_prefix=self.key_prefix)

    def audio_source(self, name: str) -> dict[str, str]:
        """The PlayAudio ``AudioSource`` for prompt ``name`` (e.g. "menu/main")."""
        return {
            "Type": "S3",
            "BucketName": self.deployment.deployed_bucket.bucket_name,
            "Key": self.prompt(name).key,
        }

    def prompt(self, name: str) -> Prompt:
        """The catalog entry of prompt ``name``; an unknown name lists the known ones."""
        try:
            return self.prompts[name]
        except KeyError:
            raise UnknownPromptError(
                f"WavPrompts '{self.node.id}' has no prompt named {name!r}; "
                f"known prompts: {', '.join(sorted(self.prompts))}"
            ) from None

    def manifest(self) -> dict[str, dict[str, Any]]:
        """name -> key, durationMs, rate, channels: what a handler needs to play by name."""
        return {
            name: {
                "key": p.key,
                "durationMs": p.duration_ms,
                "rate": p.sample_rate,
                "channels": p.channels,
            }
            for name, p in sorted(self.prompts.items())
        }

    def manifest_json(self) -> str:
        """The manifest as compact JSON, small enough for a Lambda environment variable."""
        text = json.dumps(self.manifest(), separators=(",", ":"), sort_keys=True)
        if len(text.encode()) > MAX_MANIFEST_BYTES:
            raise ValueError(
                f"WavPrompts '{self.node.id}': the prompt manifest is {len(text.encode())} "
                f"bytes for {len(self.prompts)} prompts; expected at most {MAX_MANIFEST_BYTES} "
                "bytes so it fits Lambda's 4 KB environment. Split the prompts into several "
                "WavPrompts, or shorten their names and folders."
            )
        return text

    def _staging_dir(self) -> Path:
        """A folder of this construct's own inside the cloud assembly, never the source."""
        outdir = Path(cdk.Stage.of(self).asset_outdir)  # type: ignore[union-attr]
        digest = hashlib.sha256(self.node.path.encode()).hexdigest()[:16]
        staging = outdir / ".playaudio-prompts" / digest
        if staging.exists():
            shutil.rmtree(staging)
        staging.mkdir(parents=True)
        return staging

    def _stage(self, source: Path, files: list[Path], staging: Path) -> list[WavInfo]:
        """Check (and normalize) every file into ``staging``; all refusals in one error."""
        infos: list[WavInfo] = []
        errors: list[WavError] = []
        normalize_prompt = _normalizer() if self.normalize else None
        for relative in files:
            target = staging / _staged_name(relative)
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                if normalize_prompt is not None:
                    normalized = normalize_prompt(source / relative, self._cache_dir()).path
                    info = check_prompt(normalized)
                    _link_or_copy(normalized, target)
                else:
                    info = check_prompt(source / relative)
                    _link_or_copy(source / relative, target)
            except WavError as error:
                errors.append(error)
                continue
            infos.append(info)
            advice = None if self.normalize else recommendation(info)
            if advice:
                cdk.Annotations.of(self).add_warning_v2(
                    f"constructs-pkg:prompt-not-8khz-mono:{relative.as_posix()}", advice
                )
        if errors:
            raise PromptCheckError(errors)
        return infos

    def _cache_dir(self) -> Path:
        """Normalized prompts, by content hash, kept in the cloud assembly across synths."""
        return Path(cdk.Stage.of(self).asset_outdir) / ".playaudio-cache"  # type: ignore[union-attr]


def _normalizer() -> Callable[[Path, Path], NormalizedPrompt]:
    """normalize_prompt, whose libraries are the optional ``normalize`` extra."""
    try:
        from constructs_pkg.audio.normalize import normalize_prompt
    except ImportError as error:
        raise ValueError(
            f"normalize=True needs numpy, soundfile and soxr ({error}); expected them "
            "installed: pip install 'chime-playaudio-constructs[normalize]'."
        ) from error
    return normalize_prompt


def _check_props(construct_id: str, source: Path, key_prefix: str, prune: bool) -> None:
    problems = []
    if not source.is_dir():
        problems.append(f"source_dir {str(source)!r} is not a folder; expected a folder of prompts")
    if key_prefix.startswith("/") or "*" in key_prefix or "?" in key_prefix:
        problems.append(
            f"key_prefix is {key_prefix!r}; expected a plain S3 key prefix such as 'prompts/'"
        )
    if prune and not key_prefix:
        problems.append(
            "prune=True with an empty key_prefix would delete every object in the bucket "
            "that this deployment did not put there; expected a key_prefix such as 'prompts/'"
        )
    if problems:
        raise ValueError(f"WavPrompts '{construct_id}': " + "; ".join(problems) + ".")


def _find_prompt_files(source: Path, normalize: bool) -> tuple[list[Path], list[Path]]:
    """Prompt files and skipped files under ``source``, relative and sorted; dotfiles ignored."""
    suffixes = NORMALIZABLE_SUFFIXES if normalize else (PROMPT_SUFFIX,)
    prompts: list[Path] = []
    skipped: list[Path] = []
    for path in sorted(source.rglob("*")):
        relative = path.relative_to(source)
        if any(part.startswith(".") for part in relative.parts) or not path.is_file():
            continue
        (prompts if path.suffix.lower() in suffixes else skipped).append(relative)
    return prompts, skipped


def _expected_files(normalize: bool) -> str:
    if normalize:
        return "files ending in .wav, .flac or .ogg (any case)"
    return "files ending in .wav (any case)"


def _prompt_name(relative: Path) -> str:
    return relative.with_suffix("").as_posix()


def _staged_name(relative: Path) -> str:
    """The deployed file name: the same path, with a lower-case .wav suffix."""
    return relative.with_suffix(PROMPT_SUFFIX).as_posix()


def _link_or_copy(source: Path, target: Path) -> None:
    """Hard-link where the file system allows (no bytes copied), else copy."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)


def _scratch_mebibytes(staged_bytes: int) -> int:
    """/tmp the deployment handler needs: the zip plus its extracted copy, with headroom."""
    needed = math.ceil(staged_bytes * 2.5 / 2**20)
    return min(max(512, needed), 10240)
