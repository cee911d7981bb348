"""Lambda layers: the simulator merges a function's layers into a stand-in /opt, as Lambda does.

A user app, synthesized in-process, whose own function is bound to a catalog with
``WavPrompts.bind`` and plays ``playaudio_catalog.audio_source("welcome")``; layers the
simulator cannot find are refused; and, on a hand-written assembly (no synth), what the
merge does: later layers win, both Python folders are importable, ``/opt`` variables point
into the merge, and the folder is gone after the call.
"""

from __future__ import annotations

import dataclasses
import json
import re
import tempfile
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import aws_cdk as cdk
import pytest
from aws_cdk import aws_lambda as lambda_

from constructs_pkg import PromptBucket, SipMediaApplication, WavPrompts
from playaudio_sim.call_setup import load_call_setup
from playaudio_sim.cli import main
from playaudio_sim.cloud_assembly import AssemblyError
from playaudio_sim.engine import Call, Outcome
from playaudio_sim.lambda_runner import LambdaRunner, opt_paths
from tests.audio import wavgen
from tests.playaudio_sim.conftest import STACK, write_assembly

ENV = cdk.Environment(account="123456789012", region="us-east-1")
IMPORTED_LAYER = "arn:aws:lambda:us-east-1:123456789012:layer:shared-tools:3"

CATALOG_HANDLER = textwrap.dedent(
    """
    import playaudio_catalog


    def handler(event, context):
        if event["InvocationEventType"] != "NEW_INBOUND_CALL":
            return {"SchemaVersion": "1.0", "Actions": []}
        play = {"Type": "PlayAudio",
                "Parameters": {"AudioSource": playaudio_catalog.audio_source("welcome")}}
        hangup = {"Type": "Hangup", "Parameters": {"SipResponseCode": "0"}}
        return {"SchemaVersion": "1.0", "Actions": [play, hangup]}
    """
)


def user_stack(app: cdk.App, stack_id: str, prompts_dir: Path) -> lambda_.Function:
    """A user's own function behind an SMA, bound to its prompts' catalog."""
    stack = cdk.Stack(app, stack_id, env=ENV)
    prompts = WavPrompts(
        stack, "Prompts", prompt_bucket=PromptBucket(stack, "Bucket"), source_dir=prompts_dir
    )
    function = lambda_.Function(
        stack,
        "MyHandler",
        runtime=lambda_.Runtime.PYTHON_3_12,
        handler="index.handler",
        code=lambda_.Code.from_inline(CATALOG_HANDLER),
    )
    prompts.bind(function)
    SipMediaApplication(stack, "Sma", function=function, prompts=[prompts])
    return function


@pytest.fixture(scope="module")
def cdk_out(
    make_bare_app: Callable[..., cdk.App], tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """One synth: the bound function; one also using an imported layer ARN; one using a
    layer another stack exports."""
    prompts_dir = tmp_path_factory.mktemp("prompts")
    for name in ("welcome", "error"):
        wavgen.write(prompts_dir / f"{name}.wav", wavgen.pcm(frames=8000))
    shared_dir = tmp_path_factory.mktemp("shared-layer")
    (shared_dir / "python").mkdir()
    (shared_dir / "python" / "shared.py").write_text("NAME = 'shared'\n")
    outdir = tmp_path_factory.mktemp("layers") / "cdk.out"
    app = make_bare_app(outdir=str(outdir))
    user_stack(app, "Bound", prompts_dir)
    imported = user_stack(app, "ImportedLayer", prompts_dir)
    imported.add_layers(
        lambda_.LayerVersion.from_layer_version_arn(imported, "Shared", IMPORTED_LAYER)
    )
    layers = cdk.Stack(app, "Layers", env=ENV)
    shared = lambda_.LayerVersion(layers, "Shared", code=lambda_.Code.from_asset(str(shared_dir)))
    user_stack(app, "CrossStack", prompts_dir).add_layers(shared)
    app.synth()
    return outdir


def test_a_bound_function_plays_the_welcome_prompt_of_its_catalog(cdk_out: Path) -> None:
    setup = load_call_setup(cdk_out, stack="Bound")
    (layer,) = setup.function.layers
    catalog = setup.function.environment["PROMPT_CATALOG"]
    assert catalog.startswith("/opt/playaudio/catalogs/")
    assert (layer / catalog.removeprefix("/opt/")).is_file()
    assert (layer / "python" / "playaudio_catalog.py").is_file()
    call = Call(setup)
    result = call.run()
    assert [h["key"] for h in result.heard] == ["prompts/welcome.wav"]
    assert (result.failures, result.outcome) == ([], Outcome.HANGUP)
    first = result.transcript.of_kind("call")[0]
    assert first["function"]["layers"] == [str(layer)]
    assert not cast(LambdaRunner, call.invoker).opt_dir.exists()


def test_without_the_layer_the_bound_function_cannot_import_the_catalog(cdk_out: Path) -> None:
    """The module comes from the layer only: drop the layer and the import fails."""
    setup = load_call_setup(cdk_out, stack="Bound")
    function = dataclasses.replace(setup.function, layers=())
    result = Call(dataclasses.replace(setup, function=function)).run()
    errors = result.transcript.of_kind("invocation-error")
    assert errors and "No module named 'playaudio_catalog'" in errors[0]["errorMessage"]
    assert result.outcome is Outcome.SMA_HANGUP


def test_a_layer_that_is_not_in_the_assembly_is_a_clear_error(cdk_out: Path) -> None:
    with pytest.raises(AssemblyError) as error:
        load_call_setup(cdk_out, stack="ImportedLayer")
    message = str(error.value)
    assert "ImportedLayer.template.json: Resources.MyHandler" in message
    assert ".Properties.Layers[1]: function MyHandler" in message
    assert f"uses layer {IMPORTED_LAYER!r}, which is not a layer of this cloud assembly" in message
    assert "expected a Ref (or Fn::GetAtt LayerVersionArn) to an AWS::Lambda::LayerVersion" in (
        message
    )
    # The layers it could use: its stack's own, and those another stack exports.
    assert re.search(r"layers it knows: ImportedLayer/PromptsCatalogLayer\w+, ", message)
    assert re.search(r", Layers/Shared\w+\)$", message)


def test_a_layer_another_stack_exports_is_found_through_the_import(cdk_out: Path) -> None:
    setup = load_call_setup(cdk_out, stack="CrossStack")
    template = json.loads((cdk_out / "CrossStack.template.json").read_text())
    layers = template["Resources"][setup.function.logical_id]["Properties"]["Layers"]
    assert "Fn::ImportValue" in layers[1]
    assert (setup.function.layers[1] / "python" / "shared.py").is_file()
    assert Call(setup).run().heard[0]["key"] == "prompts/welcome.wav"


# -- the merge, on a hand-written assembly ----------------------------------------------------

MERGE_HANDLER = textwrap.dedent(
    """
    import os
    import sys

    import greeting
    import only_first
    import sited


    def handler(event, context):
        if event["InvocationEventType"] != "NEW_INBOUND_CALL":
            return {"SchemaVersion": "1.0", "Actions": []}
        with open(os.environ["WHICH"]) as f:
            which = f.read()
        seen = {"greeting": greeting.GREETING, "which": which, "onlyFirst": only_first.NAME,
                "sited": sited.NAME, "whichPath": os.environ["WHICH"],
                "path": "|".join(sys.path[:3])}
        hangup = {"Type": "Hangup", "Parameters": {"SipResponseCode": "0"}}
        return {"SchemaVersion": "1.0", "Actions": [hangup], "TransactionAttributes": seen}
    """
)


def add_layers(root: Path, layers: dict[str, dict[str, str]], entries: list[Any]) -> None:
    """Layer versions with these files (asset folders with aws:asset:path metadata), and
    ``entries`` as the handler's Layers and WHICH=/opt/data/which.txt."""
    template_path = root / f"{STACK}.template.json"
    template = json.loads(template_path.read_text())
    for name, files in layers.items():
        for relative, text in files.items():
            (root / f"asset.{name}" / relative).parent.mkdir(parents=True, exist_ok=True)
            (root / f"asset.{name}" / relative).write_text(text)
        template["Resources"][name] = {
            "Type": "AWS::Lambda::LayerVersion",
            "Properties": {"Content": {"S3Bucket": "assets", "S3Key": f"{name}.zip"}},
            "Metadata": {"aws:asset:path": f"asset.{name}"},
        }
    handler = template["Resources"]["Handler"]["Properties"]
    handler["Layers"] = entries
    handler["Environment"]["Variables"]["WHICH"] = "/opt/data/which.txt"
    template_path.write_text(json.dumps(template))


FIRST = {
    "python/greeting.py": "GREETING = 'first'\n",
    "python/only_first.py": "NAME = 'first'\n",
    "python/lib/python3.12/site-packages/sited.py": "NAME = 'site-packages'\n",
    "data/which.txt": "first",
}
SECOND = {"python/greeting.py": "GREETING = 'second'\n", "data/which.txt": "second"}
CLASH_MARK = "clash-6f2e1d.txt"  # a name only this layer has, to look for leftovers by
# A folder where FIRST has a file: the merge cannot put both at one path.
CLASH = {CLASH_MARK: "", "data/which.txt/inner": "a folder"}


def test_a_later_layer_overwrites_an_earlier_ones_files(tmp_path: Path) -> None:
    root = write_assembly(tmp_path / "cdk.out", handler_code=MERGE_HANDLER)
    add_layers(
        root,
        {"First": FIRST, "Second": SECOND},
        [{"Ref": "First"}, {"Fn::GetAtt": ["Second", "LayerVersionArn"]}],
    )
    setup = load_call_setup(root)
    assert setup.function.layers == (root / "asset.First", root / "asset.Second")
    call = Call(setup)
    result = call.run()
    seen = result.transcript.of_kind("response")[0]["response"]["TransactionAttributes"]
    opt = cast(LambdaRunner, call.invoker).opt_dir
    assert seen == {
        "greeting": "second",
        "which": "second",
        "onlyFirst": "first",
        "sited": "site-packages",
        "whichPath": f"{opt}/data/which.txt",
        "path": f"{setup.function.code_dir}|{opt}/python/lib/python3.12/site-packages|{opt}/python",
    }
    assert not opt.exists()
    # The layers' own folders are untouched by the merge.
    assert (root / "asset.First" / "data" / "which.txt").read_text() == "first"


def test_the_order_of_layers_decides_which_file_wins(tmp_path: Path) -> None:
    root = write_assembly(tmp_path / "cdk.out", handler_code=MERGE_HANDLER)
    add_layers(root, {"First": FIRST, "Second": SECOND}, [{"Ref": "Second"}, {"Ref": "First"}])
    result = Call(load_call_setup(root)).run()
    seen = result.transcript.of_kind("response")[0]["response"]["TransactionAttributes"]
    assert (seen["greeting"], seen["which"]) == ("first", "first")


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        (
            [{"Ref": "First"}, {"Fn::ImportValue": "NotExported"}],
            "Layers[1]: function Handler uses the layer of export 'NotExported' "
            "(Fn::ImportValue), which no stack of this cloud assembly exports; expected a Ref",
        ),
        (
            ["arn:aws:lambda:us-east-1:123456789012:layer:elsewhere:1"],
            "Layers[0]: function Handler uses layer "
            "'arn:aws:lambda:us-east-1:123456789012:layer:elsewhere:1', which is not a layer",
        ),
        ({"Ref": "First"}, "Layers resolves to the string "),
        ([{"Fn::Split": [",", "a,b"]}], "Layers[0] is a list; expected a layer's ARN"),
    ],
)
def test_a_layer_the_simulator_cannot_find_is_a_clear_error(
    tmp_path: Path, entries: Any, message: str
) -> None:
    root = write_assembly(tmp_path / "cdk.out", handler_code=MERGE_HANDLER)
    add_layers(root, {"First": FIRST}, entries)
    with pytest.raises(AssemblyError, match=re.escape(message)) as error:
        load_call_setup(root)
    assert str(error.value).startswith(str(root / f"{STACK}.template.json"))


def test_a_layer_whose_content_is_not_a_folder_is_a_clear_error(tmp_path: Path) -> None:
    root = write_assembly(tmp_path / "cdk.out", handler_code=MERGE_HANDLER)
    add_layers(root, {"First": FIRST}, [{"Ref": "First"}])
    template_path = root / f"{STACK}.template.json"
    template = json.loads(template_path.read_text())
    del template["Resources"]["First"]["Metadata"]
    template_path.write_text(json.dumps(template))
    with pytest.raises(
        AssemblyError,
        match=re.escape("the content of layer First (used by function Handler) is not a folder"),
    ):
        load_call_setup(root)


def test_layers_that_clash_cannot_be_merged_and_leave_nothing_behind(tmp_path: Path) -> None:
    root = write_assembly(tmp_path / "cdk.out", handler_code=MERGE_HANDLER)
    add_layers(
        root,
        {"First": FIRST, "Clash": CLASH},
        [{"Ref": "First"}, {"Ref": "Clash"}],
    )
    setup = load_call_setup(root)
    with pytest.raises(AssemblyError, match=r"layer .*asset\.Clash of function Handler cannot"):
        LambdaRunner(setup.function, region="us-east-1")
    assert not list(Path(tempfile.gettempdir()).glob(f"playaudio-sim-opt-*/{CLASH_MARK}"))


def test_the_cli_exits_7_when_the_layers_cannot_be_merged(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = write_assembly(tmp_path / "cdk.out", handler_code=MERGE_HANDLER)
    add_layers(root, {"First": FIRST, "Clash": CLASH}, [{"Ref": "First"}, {"Ref": "Clash"}])
    assert main(["call", "-o", str(root), "-q"]) == 7
    err = capsys.readouterr().err
    assert err.startswith(f"playaudio-sim: layer {root / 'asset.Clash'} of function Handler ")
    assert err.count("\n") == 1


def test_only_values_at_or_under_opt_are_rewritten(tmp_path: Path) -> None:
    environment = {
        "A": "/opt",
        "B": "/opt/playaudio/catalogs/x.json",
        "C": "/optional/x",
        "D": "/usr/bin:/opt/bin",
        "E": "opt/x",
    }
    assert opt_paths(environment, tmp_path) == {
        **environment,
        "A": str(tmp_path),
        "B": f"{tmp_path}/playaudio/catalogs/x.json",
    }
