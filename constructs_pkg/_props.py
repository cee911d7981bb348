"""Prop checks for the constructs: every problem of one call, types included, in one error.

Python does not check annotations, and jsii reports a wrong type as a JavaScript stack
dump, so each construct checks its props here before it creates anything: a type
mistake (``priority="2"``) reads like a value mistake, and all of them come at once.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from typing import Any, TypeVar, cast

import aws_cdk as cdk
from constructs import IConstruct

from constructs_pkg.chime_facts import CHIME_NAME, CHIME_NAME_EXPECTED
from constructs_pkg.s3_keys import key_prefix_problem


class Problems:
    """The problems found in the props of one construct call, raised together.

    :param owner: how the error names the call, e.g. ``WavPrompts 'PromptFiles'``.
    """

    def __init__(self, owner: str) -> None:
        self.owner = owner
        self.found: list[str] = []

    def add(self, problem: str | None) -> None:
        """Record ``problem`` (a sentence without the final period); None is no problem."""
        if problem:
            self.found.append(problem)

    def check_type(
        self,
        name: str,
        value: object,
        types: type | tuple[type, ...],
        expected: str,
        *,
        optional: bool = True,
    ) -> bool:
        """Whether ``value`` is one of ``types`` (None passes when ``optional``); bool is
        never accepted as a number. Records the problem otherwise."""
        if value is None and optional:
            return True
        is_bool = isinstance(value, bool)
        wants_bool = bool in (types if isinstance(types, tuple) else (types,))
        if isinstance(value, types) and (wants_bool or not is_bool):
            return True
        self.add(f"{name} is {describe(value)}; expected {expected}")
        return False

    def check_implements(
        self, name: str, value: object, interface: type, expected: str, *, optional: bool = True
    ) -> bool:
        """Whether ``value`` implements the jsii interface ``interface`` (IBucket, IFunction)."""
        if (value is None and optional) or implements(value, interface):
            return True
        self.add(f"{name} is {describe(value)}; expected {expected}")
        return False

    def check_sequence(
        self, name: str, value: object, item_type: type, expected: str
    ) -> Sequence[Any]:
        """``value`` if it is a list or tuple of ``item_type``; else records why and gives ()."""
        if isinstance(value, (list, tuple)) and all(isinstance(v, item_type) for v in value):
            return value
        if isinstance(value, (list, tuple)):
            wrong = [describe(v) for v in value if not isinstance(v, item_type)]
            self.add(f"{name} holds {', '.join(wrong)}; expected {expected}")
        else:
            self.add(f"{name} is {describe(value)}; expected {expected}")
        return ()

    def raise_if_any(self) -> None:
        """Raise one ValueError listing every problem found, if there is any."""
        if len(self.found) == 1:
            raise ValueError(f"{self.owner}: {self.found[0]}.")
        if self.found:
            listed = "".join(f"\n  - {problem}" for problem in self.found)
            raise ValueError(f"{self.owner} has {len(self.found)} problems:{listed}")


def check_chime_name(problems: Problems, name: object) -> None:
    """``name``, a SIP media application's or SIP rule's, is a string that Chime takes as a
    name (``CHIME_NAME``) or a token."""
    if (
        problems.check_type("name", name, str, "a string", optional=False)
        and not cdk.Token.is_unresolved(str(name))
        and not CHIME_NAME.fullmatch(str(name))
    ):
        problems.add(f"name is {name!r}; expected {CHIME_NAME_EXPECTED}")


def literal_key_prefix_problem(key_prefix: object, why: str) -> str | None:
    """What is wrong with ``key_prefix`` (s3_keys' rule), or that it is an unresolved token:
    a prefix must be known at synth time; ``why`` says what needs it."""
    if isinstance(key_prefix, str) and cdk.Token.is_unresolved(key_prefix):
        return (
            "key_prefix is an unresolved token; expected a literal string such as "
            f"'prompts/', {why}"
        )
    return key_prefix_problem(key_prefix)


def implements(value: object, interface: type) -> bool:
    """Whether ``value`` is a jsii object (or a Python class declared with
    ``@jsii.implements``) implementing ``interface``; jsii's interfaces are Protocols that
    ``isinstance`` refuses."""
    # An object jsii returns typed only by interfaces (LambdaDeploymentConfig.ALL_AT_ONCE) is
    # a dynamic proxy over one proxy class per interface.
    delegates = getattr(value, "_delegates", None)
    if type(value).__name__ == "InterfaceDynamicProxy" and isinstance(delegates, list):
        return any(implements(delegate, interface) for delegate in delegates)
    proxy_class = getattr(interface, "__jsii_proxy_class__", lambda: None)()
    return any(
        interface in getattr(cls, "__jsii_ifaces__", ()) or cls is proxy_class
        for cls in type(value).__mro__
    )


def describe(value: object) -> str:
    """A value as an error shows it: its repr (shortened) and, for non-strings, its type."""
    if isinstance(value, str) and cdk.Token.is_unresolved(value):
        return "an unresolved token"
    if implements(value, IConstruct):
        kind = type(value).__name__.lstrip("_").removesuffix("Proxy")
        try:
            return f"a {kind} ({cast(IConstruct, value).node.path})"
        except RuntimeError:  # jsii's stand-ins for constants have no construct tree
            return f"a {kind}"
    text = repr(value)
    if len(text) > 80:
        text = text[:77] + "..."
    if isinstance(value, str) or value is None:
        return text
    return f"{text} ({type(value).__name__})"


_Class = TypeVar("_Class", bound=type)


def real_signature(cls: _Class) -> _Class:
    """Give a construct class the signature of its ``__init__`` (without ``self``) for
    ``help()`` and ``inspect.signature``: jsii's metaclass ``__call__(*args, **kwargs)``
    would hide it."""
    init = inspect.signature(cls.__init__)  # type: ignore[misc]
    cls.__signature__ = init.replace(  # type: ignore[attr-defined]
        parameters=list(init.parameters.values())[1:]
    )
    return cls
