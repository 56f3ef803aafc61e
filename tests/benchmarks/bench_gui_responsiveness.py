"""Benchmark 1: GUI responsiveness: how long the GUI thread stalls while the window works.

    python -m tests.benchmarks.bench_gui_responsiveness [--quick]

The real window on a sandbox of its own with 6,000 documents (quick: 1,500), signed in with a
remembered session. A 5 ms heartbeat timer on the GUI thread records how late each tick comes
(a late tick is time the window could not react) while: scrolling through 50 pages (quick: 10),
sorting by each sortable column, searching (typed key by key; the results come from the search
index), uploading a 1 GB file (quick: 64 MB), downloading it, adding a tag to 1,000 documents
(quick: 200) selected in the list (Edit Tags of Selected: batched) and deleting them (Delete
moves them to the trash: batched, Undo restores them).
Target (issue 7): p99 <= 16 ms and max <= 50 ms in every scenario. Each scenario also prints
its stalls less the time the GUI thread spent waiting for a CPU (Linux's run-queue time): on a
busy machine that part is the other processes', not the app's. Its worst stalls are broken down
into that wait, the GUI thread's running time, and the rest (blocked), with the time the virtual
machine's host took the CPUs away meanwhile (steal), which the guest counts as blocked.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable

from PySide6.QtCore import QItemSelection, QItemSelectionModel, Qt
from PySide6.QtWidgets import QMessageBox

from dms_desktop.core.search.embedded import EmbeddedIndex
from dms_desktop.gui.app import DesktopApp
from dms_desktop.gui.document_model import COLUMN_SORTS
from dms_desktop.gui.transfer_items import DownloadSpec, UploadSpec
from dms_desktop.sandbox import DEMO_USER
from dms_desktop.sandbox.search_host import search_index_dir
from tests.benchmarks.common import (
    SEARCH_WORD,
    MiB,
    Result,
    bench_sandbox,
    run_main,
    seed,
    work_folder,
    write_test_file,
)
from tests.benchmarks.gui_support import (
    Heartbeat,
    application,
    close,
    remember_session,
    wait_until,
)

P99_MS, MAX_MS = 16.0, 50.0
RETAG = "benchmarked"


def run(quick: bool) -> Result:
    result = Result("1 GUI responsiveness")
    documents, pages, big_mib, deletions = (1500, 10, 64, 200) if quick else (6000, 50, 1024, 1000)
    app = application()
    assert app is not None
    work = work_folder("dms-bench-gui-")
    worst: list[tuple[str, float, float]] = []
    try:
        with bench_sandbox() as sandbox:
            user = sandbox.sign_in(DEMO_USER)
            seconds = seed(sandbox, user.user_id, documents)
            print(f"seeded {documents:,} documents in {seconds:.1f} s", flush=True)
            big = write_test_file(work / "big-file.bin", big_mib * MiB)
            remember_session(sandbox, *DEMO_USER)
            sandbox.wait_until_saved()

            desktop = DesktopApp(sandbox.paths)
            window, model = desktop.window, desktop.window.model
            QMessageBox.warning = lambda *args, **kwargs: QMessageBox.StandardButton.Yes  # type: ignore[method-assign,assignment]
            desktop.start()
            wait_until(lambda: model.rowCount() > 0 and not model.is_loading)
            heartbeat = Heartbeat()

            def scenario(name: str, action: Callable[[], None]) -> None:
                sandbox.wait_until_saved()
                heartbeat.start()
                action()
                heartbeat.stop()
                p99, maximum = heartbeat.summary()
                ok = p99 <= P99_MS and maximum <= MAX_MS
                result.add(
                    f"{name}: p99 / max stall",
                    p99,
                    f"ms p99, max {maximum:.0f} ms ({len(heartbeat.stalls)} ticks)",
                    f"p99 <= {P99_MS:.0f} ms, max <= {MAX_MS:.0f} ms",
                    ok,
                )
                own_p99, own_maximum = heartbeat.own_summary()
                result.add(
                    f"{name}: the same, less the GUI thread's waits for a CPU",
                    own_p99,
                    f"ms p99, max {own_maximum:.0f} ms; worst stalls in ms (waiting for a CPU / "
                    f"running / blocked; the host's steal meanwhile): "
                    f"{heartbeat.worst_breakdowns()}",
                )
                worst.append((name, p99, maximum))

            def load_pages(count: int) -> None:
                for _ in range(count):
                    if not model.canFetchMore():
                        break
                    rows = model.rowCount()
                    window.table.scrollToBottom()
                    if model.canFetchMore():
                        model.fetchMore()
                    wait_until(lambda: model.rowCount() > rows and not model.is_loading)  # noqa: B023

            scenario(f"scrolling through {pages} pages", lambda: load_pages(pages))

            def sort_by_each_column() -> None:
                header = window.table.horizontalHeader()
                for column in COLUMN_SORTS:
                    header.setSortIndicator(column, Qt.SortOrder.AscendingOrder)
                    wait_until(lambda: not model.is_loading and model.rowCount() > 0)

            scenario(f"sorting by each of {len(COLUMN_SORTS)} columns", sort_by_each_column)

            # Search reads the sandbox's index, which follows the table's stream: wait until it
            # has the seeded documents (the index's own work is not the window's to measure).
            index = EmbeddedIndex(search_index_dir(sandbox.paths.sandbox_dir))
            wait_until(lambda: len(index.document_ids(user.user_id)) >= documents, timeout=1800)
            results = window.search_results.model

            def search() -> None:
                for length in range(1, len(SEARCH_WORD) + 1):
                    window.search_edit.setText(SEARCH_WORD[:length])
                    app.processEvents()
                wait_until(
                    lambda: (
                        results.rowCount() > 0
                        and all(
                            SEARCH_WORD in results.hit_at(row).document.filename
                            for row in range(results.rowCount())
                        )
                    )
                )

            scenario("searching (names and contents), typed key by key", search)
            window.search_edit.setText("")
            window.table.horizontalHeader().setSortIndicator(4, Qt.SortOrder.DescendingOrder)
            wait_until(lambda: model.query.text is None and not model.is_loading)

            uploaded: list[object] = []
            desktop.transfers.upload_finished.connect(uploaded.append)

            def upload() -> None:
                window.uploads.upload([UploadSpec(big)])
                wait_until(lambda: bool(uploaded), timeout=1800)

            label = f"{big_mib} MB" if big_mib < 1024 else "1 GB"
            scenario(f"uploading a {label} file", upload)
            downloaded: list[object] = []
            desktop.transfers.download_finished.connect(downloaded.append)

            def download() -> None:
                document = uploaded[0]
                desktop.transfers.download(DownloadSpec(document, work / "downloaded.bin"))  # type: ignore[arg-type]
                wait_until(lambda: bool(downloaded), timeout=1800)

            scenario(f"downloading the {label} file", download)
            (work / "downloaded.bin").unlink(missing_ok=True)
            failed = [t for t in desktop.transfers.transfers() if t.error]
            assert not failed, [t.error for t in failed]

            load_pages(deletions // 100 + 1)
            before = model.rowCount()

            def select_first_rows() -> None:
                selection = QItemSelection(model.index(0, 0), model.index(deletions - 1, 0))
                window.table.selectionModel().select(
                    selection,
                    QItemSelectionModel.SelectionFlag.ClearAndSelect
                    | QItemSelectionModel.SelectionFlag.Rows,
                )

            def retag() -> None:
                select_first_rows()
                window.edit_tags_action.trigger()
                dialog = window.lifecycle.bulk_tag_dialog
                assert dialog is not None
                dialog.add_edit.setText(RETAG)
                dialog.apply_button.click()
                # A cheap condition: it is checked every 2 ms on the GUI thread, and making the
                # list's 6,000 Documents to count the tags (as this did) stalled it ~20 ms a time.
                wait_until(lambda: window.lifecycle.retagging is None, timeout=1800)
                rows = range(model.rowCount())
                assert sum(RETAG in model.row_at(row).tags for row in rows) == deletions

            scenario(f"adding a tag to {deletions:,} selected documents", retag)
            assert "changed meanwhile" not in desktop.message_bar.text, desktop.message_bar.text

            def delete() -> None:
                select_first_rows()
                window.delete_action.trigger()
                wait_until(lambda: model.rowCount() == before - deletions, timeout=1800)
                wait_until(lambda: not desktop.operations.busy, timeout=600)

            scenario(f"deleting {deletions:,} documents (Delete: to the trash)", delete)
            close(desktop)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    name, _p99, maximum = max(worst, key=lambda item: item[2])
    result.summary = (
        f"worst p99 {max(item[1] for item in worst):.0f} ms; worst max {maximum:.0f} ms ({name})"
    )
    return result


if __name__ == "__main__":
    run_main(run, __doc__.splitlines()[0])
