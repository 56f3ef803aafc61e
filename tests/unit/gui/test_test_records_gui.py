"""Test records in the window: chosen in the upload dialog, stored with their expiry, shown in
the detail pane."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from PySide6.QtWidgets import QCheckBox, QLabel, QSpinBox
from pytestqt.qtbot import QtBot

from dms_desktop.core.errors import DmsError
from dms_desktop.core.formatting import human_time
from dms_desktop.core.models import Document, utc_now
from dms_desktop.gui.detail_pane import DetailPane
from dms_desktop.gui.document_events import DocumentEvents
from dms_desktop.gui.operations import Operations
from dms_desktop.gui.transfer_items import UploadSpec
from dms_desktop.gui.transfers import TransferQueue
from dms_desktop.gui.upload_dialog import DEFAULT_TEST_RECORD_DAYS, UploadDialog
from tests.unit.gui.conftest import Cloud

WAIT = 20_000


@pytest.fixture
def dialog(
    qtbot: QtBot, operations: Operations, make_file: Callable[..., Path]
) -> Iterator[UploadDialog]:
    widget = UploadDialog(operations, [], [make_file("fixture.txt")])
    qtbot.addWidget(widget)
    widget.show()
    qtbot.waitUntil(lambda: not widget.checking, timeout=WAIT)
    yield widget


def _expiry_controls(dialog: UploadDialog) -> tuple[QCheckBox, QSpinBox]:
    check = dialog.findChild(QCheckBox, "uploadExpiresCheck")
    days = dialog.findChild(QSpinBox, "uploadExpiresDaysSpin")
    assert check is not None and days is not None
    return check, days


def test_uploads_are_normal_documents_unless_marked_as_test_records(
    dialog: UploadDialog,
) -> None:
    check, days = _expiry_controls(dialog)
    assert not check.isChecked()
    assert not days.isEnabled()
    assert days.value() == DEFAULT_TEST_RECORD_DAYS
    assert [spec.expires for spec in dialog.specs()] == [None]


def test_marked_test_records_expire_after_the_chosen_days(dialog: UploadDialog) -> None:
    check, days = _expiry_controls(dialog)
    check.click()
    assert days.isEnabled()
    days.setValue(3)
    before = utc_now()

    (spec,) = dialog.specs()

    assert spec.expires is not None
    assert before + timedelta(days=3) <= spec.expires <= utc_now() + timedelta(days=3)


def test_a_test_record_upload_stores_its_expiry(
    qtbot: QtBot, cloud: Cloud, make_file: Callable[..., Path]
) -> None:
    queue = TransferQueue(lambda: cloud.service)
    expires = utc_now() + timedelta(days=2)
    try:
        with qtbot.waitSignal(queue.upload_finished, timeout=WAIT) as finished:
            queue.upload(UploadSpec(make_file("seeded.txt"), expires=expires))
    finally:
        queue.shutdown()

    document: Document = finished.args[0]
    stored = cloud.service.get(document.document_id)
    assert stored.expires is not None
    assert abs((stored.expires - expires).total_seconds()) < 1


def _expires_row(pane: DetailPane) -> tuple[QLabel, bool]:
    label = pane.findChild(QLabel, "detailExpiresLabel")
    assert label is not None
    return label, label.isVisibleTo(pane)


def test_the_detail_pane_shows_the_expiry_of_test_records_only(
    qtbot: QtBot,
    operations: Operations,
    events: DocumentEvents,
    cloud: Cloud,
    make_file: Callable[..., Path],
    reported_errors: list[DmsError],
) -> None:
    pane = DetailPane(operations, events, reported_errors.append)
    qtbot.addWidget(pane)
    pane.show()
    test_record = cloud.service.upload(
        make_file("seeded.txt"), expires=utc_now() + timedelta(days=1)
    )
    normal = cloud.service.upload(make_file("real.txt"))

    pane.show_document(test_record)
    label, visible = _expires_row(pane)
    assert visible
    assert test_record.expires is not None
    assert label.text() == f"{human_time(test_record.expires)} (test record)"

    pane.show_document(normal)
    assert _expires_row(pane)[1] is False
    # The preview of the document shown is on its way: wait for it, or it reaches a pane that
    # the test's end has deleted (a RuntimeError in the event loop at teardown).
    qtbot.waitUntil(lambda: not operations.busy, timeout=WAIT)
