"""One line per stack after `make synth`: what was written where (stdlib only).

``python scripts/synth_summary.py CDK_OUT`` reads the cloud assembly's manifest.json and
prints, for each stack, its template and how many assets it staged, e.g.
``PlayAudioStack: cdk.out/PlayAudioStack.template.json, 7 assets staged beside it
(cdk.out/PlayAudioStack.assets.json)``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

STACK = "aws:cloudformation:stack"
ASSETS = "cdk:asset-manifest"


def summary(cdk_out: Path) -> list[str]:
    """The lines to print for the assembly in ``cdk_out``."""
    artifacts = json.loads((cdk_out / "manifest.json").read_text())["artifacts"]
    lines = []
    for name, artifact in artifacts.items():
        if artifact.get("type") != STACK:
            continue
        template = cdk_out / artifact["properties"]["templateFile"]
        line = f"{name}: {template}"
        for dependency in artifact.get("dependencies", []):
            manifest = artifacts.get(dependency, {})
            if manifest.get("type") == ASSETS:
                path = cdk_out / manifest["properties"]["file"]
                files = json.loads(path.read_text()).get("files", {}).values()
                # The template itself is an asset the CLI uploads; count the others.
                staged = [f for f in files if f["source"].get("path") != template.name]
                line += f", {len(staged)} assets staged beside it ({path})"
        lines.append(line)
    return lines


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: synth_summary.py CDK_OUT", file=sys.stderr)
        return 2
    for line in summary(Path(argv[0])):
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
