"""Every relative link in the README and the docs leads to a file that exists, and to its heading.

Links are checked as GitHub renders them: a link is relative to the page it is on, and an anchor
(``page.md#some-heading``) is a heading's slug (lower case, punctuation dropped, spaces to
hyphens, ``-1``, ``-2`` for repeats) or an explicit ``<a id="...">``. Links inside code are not
links. Web addresses are not fetched.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

# Pages linked to before they are written: a link to one of these may point nowhere until the page
# lands; once it exists, its links and anchors are checked like any. Keep it empty on main.
PENDING_PAGES: set[str] = set()

_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,}).*?^ {0,3}\1[`~]*[ \t]*$", re.MULTILINE | re.DOTALL)
_CODE_SPAN = re.compile(r"(`+)(?!`).+?(?<!`)\1(?!`)", re.DOTALL)
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_INLINE_LINK = re.compile(r"\]\(\s*<?([^)\s>]*)>?(?:\s+(?:\"[^\"]*\"|'[^']*'))?\s*\)")
_REFERENCE = re.compile(r"^ {0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)", re.MULTILINE)
_HTML_LINK = re.compile(r"<(?:a|img)\b[^>]*?\b(?:href|src)=[\"']([^\"']+)[\"']", re.IGNORECASE)
_HTML_ANCHOR = re.compile(r"<a\b[^>]*?\b(?:id|name)=[\"']([^\"']+)[\"']", re.IGNORECASE)
_HEADING = re.compile(r"^ {0,3}#{1,6}[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$", re.MULTILINE)
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:|^//")


def documentation_pages(root: Path = REPO) -> list[Path]:
    """The README and every Markdown page under docs/ and tests/ (benchmark results)."""
    pages = [root / "README.md"]
    for folder in ("docs", "tests"):
        pages += sorted((root / folder).rglob("*.md"))
    return [page for page in pages if page.is_file()]


def _without_code(text: str) -> str:
    text = _FENCE.sub("", text)
    text = _COMMENT.sub("", text)
    return _CODE_SPAN.sub("", text)


def links_of(text: str) -> list[str]:
    """Every link target on a Markdown page, in order, code and comments left out."""
    prose = _without_code(text)
    found = [(match.start(), match.group(1)) for match in _INLINE_LINK.finditer(prose)]
    found += [(match.start(), match.group(1)) for match in _REFERENCE.finditer(prose)]
    found += [(match.start(), match.group(1)) for match in _HTML_LINK.finditer(prose)]
    return [target for _, target in sorted(found)]


def _slug(heading: str) -> str:
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link shows its text
    text = re.sub(r"<[^>]+>", "", text).replace("`", "")
    return re.sub(r"[^\w\- ]", "", text.strip().lower()).replace(" ", "-")


def anchors_of(text: str) -> set[str]:
    """The anchors GitHub gives a page: one per heading (repeats numbered), and explicit ids."""
    without_fences = _COMMENT.sub("", _FENCE.sub("", text))
    anchors: set[str] = set()
    seen: dict[str, int] = {}
    for match in _HEADING.finditer(without_fences):
        slug = _slug(match.group(1))
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        anchors.add(slug if count == 0 else f"{slug}-{count}")
    anchors.update(_HTML_ANCHOR.findall(without_fences))
    return anchors


def broken_links(
    page: Path, root: Path = REPO, pending: frozenset[str] | set[str] = PENDING_PAGES
) -> list[str]:
    """What is wrong with each relative link on ``page``: a missing file, or a missing anchor.

    A missing page named in ``pending`` (relative to ``root``) is not reported.
    """
    problems = []
    for target in links_of(page.read_text(encoding="utf-8")):
        if not target or _SCHEME.match(target):
            continue
        path_part, _, anchor = target.partition("#")
        linked = (page.parent / path_part).resolve() if path_part else page
        if not linked.exists():
            try:
                name = linked.relative_to(root).as_posix()
            except ValueError:
                name = str(linked)
            if name not in pending:
                problems.append(f"{target}: {name} does not exist")
            continue
        checkable = anchor and linked.suffix == ".md" and linked.is_file()
        if checkable and anchor not in anchors_of(linked.read_text(encoding="utf-8")):
            problems.append(f"{target}: {linked.name} has no heading or id #{anchor}")
    return problems


@pytest.mark.parametrize(
    "page", documentation_pages(), ids=lambda page: page.relative_to(REPO).as_posix()
)
def test_every_relative_link_leads_somewhere(page: Path) -> None:
    assert broken_links(page) == []


def test_the_readme_links_into_docs() -> None:
    linked = set(links_of((REPO / "README.md").read_text(encoding="utf-8")))
    for page in (
        "docs/user-guide.md",
        "docs/operations.md",
        "docs/architecture.md",
        "docs/nothing-lost.md",
        "docs/limits.md",
        "tests/benchmarks/RESULTS.md",
        "docs/cli.md",
        "docs/admin.md",
        "docs/sandbox.md",
        "docs/durability.md",
    ):
        assert page in linked


def test_a_missing_page_and_a_missing_heading_are_found(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "guide.md").write_text(
        "# Guide\n\n## The `dms` command: basics\n\n## Repeat\n\n## Repeat\n\n"
        '<a id="kept"></a>\n\n```\n## Not a heading\n```\n'
    )
    page = tmp_path / "README.md"
    page.write_text(
        "See [the guide](docs/guide.md#the-dms-command-basics), [again](docs/guide.md#repeat-1),\n"
        "[kept](docs/guide.md#kept), [web](https://example.com/x.md) and `[code](nowhere.md)`.\n"
        "Broken: [gone](docs/gone.md), [no heading](docs/guide.md#not-a-heading),\n"
        "[no repeat](docs/guide.md#repeat-2), [here](#guide) and [pending](docs/cli.md).\n"
        "\n```sh\n[in a block](block.md)\n```\n\n[ref]: docs/also-gone.md\n"
    )
    assert broken_links(page, root=tmp_path, pending={"docs/cli.md"}) == [
        "docs/gone.md: docs/gone.md does not exist",
        "docs/guide.md#not-a-heading: guide.md has no heading or id #not-a-heading",
        "docs/guide.md#repeat-2: guide.md has no heading or id #repeat-2",
        "#guide: README.md has no heading or id #guide",
        "docs/also-gone.md: docs/also-gone.md does not exist",
    ]
