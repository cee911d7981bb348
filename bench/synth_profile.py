"""The synth profile's child: one app built and synthesized in-process, phase by phase.

``python -m bench.synth_profile sample|plain OUTDIR PACKS [CONTEXT]`` (CONTEXT: a JSON
object of more context, e.g. the sample app's promptsDir) prints JSON: wall seconds
per phase, and the jsii kernel's round trips to Node (how many, how long in all),
per phase too. Phases: start-up (Python, aws_cdk and cdk_nag imported: Node
started and the jsii assemblies loaded), the app's own modules, the construct
tree, then ``app.synth()`` (validation by the nag packs, assets, templates).
"""

from __future__ import annotations

import json
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def main(which: str, outdir: str, packs: str, more_context: str = "{}") -> None:
    start = time.perf_counter()
    import jsii._kernel.providers.process as process  # type: ignore[import-untyped]

    stats = {"calls": 0, "seconds": 0.0}
    sites: Counter[str] = Counter()
    send = process._NodeProcess.send
    ours = (str(ROOT / "constructs_pkg"), str(ROOT / "app.py"), str(ROOT / "bench"))

    def counted(self: Any, request: Any, response_type: Any) -> Any:
        began = time.perf_counter()
        try:
            return send(self, request, response_type)
        finally:
            stats["calls"] += 1
            stats["seconds"] += time.perf_counter() - began
            sites[_call_site(sys._getframe(1), ours)] += 1

    process._NodeProcess.send = counted
    result: dict[str, float] = {}
    mark = [start, 0, 0.0]

    def phase(name: str) -> None:
        now = time.perf_counter()
        result[f"phase:{name}"] = now - mark[0]
        result[f"jsii_calls:{name}"] = stats["calls"] - mark[1]
        result[f"jsii_seconds:{name}"] = stats["seconds"] - mark[2]
        mark[:] = [now, stats["calls"], stats["seconds"]]

    import aws_cdk as cdk
    import cdk_nag  # noqa: F401

    phase("start-up")
    sys.path.insert(0, str(ROOT))
    context = {**json.loads((ROOT / "cdk.json").read_text())["context"], **json.loads(more_context)}
    if which == "sample":
        import app as sample_app

        phase("app modules")
        cdk_app = cdk.App(outdir=outdir, context=context)
        sample_app.build_app(cdk_app, {})
    else:
        from bench import plain_bucket_app

        phase("app modules")
        cdk_app = cdk.App(outdir=outdir, context={**context, "nagPacks": packs})
        plain_bucket_app.build(cdk_app)
    phase("constructs")
    cdk_app.synth()
    phase("synth")
    result["jsii_calls"] = stats["calls"]
    result["jsii_seconds"] = stats["seconds"]
    result["total"] = time.perf_counter() - start
    output: dict[str, Any] = dict(result)
    output["sites"] = sites.most_common(8)
    json.dump(output, sys.stdout)


def _call_site(frame: Any, ours: tuple[str, ...]) -> str:
    """The innermost frame of this project's code (file:function) that led to a jsii call."""
    while frame is not None:
        name = frame.f_code.co_filename
        if name.startswith(ours):
            return f"{Path(name).relative_to(ROOT)}:{frame.f_code.co_name}"
        frame = frame.f_back
    return "(aws_cdk import / synth)"


if __name__ == "__main__":
    main(*sys.argv[1:5])
