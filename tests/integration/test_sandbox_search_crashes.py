"""The sandbox killed with SIGKILL while it indexes: after each restart the index catches up,
with no entry lost, none duplicated and none of a document that is gone."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from dms_desktop.connect import open_backend, open_service, sign_in
from dms_desktop.core.listing import ListQuery
from dms_desktop.core.paths import AppPaths
from dms_desktop.core.search.embedded import EmbeddedIndex
from dms_desktop.core.search.query import parse_query
from dms_desktop.sandbox import add_user, connect_or_start, stop
from dms_desktop.sandbox.search_host import search_index_dir
from tests.integration.test_sandbox_crashes import _free_port, kill_9
from tests.support.search import wait_for

pytestmark = [
    pytest.mark.server,
    pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL"),
]

USER, PASSWORD = "indexed", "indexed-password"
ROUNDS = 4
PER_ROUND = 6
FILLER = " ".join(f"filler{number}" for number in range(6000))  # some reading for the indexer


def test_kill_9_during_indexing_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    port = _free_port()
    paths = AppPaths.resolve(tmp_path / "home")
    info = connect_or_start(paths, port=port)
    try:
        add_user(info, USER, PASSWORD)
        backend = open_backend(paths)
        service = open_service(backend, sign_in(backend, USER, PASSWORD))
        words: dict[str, str] = {}  # document id -> the one word only its text has
        removed: list[str] = []  # words of deleted documents
        for round_number in range(ROUNDS):
            for number in range(PER_ROUND):
                word = f"marker{round_number}x{number}"
                source = tmp_path / f"{word}.txt"
                source.write_text(f"{word} {FILLER}")
                words[service.upload(source).document_id] = word
            ids = sorted(words)
            renamed = service.rename(ids[round_number], f"renamed-{round_number}.txt")
            gone = ids[-1 - round_number]
            service.delete(gone)
            removed.append(words.pop(gone))
            kill_9(info)  # right after the last answer: the indexer is still reading
            info = connect_or_start(paths, port=port)

        index = EmbeddedIndex(search_index_dir(paths.sandbox_dir))
        listed = {document.document_id for document in service.iter_documents(ListQuery())}
        assert listed == set(words)

        def caught_up() -> bool:
            ids = index.document_ids(service.user_id)
            return ids == {(service.user_id, document_id) for document_id in listed}

        wait_for(caught_up, timeout=60)
        for document_id, word in words.items():
            hits = index.search(service.user_id, parse_query(word))
            assert [hit.document_id for hit in hits] == [document_id], word
        for word in removed:
            assert index.search(service.user_id, parse_query(word)) == [], word
        assert [h.document_id for h in index.search(service.user_id, parse_query("name:renamed"))]
        assert renamed.document_id in {
            h.document_id for h in index.search(service.user_id, parse_query("name:renamed"))
        }
    finally:
        stop(paths)
