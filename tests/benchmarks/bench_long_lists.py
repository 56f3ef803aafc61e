"""Benchmark 3: long lists: 100,000 rows in the window's table, from an in-memory page source.

    python -m tests.benchmarks.bench_long_lists [--quick]

The window's document model and table view, fed by a page source in memory (so only the app's own
cost is measured, not the backend's): pages of 100 documents, each parsed from a DynamoDB item as
the repository does, are appended as the view scrolls to the bottom, up to 100,000 rows. Measured:
the process's resident memory (target <= 300 MB) and per row (target <= 1 KB), the cost per page
(the model taking the page + the view repainting), which must stay flat: the median of the last
tenth of the pages against the first tenth (target <= 1.5x).
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from typing import Any, TypeVar

from PySide6.QtCore import QEvent, QTimer
from PySide6.QtWidgets import QApplication, QTableView

from dms_desktop.core.errors import DmsError
from dms_desktop.core.listing import ListQuery, Page
from dms_desktop.core.paths import AppPaths
from dms_desktop.core.repository import from_item, to_item
from dms_desktop.gui.document_model import DocumentTableModel
from dms_desktop.gui.operations import (
    Account,
    Lane,
    Operation,
    OperationFunction,
    OperationRequest,
    UserServices,
    run_function,
)
from tests.benchmarks.common import Result, make_documents, median, rss_mb, run_main
from tests.benchmarks.gui_support import application, wait_until

T = TypeVar("T")
USER_ID = "us-east-1:11111111-2222-3333-4444-555555555555"
PAGE = 100


class MemoryPages:
    """The service's ``list_page``, from memory: each page freshly parsed from items."""

    def __init__(self, total: int) -> None:
        self.total = total

    def list_page(self, query: ListQuery, cursor: str | None = None) -> Page:
        start = int(cursor or 0)
        count = min(query.page_size, self.total - start)
        items = [to_item(doc) for doc in make_documents(USER_ID, count, start=start)]
        documents = [from_item(item) for item in items]
        end = start + count
        return Page(documents, str(end) if end < self.total else None)


class MemoryOperations:
    """``Operations`` without the lanes: the operation runs from the event loop (untimed), its
    result is delivered from the event loop like a lane's reply, and the delivery is timed."""

    def __init__(self, pages: MemoryPages) -> None:
        # Not remembered (as a fresh Account): no list is kept for the next start.
        self.account = Account(AppPaths.resolve("/nonexistent/dms-bench-home"))
        self._services = UserServices(lambda _account: pages)  # type: ignore[arg-type,return-value]
        self.deliveries: list[float] = []
        self.after_delivery: Callable[[], None] | None = None

    def fast(self, function: OperationFunction[T], success: Any = None) -> Operation[T]:
        return Operation(self, Lane.FAST, function, success)

    def report_error(self, error: DmsError) -> None:
        raise error

    def _start(self, operation: Operation[object]) -> None:
        request = OperationRequest(0, operation.function, self.account, operation.cancel_token)

        def fetch() -> None:  # untimed: stands in for the lane's thread
            ok, outcome = run_function(request, self._services, operation.deliver_progress)
            QTimer.singleShot(0, lambda: deliver(ok, outcome))

        def deliver(ok: bool, outcome: Any) -> None:
            started = time.perf_counter()
            if ok:
                operation.deliver_success(outcome)
            else:
                operation.deliver_failure(outcome, self.report_error)
            if self.after_delivery is not None:
                self.after_delivery()
            self.deliveries.append(time.perf_counter() - started)

        QTimer.singleShot(0, fetch)


def run(quick: bool) -> Result:
    result = Result("3 long lists")
    total = 20_000 if quick else 100_000
    application()
    gc.collect()
    backend = MemoryOperations(MemoryPages(total))
    model = DocumentTableModel(backend, page_size=PAGE)  # type: ignore[arg-type]
    view = QTableView()
    view.setModel(model)
    view.resize(1200, 800)
    view.show()

    def scroll_and_paint() -> None:
        view.scrollToBottom()
        view.viewport().repaint()

    backend.after_delivery = scroll_and_paint
    wait_until(lambda: view.isVisible())
    gc.collect()
    baseline = rss_mb()
    model.reload()
    memory_points: list[tuple[int, float]] = []
    next_point = total // 10
    while True:
        wait_until(lambda: not model.is_loading)
        if model.rowCount() >= next_point:
            memory_points.append((model.rowCount(), rss_mb()))
            next_point += total // 10
        if not model.canFetchMore():
            break
        model.fetchMore()
    gc.collect()
    final = rss_mb()
    rows = model.rowCount()
    assert rows == total, rows
    for count, rss in memory_points:
        print(f"  {count:>7,} rows: RSS {rss:.0f} MB", flush=True)
    per_row = (final - baseline) * 1024 * 1024 / rows
    tenth = max(1, len(backend.deliveries) // 10)
    first = median(backend.deliveries[1 : tenth + 1])  # the very first page also lays out columns
    last = median(backend.deliveries[-tenth:])
    result.add("rows loaded", rows, "rows")
    result.add("process RSS before the first row", baseline, "MB")
    result.add(f"process RSS at {rows:,} rows", final, "MB", "<= 300 MB", final <= 300)
    result.add("memory per row", per_row, "bytes", "<= 1,024 bytes", per_row <= 1024)
    result.add("cost per page, first tenth (median)", first * 1000, "ms")
    result.add("cost per page, last tenth (median)", last * 1000, "ms")
    result.add(
        "per-page cost growth, last/first", last / first, "x", "<= 1.5x", last / first <= 1.5
    )
    # Tear down in order (view, then model) before Python's exit does it in any order.
    view.close()
    view.setModel(None)  # type: ignore[arg-type]
    backend.after_delivery = None
    view.deleteLater()
    model.deleteLater()
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    result.summary = (
        f"{rows:,} rows: {final:.0f} MB RSS, {per_row:.0f} B/row, page {first * 1000:.1f} -> "
        f"{last * 1000:.1f} ms"
    )
    return result


if __name__ == "__main__":
    run_main(run, __doc__.splitlines()[0])
