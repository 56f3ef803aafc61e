"""The Admin dialogs (offscreen, moto in-process): preview, delete with progress and cancel,
check and repair, the typed confirmation, and refusal for non-admins."""

from __future__ import annotations

import hashlib
import os
import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QPushButton
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot

from dms_desktop.core import schema
from dms_desktop.core.admin import AdminService, FindingKind
from dms_desktop.core.identity import SignedIn
from dms_desktop.core.models import Document, utc_now
from dms_desktop.core.owner_names import user_names_from_pool
from dms_desktop.core.paths import AppPaths
from dms_desktop.core.repository import to_item
from dms_desktop.gui.admin_widgets import MAX_COLUMN_WIDTH, ConfirmDeletionDialog
from dms_desktop.gui.cleanup_dialog import CleanupDialog
from dms_desktop.gui.consistency_dialog import ConsistencyDialog
from dms_desktop.gui.main_window import MainWindow
from dms_desktop.gui.message_bar import MessageBar
from dms_desktop.gui.operations import Account, OperationContext, Operations
from tests.support.aws import OTHER_USER_ID, USER_ID
from tests.unit.core.conftest import make_document
from tests.unit.gui.conftest import Cloud, Transfers

WAIT_MS = 10_000


def _admin_user(is_admin: bool = True) -> SignedIn:
    return SignedIn(
        username="admin" if is_admin else "demo",
        user_id="us-east-1:aaaaaaaa-0000-0000-0000-000000000000",
        is_admin=is_admin,
        session=boto3.session.Session(region_name="us-east-1"),
    )


def _factory(
    cloud: Cloud, tmp_path: Path, *, dynamodb: Any = None, clock_ahead: timedelta | None = None
) -> Any:
    def build(_state: OperationContext) -> AdminService:
        return AdminService(
            dynamodb or cloud.dynamodb,
            cloud.s3,
            schema.TABLE_NAME,
            schema.BUCKET_NAME,
            _admin_user(),
            audit_dir=tmp_path / "audit",
            sleep=lambda _seconds: None,
            clock=(lambda: utc_now() + clock_ahead) if clock_ahead else utc_now,
        )

    return build


def _store(cloud: Cloud, document: Document, data: bytes | None = None) -> Document:
    body = os.urandom(document.size) if data is None else data
    stored = document.model_copy(
        update={"size": len(body), "checksum": hashlib.sha256(body).hexdigest()}
    )
    cloud.dynamodb.put_item(TableName=schema.TABLE_NAME, Item=to_item(stored))
    cloud.s3.put_object(Bucket=schema.BUCKET_NAME, Key=stored.s3_key, Body=body)
    return stored


def _ids(cloud: Cloud) -> set[str]:
    items = cloud.dynamodb.scan(TableName=schema.TABLE_NAME)["Items"]
    return {item["documentId"]["S"] for item in items}


def _keys(cloud: Cloud) -> set[str]:
    response = cloud.s3.list_objects_v2(Bucket=schema.BUCKET_NAME, Prefix="private/")
    return {entry["Key"] for entry in response.get("Contents", [])}


def test_preview_fills_a_sortable_table_and_deletes_nothing_then_delete_removes_them(
    qtbot: QtBot, cloud: Cloud, operations: Operations, tmp_path: Path
) -> None:
    test_docs = [
        _store(cloud, make_document(user, filename=f"seed {n}.txt", size=10 + n, tags=["Test"]))
        for n, user in enumerate([USER_ID, USER_ID, OTHER_USER_ID])
    ]
    real = _store(cloud, make_document(filename="real.pdf", size=5, tags=["tax"]))
    dialog = CleanupDialog(operations, True, _factory(cloud, tmp_path))
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.objectName() == "cleanupDialog"
    dialog.tag_edit.setText("TEST")

    with qtbot.waitSignal(dialog.plan_ready, timeout=WAIT_MS):
        qtbot.mouseClick(dialog.preview_button, Qt.MouseButton.LeftButton)

    assert dialog.proxy.rowCount() == 3
    assert "3 documents match" in dialog.summary_label.text()
    assert USER_ID in dialog.per_user_label.text() and OTHER_USER_ID in dialog.per_user_label.text()
    assert dialog.delete_button.text() == "Delete 3 documents" and dialog.delete_button.isEnabled()
    ModelTester(None).check(dialog.model)
    dialog.table.sortByColumn(2, Qt.SortOrder.DescendingOrder)
    names = [dialog.proxy.index(row, 0).data() for row in range(3)]
    assert names == ["seed 2.txt", "seed 1.txt", "seed 0.txt"]
    assert len(_ids(cloud)) == 4  # the preview deleted nothing

    asked: list[int] = []
    dialog.confirm = lambda count, _what: asked.append(count) is None
    with qtbot.waitSignal(dialog.deletion_finished, timeout=WAIT_MS):
        qtbot.mouseClick(dialog.delete_button, Qt.MouseButton.LeftButton)

    assert asked == [3]
    assert dialog.report is not None and dialog.report.ok
    assert set(dialog.report.deleted) == {doc.document_id for doc in test_docs}
    assert _ids(cloud) == {real.document_id} and _keys(cloud) == {real.s3_key}
    assert dialog.report_view.isVisible() and "Deleted 3 of 3" in dialog.report_view.toPlainText()
    assert list((tmp_path / "audit").glob("*.json"))


def test_bad_criteria_are_shown_and_nothing_runs(
    qtbot: QtBot, cloud: Cloud, operations: Operations, tmp_path: Path
) -> None:
    calls: list[object] = []
    dialog = CleanupDialog(operations, True, lambda state: calls.append(state))  # type: ignore[arg-type,func-returns-value]
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.tag_edit.clear()

    dialog.preview()

    assert "at least one criterion" in dialog.error_label.text()
    assert dialog.error_label.isVisible() and not calls and not operations.busy
    dialog.min_size_edit.setText("ten")
    dialog.preview()
    assert "whole number" in dialog.error_label.text()


class HeldBatchWrites:
    """DynamoDB whose first BatchWriteItem waits until the test releases it."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.first_done = threading.Event()
        self.release = threading.Event()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def batch_write_item(self, **kwargs: Any) -> Any:
        response = self._client.batch_write_item(**kwargs)
        if not self.first_done.is_set():
            self.first_done.set()
            self.release.wait(20)
        return response


def test_cancel_while_deleting_stops_between_batches_and_reports(
    qtbot: QtBot, cloud: Cloud, operations: Operations, tmp_path: Path
) -> None:
    for n in range(60):
        _store(cloud, make_document(filename=f"bulk {n}.txt", size=1, tags=["test"]))
    held = HeldBatchWrites(cloud.dynamodb)
    dialog = CleanupDialog(operations, True, _factory(cloud, tmp_path, dynamodb=held))
    qtbot.addWidget(dialog)
    dialog.show()
    with qtbot.waitSignal(dialog.plan_ready, timeout=WAIT_MS):
        dialog.preview()
    dialog.confirm = lambda _count, _what: True

    try:
        dialog.delete()
        qtbot.waitUntil(held.first_done.is_set, timeout=WAIT_MS)
        assert dialog.running and dialog.cancel_button.isVisible()
        assert dialog.progress_bar.isVisible()
        qtbot.mouseClick(dialog.cancel_button, Qt.MouseButton.LeftButton)
    finally:
        held.release.set()
    with qtbot.waitSignal(dialog.deletion_finished, timeout=WAIT_MS):
        pass

    report = dialog.report
    assert report is not None and report.cancelled
    assert len(report.deleted) == 25 and report.not_attempted == 35
    assert "Cancelled: 35 not attempted" in dialog.report_view.toPlainText()
    remaining = _ids(cloud)
    assert len(remaining) == 35
    assert len(_keys(cloud)) == 35  # every remaining document still has its body
    assert not dialog.cancel_button.isVisible() and not dialog.running


def test_the_typed_confirmation_needs_the_exact_number_above_100(qtbot: QtBot) -> None:
    many = ConfirmDeletionDialog(150, "documents")
    qtbot.addWidget(many)
    assert not many.ok_button.isEnabled()
    many.count_edit.setText("149")
    assert not many.ok_button.isEnabled()
    many.count_edit.setText(" 150 ")
    assert many.ok_button.isEnabled()

    few = ConfirmDeletionDialog(100, "documents")
    qtbot.addWidget(few)
    assert few.ok_button.isEnabled() and few.count_edit.isHidden()


def test_a_non_admin_is_told_and_nothing_runs(
    qtbot: QtBot, cloud: Cloud, operations: Operations
) -> None:
    def refuse(_state: OperationContext) -> AdminService:
        raise AssertionError("the admin service was built for a non-admin")

    cleanup = CleanupDialog(operations, False, refuse)
    check = ConsistencyDialog(operations, False, refuse)
    for dialog in (cleanup, check):
        qtbot.addWidget(dialog)
        dialog.show()
        assert dialog.not_admin_label.isVisible()
        assert "needs admin rights" in dialog.not_admin_label.text()
    assert not cleanup.preview_button.isEnabled() and not cleanup.delete_button.isEnabled()
    assert not check.check_button.isEnabled()

    cleanup.preview()
    check.run_check()

    assert not operations.busy
    assert "needs admin rights" in cleanup.error_label.text()
    assert "needs admin rights" in check.error_label.text()


def test_the_worker_refuses_a_non_admin_even_if_the_window_thought_otherwise(
    qtbot: QtBot, cloud: Cloud, operations: Operations
) -> None:
    def as_demo(_state: OperationContext) -> AdminService:
        return AdminService(
            cloud.dynamodb, cloud.s3, schema.TABLE_NAME, schema.BUCKET_NAME, _admin_user(False)
        )

    dialog = ConsistencyDialog(operations, True, as_demo)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.run_check()
    qtbot.waitUntil(lambda: not dialog.running, timeout=WAIT_MS)
    assert "needs admin rights" in dialog.error_label.text()


def test_check_groups_findings_and_repairs_the_selected_kinds(
    qtbot: QtBot, cloud: Cloud, operations: Operations, tmp_path: Path
) -> None:
    _store(cloud, make_document(filename="fine.txt", size=5))
    lost = _store(cloud, make_document(filename="lost.txt", size=5))
    cloud.s3.delete_object(Bucket=schema.BUCKET_NAME, Key=lost.s3_key)
    orphan = schema.object_key(OTHER_USER_ID, "01900000-0000-7000-8000-000000000009")
    cloud.s3.put_object(Bucket=schema.BUCKET_NAME, Key=orphan, Body=b"orphan")
    resized = _store(cloud, make_document(filename="resized.txt", size=5))
    cloud.s3.put_object(Bucket=schema.BUCKET_NAME, Key=resized.s3_key, Body=b"longer body")
    dialog = ConsistencyDialog(
        operations, True, _factory(cloud, tmp_path, clock_ahead=timedelta(hours=1))
    )
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.objectName() == "consistencyDialog"

    with qtbot.waitSignal(dialog.check_finished, timeout=WAIT_MS):
        qtbot.mouseClick(dialog.check_button, Qt.MouseButton.LeftButton)

    assert dialog.tree.topLevelItemCount() == 3
    missing = dialog.kind_item(FindingKind.MISSING_BODY)
    size = dialog.kind_item(FindingKind.SIZE_MISMATCH)
    assert missing is not None and missing.childCount() == 1
    assert size is not None and not size.flags() & Qt.ItemFlag.ItemIsUserCheckable
    assert set(dialog.selected_kinds()) == {FindingKind.MISSING_BODY, FindingKind.ORPHAN_BODY}
    orphan_item = dialog.kind_item(FindingKind.ORPHAN_BODY)
    assert orphan_item is not None
    orphan_item.setCheckState(0, Qt.CheckState.Unchecked)  # repair only the broken metadata
    assert dialog.selected_kinds() == [FindingKind.MISSING_BODY]

    dialog.confirm = lambda _count, _what: True
    with qtbot.waitSignal(dialog.repair_finished, timeout=WAIT_MS):
        qtbot.mouseClick(dialog.repair_button, Qt.MouseButton.LeftButton)

    assert dialog.repair_report is not None and dialog.repair_report.ok
    assert dialog.repair_report.metadata_deleted == [lost.document_id]
    assert lost.document_id not in _ids(cloud)
    assert orphan in _keys(cloud)  # not chosen: kept
    assert "Deleted 1 of 1" in dialog.report_view.toPlainText()


def test_admin_menu_is_visible_to_admins_only(
    qtbot: QtBot, operations: Operations, transfers: Transfers, tmp_path: Path
) -> None:
    window = MainWindow(operations, transfers.queue, MessageBar(), AppPaths.resolve(tmp_path / "h"))
    qtbot.addWidget(window)
    assert not window.admin.menu.menuAction().isVisible()
    window.set_admin(True)
    assert window.admin.menu.menuAction().isVisible()
    window.admin.cleanup_action.trigger()
    assert window.admin.cleanup_dialog is not None and window.admin.cleanup_dialog.isVisible()
    window.admin.check_action.trigger()
    assert (
        window.admin.consistency_dialog is not None and window.admin.consistency_dialog.isVisible()
    )
    window.set_admin(False)
    assert not window.admin.menu.menuAction().isVisible()
    assert window.admin.cleanup_dialog is None and window.admin.consistency_dialog is None
    window.confirm_quit_without_asking()


@pytest.mark.parametrize("count", [1, 101])
def test_confirm_dialog_titles_say_how_many(qtbot: QtBot, count: int) -> None:
    dialog = ConfirmDeletionDialog(count, "documents")
    qtbot.addWidget(dialog)
    assert dialog.ok_button.text() == f"Delete {count}"


def _pool_with(cloud: Cloud, *names: str) -> tuple[Any, dict[str, str]]:
    """A user pool in moto with ``names``; returns the source of its users and their subs."""
    idp = boto3.session.Session(region_name="us-east-1").client("cognito-idp")
    pool_id = idp.create_user_pool(PoolName="dms")["UserPool"]["Id"]
    subs = {}
    for name in names:
        user = idp.admin_create_user(UserPoolId=pool_id, Username=name, MessageAction="SUPPRESS")
        attributes = {a["Name"]: a["Value"] for a in user["User"]["Attributes"]}
        subs[name] = attributes["sub"]

    def pool_users(_ctx: OperationContext) -> dict[str, str]:
        return user_names_from_pool(idp, pool_id)

    return pool_users, subs


def _store_named(cloud: Cloud, document: Document, owner_name: str) -> Document:
    """A document uploaded by an app that recorded its user's name on it (as the app does)."""
    stored = _store(cloud, document)
    cloud.dynamodb.update_item(
        TableName=schema.TABLE_NAME,
        Key={"userId": {"S": stored.user_id}, "documentId": {"S": stored.document_id}},
        UpdateExpression="SET ownerName = :name",
        ExpressionAttributeValues={":name": {"S": owner_name}},
    )
    return stored


def test_owners_show_by_name_and_the_owners_criterion_takes_names(
    qtbot: QtBot, cloud: Cloud, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """Issue 19 item 7: the Owner column showed raw identity ids; an admin could not tell users
    apart nor choose them by name."""
    pool_users, subs = _pool_with(cloud, "alice", "bob")
    alice = f"us-east-1:{subs['alice']}"  # the sandbox's ids carry the pool user's sub
    carol = "us-east-1:0a0a0a0a-1b1b-2c2c-3d3d-4e4e4e4e4e4e"  # an AWS identity id: no sub in it
    unknown = OTHER_USER_ID
    alices = [
        _store(cloud, make_document(alice, filename=f"a{n}.txt", tags=["test"])) for n in (1, 2)
    ]
    _store_named(cloud, make_document(carol, filename="c.txt", tags=["test"]), "carol")
    _store(cloud, make_document(unknown, filename="u.txt", tags=["test"]))
    # Signed in as an admin whose own id tells the region the sandbox's ids start with.
    account = Account(AppPaths.resolve(tmp_path / "home"), user=_admin_user())
    operations = Operations(account, lambda _error: None, service_factory=lambda _a: cloud.service)
    request.addfinalizer(operations.shutdown)
    dialog = CleanupDialog(operations, True, _factory(cloud, tmp_path), pool_users=pool_users)
    qtbot.addWidget(dialog)
    dialog.show()

    with qtbot.waitSignal(dialog.plan_ready, timeout=WAIT_MS):
        qtbot.mouseClick(dialog.preview_button, Qt.MouseButton.LeftButton)

    owner = dialog.model.OWNER
    shown = {dialog.proxy.index(row, owner).data() for row in range(dialog.proxy.rowCount())}
    assert shown == {"alice", "carol", unknown}
    tips = {
        dialog.proxy.index(row, owner).data(): dialog.proxy.index(row, owner).data(
            Qt.ItemDataRole.ToolTipRole
        )
        for row in range(dialog.proxy.rowCount())
    }
    assert alice in tips["alice"] and "from the user pool" in tips["alice"]
    assert carol in tips["carol"] and "recorded it on their documents" in tips["carol"]
    assert "alice: 2 documents" in dialog.per_user_label.text()

    dialog.owners_edit.setText("Alice")
    with qtbot.waitSignal(dialog.plan_ready, timeout=WAIT_MS):
        qtbot.mouseClick(dialog.preview_button, Qt.MouseButton.LeftButton)
    assert dialog.plan is not None
    assert set(dialog.plan.criteria.owners) == {alice, subs["alice"]}  # desktop, web API
    assert dialog.proxy.rowCount() == 2
    assert dialog.delete_button.text() == "Delete 2 documents"

    dialog.confirm = lambda _count, _what: True
    with qtbot.waitSignal(dialog.deletion_finished, timeout=WAIT_MS):
        qtbot.mouseClick(dialog.delete_button, Qt.MouseButton.LeftButton)
    remaining = _ids(cloud)
    assert not remaining & {doc.document_id for doc in alices} and len(remaining) == 2

    dialog.owners_edit.setText("zed")
    qtbot.mouseClick(dialog.preview_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dialog.running, timeout=WAIT_MS)
    assert dialog.error_label.text() == "No user named 'zed' is known."


def test_columns_fit_their_content_and_close_closes(
    qtbot: QtBot, cloud: Cloud, operations: Operations, tmp_path: Path
) -> None:
    """Issue 19 item 7: columns wrapped or clipped, and there was no Close button."""
    long_name = "quarterly-report-for-the-board-of-directors-2026-final-v3.pdf"
    _store(cloud, make_document(USER_ID, filename=long_name, tags=["test", "finance"]))
    _store(cloud, make_document(OTHER_USER_ID, filename="b.txt", tags=["test"]))
    dialog = CleanupDialog(operations, True, _factory(cloud, tmp_path), pool_users=lambda _c: {})
    qtbot.addWidget(dialog)
    dialog.show()
    with qtbot.waitSignal(dialog.plan_ready, timeout=WAIT_MS):
        qtbot.mouseClick(dialog.preview_button, Qt.MouseButton.LeftButton)

    dialog.tag_edit.setFocus()
    with qtbot.waitSignal(dialog.plan_ready, timeout=WAIT_MS):
        qtbot.keyClick(dialog.tag_edit, Qt.Key.Key_Return)  # Enter previews (again)
    table = dialog.table
    assert not table.wordWrap()
    for column in range(dialog.model.columnCount() - 1):
        needed = min(table.sizeHintForColumn(column), MAX_COLUMN_WIDTH)
        assert table.columnWidth(column) >= needed, dialog.model.HEADERS[column]
    name_cell = dialog.proxy.index(0, 0)
    assert name_cell.data(Qt.ItemDataRole.ToolTipRole) == name_cell.data()  # all of it, if elided

    close = dialog.findChild(QPushButton, "adminCloseButton")
    assert close is not None and close.text() == "Close"
    qtbot.mouseClick(close, Qt.MouseButton.LeftButton)
    assert not dialog.isVisible()


def test_the_check_names_the_owners_and_can_be_closed(
    qtbot: QtBot, cloud: Cloud, operations: Operations, tmp_path: Path
) -> None:
    pool_users, subs = _pool_with(cloud, "bob")
    bob = f"us-east-1:{subs['bob']}"
    lost = _store(cloud, make_document(bob, filename="lost.txt", size=5))
    cloud.s3.delete_object(Bucket=schema.BUCKET_NAME, Key=lost.s3_key)
    dialog = ConsistencyDialog(operations, True, _factory(cloud, tmp_path), pool_users=pool_users)
    qtbot.addWidget(dialog)
    dialog.show()
    with qtbot.waitSignal(dialog.check_finished, timeout=WAIT_MS):
        qtbot.mouseClick(dialog.check_button, Qt.MouseButton.LeftButton)

    missing = dialog.kind_item(FindingKind.MISSING_BODY)
    assert missing is not None and missing.child(0).text(1) == "bob"
    assert bob in missing.child(0).toolTip(1)
    assert "1 problem." in dialog.summary_label.text()
    qtbot.mouseClick(dialog.findChild(QPushButton, "adminCloseButton"), Qt.MouseButton.LeftButton)
    assert not dialog.isVisible()
