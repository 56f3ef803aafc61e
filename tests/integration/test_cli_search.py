"""`dms search`, `dms searches` and `dms admin reindex` on a real sandbox, as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dms_desktop.sandbox import add_user
from tests.integration.conftest import CliResult, SandboxHome
from tests.support.search import pdf, wait_for

pytestmark = pytest.mark.server


def _search(home: SandboxHome, *argv: str) -> CliResult:
    result = home.dms("search", *argv)
    assert result.code == 0, result.err
    return result


def _found(home: SandboxHome, *argv: str) -> list[str]:
    result = _search(home, "--json", *argv)
    return [hit["filename"] for hit in json.loads(result.out)]


def test_search_finds_by_words_inside_documents_for_their_owner_only(
    fresh_sandbox: SandboxHome, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = fresh_sandbox
    # A word that is only inside the sample meeting notes (signed in as the demo user).
    assert wait_for(lambda: _found(home, "cognito")) == ["meeting-notes.txt"]
    text = _search(home, "cognito").out.splitlines()
    assert "meeting-notes.txt" in text[0]
    assert "[Cognito]" in text[1]

    # A PDF by a word in its text.
    ledger = tmp_path / "ledger.pdf"
    ledger.write_bytes(pdf(["The aardvark ledger for 2026"]))
    assert home.dms("upload", str(ledger), "--tag", "finance").code == 0
    (hit,) = wait_for(lambda: json.loads(_search(home, "aardvark", "--json").out))
    assert hit["filename"] == "ledger.pdf"
    assert hit["snippet"][slice(*hit["snippetMatches"][0])].casefold() == "aardvark"
    assert set(hit) >= {"documentId", "filename", "score", "snippet", "tags", "version"}

    # Fields, phrases given as one shell word, limits.
    assert set(_found(home, "type:pdf", "tag:finance")) == {"ledger.pdf", "quarterly-report.pdf"}
    assert _found(home, "type:pdf", "ledger aardvark") == []  # several words: a phrase again
    assert _found(home, "type:pdf", "ledger for") == ["ledger.pdf"]
    assert _found(home, "ledger aardvark") == ["ledger.pdf"]  # one word: the query as it is
    assert len(_found(home, "size:>0", "--limit", "2")) == 2

    # A second user never finds the first one's documents.
    add_user(home.info, "second", "second-password")
    monkeypatch.setenv("DMS_USERNAME", "second")
    monkeypatch.setenv("DMS_PASSWORD", "second-password")
    for query in ("aardvark", "cognito", "tag:finance", "size:>0", "-tag:none"):
        assert _found(home, "--", query) == [], query
    monkeypatch.delenv("DMS_USERNAME")
    monkeypatch.delenv("DMS_PASSWORD")

    # A deleted document leaves no hit behind.
    assert home.dms("delete", hit["documentId"], "--yes").code == 0
    wait_for(lambda: _found(home, "aardvark") == [])


def test_a_bad_query_points_at_its_bad_part(shared_sandbox: SandboxHome) -> None:
    result = shared_sandbox.dms("search", "report", "created:2026-13-01")
    assert result.code == 3
    lines = result.err.splitlines()
    assert lines[0] == "dms: '2026-13-01' is not a date in the calendar."
    assert lines[1] == "  report created:2026-13-01"
    assert lines[2] == "  " + " " * 15 + "^" * 10


def test_saved_searches_are_kept_listed_run_and_deleted(shared_sandbox: SandboxHome) -> None:
    home = shared_sandbox
    saved = home.dms("search", "--save", "Money", "tag:finance (budget OR report)")
    assert saved.code == 0, saved.err
    assert home.dms("search", "--save", "Broken", "size:huge").code == 3
    listing = home.dms("searches")
    assert listing.out.splitlines() == ["Money  tag:finance (budget OR report)"]
    assert json.loads(home.dms("searches", "--json").out) == [
        {"name": "Money", "query": "tag:finance (budget OR report)"}
    ]
    names = wait_for(lambda: _found(home, "--saved", "Money"))
    assert set(names) == {"budget-2026.csv", "quarterly-report.pdf"}
    assert home.dms("searches", "--delete", "Money").code == 0
    assert home.dms("searches", "--delete", "Money").code == 4
    assert home.dms("search", "--saved", "Money").code == 4


def test_reindex_rebuilds_with_progress_for_admins_only(
    shared_sandbox: SandboxHome, monkeypatch: pytest.MonkeyPatch
) -> None:
    refused = shared_sandbox.dms("admin", "reindex")
    assert refused.code == 6, refused.err
    monkeypatch.setenv("DMS_USERNAME", "admin")
    monkeypatch.setenv("DMS_PASSWORD", "admin-password")
    result = shared_sandbox.dms("admin", "reindex")
    assert result.code == 0, result.err
    assert "Search index rebuilt:" in result.err and "of every user" in result.err
    monkeypatch.delenv("DMS_USERNAME")
    monkeypatch.delenv("DMS_PASSWORD")
    assert wait_for(lambda: _found(shared_sandbox, "cognito")) == ["meeting-notes.txt"]
