"""Playback and keys: what the SMA does for PlayAudio, PlayAudioAndGetDigits, Pause and Hangup.

Each action is checked against :mod:`.rules` before it plays; prompts play
into the call audio, stopped by PlaybackTerminators, and digits are collected
from the caller's scripted keys (the rules of :mod:`.engine`'s docstring
under Actions).
"""

from __future__ import annotations

import re
from typing import Any

from constructs_pkg.runtime.actions import (
    ACTION_HANGUP,
    ACTION_PAUSE,
    ACTION_PLAY_AUDIO,
    ACTION_PLAY_AUDIO_AND_GET_DIGITS,
    DEFAULT_MAX_NUMBER_OF_DIGITS,
    DEFAULT_MIN_NUMBER_OF_DIGITS,
)
from constructs_pkg.runtime.events import INVALID_AUDIO_SOURCE

from . import rules
from .call_state import CallState, Failed, Reported, action_data_of, failed_action_data
from .media import ms_to_samples, samples_to_ms
from .transcript import fmt_time

# The guide's example ACTION_FAILED for "failed to collect the digits" carries
# InvalidAudioSource; the page names no other error type for it (assumption noInputErrorType).
DIGITS_NOT_COLLECTED = INVALID_AUDIO_SOURCE


class Playback(CallState):
    """Runs one action of the handler's list, with the caller's keys."""

    def _execute(self, action: dict[str, Any]) -> Failed | Reported | None:
        kind = action["Type"]
        parameters: dict[str, Any] = action.get("Parameters", {})
        doc = rules.DOCS[
            {
                ACTION_PLAY_AUDIO: "play-audio",
                ACTION_PLAY_AUDIO_AND_GET_DIGITS: "play-audio-get-digits",
                ACTION_PAUSE: "pause",
                ACTION_HANGUP: "hangup",
            }[kind]
        ]
        target_failure = rules.check_target(parameters, [self.participant], doc)
        if target_failure is not None:
            return Failed(target_failure, failed_action_data(action, target_failure))
        if kind == ACTION_PLAY_AUDIO:
            if "CallId" not in parameters and "ParticipantTag" not in parameters:
                self.transcript.add(
                    "note",
                    self.now,
                    "PlayAudio names no CallId or ParticipantTag: it plays on the invoked leg",
                    **self._assumes("untargetedPlayAudio"),
                )
            return self._play_audio(action, doc)
        if kind == ACTION_PLAY_AUDIO_AND_GET_DIGITS:
            return self._play_and_get_digits(action, doc)
        if kind == ACTION_PAUSE:
            milliseconds = int(parameters["DurationInMilliseconds"])
            with self._span("pause", f"Pause {milliseconds} ms: the caller hears silence"):
                self._advance(ms_to_samples(milliseconds), "pause")
            return None
        code = str(parameters.get("SipResponseCode", "0"))
        self._leg_hangs_up(int(code), "the handler (Hangup action)")
        self._handler_hung_up(f"the handler hung up with SipResponseCode {code}")
        return None  # pragma: no cover - _handler_hung_up always raises

    def _source(
        self, action: dict[str, Any], name: str, doc: str
    ) -> rules.Playable | rules.ActionFailure:
        return rules.check_audio_source(
            action["Parameters"][name],
            self.setup.store,
            account=self.setup.sma.account,
            sma_arn=self.setup.sma.arn,
            doc=doc,
        )

    def _play_audio(self, action: dict[str, Any], doc: str) -> Failed | None:
        parameters = action["Parameters"]
        playable = self._source(action, "AudioSource", doc)
        if isinstance(playable, rules.ActionFailure):
            return Failed(playable, failed_action_data(action, playable))
        pcm = self.loader.samples(playable.object, playable.info)
        terminators = set(parameters.get("PlaybackTerminators") or [])
        repeat = int(parameters.get("Repeat", 1))
        for index in range(repeat):
            stopped = self._play_prompt(playable, pcm, terminators, index + 1, repeat)
            if stopped:
                break
        return None

    def _play_prompt(
        self,
        playable: rules.Playable,
        pcm: bytes,
        terminators: set[str],
        index: int,
        repeat: int,
        *,
        role: str = "prompt",
    ) -> str | None:
        """Play ``pcm`` until it ends, a terminator key, a caller hang-up or the bound."""
        start = self.now
        full = len(pcm) // 2
        end = start + full
        stop_key = self._next_key(start, end, terminators)
        if stop_key is not None:
            end = ms_to_samples(self.keys[stop_key].at_ms)
        stopped_by = self.keys[stop_key].digit if stop_key is not None else None
        heard: dict[str, Any] = {
            "key": playable.object.key,
            "name": playable.object.name,
            "bucket": playable.object.bucket,
            "role": role,
            "startMs": samples_to_ms(start),
            "endMs": samples_to_ms(end),
            "fullMs": samples_to_ms(full),
            "repeat": f"{index}/{repeat}",
            "stoppedBy": stopped_by,
        }
        self.heard.append(heard)
        summary = (
            f"caller hears {playable.object.key} ({fmt_time(samples_to_ms(full))}"
            + (f", {index} of {repeat}" if repeat > 1 else "")
            + (f", {role}" if role != "prompt" else "")
            + ")"
        )
        record = self.transcript.add("play", start, summary, **heard)
        try:
            self._advance(end - start, "prompt", pcm)
        finally:
            played = self.now - start
            heard["endMs"] = record["endMs"] = samples_to_ms(self.now)
            if stop_key is not None and self.now == end:
                record["summary"] += (
                    f", stopped by '{stopped_by}' after {fmt_time(samples_to_ms(played))}"
                )
                self._key_state[stop_key] = "used"
            elif played < full:
                heard["stoppedBy"] = record["stoppedBy"] = None
                record["summary"] += f", cut off after {fmt_time(samples_to_ms(played))}"
        if stopped_by is not None:
            self.transcript.add(
                "key",
                end,
                f"caller presses '{stopped_by}': a PlaybackTerminator, playback stops"
                + (" and is not repeated" if index < repeat else ""),
                digit=stopped_by,
                effect="stopped playback",
            )
        return stopped_by

    def _play_and_get_digits(self, action: dict[str, Any], doc: str) -> Failed | Reported:
        parameters = action["Parameters"]
        main = self._source(action, "AudioSource", doc)
        if isinstance(main, rules.ActionFailure):
            return Failed(main, failed_action_data(action, main))
        failure_audio = self._source(action, "FailureAudioSource", doc)
        if isinstance(failure_audio, rules.ActionFailure):
            return Failed(failure_audio, failed_action_data(action, failure_audio))
        low = int(parameters.get("MinNumberOfDigits", DEFAULT_MIN_NUMBER_OF_DIGITS))
        high = int(parameters.get("MaxNumberOfDigits", DEFAULT_MAX_NUMBER_OF_DIGITS))
        terminators = set(parameters.get("TerminatorDigits") or ["#"])
        repeat_wait = ms_to_samples(int(parameters["RepeatDurationInMilliseconds"]))
        between = (
            ms_to_samples(int(parameters["InBetweenDigitsDurationInMilliseconds"]))
            if "InBetweenDigitsDurationInMilliseconds" in parameters
            else repeat_wait
        )
        regex = parameters.get("InputDigitsRegex")
        attempts = int(parameters.get("Repeat", 1))
        main_pcm = self.loader.samples(main.object, main.info)
        failure_pcm = self.loader.samples(failure_audio.object, failure_audio.info)
        received = ""
        regex_marks = self._assumes("digitsRegexInput") if regex else {}
        with_terminator = self.options.readings["digitsRegexInput"] == "with-terminator"
        for attempt in range(1, attempts + 1):
            received, ended_by = self._collect_digits(
                main, main_pcm, terminators, high, between, attempt
            )
            # digitsRegexInput: the guide's one regex, "^\d{2}#$" (play-audio-get-digits),
            # includes the terminator; ReceivedDigits never does.
            subject = received + ended_by if with_terminator else received
            matches = regex is None or re.search(str(regex), subject) is not None
            if received and len(received) >= low and matches:
                # Every documented ReceivedDigits is the digits alone ("123" with
                # TerminatorDigits ["#"], use-case-2): the terminator is not part of it.
                self.transcript.add(
                    "key",
                    self.now,
                    f"digits collected: {received!r} (attempt {attempt} of {attempts})",
                    digits=received,
                    effect="collected",
                    **regex_marks,
                )
                return Reported({**action_data_of(action), "ReceivedDigits": received})
            self.transcript.add(
                "key",
                self.now,
                f"attempt {attempt} of {attempts}: {received!r} is not a valid entry "
                f"(at least {low} digit(s)" + (f", matching {regex}" if regex else "") + ")",
                digits=received,
                effect="rejected",
                **regex_marks,
            )
            self._play_prompt(failure_audio, failure_pcm, set(), 1, 1, role="failure audio")
            if attempt < attempts:
                # play-audio-get-digits: RepeatDurationInMilliseconds is the "Time in
                # milliseconds to wait between Repeat attempts".
                summary = (
                    f"the caller hears silence for {fmt_time(samples_to_ms(repeat_wait))}: "
                    "RepeatDurationInMilliseconds between attempts"
                )
                marks = self._assumes("keysBetweenAttempts")
                with self._span("silence", summary, why="between attempts", **marks):
                    self._advance(repeat_wait, "between-attempts")
        failure = rules.ActionFailure(
            DIGITS_NOT_COLLECTED,
            f"no valid digits after {attempts} attempt(s) (last: {received!r}); the guide's "
            "example for this case carries InvalidAudioSource",
            doc,
        )
        return Failed(
            failure,
            failed_action_data(action, failure),
            is_error=False,
            assumes=("noInputErrorType",),
        )

    def _collect_digits(
        self,
        main: rules.Playable,
        pcm: bytes,
        terminators: set[str],
        high: int,
        between: int,
        attempt: int,
    ) -> tuple[str, str]:
        """One attempt: play the prompt while keys are collected, then wait between digits.
        The digits, and the TerminatorDigit that ended the entry ("" if none did)."""
        start = self.now
        received = ""
        ended_by = ""
        full_end = start + len(pcm) // 2
        heard: dict[str, Any] = {
            "key": main.object.key,
            "name": main.object.name,
            "bucket": main.object.bucket,
            "role": "digits prompt",
            "startMs": samples_to_ms(start),
            "endMs": samples_to_ms(full_end),
            "fullMs": samples_to_ms(full_end - start),
            "repeat": str(attempt),
            "stoppedBy": None,
        }
        self.heard.append(heard)
        record = self.transcript.add(
            "play",
            start,
            f"caller hears {main.object.key} and may enter digits (attempt {attempt})",
            **heard,
        )
        try:
            # Keys during the prompt are collected; the prompt stops once the entry is complete.
            deadline = full_end + between
            index = self._next_key(start, deadline, None)
            while index is not None:
                press = self.keys[index]
                at = ms_to_samples(press.at_ms)
                if at < full_end:
                    self._advance(at - self.now, "prompt", pcm[(self.now - start) * 2 :])
                else:
                    self._wait_for_digits(at)
                self._key_state[index] = "used"
                if press.digit in terminators:
                    self.transcript.add(
                        "key",
                        at,
                        f"caller presses '{press.digit}': a TerminatorDigit, the entry ends",
                        digit=press.digit,
                        effect="terminated",
                    )
                    ended_by = press.digit
                    break
                received += press.digit
                self.transcript.add(
                    "key",
                    at,
                    f"caller presses '{press.digit}': collected",
                    digit=press.digit,
                    effect="collected",
                )
                if len(received) >= high:
                    break
                deadline = max(full_end, at) + between
                index = self._next_key(self.now, deadline, None)
            else:
                if self.now < full_end:
                    self._advance(full_end - self.now, "prompt", pcm[(self.now - start) * 2 :])
                self._wait_for_digits(deadline)
        finally:
            heard["endMs"] = record["endMs"] = samples_to_ms(min(self.now, full_end))
        return received, ended_by

    def _wait_for_digits(self, until: int) -> None:
        if until > self.now:
            with self._span(
                "silence",
                "the SMA waits for digits",
                why="waiting for digits",
                **self._assumes("firstDigitWait"),
            ):
                self._advance(until - self.now, "digits")
