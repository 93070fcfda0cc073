"""The front door: a README a newcomer reads in a minute, and every page it leads to there to be read."""
from __future__ import annotations

import re

from config import PROJECT_DIR

README = PROJECT_DIR / "README.md"
PAGES = sorted((PROJECT_DIR / "Documentation").glob("*.md"))
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


def test_the_readme_is_short():
    assert len(README.read_text(encoding="utf-8").splitlines()) <= 170


def test_every_documentation_page_is_linked_from_the_readme():
    linked = {(README.parent / target).resolve() for target in LINK.findall(README.read_text(encoding="utf-8"))}
    assert [page.name for page in PAGES if page.resolve() not in linked] == []


def test_every_relative_link_leads_to_a_file():
    broken = []
    for document in [README, *PAGES]:
        for target in LINK.findall(document.read_text(encoding="utf-8")):
            if not target.startswith(("http://", "https://", "mailto:")) and not (document.parent / target).exists():
                broken.append(f"{document.name}: {target}")
    assert broken == []
