"""`make docs`: the API reference pdoc builds from the docstrings holds every export, each
construct with its parameters, and the modules users' handlers import; a warning fails it."""

from __future__ import annotations

import html
import importlib.util
import re
import shutil
from pathlib import Path

import pdoc.doc
import pytest

import constructs_pkg
from tests.test_public_api import CONSTRUCTS

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("build_docs", ROOT / "scripts" / "build_docs.py")
assert _spec is not None and _spec.loader is not None
build_docs = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(build_docs)


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("api")
    build_docs.build(out)
    return out


def test_every_export_has_an_entry(reference: Path) -> None:
    page = (reference / "constructs_pkg.html").read_text(encoding="utf-8")
    missing = [name for name in constructs_pkg.__all__ if f'id="{name}"' not in page]
    assert missing == []


@pytest.mark.parametrize("name", CONSTRUCTS)
def test_each_construct_lists_its_parameters_from_its_docstring(reference: Path, name: str) -> None:
    page = (reference / "constructs_pkg.html").read_text(encoding="utf-8")
    start = page.index(f'<section id="{name}"')
    docstring = page[page.index('<div class="docstring">', start) :]
    docstring = docstring[: docstring.index("</div>")]
    documented = re.findall(r":param (\w+):", getattr(constructs_pkg, name).__doc__)
    assert documented
    # A Parameters list naming exactly the documented ones, in order; no reST left over.
    assert '<h6 id="parameters">Parameters</h6>' in docstring
    listed = [html.unescape(n) for n in re.findall(r"<li><strong>(.*?)</strong>", docstring)]
    assert listed == documented
    assert ":param" not in docstring


def test_the_modules_users_handlers_import_are_documented(reference: Path) -> None:
    pages = {p.relative_to(reference).as_posix() for p in reference.rglob("*.html")}
    for module in ("actions", "catalog", "events", "metrics"):
        assert f"constructs_pkg/runtime/{module}.html" in pages
    assert "constructs_pkg/audio/wav.html" in pages


def test_a_pdoc_warning_fails_the_build(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from constructs_pkg.runtime import events

    monkeypatch.setattr(events, "__all__", ["nowhere"], raising=False)
    pdoc.doc.Module.from_name.cache_clear()  # the module fixture's build cached events
    with pytest.raises(
        UserWarning, match=re.escape("'nowhere' in constructs_pkg.runtime.events.__all__")
    ):
        build_docs.build(tmp_path)


def test_a_rebuild_drops_pages_of_removed_modules(reference: Path, tmp_path: Path) -> None:
    out = shutil.copytree(reference, tmp_path / "api")
    (out / "constructs_pkg" / "gone.html").write_text("a module that no longer exists")
    build_docs.build(out)
    assert not (out / "constructs_pkg" / "gone.html").exists()
    assert (out / "constructs_pkg.html").is_file()


def test_a_folder_that_is_not_a_reference_is_refused_and_left_alone(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(ValueError, match="holds files that are not an API reference"):
        build_docs.build(tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]
