"""Pause, Resume and Discard in the transfers dock, over a journaled service (moto in-process):
a paused upload keeps its multipart upload and parts, Resume completes it in the same row, and
Discard aborts it; transfers interrupted before the start show as Interrupted."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QItemSelectionModel
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot

from dms_desktop.core import schema
from dms_desktop.core.blobs import BlobStore, MiB, TransferSettings
from dms_desktop.core.journal import Journal
from dms_desktop.core.repository import DocumentRepository
from dms_desktop.core.service import DocumentService
from dms_desktop.gui.transfer_items import TransferState, UploadSpec
from dms_desktop.gui.transfers import TransferQueue
from dms_desktop.gui.transfers_panel import STATE, TransfersPanel, TransferTableModel
from tests.support.aws import USER_ID
from tests.unit.gui.conftest import Cloud, HeldUploads, Transfers

TIMEOUT = 20_000


@pytest.fixture
def journaled(cloud: Cloud, tmp_path: Path) -> Iterator[Transfers]:
    """A queue over a service that keeps interrupted transfers in a journal."""
    settings = TransferSettings(multipart_threshold=5 * MiB, part_size=5 * MiB, concurrency=2)
    service = DocumentService(
        DocumentRepository(cloud.dynamodb, schema.TABLE_NAME),
        BlobStore(cloud.s3, schema.BUCKET_NAME, settings),
        USER_ID,
        Journal(tmp_path / "journal"),
    )
    held = HeldUploads(service)
    queue = TransferQueue(lambda: held)  # type: ignore[arg-type, return-value]
    yield Transfers(queue, held)
    held.release_all()
    queue.shutdown()


def _panel(qtbot: QtBot, queue: TransferQueue) -> TransfersPanel:
    panel = TransfersPanel(queue)
    qtbot.addWidget(panel)
    panel.show()
    return panel


def _select(panel: TransfersPanel, row: int) -> None:
    panel.table.selectionModel().select(
        panel.model.index(row, 0),
        QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows,
    )


def _state(panel: TransfersPanel, row: int = 0) -> str:
    return str(panel.model.index(row, STATE).data())


def _multipart_uploads(cloud: Cloud) -> list[object]:
    listed = cloud.s3.list_multipart_uploads(Bucket=schema.BUCKET_NAME)
    return list(listed.get("Uploads", []))


def _paused_upload(qtbot: QtBot, journaled: Transfers, panel: TransfersPanel, path: Path) -> int:
    journaled.held.names.add(path.name)
    transfer_id = journaled.queue.upload(UploadSpec(path))
    transfer = journaled.queue.get(transfer_id)
    qtbot.waitUntil(lambda: transfer.done > 0, timeout=TIMEOUT)
    _select(panel, 0)
    assert panel.pause_button.isEnabled() and not panel.resume_button.isEnabled()
    panel.pause_button.click()
    qtbot.waitUntil(lambda: transfer.state is TransferState.PAUSED, timeout=TIMEOUT)
    return transfer_id


def test_pause_keeps_the_upload_and_resume_completes_it_in_the_same_row(
    qtbot: QtBot, journaled: Transfers, cloud: Cloud, make_file: Callable[..., Path]
) -> None:
    panel = _panel(qtbot, journaled.queue)
    path = make_file("big.bin", 17 * MiB)  # four parts of 5 MiB
    transfer_id = _paused_upload(qtbot, journaled, panel, path)

    assert _state(panel) == "Paused"
    assert len(_multipart_uploads(cloud)) == 1  # kept, with its parts, for the resume
    assert cloud.dynamodb.scan(TableName=schema.TABLE_NAME)["Count"] == 0
    assert panel.resume_button.isEnabled() and panel.discard_button.isEnabled()
    assert not panel.pause_button.isEnabled() and not panel.cancel_button.isEnabled()
    assert journaled.queue.active_count == 0  # nothing is running: quitting need not ask

    with qtbot.waitSignal(journaled.queue.upload_finished, timeout=TIMEOUT) as finished:
        panel.resume_button.click()

    assert panel.model.rowCount() == 1 and _state(panel) == "Done"
    assert journaled.queue.get(transfer_id).done == path.stat().st_size
    document = finished.args[0]
    assert document.checksum == hashlib.sha256(path.read_bytes()).hexdigest()
    assert _multipart_uploads(cloud) == []
    assert journaled.held.interrupted_transfers() == []


def test_discard_aborts_the_paused_upload_and_removes_its_row(
    qtbot: QtBot, journaled: Transfers, cloud: Cloud, make_file: Callable[..., Path]
) -> None:
    panel = _panel(qtbot, journaled.queue)
    _paused_upload(qtbot, journaled, panel, make_file("big.bin", 12 * MiB))

    panel.discard_button.click()

    qtbot.waitUntil(lambda: panel.model.rowCount() == 0, timeout=TIMEOUT)
    assert _multipart_uploads(cloud) == []
    assert "Contents" not in cloud.s3.list_objects_v2(Bucket=schema.BUCKET_NAME)
    assert journaled.held.interrupted_transfers() == []


def test_transfers_interrupted_before_the_start_show_and_resume_all(
    qtbot: QtBot,
    journaled: Transfers,
    cloud: Cloud,
    make_file: Callable[..., Path],
    qtmodeltester: ModelTester,
) -> None:
    first = _panel(qtbot, journaled.queue)
    path = make_file("left.bin", 12 * MiB)
    _paused_upload(qtbot, journaled, first, path)
    kept = journaled.held.interrupted_transfers()
    # The next start: a new queue and panel over the same journal.
    queue = TransferQueue(lambda: journaled.held)  # type: ignore[arg-type, return-value]
    try:
        panel = _panel(qtbot, queue)
        qtmodeltester.check(TransferTableModel(queue, queue), force_py=True)  # type: ignore[no-untyped-call]
        queue.show_interrupted(kept)
        queue.show_interrupted(kept)  # shown once

        assert panel.model.rowCount() == 1 and _state(panel) == "Interrupted"
        queue.forget_kept()  # signed out: the row goes, the journal keeps it
        assert panel.model.rowCount() == 0
        queue.show_interrupted(journaled.held.interrupted_transfers())  # signed in again
        assert panel.model.rowCount() == 1 and _state(panel) == "Interrupted"
        assert panel.resume_all_button.isEnabled()
        with qtbot.waitSignal(queue.upload_finished, timeout=TIMEOUT):
            panel.resume_all_button.click()
        assert _state(panel) == "Done"
        assert _multipart_uploads(cloud) == []
    finally:
        queue.shutdown()
