"""WavPrompts.bind and runtime.catalog: a user's function plays prompts by name from a layer."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_lambda as lambda_
from aws_cdk.assertions import Match, Template

from app import add_compliance_packs
from constructs_pkg import PromptBucket, WavPrompts
from constructs_pkg.runtime import catalog
from constructs_pkg.runtime.actions import play_audio, response, s3_audio_source, validate_response
from tests.audio import wavgen

ENV = cdk.Environment(account="123456789012", region="us-east-1")
PACKS = ["AwsSolutions", "HIPAA.Security", "NIST.800.53.R5", "PCI.DSS.321", "Serverless"]
RUNTIME_CATALOG = Path(catalog.__file__)
# Names a user may well give their files: spaces, quotes, non-ASCII, nested folders.
NASTY_NAMES = ["welcome", "menu/main", "Big Hall", 'say "hi"', "it's", "ünïcödé/grüß 日本"]


def write_prompts(folder: Path, names: list[str], frames: int = 8) -> Path:
    for name in names:
        wavgen.write(folder / f"{name}.wav", wavgen.pcm(frames=frames))
    return folder


def user_function(scope: cdk.Stack, construct_id: str = "UserFunction") -> lambda_.Function:
    return lambda_.Function(
        scope,
        construct_id,
        runtime=lambda_.Runtime.PYTHON_3_13,
        handler="index.handler",
        code=lambda_.Code.from_inline("def handler(event, context):\n    return None\n"),
    )


def prompts_in(stack: cdk.Stack, source: Path, construct_id: str = "Prompts") -> WavPrompts:
    return WavPrompts(
        stack,
        construct_id,
        prompt_bucket=PromptBucket(stack, f"{construct_id}Bucket"),
        source_dir=source,
        key_prefix=f"{construct_id.lower()}/",
    )


def catalog_layers(template: Template) -> dict[str, Any]:
    """The catalog layers (not the AWS CLI layer of the prompts' deployment)."""
    layers: dict[str, Any] = template.find_resources(
        "AWS::Lambda::LayerVersion",
        {"Properties": {"Description": Match.string_like_regexp("^PlayAudio prompt catalog")}},
    )
    return layers


def layer_folder(template: Template, stack: cdk.Stack) -> Path:
    """The catalog layer's asset folder in cdk.out, as the CLI zips and uploads it."""
    (layer,) = catalog_layers(template).values()
    asset_hash = layer["Properties"]["Content"]["S3Key"].removesuffix(".zip")
    return Path(cdk.Stage.of(stack).outdir) / f"asset.{asset_hash}"  # type: ignore[union-attr]


def environment_of(template: Template, logical_prefix: str) -> dict[str, Any]:
    (function,) = (
        f
        for logical_id, f in template.find_resources("AWS::Lambda::Function").items()
        if logical_id.startswith(logical_prefix)
    )
    variables: dict[str, Any] = function["Properties"]["Environment"]["Variables"]
    return variables


class Bound:
    def __init__(self, stack: cdk.Stack, prompts: WavPrompts, template: Template) -> None:
        self.stack = stack
        self.prompts = prompts
        self.template = template
        self.layer = layer_folder(template, stack)
        self.catalog_file = self.layer / prompts.catalog_path.removeprefix("/opt/")


@pytest.fixture(scope="module")
def bound(make_stack: Callable[..., cdk.Stack], tmp_path_factory: pytest.TempPathFactory) -> Bound:
    """Two user functions bound to one catalog of nasty names (one bound twice)."""
    source = write_prompts(tmp_path_factory.mktemp("src") / "prompts", NASTY_NAMES)
    wavgen.write(source / "stereo.wav", wavgen.pcm(rate=16000, channels=2, frames=1600))
    stack = make_stack()
    prompts = prompts_in(stack, source)
    first, second = user_function(stack, "First"), user_function(stack, "Second")
    prompts.bind(first)
    prompts.bind(second)
    prompts.bind(first)
    cdk.Stage.of(stack).synth()  # type: ignore[union-attr]
    return Bound(stack, prompts, Template.from_stack(stack))


def test_one_layer_is_shared_and_a_second_bind_is_a_no_op(bound: Bound) -> None:
    (layer_id,) = catalog_layers(bound.template)
    for function_id in ("First", "Second"):
        (function,) = (
            f
            for logical_id, f in bound.template.find_resources("AWS::Lambda::Function").items()
            if logical_id.startswith(function_id)
        )
        assert function["Properties"]["Layers"] == [{"Ref": layer_id}]


def test_the_layer_holds_the_catalog_and_the_helper_only(bound: Bound) -> None:
    shipped = sorted(p.relative_to(bound.layer).as_posix() for p in bound.layer.rglob("*"))
    catalog_id = Path(bound.prompts.catalog_path).name
    assert shipped == [
        "playaudio",
        "playaudio/catalogs",
        f"playaudio/catalogs/{catalog_id}",
        "python",
        "python/playaudio_catalog.py",
    ]
    assert (bound.layer / "python/playaudio_catalog.py").read_bytes() == (
        RUNTIME_CATALOG.read_bytes()
    )
    # Lambda reads a layer as another user than the one who zipped it.
    for path in bound.layer.rglob("*"):
        assert path.stat().st_mode & 0o444 == 0o444, path


def test_the_catalog_file_is_compact_and_complete(bound: Bound) -> None:
    text = bound.catalog_file.read_text(encoding="utf-8")
    assert text == bound.prompts.catalog_json()
    assert "\n" not in text and ": " not in text and "ü" in text
    document = json.loads(text)
    assert document["format"] == "playaudio-catalog/2"
    assert document["catalog"] == bound.prompts.node.path
    assert document["keyPrefix"] == "prompts/"
    assert document["prompts"]["stereo"] == "100,16000,2"
    assert sorted(document["prompts"]) == sorted([*NASTY_NAMES, "stereo"])


def test_the_functions_get_the_catalog_path_and_the_deployed_bucket(bound: Bound) -> None:
    bucket = bound.stack.resolve(bound.prompts.deployment.deployed_bucket.bucket_name)
    for function_id in ("First", "Second"):
        assert environment_of(bound.template, function_id) == {
            "PROMPT_CATALOG": bound.prompts.catalog_path,
            "PROMPTS_BUCKET": bucket,
        }
    assert bound.prompts.catalog_path.startswith("/opt/playaudio/catalogs/Prompts-")


def test_the_runtime_helper_plays_every_prompt_of_the_staged_file(bound: Bound) -> None:
    loaded = catalog.load(str(bound.catalog_file), "my-bucket")
    assert len(loaded) == len(bound.prompts.prompts)
    for name, deployed in bound.prompts.prompts.items():
        source = loaded.audio_source(name)
        assert source == {"Type": "S3", "BucketName": "my-bucket", "Key": deployed.key}
        assert validate_response(response([play_audio(source)])) == []
        info = loaded.prompt(name)
        assert (info.key, info.duration_ms, info.sample_rate, info.channels) == (
            deployed.key,
            deployed.duration_ms,
            deployed.sample_rate,
            deployed.channels,
        )


@pytest.fixture
def fresh_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    monkeypatch.setattr(catalog, "_CATALOG", None)
    monkeypatch.delenv(catalog.CATALOG_ENV, raising=False)
    monkeypatch.delenv(catalog.BUCKET_ENV, raising=False)
    yield monkeypatch


def test_the_catalog_is_loaded_once_from_the_environment(
    bound: Bound, fresh_environment: pytest.MonkeyPatch
) -> None:
    fresh_environment.setenv("PROMPT_CATALOG", str(bound.catalog_file))
    fresh_environment.setenv("PROMPTS_BUCKET", "my-bucket")
    assert catalog.audio_source('say "hi"')["Key"] == 'prompts/say "hi".wav'
    first = catalog.catalog()
    fresh_environment.setenv("PROMPT_CATALOG", "/nowhere.json")
    assert catalog.catalog() is first
    assert catalog.prompt("it's").duration_ms == 1


def test_the_layers_own_module_works_standalone_without_importing_json(bound: Bound) -> None:
    script = (
        "import sys, playaudio_catalog as c\n"
        "print(c.audio_source('ünïcödé/grüß 日本')['Key'], 'json' in sys.modules)\n"
    )
    env = {
        **os.environ,
        "PYTHONPATH": str(bound.layer / "python"),
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONIOENCODING": "utf-8",
        "PROMPT_CATALOG": str(bound.catalog_file),
        "PROMPTS_BUCKET": "my-bucket",
    }
    out = subprocess.run(
        [sys.executable, "-S", "-c", script],
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        check=True,
    ).stdout
    assert out == "prompts/ünïcödé/grüß 日本.wav False\n"


def test_an_unknown_name_names_the_prompt_the_catalog_and_close_matches(bound: Bound) -> None:
    loaded = catalog.load(str(bound.catalog_file), "my-bucket")
    with pytest.raises(catalog.UnknownPromptError) as raised:
        loaded.audio_source("menu/mian")
    assert isinstance(raised.value, LookupError)
    assert str(raised.value) == (
        f"no prompt named 'menu/mian' in prompt catalog {bound.catalog_file} "
        f"(TestStack/Prompts), which has 7 prompts; close matches: 'menu/main'"
    )
    with pytest.raises(catalog.UnknownPromptError, match=r"'xyzzy' .* no close match"):
        loaded.prompt("xyzzy")


def test_missing_variables_are_named(fresh_environment: pytest.MonkeyPatch) -> None:
    with pytest.raises(
        catalog.CatalogError,
        match=r"^PROMPT_CATALOG and PROMPTS_BUCKET are not set; expected .*WavPrompts.bind"
        r".*WavPrompts.catalog_json\(\)",
    ):
        catalog.audio_source("welcome")
    fresh_environment.setenv("PROMPTS_BUCKET", "b")
    with pytest.raises(catalog.CatalogError, match=r"^PROMPT_CATALOG is not set"):
        catalog.prompt("welcome")


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"{not json", "is not valid UTF-8 JSON .*expected the file WavPrompts writes"),
        (b"\xff\xfe", "is not valid UTF-8 JSON"),
        (b"[]", "its top level is list, not an object"),
        (b'{"format": "v0"}', "format is 'v0'"),
        (
            b'{"format": "playaudio-catalog/2", "catalog": "C", "prompts": []}',
            "keyPrefix is NoneType, prompts is list",
        ),
    ],
)
def test_a_corrupt_file_says_what_was_found(tmp_path: Path, content: bytes, expected: str) -> None:
    path = tmp_path / "catalog.json"
    path.write_bytes(content)
    with pytest.raises(catalog.CatalogError, match=expected):
        catalog.load(str(path), "b")


def test_a_bad_entry_and_a_missing_file_are_named(tmp_path: Path) -> None:
    path = tmp_path / "catalog.json"
    path.write_text(
        '{"format": "playaudio-catalog/2", "catalog": "C", "keyPrefix": "", '
        '"prompts": {"a": [1, 8000], "b": "0,8000,1", "c": "1,0,1", "d": [1, 8000, true]}}'
    )
    loaded = catalog.load(str(path), "b")
    assert loaded.audio_source("b") == {"Type": "S3", "BucketName": "b", "Key": "b.wav"}
    with pytest.raises(catalog.CatalogError, match=r"prompt 'a' is \[1, 8000\]; expected"):
        loaded.prompt("a")
    for name in ("c", "d"):
        with pytest.raises(catalog.CatalogError, match=f"prompt '{name}' is"):
            loaded.prompt(name)
    with pytest.raises(catalog.CatalogError, match=r"'/no/such\.json', but there is no such"):
        catalog.load("/no/such.json", "b")
    with pytest.raises(catalog.CatalogError, match="cannot be read"):
        catalog.load(str(tmp_path), "b")


def test_five_thousand_nested_prompts_synthesize_and_resolve(
    make_stack: Callable[..., cdk.Stack], tmp_path: Path
) -> None:
    names = [f"dept{i % 20}/menu {i % 7}/prompt-{i}" for i in range(5000)]
    stack = make_stack()
    prompts = prompts_in(stack, write_prompts(tmp_path / "prompts", names, frames=1))
    prompts.bind(user_function(stack))
    template = Template.from_stack(stack)
    catalog_file = layer_folder(template, stack) / prompts.catalog_path.removeprefix("/opt/")
    raw = catalog_file.read_text(encoding="utf-8")
    started = time.perf_counter()
    json.loads(raw)
    parse_seconds = time.perf_counter() - started
    loaded = catalog.load(str(catalog_file), "b")
    assert len(loaded) == 5000
    for name in names[::97]:
        assert loaded.audio_source(name)["Key"] == f"prompts/{name}.wav"
    # 15 to 20 bytes a prompt beyond its name; a parse in milliseconds, bounded loosely here.
    assert len(raw.encode()) < sum(len(name.encode()) + 20 for name in names) + 200
    assert parse_seconds < 0.5


def synth_bound(
    make_bare_app: Callable[..., cdk.App], outdir: Path, source: Path
) -> tuple[Template, Path, str]:
    app = make_bare_app(outdir=str(outdir))
    stack = cdk.Stack(app, "Stack", env=ENV)
    prompts = prompts_in(stack, source)
    function = user_function(stack)
    prompts.bind(function)
    version = stack.resolve(function.current_version.version)["Fn::GetAtt"][0]
    app.synth()
    template = Template.from_stack(stack)
    return template, layer_folder(template, stack), version


def test_a_changed_catalog_ships_a_new_layer_and_function_version_on_resynth(
    make_bare_app: Callable[..., cdk.App], tmp_path: Path
) -> None:
    source = write_prompts(tmp_path / "prompts", ["welcome"])
    outdir = tmp_path / "cdk.out"
    _, first_layer, first_version = synth_bound(make_bare_app, outdir, source)
    first_catalog = sorted(p.name for p in (first_layer / "playaudio/catalogs").iterdir())
    write_prompts(source, ["goodbye"])
    _, layer, version = synth_bound(make_bare_app, outdir, source)
    _, fresh_layer, fresh_version = synth_bound(make_bare_app, tmp_path / "fresh", source)

    assert layer != first_layer and version != first_version
    assert (layer.name, version) == (fresh_layer.name, fresh_version)
    (catalog_file,) = (layer / "playaudio/catalogs").iterdir()
    assert [catalog_file.name] != first_catalog
    assert sorted(json.loads(catalog_file.read_text())["prompts"]) == ["goodbye", "welcome"]


def test_a_function_of_another_stack_gets_a_layer_in_its_own_stack(
    make_bare_app: Callable[..., cdk.App], tmp_path: Path
) -> None:
    """No layer ARN crosses stacks: CloudFormation could not update an imported export."""
    app = make_bare_app(outdir=str(tmp_path / "cdk.out"))
    prompts_stack = cdk.Stack(app, "PromptsStack", env=ENV)
    prompts = prompts_in(prompts_stack, write_prompts(tmp_path / "prompts", ["welcome"]))
    ivr_stack = cdk.Stack(app, "IvrStack", env=ENV)
    for construct_id in ("First", "Second"):
        prompts.bind(user_function(ivr_stack, construct_id))
    prompts.bind(user_function(prompts_stack, "Local"))
    app.synth()
    ivr, local = Template.from_stack(ivr_stack), Template.from_stack(prompts_stack)

    (layer_id,) = catalog_layers(ivr)
    assert layer_id.startswith("PromptsCatalogLayer")
    functions = ivr.find_resources("AWS::Lambda::Function").values()
    assert [f["Properties"]["Layers"] for f in functions] == [[{"Ref": layer_id}]] * 2
    assert len(catalog_layers(local)) == 1
    assert layer_folder(ivr, ivr_stack) == layer_folder(local, prompts_stack)
    assert environment_of(ivr, "First")["PROMPT_CATALOG"] == prompts.catalog_path


def test_an_imported_function_is_refused_with_the_fallback(
    make_stack: Callable[..., cdk.Stack], tmp_path: Path
) -> None:
    stack = make_stack()
    prompts = prompts_in(stack, write_prompts(tmp_path / "prompts", ["welcome"]))
    imported = lambda_.Function.from_function_arn(
        stack, "Imported", "arn:aws:lambda:us-east-1:123456789012:function:ivr"
    )
    image = lambda_.DockerImageFunction(
        stack,
        "Image",
        code=lambda_.DockerImageCode.from_ecr(ecr.Repository.from_repository_name(stack, "R", "r")),
    )
    for function, shown in (
        (imported, r"cannot bind a \w+ \(TestStack/Imported\)"),
        (image, "cannot bind a container image function"),
        ("arn:aws:lambda:us-east-1:123456789012:function:ivr", "cannot bind 'arn:aws:lambda"),
    ):
        with pytest.raises(ValueError, match=shown) as raised:
            prompts.bind(function)  # type: ignore[arg-type]
        assert "prompts.catalog_json()" in str(raised.value)
        assert "PROMPT_CATALOG" in str(raised.value)
    assert catalog_layers(Template.from_stack(stack)) == {}


def test_one_catalog_per_function(make_stack: Callable[..., cdk.Stack], tmp_path: Path) -> None:
    stack = make_stack()
    first = prompts_in(stack, write_prompts(tmp_path / "a", ["welcome"]), "First")
    second = prompts_in(stack, write_prompts(tmp_path / "b", ["welcome"]), "Second")
    function = user_function(stack)
    first.bind(function)
    with pytest.raises(
        ValueError,
        match="WavPrompts 'Second': function TestStack/UserFunction is bound to the catalog of "
        "TestStack/First already; expected one catalog per function",
    ):
        second.bind(function)
    second.bind(user_function(stack, "Other"))


def test_a_function_without_a_free_layer_slot_is_a_clear_error(
    make_stack: Callable[..., cdk.Stack], tmp_path: Path
) -> None:
    stack = make_stack()
    prompts = prompts_in(stack, write_prompts(tmp_path / "prompts", ["welcome"]))
    function = user_function(stack)
    for i in range(5):
        function.add_layers(
            lambda_.LayerVersion.from_layer_version_arn(
                stack, f"L{i}", f"arn:aws:lambda:us-east-1:123456789012:layer:l{i}:1"
            )
        )
    with pytest.raises(ValueError, match=r"already uses 5 layers.*five layers per function"):
        prompts.bind(function)


def test_all_five_nag_packs_pass_on_a_bound_user_function(
    make_bare_app: Callable[..., cdk.App], tmp_path: Path
) -> None:
    """Only the user's own function (and its role) draws findings: not the layer."""
    outdir = tmp_path / "cdk.out"
    app = make_bare_app(outdir=str(outdir))
    stack = cdk.Stack(app, "NagStack", env=ENV)
    prompts = prompts_in(stack, write_prompts(tmp_path / "prompts", ["welcome"]))
    prompts.bind(user_function(stack))
    add_compliance_packs(app)
    with pytest.raises(RuntimeError, match="ValidationFailed"):
        app.synth()
    report = json.loads((outdir / "validation-report.json").read_text())
    assert [p["pluginName"] for p in report["pluginReports"]] == PACKS
    findings = [
        (plugin["pluginName"], violation["ruleName"], path)
        for plugin in report["pluginReports"]
        for violation in plugin["violations"]
        for path in (c["constructPath"] for c in violation["violatingConstructs"])
        if not path.startswith("NagStack/UserFunction/")
    ]
    assert findings == []


def test_the_catalog_document_round_trips_and_its_audio_source_is_the_actions_shape(
    tmp_path: Path,
) -> None:
    written = catalog.document(
        "Stack/Prompts", "audio/", ["en-US", "es-US"], {"es-US/welcome": (1250, 8000, 1)}
    )
    path = tmp_path / "catalog.json"
    path.write_text(json.dumps(written), encoding="utf-8")

    loaded = catalog.load(str(path), "prompts-bucket")

    info = loaded.prompt("welcome", "es-US")
    assert (info.name, info.key, info.duration_ms, info.sample_rate, info.channels) == (
        "es-US/welcome",
        "audio/es-US/welcome.wav",
        1250,
        8000,
        1,
    )
    assert loaded.audio_source("welcome", "es-US") == s3_audio_source(
        "prompts-bucket", "audio/es-US/welcome.wav"
    )
