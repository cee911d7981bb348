"""Where the Amazon Chime SDK developer guide contradicts itself, and what it leaves unsaid.

A *reading* is one side of a conflict between two pages; the simulator can run
a call under either (``playaudio-sim call --reading NAME=VALUE``, a scenario's
``"readings"``). The default of each is the one that breaks more handlers, so a
flow that passes the defaults does not lean on the lenient page. An
*assumption* is the simulator's one choice where no page says anything. The
transcript's ``call`` record lists the readings, each step whose outcome rests
on either is marked (``assumes``), and the
README's "Where the documentation conflicts" says why each default fails safe.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from constructs_pkg.runtime.events import SMA_ID_EXAMPLES_FIELD, SMA_ID_FIELD

_GUIDE = "https://docs.aws.amazon.com/chime-sdk/latest/dg/"


@dataclass(frozen=True)
class Conflict:
    """Two readings of the guide; ``choices[0]`` is the default."""

    name: str
    choices: tuple[str, ...]
    pages: tuple[str, ...]
    question: str


CONFLICTS: dict[str, Conflict] = {
    conflict.name: conflict
    for conflict in (
        Conflict(
            "emptyActions",
            ("stop", "keep"),
            ("use-cases", "invoke-on-call-leg"),
            "does an empty Actions list stop the remaining actions (use-cases: 'to stop "
            "running actions ... respond with an empty set of actions'; a NULL set keeps "
            "them, invoke-on-call-leg) or keep them (a missing Actions then being invalid)?",
        ),
        Conflict(
            "attributes",
            ("replace", "merge"),
            ("transaction-attributes", "update-trans-attributes"),
            "does a TransactionAttributes object with other keys replace the stored set "
            "(transaction-attributes: 'you replace the existing values') or add to it "
            "(update-trans-attributes: the new keys 'are added')?",
        ),
        Conflict(
            "attributeLimit",
            ("10", "100"),
            ("attribute-trans-invalid", "transaction-attributes"),
            "how many TransactionAttributes pairs does the service take: 10 "
            "(attribute-trans-invalid: 'Maximum number of mappings is 10') or 100 "
            "(transaction-attributes: 'a maximum of 100 key/value pairs')?",
        ),
        Conflict(
            "digitsSuccess",
            ("always", "end-of-list"),
            ("play-audio-get-digits", "use-case-2"),
            "is the handler invoked after a PlayAudioAndGetDigits that succeeds mid-list "
            "(play-audio-get-digits: 'always invokes its AWS Lambda function after running' "
            "it) or only once the whole list succeeded (use-case-2: 'only returns "
            "ACTION_SUCCESSFUL if all the actions on the list succeed')?",
        ),
        Conflict(
            "digitsRegexInput",
            ("with-terminator", "without-terminator"),
            ("play-audio-get-digits", "use-case-2"),
            "is InputDigitsRegex matched against the entry with its terminator (the guide's "
            'one example, play-audio-get-digits: \'"InputDigitsRegex": "^\\d{2}#$"\') '
            "or against the digits alone, as every ReceivedDigits shows them (use-case-2: "
            '\'"ReceivedDigits": "123"\' with TerminatorDigits ["#"])?',
        ),
        Conflict(
            "smaIdField",
            # The field's name itself: invocations.py puts the id under the chosen one.
            (SMA_ID_EXAMPLES_FIELD, SMA_ID_FIELD),
            ("case-1", "pstn-invocations"),
            "what is the SMA's id called in an event's CallDetails: SipApplicationId (the "
            "examples of case-1, use-cases, use-case-2, use-create-call-api) or "
            "SipMediaApplicationId (pstn-invocations, the event reference, and the "
            "TransactionAttributes examples)?",
        ),
        Conflict(
            "invalidResponseErrors",
            ("top-level", "action-data"),
            ("attribute-trans-invalid", "pstn-invocations"),
            "where does INVALID_LAMBDA_RESPONSE carry ErrorType and ErrorMessage: at the top "
            "level of the event (attribute-trans-invalid's example) or in ActionData "
            "(pstn-invocations: 'The ActionData includes these additional fields')?",
        ),
    )
}

# Where no page says what the service does: the simulator's one choice, and why.
ASSUMPTIONS: dict[str, str] = {
    "functionErrorNotRetried": "a function error (the handler raised, or Lambda could not "
    "return its answer) is not one of the 4XX statuses timeouts.html says are retried once; "
    "the simulator does not retry it and the SMA ends the call with 480",
    "noHangupAfterSmaEnds": "when the SMA itself ends the call (480 after failed "
    "invocations, an unanswered call) no page shows a HANGUP event; none is sent",
    "retriedEvery5sFor20s": "timeouts.html: the SMA waits '5 seconds for AWS Lambda functions "
    "to respond before retrying an invocation'; that it retries every 5 s and hangs up 20 s "
    "after the first attempt is inferred from that and the live page, not stated",
    "noInputErrorType": "the guide's one ACTION_FAILED example for 'fails to collect the "
    "number of specified digits' carries InvalidAudioSource, the same as a broken prompt",
    "firstDigitWait": "the wait for the first digit after the prompt ends is "
    "InBetweenDigitsDurationInMilliseconds (which defaults to RepeatDurationInMilliseconds)",
    "noResultAfterUpdate": "update-sip-call: a non-interruptible action 'completes before the "
    "new Action 1 starts'; no page says whether its ACTION_SUCCESSFUL/ACTION_FAILED is sent, "
    "and none is",
    "untargetedPlayAudio": "a PlayAudio with neither CallId nor ParticipantTag plays on the "
    "invoked leg (play-audio's default ParticipantTag), though its Required lines read as if "
    "one were needed",
    "keysBetweenAttempts": "keys pressed while PlayAudioAndGetDigits waits between attempts "
    "are not collected",
    "invalidResponseErrorType": "the guide names SchemaVersionMismatch and "
    "TransactionAttributesInvalidMapSize only; other rejections get the label "
    "InvalidLambdaResponse",
}


def conflict_page(conflict: Conflict, index: int) -> str:
    """The guide page behind ``conflict.choices[index]``."""
    return f"{_GUIDE}{conflict.pages[index]}.html"


class Readings(Mapping[str, str]):
    """The reading taken of each conflict: the defaults, with ``choices`` overriding them."""

    def __init__(self, choices: Mapping[str, str] | None = None, *, where: str = "reading") -> None:
        chosen = dict(choices or {})
        for name, value in chosen.items():
            conflict = CONFLICTS.get(name)
            if conflict is None:
                raise ValueError(
                    f"{where}: {name!r} is not a conflict the simulator models; expected one "
                    f"of {', '.join(CONFLICTS)}"
                )
            if value not in conflict.choices:
                raise ValueError(
                    f"{where}: {name} is {value!r}; expected one of "
                    f"{', '.join(repr(c) for c in conflict.choices)}"
                )
        self._values = {name: chosen.get(name, c.choices[0]) for name, c in CONFLICTS.items()}

    def __getitem__(self, name: str) -> str:
        return self._values[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"Readings({self._values!r})"

    def label(self, name: str) -> str:
        """``"emptyActions=stop"``: how a transcript record names the reading it rests on."""
        return f"{name}={self._values[name]}"

    def page(self, name: str) -> str:
        """The guide page that supports the reading taken of ``name``."""
        conflict = CONFLICTS[name]
        return conflict_page(conflict, conflict.choices.index(self._values[name]))

    @staticmethod
    def from_pairs(pairs: list[str], where: str) -> Readings:
        """The readings ``["emptyActions=keep", ...]`` (``--reading``) choose."""
        chosen: dict[str, str] = {}
        for pair in pairs:
            name, sep, value = pair.partition("=")
            if not sep:
                raise ValueError(
                    f"{where} {pair!r} is not NAME=VALUE; expected e.g. 'emptyActions=keep'"
                )
            chosen[name.strip()] = value.strip()
        return Readings(chosen, where=where)

    @staticmethod
    def every_combination() -> list[Readings]:
        """Each combination of readings, defaults first (what ``make test`` runs)."""
        names = list(CONFLICTS)
        return [
            Readings(dict(zip(names, values, strict=True)))
            for values in itertools.product(*(CONFLICTS[n].choices for n in names))
        ]
