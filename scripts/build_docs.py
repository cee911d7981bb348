"""The API reference, built from the docstrings by pdoc: ``make docs`` (``python
scripts/build_docs.py OUT``) writes one HTML page a module into OUT.

Documented: the constructs (``constructs_pkg``), the stdlib-only code users' handlers
import (``constructs_pkg.runtime``) and the WAV checks (``constructs_pkg.audio``). Any
warning pdoc raises (a name that does not resolve, a bad docstring) fails the build.

pdoc 16 reads a reStructuredText field's name up to the last colon of its line, so
``:param versioned: keep every version. Default: True.`` would be listed as a parameter
named "versioned: keep every version. Default". Before pdoc converts a docstring, each
field's text moves to an indented line of its own (the same field in reST), which pdoc
reads right; tests/distribution/test_docs.py fails if a name is listed wrong.
"""

from __future__ import annotations

import re
import shutil
import sys
import tempfile
import warnings
from pathlib import Path

import pdoc
import pdoc.docstrings
import pdoc.render

import constructs_pkg

MODULES = ("constructs_pkg", "constructs_pkg.runtime", "constructs_pkg.audio")
# A field's name and the text on its line: ":param name: text" -> ":param name:\n    text".
_FIELD_TEXT = re.compile(r"^(:(?:param|raises) [^:\s]+:)[ ]+(?=\S)", re.MULTILINE)
_convert = pdoc.docstrings.convert


def _convert_fields_named_right(docstring: str, docformat: str, source_file: Path | None) -> str:
    return _convert(_FIELD_TEXT.sub(r"\1\n    ", docstring), docformat, source_file)


def build(output: Path) -> None:
    """Write the reference of MODULES into ``output``, replacing a previous build there (so
    no page of a removed module survives); any other non-empty folder is refused."""
    if output.is_dir() and any(output.iterdir()) and not (output / "search.js").is_file():
        raise ValueError(
            f"{output} holds files that are not an API reference pdoc built; expected a new "
            "or empty folder, or a previous `make docs` output (DOCS_OUT=...)"
        )
    # The constructs are re-exported lazily (a module __getattr__); pdoc reads the module's
    # __dict__, so resolve them into it first.
    for name in constructs_pkg.__all__:
        setattr(constructs_pkg, name, getattr(constructs_pkg, name))
    pdoc.render.configure(
        docformat="restructuredtext",
        footer_text=f"chime-playaudio-constructs {constructs_pkg.__version__}",
    )
    pdoc.docstrings.convert = _convert_fields_named_right  # type: ignore[assignment]
    try:
        with warnings.catch_warnings(), tempfile.TemporaryDirectory() as scratch:
            warnings.simplefilter("error")
            pdoc.pdoc(*MODULES, output_directory=Path(scratch))
            shutil.rmtree(output, ignore_errors=True)
            shutil.copytree(scratch, output)
    finally:
        pdoc.docstrings.convert = _convert


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: build_docs.py OUT", file=sys.stderr)
        return 2
    try:
        build(Path(argv[0]))
    except ValueError as error:
        print(f"make docs: {error}", file=sys.stderr)
        return 1
    print(f"API reference: {Path(argv[0]) / 'index.html'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
