"""The simulator follows the guide's pages, and cites pages that exist."""

from __future__ import annotations

import re
from pathlib import Path

from constructs_pkg.simulator import rules

GUIDE_PAGES = Path(__file__).with_name("data") / "guide_pages.txt"


def guide_pages() -> set[str]:
    lines = GUIDE_PAGES.read_text(encoding="utf-8").splitlines()
    return {line for line in lines if line and not line.startswith("#")}


def test_every_cited_page_is_a_page_of_the_guide() -> None:
    # case-3.html, once cited for failing actions, is not a page of the guide.
    missing = [
        url
        for url in rules.DOCS.values()
        if re.fullmatch(r"https://docs\.aws\.amazon\.com/chime-sdk/latest/dg/(.+)\.html", url)
        is None
        or url.rsplit("/", 1)[1].removesuffix(".html") not in guide_pages()
    ]
    assert missing == []
