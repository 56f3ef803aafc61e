"""The transfers dock over a real TransferQueue (moto in-process)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QItemSelectionModel, Qt
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot

from dms_desktop.core import schema
from dms_desktop.core.blobs import MiB
from dms_desktop.gui.transfer_items import Transfer, TransferKind, TransferState, UploadSpec
from dms_desktop.gui.transfers_panel import (
    BYTES,
    KIND,
    NAME,
    PROGRESS,
    SPEED,
    STATE,
    TIME_LEFT,
    PercentRole,
    TransfersPanel,
    TransferTableModel,
)
from tests.support.aws import USER_ID
from tests.unit.gui.conftest import Cloud, Transfers

TIMEOUT = 20_000


def _panel(qtbot: QtBot, transfers: Transfers) -> TransfersPanel:
    panel = TransfersPanel(transfers.queue)
    qtbot.addWidget(panel)
    panel.show()
    return panel


def _state(panel: TransfersPanel, row: int) -> str:
    return str(panel.model.index(row, STATE).data())


def _select(panel: TransfersPanel, row: int) -> None:
    panel.table.selectionModel().select(
        panel.model.index(row, 0),
        QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows,
    )


def _objects(cloud: Cloud) -> list[str]:
    listing = cloud.s3.list_objects_v2(Bucket=schema.BUCKET_NAME)
    return [item["Key"] for item in listing.get("Contents", [])]


def test_model_passes_the_model_tester_in_every_state(
    qtbot: QtBot,
    transfers: Transfers,
    make_file: Callable[..., Path],
    qtmodeltester: ModelTester,  # last: torn down first, while the model still exists
) -> None:
    queue = transfers.queue
    model = TransferTableModel(queue, queue)
    done = make_file("done.txt", 2000)
    held = make_file("held.bin", 3000)
    transfers.held.names.add(held.name)

    done_id = queue.upload(UploadSpec(done))
    qtbot.waitUntil(lambda: queue.get(done_id).state.finished, timeout=TIMEOUT)
    failed_id = queue.upload(UploadSpec(done.with_name("missing.txt")))
    qtbot.waitUntil(lambda: queue.get(failed_id).state.finished, timeout=TIMEOUT)
    # Both pool threads: one held upload keeps running, so the next ones wait in the queue.
    running_id = queue.upload(UploadSpec(held))
    second_id = queue.upload(UploadSpec(held, folder="again"))
    qtbot.waitUntil(
        lambda: queue.get(running_id).done > 0 and queue.get(second_id).done > 0,
        timeout=TIMEOUT,
    )
    queued_id = queue.upload(UploadSpec(done))
    cancelled_id = queue.upload(UploadSpec(done))
    queue.cancel(cancelled_id)

    states = {
        queue.get(transfer_id).state
        for transfer_id in (done_id, failed_id, running_id, queued_id, cancelled_id)
    }
    # Paused and Interrupted need a journal: test_transfers_resume.py checks them.
    assert states == set(TransferState) - {TransferState.PAUSED, TransferState.INTERRUPTED}
    assert model.rowCount() == 6
    qtmodeltester.check(model, force_py=True)  # type: ignore[no-untyped-call]

    def state(row: int) -> str:
        return str(model.index(row, STATE).data())

    # Unfinished first, in the order they were added; then finished, the last to finish first.
    assert [state(row) for row in range(6)] == [
        "Running",
        "Running",
        "Queued",
        "Cancelled",
        "Failed",
        "Done",
    ]
    assert 0 < model.index(0, PROGRESS).data(PercentRole) <= 100
    assert "does not exist" in str(model.index(4, STATE).data(Qt.ItemDataRole.ToolTipRole))
    assert model.index(5, PROGRESS).data(PercentRole) == 100
    assert model.index(5, KIND).data() == "Upload"

    # The tester stays connected: progress, moves, state changes and removals are checked.
    transfers.held.release_all()
    qtbot.waitUntil(lambda: queue.active_count == 0, timeout=TIMEOUT)
    assert [state(row) for row in range(6)] == [
        "Done",
        "Done",
        "Done",
        "Cancelled",
        "Failed",
        "Done",
    ]
    queue.clear_finished()
    assert model.rowCount() == 0


def test_upload_completes_and_row_shows_done(
    qtbot: QtBot, transfers: Transfers, cloud: Cloud, make_file: Callable[..., Path]
) -> None:
    panel = _panel(qtbot, transfers)
    path = make_file("report.pdf", 4096)
    rows_inserted: list[int] = []
    panel.model.rowsInserted.connect(lambda _parent, first, _last: rows_inserted.append(first))
    with qtbot.waitSignal(transfers.queue.upload_finished, timeout=TIMEOUT) as finished:
        transfers.queue.upload(UploadSpec(path, tags=("Invoices",)))
    assert rows_inserted == [0]  # inserted once, then only updated
    assert panel.model.rowCount() == 1
    assert _state(panel, 0) == "Done"
    assert panel.model.index(0, NAME).data() == "report.pdf"
    assert panel.model.index(0, BYTES).data() == "4.0 KB of 4.0 KB"
    assert finished.args[0].tags == ("Invoices",)
    assert not panel.table.viewport().grab().isNull()  # paints the progress-bar delegate
    assert len(_objects(cloud)) == 1
    assert panel.clear_button.isEnabled()
    assert not panel.cancel_all_button.isEnabled()


def test_cancel_during_a_large_upload_leaves_nothing_behind(
    qtbot: QtBot, transfers: Transfers, cloud: Cloud, make_file: Callable[..., Path]
) -> None:
    panel = _panel(qtbot, transfers)
    path = make_file("big.bin", 12 * MiB)  # multipart: three parts of 5 MiB
    transfers.held.names.add(path.name)
    transfer_id = transfers.queue.upload(UploadSpec(path))
    transfer = transfers.queue.get(transfer_id)
    qtbot.waitUntil(lambda: transfer.done > 0, timeout=TIMEOUT)
    assert _state(panel, 0) == "Running"
    assert not panel.cancel_button.isEnabled()  # nothing selected yet
    _select(panel, 0)
    assert panel.cancel_button.isEnabled()
    assert not panel.retry_button.isEnabled()

    panel.cancel_button.click()
    qtbot.waitUntil(lambda: transfer.state is TransferState.CANCELLED, timeout=TIMEOUT)

    assert _state(panel, 0) == "Cancelled"
    assert _objects(cloud) == []
    uploads = cloud.s3.list_multipart_uploads(Bucket=schema.BUCKET_NAME)
    assert uploads.get("Uploads", []) == []
    assert cloud.dynamodb.scan(TableName=schema.TABLE_NAME)["Count"] == 0
    assert panel.retry_button.isEnabled()
    assert not panel.cancel_button.isEnabled()
    assert cloud.service.user_id == USER_ID


def test_retry_requeues_a_failed_upload(
    qtbot: QtBot, transfers: Transfers, cloud: Cloud, tmp_path: Path
) -> None:
    panel = _panel(qtbot, transfers)
    path = tmp_path / "later.txt"  # does not exist yet: the first attempt fails
    with qtbot.waitSignal(transfers.queue.transfer_failed, timeout=TIMEOUT):
        transfers.queue.upload(UploadSpec(path))
    assert _state(panel, 0) == "Failed"
    tooltip = panel.model.index(0, STATE).data(Qt.ItemDataRole.ToolTipRole)
    assert "does not exist" in tooltip
    _select(panel, 0)
    assert panel.retry_button.isEnabled()

    path.write_bytes(b"x" * 5000)
    with qtbot.waitSignal(transfers.queue.upload_finished, timeout=TIMEOUT):
        panel.retry_button.click()

    assert panel.model.rowCount() == 1  # the failed row was replaced, not kept
    assert _state(panel, 0) == "Done"
    (transfer,) = transfers.queue.transfers()
    assert transfer.total == 5000  # measured again (the first attempt saw no file)
    assert panel.model.index(0, PROGRESS).data(PercentRole) == 100
    assert len(_objects(cloud)) == 1


def test_cancel_all_cancels_queued_and_running(
    qtbot: QtBot, transfers: Transfers, cloud: Cloud, make_file: Callable[..., Path]
) -> None:
    panel = _panel(qtbot, transfers)
    held = make_file("held.bin", 2000)
    transfers.held.names.add(held.name)
    ids = [transfers.queue.upload(UploadSpec(held, folder=f"f{n}")) for n in range(3)]
    qtbot.waitUntil(
        lambda: transfers.queue.get(ids[1]).state is TransferState.RUNNING, timeout=TIMEOUT
    )
    assert panel.cancel_all_button.isEnabled()
    panel.cancel_all_button.click()
    qtbot.waitUntil(lambda: transfers.queue.active_count == 0, timeout=TIMEOUT)
    assert [_state(panel, row) for row in range(3)] == ["Cancelled"] * 3
    assert not panel.cancel_all_button.isEnabled()
    assert _objects(cloud) == []


def test_a_new_transfer_shows_above_the_finished_ones_and_in_view(
    qtbot: QtBot, transfers: Transfers, make_file: Callable[..., Path]
) -> None:
    """Issue 19 item 6: new transfers were added below the finished ones, out of view."""
    panel = _panel(qtbot, transfers)
    panel.resize(800, 240)
    queue = transfers.queue
    small = make_file("small.txt", 100)
    for number in range(25):
        queue.upload(UploadSpec(small, folder=f"f{number}"))
    qtbot.waitUntil(lambda: queue.active_count == 0, timeout=TIMEOUT)
    table = panel.table
    table.scrollToBottom()

    held = make_file("new.bin", 3000)
    transfers.held.names.add(held.name)
    new_id = queue.upload(UploadSpec(held))
    qtbot.waitUntil(lambda: queue.get(new_id).done > 0, timeout=TIMEOUT)

    row = panel.model.row_of(new_id)
    assert row == 0
    assert all(_state(panel, other) == "Done" for other in range(1, 26))
    cell = table.visualRect(panel.model.index(row, NAME))
    assert table.viewport().rect().contains(cell), "the new transfer is out of view"


def test_a_running_transfer_whose_bytes_are_all_sent_shows_no_time_left(tmp_path: Path) -> None:
    """All parts sent, the upload still completing: it showed "0s" for as long as that took."""
    transfer = Transfer(1, TransferKind.UPLOAD, "big.bin", UploadSpec(tmp_path / "big.bin"), 100)
    transfer.state = TransferState.RUNNING
    transfer.rate.update(60, 0.0)
    transfer.rate.update(100, 0.2)  # the last parts went at once, within the first second

    assert transfer.seconds_left is None
    transfer.rate.update(100, 2.0)
    assert transfer.seconds_left is None  # still finishing: no estimate rather than 0s


def test_no_speed_or_time_left_is_guessed_before_bytes_moved_for_a_second(
    qtbot: QtBot, transfers: Transfers, make_file: Callable[..., Path]
) -> None:
    """Issue 19 item 6: the first estimate was wildly off (1m27s left for a 1 s transfer)."""
    panel = _panel(qtbot, transfers)
    path = make_file("big.bin", 12 * MiB)
    transfers.held.names.add(path.name)  # stops after its first progress report
    transfer_id = transfers.queue.upload(UploadSpec(path))
    transfer = transfers.queue.get(transfer_id)
    qtbot.waitUntil(lambda: transfer.done > 0, timeout=TIMEOUT)
    assert _state(panel, 0) == "Running"
    assert panel.model.index(0, SPEED).data() == ""
    assert panel.model.index(0, TIME_LEFT).data() == ""
