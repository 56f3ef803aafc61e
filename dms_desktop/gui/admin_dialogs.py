"""The Admin menu's dialogs: clean up test records, and check metadata against stored files.

Both are thin layers over :mod:`dms_desktop.core.admin`: every backend call runs as an operation
on the long lane (see gui.operations); its progress comes back to the progress bar, and Cancel
cancels the operation, whose token the admin tools check between batches. A user who is not an
admin sees a plain "needs admin rights" message and nothing runs (the admin tools refuse too).
Owners are shown by name (see core.owner_names); the Owners criterion takes names or ids.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, TypeVar

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
    Signal,
    Slot,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QTableView,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ..core.admin import (
    CONFIRM_TYPED_ABOVE,
    DEFAULT_ORPHAN_GRACE,
    DEFAULT_STALE_HOURS,
    REPAIRABLE_KINDS,
    AdminService,
    CheckReport,
    CleanupCriteria,
    CleanupPlan,
    DeletionReport,
    FindingKind,
    PlannedDeletion,
    needs_typed_confirmation,
)
from ..core.admin_text import (
    check_summary,
    cleanup_plan_per_user,
    cleanup_plan_summary,
    deletion_report_text,
)
from ..core.aws import make_client
from ..core.errors import AuthError, DmsError, ValidationError
from ..core.formatting import human_size, human_time, plural, printable
from ..core.owner_names import (
    FROM_USER_POOL,
    OwnerDirectory,
    looks_like_an_id,
    user_names_from_pool,
)
from ..core.time_input import parse_moment
from .operations import Operation, OperationContext, Operations

log = logging.getLogger(__name__)

NEEDS_ADMIN = "This needs admin rights: sign in as a member of the 'admins' group."
SORT_ROLE = Qt.ItemDataRole.UserRole + 1
MAX_COLUMN_WIDTH = 320  # wider content is elided in the middle (the tooltip has it all)

T = TypeVar("T")
AdminFactory = Callable[[OperationContext], AdminService]
AdminRun = Callable[[AdminService, OperationContext], T]


PoolUsers = Callable[[OperationContext], Mapping[str, str]]
"""The user pool's users as ``{sub: user name}``, read on the long lane."""


def open_admin_for(ctx: OperationContext) -> AdminService:
    """The signed-in admin's AdminService (on the long lane); AuthError for anyone else."""
    return ctx.admin_service()


def pool_users_of(ctx: OperationContext) -> Mapping[str, str]:
    """The users of the signed-in admin's user pool (ListUsers); none where there is no pool (an
    AWS named profile) or it cannot be read: names then come only from the documents."""
    backend, user = ctx.account.backend, ctx.account.user
    if backend is None or backend.pool is None or user is None:
        return {}
    try:
        idp = make_client(user.session, "cognito-idp", backend.pool.endpoint_url)
        return user_names_from_pool(idp, backend.pool.user_pool_id)
    except DmsError as error:
        log.info("owners are named from their documents only: %s", error)
        return {}


@dataclass(frozen=True)
class Owners:
    """How the dialogs show owners: a label for each owner id, and a tooltip saying more."""

    labels: Mapping[str, str]
    tooltips: Mapping[str, str]

    @classmethod
    def of(cls, directory: OwnerDirectory, user_ids: list[str]) -> Owners:
        # A recorded name is written by its owner's app: escaped, it cannot disguise itself.
        labels = {
            user_id: printable(label) for user_id, label in directory.labels(user_ids).items()
        }
        tooltips = {}
        for user_id in labels:
            owner = directory.lookup(user_id)
            if owner.name is None:
                where = "No name is known for this owner."
            elif owner.source == FROM_USER_POOL:
                where = "Name from the user pool."
            else:
                where = "Name as the owner's app recorded it on their documents."
            tooltips[user_id] = f"Owner id: {user_id}\n{where}"
        return cls(labels, tooltips)

    def label(self, user_id: str) -> str:
        return self.labels.get(user_id, user_id)


NO_OWNERS = Owners({}, {})


@dataclass(frozen=True)
class Named:
    """An admin operation's result (a plan, a check) with the names of the owners it mentions."""

    result: object
    owners: Owners


def format_report(report: DeletionReport) -> str:
    return deletion_report_text(report)


class ConfirmDeletionDialog(QDialog):
    """Confirm a deletion; above 100 items the admin types their number."""

    def __init__(self, count: int, what: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("confirmDeletionDialog")
        self.setWindowTitle("Confirm")
        self._count = count
        layout = QVBoxLayout(self)
        text = QLabel(f"Delete {count} {what}? This cannot be undone.")
        text.setWordWrap(True)
        layout.addWidget(text)
        self.count_edit = QLineEdit()
        self.count_edit.setObjectName("confirmCountEdit")
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setObjectName("confirmOkButton")
        self.ok_button.setText(f"Delete {count}")
        if needs_typed_confirmation(count):
            layout.addWidget(QLabel(f"More than {CONFIRM_TYPED_ABOVE}: type {count} to confirm."))
            layout.addWidget(self.count_edit)
            self.count_edit.textChanged.connect(self._check_typed)
            self.ok_button.setEnabled(False)
        else:
            self.count_edit.hide()
        layout.addWidget(self.buttons)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)

    @Slot(str)
    def _check_typed(self, text: str) -> None:
        self.ok_button.setEnabled(text.strip() == str(self._count))


def ask_to_confirm(parent: QWidget, count: int, what: str) -> bool:
    return ConfirmDeletionDialog(count, what, parent).exec() == QDialog.DialogCode.Accepted


class PlanTableModel(QAbstractTableModel):
    """The dry run's documents (already in memory): sorted by a proxy on SORT_ROLE."""

    HEADERS = ("Name", "Owner", "Size", "Created", "Tags", "Why", "Id")

    OWNER = 1

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._items: list[PlannedDeletion] = []
        self._owners = NO_OWNERS

    def set_items(self, items: list[PlannedDeletion], owners: Owners = NO_OWNERS) -> None:
        self.beginResetModel()
        self._items = items
        self._owners = owners
        self.endResetModel()

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self._items)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self.HEADERS)

    def headerData(  # noqa: N802
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if (
            role == Qt.ItemDataRole.DisplayRole
            and orientation == Qt.Orientation.Horizontal
            and 0 <= section < len(self.HEADERS)
        ):
            return self.HEADERS[section]
        return None

    def data(
        self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._items):
            return None
        item = self._items[index.row()]
        column = index.column()
        if role == SORT_ROLE:
            created = item.created_at.timestamp() if item.created_at else 0.0
            sort_values: tuple[Any, ...] = (
                item.filename.casefold(),
                self._owners.label(item.user_id).casefold(),
                item.size,
                created,
                ", ".join(item.tags).casefold(),
                item.reason.value,
                item.document_id,
            )
            return sort_values[column]
        if role == Qt.ItemDataRole.DisplayRole:
            values = (
                item.filename or "(no metadata)",
                self._owners.label(item.user_id),
                human_size(item.size),
                human_time(item.created_at) if item.created_at else "",
                ", ".join(item.tags),
                item.reason.value,
                item.document_id,
            )
            return values[column]
        if role == Qt.ItemDataRole.ToolTipRole:
            if column == self.OWNER:
                return self._owners.tooltips.get(item.user_id, item.user_id)
            return self.data(index, Qt.ItemDataRole.DisplayRole)  # the whole text, if elided
        if role == Qt.ItemDataRole.TextAlignmentRole and column == 2:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None


def _optional_int(edit: QLineEdit, what: str) -> int | None:
    text = edit.text().strip()
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        raise ValidationError(f"{what} must be a whole number of bytes.") from None


def _optional_time(edit: QLineEdit, what: str) -> datetime | None:
    text = edit.text().strip()
    if not text:
        return None
    try:
        return parse_moment(text)
    except ValidationError as error:
        raise ValidationError(f"{what}: {error}") from None


def _regions(ctx: OperationContext) -> set[str]:
    """The regions the sandbox's owner ids may start with (``region:sub``)."""
    account = ctx.account
    regions = {account.backend.region} if account.backend is not None else set()
    if account.user is not None and ":" in account.user.user_id:
        regions.add(account.user.user_id.split(":")[0])
    return regions


class _AdminDialog(QDialog):
    """What both dialogs share: the admin check, the running state, progress and cancel."""

    def __init__(
        self,
        operations: Operations,
        is_admin: bool,
        factory: AdminFactory,
        parent: QWidget | None,
        pool_users: PoolUsers = pool_users_of,
    ) -> None:
        super().__init__(parent)
        self._operations = operations
        self._is_admin = is_admin
        self._factory = factory
        self._pool_users = pool_users
        self._operation: Operation[Any] | None = None
        self.confirm: Callable[[int, str], bool] = lambda count, what: ask_to_confirm(
            self, count, what
        )
        self.error_label = QLabel()
        self.error_label.setObjectName("adminErrorLabel")
        self.error_label.setWordWrap(True)
        self.error_label.hide()
        self.not_admin_label = QLabel(NEEDS_ADMIN)
        self.not_admin_label.setObjectName("notAdminLabel")
        self.not_admin_label.setWordWrap(True)
        self.not_admin_label.setVisible(not is_admin)
        self.progress_bar = QProgressBar()
        self.progress_bar.setObjectName("adminProgressBar")
        self.progress_bar.hide()
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setObjectName("adminCancelButton")
        self.cancel_button.hide()
        self.cancel_button.clicked.connect(self.cancel)
        self.report_view = QPlainTextEdit()
        self.report_view.setObjectName("adminReportView")
        self.report_view.setReadOnly(True)
        self.report_view.setMaximumHeight(140)
        self.report_view.hide()
        self.close_box = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.close_button = self.close_box.button(QDialogButtonBox.StandardButton.Close)
        self.close_button.setObjectName("adminCloseButton")
        self.close_button.setToolTip("Close; while a job runs, this cancels it first")
        self.close_box.rejected.connect(self.reject)

    @property
    def running(self) -> bool:
        return self._operation is not None

    def _run(self, run: AdminRun[T], on_success: Callable[[T], None]) -> bool:
        """Start ``run`` on the long lane with the admin's tools; False if refused."""
        if not self._is_admin:
            self.show_error(AuthError(NEEDS_ADMIN))
            return False
        if self.running:
            return False
        factory = self._factory

        def admin_run(ctx: OperationContext) -> T:
            return run(factory(ctx), ctx)

        def finished(result: T) -> None:
            self._stop_running()
            on_success(result)

        self.error_label.hide()
        self.progress_bar.setRange(0, 0)
        self.progress_bar.show()
        self.cancel_button.show()
        self.cancel_button.setEnabled(True)
        self._set_busy(True)
        self._operation = (
            self._operations.long(admin_run, finished)
            .failure(self._failed)
            .progress(self._on_progress)
            .run()
        )
        return True

    def _failed(self, error: DmsError) -> None:
        self._stop_running()
        self.show_error(error)

    def _stop_running(self) -> None:
        self._operation = None
        self.progress_bar.hide()
        self.cancel_button.hide()
        self._set_busy(False)

    def _set_busy(self, busy: bool) -> None:
        raise NotImplementedError

    def show_error(self, error: DmsError) -> None:
        self.error_label.setText(str(error))
        self.error_label.show()

    def show_report(self, text: str) -> None:
        self.report_view.setPlainText(text)
        self.report_view.show()

    @Slot()
    def cancel(self) -> None:
        if self._operation is not None:
            self._operation.cancel()
            self.cancel_button.setEnabled(False)

    def _on_progress(self, done: int, total: int) -> None:
        if self._operation is None:
            return
        self.progress_bar.setRange(0, max(total, 1))
        self.progress_bar.setValue(min(done, total))

    def reject(self) -> None:
        if self.running:  # the job must end (or be cancelled) first: its report matters
            self.cancel()
            return
        super().reject()


class CleanupDialog(_AdminDialog):
    """Criteria -> Preview (dry run) -> Delete N documents (confirmed) -> report."""

    plan_ready = Signal()
    deletion_finished = Signal()

    def __init__(
        self,
        operations: Operations,
        is_admin: bool,
        factory: AdminFactory = open_admin_for,
        parent: QWidget | None = None,
        pool_users: PoolUsers = pool_users_of,
    ) -> None:
        super().__init__(operations, is_admin, factory, parent, pool_users)
        self.setObjectName("cleanupDialog")
        self.setWindowTitle("Clean up test records")
        self.resize(980, 640)
        self.plan: CleanupPlan | None = None
        self.owners = NO_OWNERS
        self.report: DeletionReport | None = None

        self.tag_edit = QLineEdit("test")
        self.tag_edit.setObjectName("cleanupTagEdit")
        self.name_mode = QComboBox()
        self.name_mode.setObjectName("cleanupNameMode")
        self.name_mode.addItem("Glob", "glob")
        self.name_mode.addItem("Starts with", "prefix")
        self.name_edit = QLineEdit()
        self.name_edit.setObjectName("cleanupNameEdit")
        self.name_edit.setPlaceholderText("e.g. seed-*.txt")
        name_row = QHBoxLayout()
        name_row.addWidget(self.name_mode)
        name_row.addWidget(self.name_edit, 1)
        self.created_after_edit = QLineEdit()
        self.created_after_edit.setObjectName("cleanupCreatedAfterEdit")
        self.created_before_edit = QLineEdit()
        self.created_before_edit.setObjectName("cleanupCreatedBeforeEdit")
        for edit in (self.created_after_edit, self.created_before_edit):
            edit.setPlaceholderText("ISO date, e.g. 2024-05-01 (UTC)")
        self.owners_edit = QLineEdit()
        self.owners_edit.setObjectName("cleanupOwnersEdit")
        self.owners_edit.setPlaceholderText("user names or ids, separated by commas")
        self.min_size_edit = QLineEdit()
        self.min_size_edit.setObjectName("cleanupMinSizeEdit")
        self.max_size_edit = QLineEdit()
        self.max_size_edit.setObjectName("cleanupMaxSizeEdit")
        size_row = QHBoxLayout()
        size_row.addWidget(self.min_size_edit)
        size_row.addWidget(QLabel("to"))
        size_row.addWidget(self.max_size_edit)
        self.orphans_check = QCheckBox(
            "Only orphans (metadata without file, files without metadata)"
        )
        self.orphans_check.setObjectName("cleanupOrphansCheck")
        self.expired_check = QCheckBox("Only expired test records (expiresAt is past)")
        self.expired_check.setObjectName("cleanupExpiredCheck")

        form = QFormLayout()
        form.addRow("Tag:", self.tag_edit)
        form.addRow("Filename:", name_row)
        form.addRow("Created after:", self.created_after_edit)
        form.addRow("Created before:", self.created_before_edit)
        form.addRow("Owners:", self.owners_edit)
        form.addRow("Size (bytes):", size_row)
        form.addRow("", self.orphans_check)
        form.addRow("", self.expired_check)

        self.preview_button = QPushButton("Preview")
        self.preview_button.setObjectName("cleanupPreviewButton")
        self.preview_button.clicked.connect(self.preview)
        self.delete_button = QPushButton("Delete")
        self.delete_button.setObjectName("cleanupDeleteButton")
        self.delete_button.setEnabled(False)
        self.delete_button.clicked.connect(self.delete)

        self.model = PlanTableModel(self)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setSortRole(SORT_ROLE)
        self.table = QTableView()
        self.table.setObjectName("cleanupResultsTable")
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(0, Qt.SortOrder.AscendingOrder)  # Qt starts descending
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setWordWrap(False)
        self.table.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.summary_label = QLabel("Set the criteria, then Preview: nothing is deleted yet.")
        self.summary_label.setObjectName("cleanupSummaryLabel")
        self.summary_label.setWordWrap(True)
        self.per_user_label = QLabel()
        self.per_user_label.setObjectName("cleanupPerUserLabel")
        self.per_user_label.setWordWrap(True)

        buttons = QHBoxLayout()
        buttons.addWidget(self.preview_button)
        buttons.addStretch(1)
        buttons.addWidget(self.progress_bar, 2)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.delete_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.not_admin_label)
        layout.addLayout(form)
        layout.addLayout(buttons)
        layout.addWidget(self.error_label)
        layout.addWidget(self.summary_label)
        layout.addWidget(self.per_user_label)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.report_view)
        layout.addWidget(self.close_box)
        self.preview_button.setDefault(True)  # Enter previews (set once inside the dialog)
        self._set_busy(False)

    def criteria(self) -> CleanupCriteria:
        """The criteria in the form; ValidationError if they are incomplete or contradictory."""
        name = self.name_edit.text().strip() or None
        glob = name if self.name_mode.currentData() == "glob" else None
        prefix = name if self.name_mode.currentData() == "prefix" else None
        owners = tuple(o.strip() for o in self.owners_edit.text().split(",") if o.strip())
        return CleanupCriteria(
            tag=self.tag_edit.text().strip() or None,
            name_glob=glob,
            name_prefix=prefix,
            created_after=_optional_time(self.created_after_edit, "Created after"),
            created_before=_optional_time(self.created_before_edit, "Created before"),
            owners=owners,
            min_size=_optional_int(self.min_size_edit, "The minimum size"),
            max_size=_optional_int(self.max_size_edit, "The maximum size"),
            orphans=self.orphans_check.isChecked(),
            expired=self.expired_check.isChecked(),
        )

    def _set_busy(self, busy: bool) -> None:
        allowed = self._is_admin and not busy
        self.preview_button.setEnabled(allowed)
        self.delete_button.setEnabled(allowed and self.plan is not None and self.plan.count > 0)
        for widget in (
            self.tag_edit,
            self.name_mode,
            self.name_edit,
            self.created_after_edit,
            self.created_before_edit,
            self.owners_edit,
            self.min_size_edit,
            self.max_size_edit,
            self.orphans_check,
            self.expired_check,
        ):
            widget.setEnabled(allowed)

    @Slot()
    def preview(self) -> None:
        """The dry run, on the worker: fills the table and the summary; deletes nothing."""
        if not self._is_admin:
            self.show_error(AuthError(NEEDS_ADMIN))
            return
        try:
            criteria = self.criteria()
        except ValidationError as error:
            self.show_error(error)
            return
        self._set_plan(None)
        pool_users = self._pool_users

        def plan(service: AdminService, ctx: OperationContext) -> Named:
            pool = pool_users(ctx)
            recorded: dict[str, str] = {}
            chosen = criteria
            if not all(map(looks_like_an_id, criteria.owners)):  # names: the ids they stand for
                recorded = service.recorded_owner_names()
                directory = OwnerDirectory(pool, recorded)
                regions = _regions(ctx) | {
                    owner.split(":")[0] for owner in recorded if ":" in owner
                }
                ids = directory.ids_for(criteria.owners, directory.candidate_ids(regions))
                chosen = replace(criteria, owners=tuple(sorted(ids)))
            made = service.plan_cleanup(chosen, cancel=ctx.cancel)
            directory = OwnerDirectory(pool, {**recorded, **made.owner_names})
            return Named(made, Owners.of(directory, [item.user_id for item in made.items]))

        self._run(plan, self._on_plan)

    def _on_plan(self, named: Named) -> None:
        assert isinstance(named.result, CleanupPlan)
        self._set_plan(named.result, named.owners)
        self.plan_ready.emit()

    def _set_plan(self, plan: CleanupPlan | None, owners: Owners = NO_OWNERS) -> None:
        self.plan = plan
        self.owners = owners
        self.model.set_items(list(plan.items) if plan else [], owners)
        if plan is None:
            self.summary_label.setText("")
            self.per_user_label.setText("")
            self.delete_button.setText("Delete")
        else:
            self.summary_label.setText(f"{cleanup_plan_summary(plan)} Nothing has been deleted.")
            self.per_user_label.setText("\n".join(cleanup_plan_per_user(plan, owners.labels)))
            self.delete_button.setText(f"Delete {plural(plan.count, 'document')}")
            self._fit_columns()
        self._set_busy(False)

    def _fit_columns(self) -> None:
        """Each column as wide as its content (no wrapping, no clipping); long names and tags
        at most ``MAX_COLUMN_WIDTH``, elided in the middle with the whole text as tooltip."""
        self.table.resizeColumnsToContents()
        for column in range(self.model.columnCount() - 1):
            if self.table.columnWidth(column) > MAX_COLUMN_WIDTH:
                self.table.setColumnWidth(column, MAX_COLUMN_WIDTH)

    @Slot()
    def delete(self) -> None:
        plan = self.plan
        if plan is None or plan.count == 0 or not self._is_admin:
            return
        if not self.confirm(plan.count, "document" if plan.count == 1 else "documents"):
            return

        def delete(service: AdminService, ctx: OperationContext) -> DeletionReport:
            return service.delete(plan, progress=ctx.report_progress, cancel=ctx.cancel)

        self._run(delete, self._on_deleted)

    def _on_deleted(self, result: DeletionReport) -> None:
        self.report = result
        self.plan = None
        self._set_busy(False)
        self.delete_button.setText("Delete")
        self.show_report(format_report(result))
        self.summary_label.setText("Done. Preview again to see what is left.")
        self.deletion_finished.emit()


class ConsistencyDialog(_AdminDialog):
    """Check -> findings grouped by kind -> Repair the chosen kinds (confirmed) -> report."""

    check_finished = Signal()
    repair_finished = Signal()

    def __init__(
        self,
        operations: Operations,
        is_admin: bool,
        factory: AdminFactory = open_admin_for,
        parent: QWidget | None = None,
        pool_users: PoolUsers = pool_users_of,
    ) -> None:
        super().__init__(operations, is_admin, factory, parent, pool_users)
        self.setObjectName("consistencyDialog")
        self.setWindowTitle("Check consistency")
        self.resize(1040, 600)
        self.check_report: CheckReport | None = None
        self.repair_report: DeletionReport | None = None

        self.stale_hours_spin = QDoubleSpinBox()
        self.stale_hours_spin.setObjectName("staleHoursSpin")
        self.stale_hours_spin.setRange(0, 24 * 365)
        self.stale_hours_spin.setValue(DEFAULT_STALE_HOURS)
        self.stale_hours_spin.setSuffix(" h")
        self.grace_spin = QDoubleSpinBox()
        self.grace_spin.setObjectName("orphanGraceSpin")
        self.grace_spin.setRange(0, 24 * 60)
        self.grace_spin.setValue(DEFAULT_ORPHAN_GRACE.total_seconds() / 60)
        self.grace_spin.setSuffix(" min")
        self.verify_check = QCheckBox("Verify checksums (downloads every file: slow)")
        self.verify_check.setObjectName("verifyChecksumsCheck")
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.FieldsStayAtSizeHint)
        form.addRow("Uploads abandoned after:", self.stale_hours_spin)
        form.addRow("Files are orphans after:", self.grace_spin)
        form.addRow("", self.verify_check)

        self.check_button = QPushButton("Check")
        self.check_button.setObjectName("consistencyCheckButton")
        self.check_button.clicked.connect(self.run_check)
        self.repair_button = QPushButton("Repair selected kinds")
        self.repair_button.setObjectName("consistencyRepairButton")
        self.repair_button.setEnabled(False)
        self.repair_button.clicked.connect(self.repair)
        self.tree = QTreeWidget()
        self.tree.setObjectName("consistencyResultsTree")
        self.tree.setHeaderLabels(["Problem", "Owner", "Stored file", "Size", "Detail"])
        self.tree.setWordWrap(False)
        self.tree.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.tree.header().setStretchLastSection(False)  # the detail as wide as it is
        self.tree.itemChanged.connect(self._update_repair_button)
        self.summary_label = QLabel("Check reads everything and changes nothing.")
        self.summary_label.setObjectName("consistencySummaryLabel")
        self.summary_label.setWordWrap(True)

        buttons = QHBoxLayout()
        buttons.addWidget(self.check_button)
        buttons.addStretch(1)
        buttons.addWidget(self.progress_bar, 2)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.repair_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.not_admin_label)
        layout.addLayout(form)
        layout.addLayout(buttons)
        layout.addWidget(self.error_label)
        layout.addWidget(self.summary_label)
        layout.addWidget(self.tree, 1)
        layout.addWidget(self.report_view)
        layout.addWidget(self.close_box)
        self.check_button.setDefault(True)  # Enter checks (set once inside the dialog)
        self._set_busy(False)

    def _set_busy(self, busy: bool) -> None:
        allowed = self._is_admin and not busy
        for widget in (self.check_button, self.stale_hours_spin, self.grace_spin):
            widget.setEnabled(allowed)
        self.verify_check.setEnabled(allowed)
        self.repair_button.setEnabled(allowed and bool(self.selected_kinds()))

    def kind_item(self, kind: FindingKind) -> QTreeWidgetItem | None:
        for row in range(self.tree.topLevelItemCount()):
            item = self.tree.topLevelItem(row)
            if item is not None and item.data(0, Qt.ItemDataRole.UserRole) == kind.value:
                return item
        return None

    def selected_kinds(self) -> list[FindingKind]:
        kinds = []
        for row in range(self.tree.topLevelItemCount()):
            item = self.tree.topLevelItem(row)
            if item is None or not item.flags() & Qt.ItemFlag.ItemIsUserCheckable:
                continue
            kind = FindingKind(item.data(0, Qt.ItemDataRole.UserRole))
            if kind in REPAIRABLE_KINDS and item.checkState(0) == Qt.CheckState.Checked:
                kinds.append(kind)
        return kinds

    @Slot()
    def _update_repair_button(self) -> None:
        self.repair_button.setEnabled(
            self._is_admin and not self.running and bool(self.selected_kinds())
        )

    @Slot()
    def run_check(self) -> None:
        if not self._is_admin:
            self.show_error(AuthError(NEEDS_ADMIN))
            return
        stale_hours = self.stale_hours_spin.value()
        grace = timedelta(minutes=self.grace_spin.value())
        verify = self.verify_check.isChecked()
        pool_users = self._pool_users
        self._show_findings(None)

        def check(service: AdminService, ctx: OperationContext) -> Named:
            report = service.check(
                stale_hours=stale_hours,
                verify_checksums=verify,
                orphan_grace=grace,
                progress=ctx.report_progress,
                cancel=ctx.cancel,
            )
            directory = OwnerDirectory(pool_users(ctx), report.owner_names)
            owners = Owners.of(directory, [finding.user_id for finding in report.findings])
            return Named(report, owners)

        self._run(check, self._on_checked)

    def _on_checked(self, named: Named) -> None:
        assert isinstance(named.result, CheckReport)
        self._show_findings(named.result, named.owners)
        self.check_finished.emit()

    def _show_findings(self, report: CheckReport | None, owners: Owners = NO_OWNERS) -> None:
        self.check_report = report
        self.tree.blockSignals(True)
        self.tree.clear()
        if report is not None:
            for kind in FindingKind:
                found = report.of_kind(kind)
                if not found:
                    continue
                repairable = kind in REPAIRABLE_KINDS
                label = f"{kind.value} ({len(found)})" + ("" if repairable else ": flagged only")
                group = QTreeWidgetItem([label])
                group.setData(0, Qt.ItemDataRole.UserRole, kind.value)
                if repairable:
                    group.setFlags(group.flags() | Qt.ItemFlag.ItemIsUserCheckable)
                    group.setCheckState(0, Qt.CheckState.Checked)
                else:
                    group.setFlags(group.flags() & ~Qt.ItemFlag.ItemIsUserCheckable)
                for finding in found:
                    row = QTreeWidgetItem(
                        [
                            finding.filename,
                            owners.label(finding.user_id),
                            finding.key,
                            human_size(finding.size),
                            finding.detail,
                        ]
                    )
                    row.setToolTip(1, owners.tooltips.get(finding.user_id, finding.user_id))
                    for column in (0, 2, 4):
                        row.setToolTip(column, row.text(column))
                    group.addChild(row)
                self.tree.addTopLevelItem(group)
            self.summary_label.setText(check_summary(report))
            self.tree.expandAll()
            for column in range(self.tree.columnCount()):
                self.tree.resizeColumnToContents(column)
                if column == 2 and self.tree.columnWidth(column) > MAX_COLUMN_WIDTH:
                    self.tree.setColumnWidth(column, MAX_COLUMN_WIDTH)  # a stored file's key
        self.tree.blockSignals(False)
        self._set_busy(False)

    @Slot()
    def repair(self) -> None:
        report = self.check_report
        kinds = self.selected_kinds()
        if report is None or not kinds or not self._is_admin:
            return
        count = sum(len(report.of_kind(kind)) for kind in kinds)
        if not self.confirm(count, "repairs (" + ", ".join(k.value for k in kinds) + ")"):
            return

        def repair(service: AdminService, ctx: OperationContext) -> DeletionReport:
            return service.repair(report, kinds, progress=ctx.report_progress, cancel=ctx.cancel)

        self._run(repair, self._on_repaired)

    def _on_repaired(self, result: DeletionReport) -> None:
        self.repair_report = result
        self._show_findings(None)
        self.summary_label.setText("Repaired. Check again to confirm.")
        self.show_report(format_report(result))
        self.repair_finished.emit()
