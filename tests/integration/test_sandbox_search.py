"""Search in the sandbox: the stream poller indexes what the app stores, for its owner only,
and neither forces checkpoints nor makes the saved state grow with every write."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from dms_desktop.connect import open_backend, open_service, sign_in
from dms_desktop.core.listing import ListQuery
from dms_desktop.core.paths import AppPaths
from dms_desktop.core.search.embedded import EmbeddedIndex
from dms_desktop.core.search.query import parse_query
from dms_desktop.core.service import DocumentService
from dms_desktop.sandbox import add_user, connect_or_start, stop
from dms_desktop.sandbox.control import health
from dms_desktop.sandbox.info import DEMO_USER, STATE_FILE
from dms_desktop.sandbox.search_host import search_index_dir
from tests.integration.conftest import SandboxHome
from tests.integration.test_sandbox_crashes import _free_port as free_port
from tests.support.search import pdf, wait_for

pytestmark = pytest.mark.server


def _service(home: SandboxHome, username: str, password: str) -> DocumentService:
    backend = open_backend(home.paths)
    return open_service(backend, sign_in(backend, username, password))


def _names(index: EmbeddedIndex, user_id: str, query: str) -> list[str]:
    return [hit.name.text for hit in index.search(user_id, parse_query(query))]


def test_samples_uploads_and_deletes_are_searched_for_their_owner_only(
    fresh_sandbox: SandboxHome, tmp_path: Path
) -> None:
    demo = _service(fresh_sandbox, *DEMO_USER)
    add_user(fresh_sandbox.info, "second", "second-password")
    second = _service(fresh_sandbox, "second", "second-password")
    index = EmbeddedIndex(search_index_dir(fresh_sandbox.paths.sandbox_dir))

    # A word only inside the sample meeting notes.
    assert wait_for(lambda: _names(index, demo.user_id, "cognito")) == ["meeting-notes.txt"]

    # A PDF by a word in its text, searchable soon after its upload.
    source = tmp_path / "ledger.pdf"
    source.write_bytes(pdf(["The aardvark ledger for 2026"]))
    uploaded = demo.upload(source, tags=["finance"])
    found = wait_for(lambda: demo_hits(index, demo.user_id, "aardvark"))
    assert [hit.document_id for hit in found] == [uploaded.document_id]
    assert "[aardvark]" in found[0].snippet.marked()

    # The second user finds their own document, never the demo user's.
    mine = tmp_path / "notes.txt"
    mine.write_text("aardvark sightings by the second user")
    theirs = second.upload(mine)
    wait_for(lambda: _names(index, second.user_id, "sightings"))
    for query in ("aardvark", "cognito", "tag:finance", "type:pdf", "size:>0"):
        assert {h.document_id for h in index.search(second.user_id, parse_query(query))} <= {
            theirs.document_id
        }, query
    assert _names(index, second.user_id, "aardvark") == ["notes.txt"]

    # A deleted document leaves no hit behind.
    demo.delete(uploaded.document_id)
    wait_for(lambda: not _names(index, demo.user_id, "aardvark"))
    assert _names(index, demo.user_id, "name:ledger") == []


def demo_hits(index: EmbeddedIndex, user_id: str, query: str) -> list:  # type: ignore[type-arg]
    return index.search(user_id, parse_query(query))


def test_an_upload_is_searchable_within_two_seconds(
    fresh_sandbox: SandboxHome, tmp_path: Path
) -> None:
    demo = _service(fresh_sandbox, *DEMO_USER)
    index = EmbeddedIndex(search_index_dir(fresh_sandbox.paths.sandbox_dir))
    delays = []
    for number in range(5):
        source = tmp_path / f"note-{number}.txt"
        source.write_text(f"the word quokka{number} is inside")
        demo.upload(source)
        uploaded = time.monotonic()
        wait_for(lambda n=number: _names(index, demo.user_id, f"quokka{n}"), timeout=10)
        delays.append(time.monotonic() - uploaded)
    assert sorted(delays)[len(delays) // 2] <= 2.0, delays


def test_polling_the_stream_forces_no_checkpoint_and_the_state_does_not_grow(
    tmp_path: Path,
) -> None:
    port = free_port()  # the same after the restart: the app's clients keep their endpoint
    paths = AppPaths.resolve(tmp_path / "home")
    home = SandboxHome(tmp_path / "home", connect_or_start(paths, port=port))
    try:
        demo = _service(home, *DEMO_USER)
        index = EmbeddedIndex(search_index_dir(home.paths.sandbox_dir))
        (document,) = [d for d in demo.iter_documents(ListQuery()) if d.filename == "welcome.md"]
        wait_for(lambda: _names(index, demo.user_id, "name:welcome"))
        stop(home.paths)
        small = (home.paths.sandbox_dir / STATE_FILE).stat().st_size

        home.info = connect_or_start(paths, port=port)
        tags = [f"tag-{number:02d}-{'x' * 40}" for number in range(40)]
        for number in range(150):
            document = demo.retag(document.document_id, add=[tags[number % 40]])
            if number % 7 == 0:
                demo.retag(document.document_id, remove=list(document.tags))
                document = demo.get(document.document_id)
        version = document.version
        wait_for(
            lambda: (
                [h.version for h in index.search(demo.user_id, parse_query("name:welcome"))]
                == [version]
            )
        )
        # The poller has read everything: the sandbox is idle, and nothing it did since made
        # the state dirty (a checkpoint would follow).
        status = health(home.info)
        assert status is not None
        generation = status["generation"]
        wait_for(
            lambda: (health(home.info) or {}).get("saved_generation") == generation,
            timeout=30,
            what="the checkpoint",
        )
        time.sleep(1.0)  # several polls of the stream with nothing new: none may change state
        status = health(home.info)
        assert status is not None and status["generation"] == generation
        stop(home.paths)
        grown = (home.paths.sandbox_dir / STATE_FILE).stat().st_size - small
        # 150+ changes of a 2 KB item left in the stream would add several hundred KB.
        assert grown < 64 * 1024, grown
    finally:
        stop(home.paths)
