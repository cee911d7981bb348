"""`make synth`'s closing line: each stack's template and its staged assets, read from
the cloud assembly the sample app writes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.playaudio_sim.conftest import sample_cdk_out  # noqa: F401  (the fixture)

ROOT = Path(__file__).resolve().parents[2]


def test_synth_says_what_it_wrote_where(sample_cdk_out: Path) -> None:  # noqa: F811
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "synth_summary.py"), str(sample_cdk_out)],
        capture_output=True,
        text=True,
        check=True,
    )
    (line,) = done.stdout.splitlines()
    template = sample_cdk_out / "PlayAudioStack.template.json"
    assets = sample_cdk_out / "PlayAudioStack.assets.json"
    assert line.startswith(f"PlayAudioStack: {template}, ")
    assert line.endswith(f" assets staged beside it ({assets})")
    count = int(line.split(", ")[1].split()[0])
    staged = [p for p in sample_cdk_out.glob("asset.*")]
    # Every staged asset is counted (the template, which the CLI uploads too, is not).
    assert count == len(staged)
