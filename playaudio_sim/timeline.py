"""The timeline picture of a call (PNG, Pillow): what happened when, at a glance.

Drawn from the transcript records only, so the picture cannot disagree with
the transcript. Three lanes over one time axis: the invocations (SMA ->
handler events, failures in red), what the caller hears (prompts, failure
audio, pauses, silences) and the caller's key presses (used, collected or
ignored), with the end of the call marked and a legend. Labels that would
overlap move to another row; those that find no room are counted, not drawn.
Pillow is imported here only, when a picture is written.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

from constructs_pkg.runtime.events import ACTION_FAILED, HANGUP, INVALID_LAMBDA_RESPONSE

if TYPE_CHECKING:
    from PIL import ImageDraw, ImageFont

    from .results import CallResult

WIDTH = 1280
LEFT = 130
RIGHT = 40
BACKGROUND = (255, 255, 255)
INK = (33, 37, 41)
MUTED = (134, 142, 150)
GRID = (233, 236, 239)
COLORS = {
    "prompt": (64, 160, 90),
    "failure audio": (230, 145, 40),
    "digits prompt": (40, 150, 170),
    "pause": (160, 170, 180),
    "silence": (222, 226, 230),
    "event": (52, 110, 200),
    "error": (210, 50, 50),
    "hangup": (90, 90, 90),
    "key-used": (33, 37, 41),
    "key-collected": (52, 110, 200),
    "key-ignored": (173, 181, 189),
}
_ERROR_KINDS = ("invocation-error", "rejected", "action-failed")
_ERROR_EVENTS = (ACTION_FAILED, INVALID_LAMBDA_RESPONSE)


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    from PIL import ImageFont

    return ImageFont.load_default(size=size)


class _Lane:
    """Label rows of one lane: a label goes to the first row where it does not overlap."""

    def __init__(self, top: int, rows: int, row_height: int) -> None:
        self.top = top
        self.row_height = row_height
        self.right_edges = [-1.0] * rows
        self.hidden = 0

    def place(self, x: float, width: float) -> int | None:
        for row, edge in enumerate(self.right_edges):
            if x >= edge + 6:
                self.right_edges[row] = x + width
                return self.top + row * self.row_height
        self.hidden += 1
        return None


def render_timeline(result: CallResult, path: Path) -> None:
    """Write the timeline of ``result`` to ``path`` as a PNG."""
    from PIL import Image, ImageDraw

    records = result.transcript.records
    span_ms = _nice_span(max(result.duration_ms * 1.15, 1000.0))
    events = [r for r in records if r["kind"] in ("event", *_ERROR_KINDS)]
    rows = max(2, min(6, len(events)))
    handler_top = 64
    handler_bottom = handler_top + 16 + rows * 34
    audio_top = handler_bottom + 18
    keys_top = audio_top + 104
    axis_y = keys_top + 62
    height = axis_y + 84
    image = Image.new("RGB", (WIDTH, height), BACKGROUND)
    draw = ImageDraw.Draw(image)
    title_font, font, small = _font(17), _font(13), _font(11)
    plot_width = WIDTH - LEFT - RIGHT

    def x_of(ms: float) -> float:
        return LEFT + plot_width * min(max(ms, 0.0), span_ms) / span_ms

    start = records[0] if records else {}
    end = records[-1] if records else {}
    direction = str(start.get("summary", "call")).split()[0]
    title = (
        f"{start.get('stack', '?')} / {start.get('sma', {}).get('logicalId', '?')}, "
        f"{direction} call: {result.outcome.label} (exit {result.exit_code}) after "
        f"{result.duration_ms / 1000:.3f} s, {result.invocations} invocation(s)"
    )
    draw.text((16, 12), title, fill=INK, font=title_font)
    draw.text((16, 36), _shorten(str(end.get("reason", "")), 190), fill=MUTED, font=small)

    lanes = {
        "handler": (handler_top, handler_bottom),
        "caller hears": (audio_top, audio_top + 86),
        "keys": (keys_top, keys_top + 44),
    }
    for name, (top, bottom) in lanes.items():
        draw.rectangle((LEFT, top, WIDTH - RIGHT, bottom), outline=GRID)
        draw.text((16, (top + bottom) / 2 - 8), name, fill=INK, font=font)
    _draw_axis(draw, x_of, span_ms, axis_y, handler_top, small)

    _draw_handler_lane(draw, records, x_of, lanes["handler"], rows, font, small)
    _draw_audio_lane(draw, records, x_of, lanes["caller hears"], font, small)
    _draw_keys_lane(draw, records, x_of, lanes["keys"], font, small)

    end_x = x_of(result.duration_ms)
    draw.line((end_x, handler_top - 6, end_x, axis_y), fill=COLORS["hangup"], width=2)
    end_label = f"end: {result.outcome.label}"
    draw.text((end_x + 4, axis_y - 16), end_label, fill=COLORS["hangup"], font=small)
    _draw_legend(draw, height - 36, small)
    image.save(path, format="PNG", optimize=True)


def _draw_handler_lane(
    draw: ImageDraw.ImageDraw,
    records: list[dict[str, Any]],
    x_of: Any,
    box: tuple[int, int],
    rows: int,
    font: ImageFont.FreeTypeFont | ImageFont.ImageFont,
    small: ImageFont.FreeTypeFont | ImageFont.ImageFont,
) -> None:
    """Each event as a marker with its name and, below it, what the handler answered."""
    top, bottom = box
    lane = _Lane(top + 8, rows, 34)
    answers = {
        r["seq"]: str(r["summary"]).removeprefix("handler -> SMA: ")
        for r in records
        if r["kind"] == "response"
    }
    for record in records:
        kind = record["kind"]
        if kind not in ("event", *_ERROR_KINDS):
            continue
        x = x_of(record["tMs"])
        answer = ""
        if kind == "event":
            label = f"{record['seq']} {record['type']}"
            color = COLORS["error"] if record["type"] in _ERROR_EVENTS else COLORS["event"]
            if record["type"] == HANGUP:
                color = COLORS["hangup"]
            answer = "<- " + _shorten(answers.get(record["seq"], "(no answer)"), 60)
        elif kind == "invocation-error":
            label = f"{record.get('errorType')} (attempt {record.get('attempt', 1)})"
            color = COLORS["error"]
            answer = "retried" if record.get("retry") else "not retried"
        elif kind == "rejected":
            label = f"rejected: {record.get('errorType')}"
            color = COLORS["error"]
        else:
            label = f"failed: {record.get('errorType')}"
            color = COLORS["error"]
        width = max(draw.textlength(label, font=font), draw.textlength(answer, font=small)) + 14
        x_text = x - width if x + width > WIDTH - 4 else x + 8
        y = lane.place(min(x, x_text), width)
        if y is None:
            continue
        draw.line((x, y + 8, x, bottom), fill=color, width=1)
        _marker(draw, x, y + 8, color, kind)
        draw.text((x_text, y), label, fill=color, font=font)
        if answer:
            draw.text((x_text, y + 16), answer, fill=MUTED, font=small)
    if lane.hidden:
        draw.text((16, bottom - 16), f"+{lane.hidden} not labelled", fill=MUTED, font=small)


def _draw_audio_lane(
    draw: ImageDraw.ImageDraw,
    records: list[dict[str, Any]],
    x_of: Any,
    box: tuple[int, int],
    font: ImageFont.FreeTypeFont | ImageFont.ImageFont,
    small: ImageFont.FreeTypeFont | ImageFont.ImageFont,
) -> None:
    top, _ = box
    bar_top, bar_bottom = top + 10, top + 50
    for record in records:
        kind = record["kind"]
        if kind not in ("play", "pause", "silence") or "startMs" not in record:
            continue
        x0, x1 = x_of(record["startMs"]), x_of(record["endMs"])
        x1 = max(x1, x0 + 2)
        if kind == "play":
            color = COLORS.get(str(record.get("role")), COLORS["prompt"])
            draw.rectangle((x0, bar_top, x1, bar_bottom), fill=color, outline=BACKGROUND)
            if record["fullMs"] > record["endMs"] - record["startMs"] + 1:
                # The part a terminator or hang-up cut off, as an outline.
                cut = x_of(record["startMs"] + record["fullMs"])
                draw.rectangle((x1, bar_top, cut, bar_bottom), outline=color)
                _fit_text(draw, (x1 + 4, bar_top + 13), "not heard", cut - x1 - 6, color, small)
            label = str(record.get("name") or record.get("key"))
            if record.get("stoppedBy"):
                label += f" (stopped by {record['stoppedBy']})"
            _fit_text(draw, (x0 + 4, bar_top + 12), label, x1 - x0 - 6, BACKGROUND, font)
            draw.text((x0 + 2, bar_bottom + 4), record["t"], fill=MUTED, font=small)
        else:
            color = COLORS[kind]
            draw.rectangle((x0, bar_top + 10, x1, bar_bottom - 10), fill=color)
            label = "Pause" if kind == "pause" else f"silence: {record.get('why', '')}"
            _fit_text(draw, (x0 + 3, bar_top + 13), label, x1 - x0 - 4, INK, small)
    for record in records:
        if record["kind"] == "action-failed":
            x = x_of(record["tMs"])
            draw.line((x - 6, bar_top, x + 6, bar_bottom), fill=COLORS["error"], width=3)
            draw.line((x - 6, bar_bottom, x + 6, bar_top), fill=COLORS["error"], width=3)
            key = record.get("action", {}).get("Parameters", {}).get("AudioSource", {}).get("Key")
            label = f"{record['errorType']}" + (f": {key}" if key else "")
            draw.text((x + 9, bar_bottom + 14), label, fill=COLORS["error"], font=small)


def _draw_keys_lane(
    draw: ImageDraw.ImageDraw,
    records: list[dict[str, Any]],
    x_of: Any,
    box: tuple[int, int],
    font: ImageFont.FreeTypeFont | ImageFont.ImageFont,
    small: ImageFont.FreeTypeFont | ImageFont.ImageFont,
) -> None:
    top, bottom = box
    middle = (top + bottom) / 2
    lane = _Lane(top + 4, 2, 20)
    presses = [r for r in records if r["kind"] == "key" and "digit" in r]
    if not presses:
        draw.text((LEFT + 8, middle - 7), "no key presses", fill=MUTED, font=small)
    for record in presses:
        effect = str(record.get("effect"))
        x = x_of(float(record.get("atMs", record["tMs"])))
        color = {
            "stopped playback": COLORS["key-used"],
            "collected": COLORS["key-collected"],
        }.get(effect, COLORS["key-ignored"])
        size = 7
        draw.polygon(
            [(x, middle - size), (x + size, middle), (x, middle + size), (x - size, middle)],
            fill=color,
        )
        label = f"{record['digit']}: {effect}"
        width = draw.textlength(label, font=font) + 12
        y = lane.place(x, width)
        if y is not None:
            draw.text((x + 10, y), label, fill=color, font=font)


def _draw_axis(
    draw: ImageDraw.ImageDraw,
    x_of: Any,
    span_ms: float,
    y: int,
    top: int,
    font: ImageFont.FreeTypeFont | ImageFont.ImageFont,
) -> None:
    step = _tick_step(span_ms)
    draw.line((LEFT, y, x_of(span_ms), y), fill=INK, width=1)
    tick = 0.0
    while tick <= span_ms + 1e-6:
        x = x_of(tick)
        draw.line((x, top, x, y - 4), fill=GRID, width=1)
        draw.line((x, y, x, y + 5), fill=INK, width=1)
        text = f"{tick / 1000:g} s"
        draw.text((x - draw.textlength(text, font=font) / 2, y + 7), text, fill=INK, font=font)
        tick += step


def _draw_legend(
    draw: ImageDraw.ImageDraw, y: int, font: ImageFont.FreeTypeFont | ImageFont.ImageFont
) -> None:
    items = [
        ("prompt", "prompt"),
        ("digits prompt", "digits prompt"),
        ("failure audio", "failure audio"),
        ("pause", "pause"),
        ("silence", "silence"),
        ("event", "event to handler"),
        ("error", "failure"),
        ("hangup", "hang-up / end"),
        ("key-used", "terminator key"),
        ("key-collected", "digit collected"),
        ("key-ignored", "key ignored"),
    ]
    x = 16.0
    for color, text in items:
        draw.rectangle((x, y + 3, x + 12, y + 15), fill=COLORS[color])
        draw.text((x + 17, y + 2), text, fill=INK, font=font)
        x += 17 + draw.textlength(text, font=font) + 18


def _marker(draw: ImageDraw.ImageDraw, x: float, y: float, color: Any, kind: str) -> None:
    if kind == "event":
        draw.polygon([(x - 5, y - 5), (x + 5, y - 5), (x, y + 3)], fill=color)
    else:
        draw.ellipse((x - 5, y - 5, x + 5, y + 5), fill=color)


def _fit_text(
    draw: ImageDraw.ImageDraw,
    xy: tuple[float, float],
    text: str,
    width: float,
    color: Any,
    font: ImageFont.FreeTypeFont | ImageFont.ImageFont,
) -> None:
    """Draw ``text`` shortened with an ellipsis to ``width``; nothing if even '...' does not fit."""
    if width < draw.textlength("...", font=font):
        return
    while text and draw.textlength(text, font=font) > width:
        text = text[:-4] + "..." if len(text) > 4 else ""
    if text:
        draw.text(xy, text, fill=color, font=font)


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _tick_step(span_ms: float) -> float:
    for step in (100, 250, 500, 1000, 2000, 5000, 10_000, 15_000, 30_000, 60_000, 120_000):
        if span_ms / step <= 12:
            return float(step)
    return float(math.ceil(span_ms / 12 / 60_000) * 60_000)


def _nice_span(span_ms: float) -> float:
    step = _tick_step(span_ms)
    return math.ceil(span_ms / step) * step
