"""WavPrompts: check, optionally normalize, and deploy a folder of prompts; a by-name catalog.

A prompt Chime cannot play must fail the build, not a live call. Every WAV is
checked at synth time by its headers (constructs_pkg.audio.wav); the deployment
carries only the prompt WAVs and labels them ``audio/wav``, because ``aws s3 sync``
(which BucketDeployment runs) would label them ``audio/x-wav``.

This file is the construct: its resources and their wiring. The source folder's files
are prompt_files.py's, the catalog layer prompt_catalog.py's, and the checks of the
props and of each deployment's keys prompt_checks.py's.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import aws_cdk as cdk
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3_assets as s3_assets
from aws_cdk import aws_s3_deployment as s3deploy
from constructs import Construct

from constructs_pkg import compliance
from constructs_pkg._props import real_signature
from constructs_pkg.audio.prompt_errors import PromptCheckError, WavError
from constructs_pkg.audio.wav import WavInfo, recommendation
from constructs_pkg.chime_facts import WAV_CONTENT_TYPE
from constructs_pkg.prompt_bucket import PromptBucket
from constructs_pkg.prompt_catalog import CatalogLayers, catalog_file
from constructs_pkg.prompt_checks import Deployment, check_props, claim_keys
from constructs_pkg.prompt_files import (
    CACHE_FOLDER,
    STAGING_FOLDER,
    SourceFiles,
    check_and_copy,
    check_source_outside,
    collisions,
    expected_files,
    find_prompt_files,
    key_problems,
    make_folder,
    own_folder,
    path_digest,
    printable_path,
    prompt_name,
    staged_name,
)
from constructs_pkg.runtime import catalog as runtime_catalog
from constructs_pkg.runtime.actions import AUDIO_SOURCE_TYPE
from constructs_pkg.s3_keys import deployed_key, normalize_key_prefix

if TYPE_CHECKING:
    from constructs_pkg.audio.normalize import NormalizedPrompt

# How many missing prompts a language warning names before it counts the rest.
_MISSING_SHOWN = 20


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


@real_signature
class WavPrompts(Construct):
    """A folder of WAV prompts, checked at synth time and deployed to a PromptBucket.

    Files are found recursively: ``menu/main.wav`` becomes key ``<key_prefix>menu/main.wav``
    and prompt name ``menu/main``. A file that is not a prompt, a link to a folder (not
    followed) and a cloud assembly inside the folder are skipped with a warning, never
    deployed. Every refused entry (a WAV Chime cannot play, two files for one key, a
    broken link, a FIFO, an unreadable file, a name S3 refuses) is reported in one error.

    The source folder is only read: each prompt is checked and copied into the cloud
    assembly through one open file, into a file that must not exist yet.

    :param prompt_bucket: where the prompts go.
    :param source_dir: the folder of prompt files.
    :param key_prefix: key prefix of the deployed prompts. Default: "prompts/".
    :param normalize: transcode every prompt to 8 kHz mono 16-bit PCM at synth time
        (mu-law, A-law, float, any rate or width; also .flac and .ogg). Default: False.
    :param prune: delete objects under ``key_prefix`` that this deployment did not put
        there. Default: False (prompts uploaded by hand are kept). Needs a non-empty prefix.
    :param retain_on_delete: keep the prompts when this deployment is removed. Default: True.
    :param languages: the language folders (``["en-US", "es-US"]``), the first being the
        default: prompt names are then looked up per language, falling back to the default
        (see ``prompt``). Each must be a top-level folder holding prompts; a prompt the
        default language has and another lacks is a synth warning
        ``constructs-pkg:missing-prompts:<language>``, which
        ``Annotations.of(prompts).acknowledge_warning(...)`` acknowledges. Default: none.
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
        languages: Sequence[str] = (),
    ) -> None:
        super().__init__(scope, construct_id)
        check_props(
            construct_id,
            prompt_bucket=prompt_bucket,
            source_dir=source_dir,
            key_prefix=key_prefix,
            normalize=normalize,
            prune=prune,
            retain_on_delete=retain_on_delete,
            languages=languages,
        )
        source = Path(source_dir)
        self.prompt_bucket = prompt_bucket
        self.key_prefix = normalize_key_prefix(key_prefix)
        self.normalize = normalize
        self.prune = prune

        assembly = self._assembly_dir()
        files, refused = self._find_prompts(source, assembly)
        self.staging_dir = own_folder(
            self.node.id, assembly, STAGING_FOLDER, path_digest(self.node.path)
        )
        infos, staged_digest = self._stage(source, files, self.staging_dir, refused)
        self._link_asset_folder(assembly, staged_digest)
        self.prompts: dict[str, Prompt] = {
            prompt_name(relative): Prompt(
                name=prompt_name(relative),
                key=deployed_key(self.key_prefix, staged_name(relative)),
                duration_ms=info.duration_ms,
                sample_rate=info.sample_rate,
                channels=info.channels,
            )
            for relative, info in zip(files, infos, strict=True)
        }
        self.languages: tuple[str, ...] = tuple(languages)
        """The language folders, the default first; empty without languages."""
        self._check_languages(source)
        self._lookup = runtime_catalog.Catalog(
            "",  # no file: messages name the construct
            self.node.path,
            "",
            self.key_prefix,
            dict.fromkeys(self.prompts, ()),
            languages,
        )
        claim_keys(
            Deployment(
                self,
                prompt_bucket,
                self.key_prefix,
                prune,
                frozenset(p.key for p in self.prompts.values()),
            )
        )
        staged_bytes = sum(info.file_bytes for info in infos)
        # The hash of what was staged, computed while copying: aws-cdk-lib caches a
        # folder's fingerprint by its path for the life of the process, so a second synth
        # in one process (tests, a pipeline script) would deploy the first synth's prompts.
        # It also remembers, per process, which asset folders it has copied: after the
        # cloud assembly is deleted, a re-synth in the same process would not copy again.
        cdk.AssetStaging.clear_asset_hash_cache()
        self.asset = s3_assets.Asset(
            self,
            "Asset",
            path=str(self.staging_dir),
            asset_hash=staged_digest,
            asset_hash_type=cdk.AssetHashType.CUSTOM,
        )
        self.deployment = s3deploy.BucketDeployment(
            self,
            "Deployment",
            sources=[s3deploy.Source.bucket(self.asset.bucket, self.asset.s3_object_key)],
            destination_bucket=prompt_bucket.bucket,
            destination_key_prefix=self.key_prefix or None,
            content_type=WAV_CONTENT_TYPE,
            prune=prune,
            retain_on_delete=retain_on_delete,
            memory_limit=256,
            ephemeral_storage_size=cdk.Size.mebibytes(_scratch_mebibytes(staged_bytes)),
        )
        compliance.exempt_bucket_deployment_handler(
            self.deployment, source=self.asset.bucket, destination=prompt_bucket.bucket
        )
        self._catalog_layers = CatalogLayers(self, assembly, self.deployment)

    def _check_languages(self, source: Path) -> None:
        """Each language must be a folder of prompts; a prompt the default language has and
        another lacks is a warning per language, naming the prompts."""
        if not self.languages:
            return
        by_language: dict[str, set[str]] = {language: set() for language in self.languages}
        for name in self.prompts:
            folder, _, rest = name.partition("/")
            if rest and folder in by_language:
                by_language[folder].add(rest)
        empty = [language for language, names in by_language.items() if not names]
        if empty:
            folders = sorted({n.partition("/")[0] for n in self.prompts if "/" in n})
            raise ValueError(
                f"WavPrompts '{self.node.id}': languages {', '.join(map(repr, empty))} "
                f"{'has' if len(empty) == 1 else 'have'} no prompts in {printable_path(source)}; "
                f"expected a top-level folder of prompts per language (found folders: "
                f"{', '.join(folders) or 'none'})"
            )
        default, *others = self.languages
        for language in others:
            missing = sorted(by_language[default] - by_language[language])
            if not missing:
                continue
            shown = ", ".join(missing[:_MISSING_SHOWN])
            more = (
                f" and {len(missing) - _MISSING_SHOWN} more"
                if len(missing) > _MISSING_SHOWN
                else ""
            )
            cdk.Annotations.of(self).add_warning_v2(
                f"constructs-pkg:missing-prompts:{language}",
                f"language {language!r} lacks {len(missing)} of the {len(by_language[default])} "
                f"prompts of the default language {default!r}: {shown}{more}. Calls in "
                f"{language!r} hear them in {default!r} (the runtime helper logs each once)",
            )

    def grant_play(self, sma_arn: str) -> None:
        """Let Chime read exactly these prompts (this deployment's prefix) for the SMA."""
        self.prompt_bucket.grant_play(sma_arn, key_prefix=self.key_prefix)

    def audio_source(self, name: str, language: str | None = None) -> dict[str, str]:
        """The PlayAudio ``AudioSource`` for prompt ``name`` (e.g. "menu/main") in
        ``language`` (see ``prompt``)."""
        return {
            "Type": AUDIO_SOURCE_TYPE,
            "BucketName": self.deployment.deployed_bucket.bucket_name,
            "Key": self.prompt(name, language).key,
        }

    def prompt(self, name: str, language: str | None = None) -> Prompt:
        """The prompt that plays for ``name``: with languages, ``name`` in ``language``'s
        folder (default: the default language), else in the default language's, else
        ``name`` as given -- as the runtime helper resolves it. An unknown name raises
        UnknownPromptError with close matches."""
        if language is not None and language not in self.languages:
            raise ValueError(
                f"WavPrompts '{self.node.id}': language {language!r} is not one of its "
                f"languages ({', '.join(self.languages) or 'none: pass languages=[...]'}); "
                "expected one of them, or None for the default"
            )
        try:
            return self.prompts[self._lookup.resolve(name, language)]
        except runtime_catalog.UnknownPromptError as error:
            raise UnknownPromptError(str(error)) from None

    def catalog(self) -> dict[str, Any]:
        """The catalog document a bound function reads: the key prefix, and per prompt name
        "<durationMs>,<rate>,<channels>"; a key is keyPrefix + name + ".wav"."""
        return runtime_catalog.document(
            self.node.path,
            self.key_prefix,
            self.languages,
            {name: (p.duration_ms, p.sample_rate, p.channels) for name, p in self.prompts.items()},
        )

    def catalog_json(self) -> str:
        """The catalog as compact JSON (UTF-8, no size limit): the file ``bind`` ships, and
        what to bundle yourself for a function ``bind`` cannot take."""
        return json.dumps(self.catalog(), separators=(",", ":"), ensure_ascii=False)

    @property
    def catalog_path(self) -> str:
        """Where a bound function finds the catalog: /opt/playaudio/catalogs/<id>.json.

        The id holds a digest of the catalog, so a changed catalog changes PROMPT_CATALOG
        and with it the function's configuration: a new function version, with or without
        the @aws-cdk/aws-lambda:recognizeLayerVersion flag.
        """
        return catalog_file(self.node.id, self.catalog_json())

    def bind(self, function: lambda_.Function) -> None:
        """Ship this catalog to ``function`` in a layer, and set PROMPT_CATALOG (the file) and
        PROMPTS_BUCKET (the deployed bucket) for ``constructs_pkg.runtime.catalog``.

        One layer per WavPrompts (and per other stack holding a bound function), shared by
        the bound functions; it takes one of a function's five layer slots. Binding a
        function again is a no-op; a function takes one catalog.
        """
        self._catalog_layers.bind(function, self.catalog_json())

    def _assembly_dir(self) -> Path:
        """The cloud assembly's folder (resolved): the only place a synth may write."""
        return Path(cdk.Stage.of(self).asset_outdir).resolve()  # type: ignore[union-attr]

    def _link_asset_folder(self, assembly: Path, custom_hash: str) -> None:
        """Hard-link the staged prompts into the folder aws-cdk-lib would copy them to,
        ``asset.<sha256 of the custom hash>``: finding it there, aws-cdk-lib skips its copy,
        which for thousands of prompts costs as much again as staging them.

        Links, not a move: the staging folder stays whole, so if aws-cdk-lib ever copies
        anyway it copies the same files. A folder already there (an earlier synth into
        this assembly) is replaced; a link or a file there is refused (``own_folder``).
        Where hard links are not possible, aws-cdk-lib copies as before.
        """
        name = f"asset.{hashlib.sha256(custom_hash.encode()).hexdigest()}"
        target = own_folder(self.node.id, assembly, name, fresh=True)
        try:
            for folder, subfolders, names in os.walk(self.staging_dir):
                here = target / Path(folder).relative_to(self.staging_dir)
                for subfolder in subfolders:
                    (here / subfolder).mkdir()
                for file_name in names:
                    os.link(Path(folder) / file_name, here / file_name)
        except OSError:
            shutil.rmtree(target)

    def _find_prompts(self, source: Path, assembly: Path) -> tuple[list[Path], list[WavError]]:
        """The files to stage, and every entry refused before reading any audio."""
        check_source_outside(self.node.id, source, assembly)
        found = find_prompt_files(source, self.normalize, assembly)
        self._warn_unused(source, found, self.normalize)
        if not found.prompts and not found.refused:
            raise ValueError(
                f"WavPrompts '{self.node.id}': source_dir {printable_path(source)!r} holds no "
                f"prompt files; expected {expected_files(self.normalize)}."
            )
        refused = [*found.refused, *key_problems(self.key_prefix, source, found.prompts)]
        refused += collisions(source, found.prompts)
        refused_paths = {error.path for error in refused}
        return [
            f for f in found.prompts if printable_path(source / f) not in refused_paths
        ], refused

    def _warn_unused(self, source: Path, found: SourceFiles, normalize: bool) -> None:
        """A warning for each entry of the source folder that is not deployed, and why."""
        reasons = [
            (
                found.skipped,
                f"is not a prompt ({expected_files(normalize)}), so it is not deployed",
            ),
            (
                found.linked_folders,
                "is a link to a folder; links to folders are not followed, "
                "so nothing under it is deployed. Copy the prompts in, or pass the folder itself "
                "as source_dir of another WavPrompts",
            ),
            (found.assemblies, "is a cloud assembly (synth output), not prompts, so it is skipped"),
        ]
        for paths, reason in reasons:
            for relative in paths:
                cdk.Annotations.of(self).add_warning_v2(
                    "constructs-pkg:prompt-skipped",
                    f"{printable_path(source / relative)} {reason}.",
                )

    def _stage(
        self, source: Path, files: list[Path], staging: Path, refused: list[WavError]
    ) -> tuple[list[WavInfo], str]:
        """Check (and normalize) every file into ``staging``; all refusals in one error.

        What is checked is what is staged: each prompt is read once through one open file,
        checked, then copied into a file that must not exist yet. Returns the prompts'
        infos and a digest of everything staged (names and bytes).
        """
        infos: list[WavInfo] = []
        errors = list(refused)
        normalize_prompt = _normalizer() if self.normalize else None
        cache = (
            own_folder(self.node.id, self._assembly_dir(), CACHE_FOLDER, fresh=False)
            if self.normalize
            else None
        )
        staged = hashlib.sha256()
        made: set[Path] = {staging}  # one mkdir per folder, not one per prompt
        for relative in files:
            name = printable_path(source / relative)
            target = staging / staged_name(relative)
            try:
                if target.parent not in made:
                    make_folder(target.parent, name)
                    made.add(target.parent)
                audio = source / relative
                if normalize_prompt is not None:
                    assert cache is not None
                    audio = normalize_prompt(audio, cache).path
                info, content_digest = check_and_copy(audio, target, name)
            except WavError as error:
                errors.append(error)
                continue
            staged.update(f"{staged_name(relative)}\0{content_digest}\n".encode())
            infos.append(info)
            advice = None if self.normalize else recommendation(info)
            if advice:
                cdk.Annotations.of(self).add_warning_v2(
                    f"constructs-pkg:prompt-not-8khz-mono:{relative.as_posix()}", advice
                )
        if errors:
            raise PromptCheckError(sorted(errors, key=lambda error: error.path))
        return infos, staged.hexdigest()


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


def _scratch_mebibytes(staged_bytes: int) -> int:
    """/tmp the deployment handler needs: the zip plus its extracted copy, with headroom."""
    needed = math.ceil(staged_bytes * 2.5 / 2**20)
    return min(max(512, needed), 10240)
