"""The files a simulated call leaves: transcript.jsonl, call.wav and timeline.png.

Apart from :mod:`.results` because it imports :mod:`.timeline` (and Pillow),
which imports the result: one module each way, no import cycle.
"""

from __future__ import annotations

from pathlib import Path

from .results import CallResult


def write_outputs(result: CallResult, out_dir: Path) -> dict[str, Path]:
    """transcript.jsonl, call.wav and timeline.png in ``out_dir`` (the picture needs Pillow:
    the ``simulator`` extra; without it the picture is left out and a note says so)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {
        "transcript": out_dir / "transcript.jsonl",
        "audio": out_dir / "call.wav",
        "timeline": out_dir / "timeline.png",
    }
    try:
        from .timeline import render_timeline

        render_timeline(result, paths["timeline"])
    except ImportError as error:
        del paths["timeline"]
        result.transcript.add(
            "note",
            result.audio.length,
            f"no timeline.png: {error}; install the 'simulator' extra (Pillow)",
        )
    result.transcript.write(paths["transcript"])
    result.audio.write(paths["audio"])
    return paths
