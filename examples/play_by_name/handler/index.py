"""An IVR step of your own: greet the caller and read the main menu, in their language.

``playaudio_catalog`` comes from the layer ``WavPrompts.bind`` adds; ``audio_source``
turns a prompt name into the PlayAudio ``AudioSource`` (an unknown name raises
``LookupError`` naming close matches, so a typo fails a test, not a call).
"""

from playaudio_catalog import audio_source

# The language of calls to each of your numbers; other numbers hear the default (en-US).
LANGUAGE_BY_NUMBER = {"+12065550199": "es-US"}


def handler(event, context):
    kind = event.get("InvocationEventType")
    leg = (event.get("CallDetails", {}).get("Participants") or [{}])[0]
    if kind == "NEW_INBOUND_CALL":
        language = LANGUAGE_BY_NUMBER.get(leg.get("To"))
        return respond(
            play(leg, audio_source("welcome", language)),
            play(leg, audio_source("menu/main", language)),
            play(leg, audio_source("goodbye", language)),
            {"Type": "Hangup", "Parameters": {"SipResponseCode": "0"}},
        )
    if kind == "ACTION_FAILED" and event.get("ActionData", {}).get("Type") != "Hangup":
        return respond({"Type": "Hangup", "Parameters": {"SipResponseCode": "0"}})
    return respond()


def play(leg, source):
    return {"Type": "PlayAudio", "Parameters": {"CallId": leg.get("CallId"), "AudioSource": source}}


def respond(*actions):
    return {"SchemaVersion": "1.0", "Actions": list(actions)}
