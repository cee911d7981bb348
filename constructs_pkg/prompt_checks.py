"""WavPrompts' checks that are not about one file: the props, and each deployment's keys.

Every misuse of the props is reported in one error before anything is built, and a
deployment that would overwrite or prune another's prompts in a bucket of the same app
is refused when it is defined. ``WavPrompts`` (prompts.py) runs both; they live here so
that prompts.py reads as the construct's resources and wiring.
"""

from __future__ import annotations

import os
import re
import weakref
from dataclasses import dataclass
from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_s3 as s3
from constructs import Construct, IConstruct

from constructs_pkg._props import Problems, describe, implements, literal_key_prefix_problem
from constructs_pkg.prompt_bucket import PromptBucket
from constructs_pkg.s3_keys import prefixes_overlap

# A language folder's name: a BCP 47 tag as IVRs name them (en, en-US, zh-Hant-TW, es-419).
LANGUAGE_TAG = re.compile(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*")


def check_props(
    construct_id: str,
    *,
    prompt_bucket: object,
    source_dir: object,
    key_prefix: object,
    normalize: object,
    prune: object,
    retain_on_delete: object,
    languages: object,
) -> None:
    """Every misuse of the props in one error that names the prop, the value and what is
    expected."""
    problems = Problems(f"WavPrompts '{construct_id}'")
    if not isinstance(prompt_bucket, PromptBucket):
        hint = ""
        if implements(prompt_bucket, s3.IBucket):
            hint = " (wrap your bucket: PromptBucket(self, 'Prompts', existing_bucket=bucket))"
        problems.add(f"prompt_bucket is {describe(prompt_bucket)}; expected a PromptBucket{hint}")
    if problems.check_type(
        "source_dir", source_dir, (str, os.PathLike), "a folder path", optional=False
    ):
        source = Path(source_dir)  # type: ignore[arg-type]
        if not source.is_dir():
            problems.add(
                f"source_dir {str(source)!r} is not a folder; expected a folder of prompts"
            )
    problems.add(
        literal_key_prefix_problem(
            key_prefix, "because the catalog's keys are computed at synth time"
        )
    )
    for name, value in (
        ("normalize", normalize),
        ("prune", prune),
        ("retain_on_delete", retain_on_delete),
    ):
        problems.check_type(name, value, bool, "True or False", optional=False)
    if prune is True and key_prefix == "":
        problems.add(
            "prune=True with an empty key_prefix would delete every object in the bucket "
            "that this deployment did not put there; expected a key_prefix such as 'prompts/'"
        )
    expected = "a list of language folder names such as ['en-US', 'es-US']"
    if isinstance(languages, str):
        problems.add(f"languages is {languages!r}, one string; expected {expected}")
    else:
        tags = problems.check_sequence("languages", languages, str, expected)
        wrong = [tag for tag in tags if not LANGUAGE_TAG.fullmatch(tag)]
        if wrong:
            problems.add(
                f"languages holds {', '.join(map(repr, wrong))}; expected language tags "
                "such as 'en', 'en-US' or 'es-419', each the name of a top-level folder"
            )
        twice = sorted({tag for tag in tags if list(tags).count(tag) > 1})
        if twice:
            problems.add(f"languages names {', '.join(map(repr, twice))} twice; expected each once")
    problems.raise_if_any()


@dataclass(frozen=True, eq=False)
class Deployment:
    """What one WavPrompts deploys where: the facts its key claim is checked by."""

    construct: Construct
    prompt_bucket: PromptBucket
    key_prefix: str
    prune: bool
    keys: frozenset[str]


# Every WavPrompts of an app, by the app (the construct tree's root): what each deploys where.
_DEPLOYMENTS: weakref.WeakKeyDictionary[IConstruct, list[Deployment]] = weakref.WeakKeyDictionary()


def claim_keys(deployment: Deployment) -> None:
    """Refuse a deployment that would overwrite or prune another's prompts in its bucket.

    Two deployments to one bucket must not share a prefix (each would overwrite the other's
    objects, so a catalog would name audio it did not deploy), must not nest where either
    prunes (pruning deletes what the other deployed), and nested ones must not deploy the
    same key. Other deployments of the app are the ones created before this one.
    """
    root = deployment.construct.node.root
    others = _DEPLOYMENTS.setdefault(root, [])
    problems = Problems(f"WavPrompts '{deployment.construct.node.id}'")
    ours = f"s3://{_bucket_label(deployment)}/{deployment.key_prefix}"
    for other in others:
        if not _same_bucket(deployment.prompt_bucket, other.prompt_bucket):
            continue
        theirs = f"{other.construct.node.path} (key_prefix {other.key_prefix!r})"
        if not prefixes_overlap(deployment.key_prefix, other.key_prefix):
            continue
        if deployment.key_prefix == other.key_prefix:
            problems.add(
                f"it deploys to {ours}, as {theirs} does; each deploy would overwrite the "
                "other's prompts. Expected a key_prefix of its own, such as "
                f"'{deployment.construct.node.id.lower()}/'"
            )
        elif deployment.prune or other.prune:
            pruner = (
                deployment.construct.node.path if deployment.prune else other.construct.node.path
            )
            problems.add(
                f"it deploys to {ours}, nested with {theirs}, and {pruner} prunes: that "
                "deletes the other deployment's prompts. Expected prefixes that do not nest, "
                "or prune=False"
            )
        else:
            shared = sorted(deployment.keys & other.keys)
            if shared:
                problems.add(
                    f"it deploys {', '.join(shared[:5])}{' ...' if len(shared) > 5 else ''}, "
                    f"which {theirs} deploys too; one would overwrite the other. Expected "
                    "each key deployed once"
                )
    problems.raise_if_any()
    others.append(deployment)


def _same_bucket(first: PromptBucket, second: PromptBucket) -> bool:
    """The same bucket object, or the same bucket by name (two imports of one bucket)."""
    if first.bucket is second.bucket:
        return True
    a, b = first.bucket.bucket_name, second.bucket.bucket_name
    if not cdk.Token.is_unresolved(a) and not cdk.Token.is_unresolved(b):
        return a == b
    stack = cdk.Stack.of(first)
    return stack is cdk.Stack.of(second) and stack.resolve(a) == stack.resolve(b)


def _bucket_label(deployment: Deployment) -> str:
    name = deployment.prompt_bucket.bucket.bucket_name
    return deployment.prompt_bucket.bucket.node.path if cdk.Token.is_unresolved(name) else name
