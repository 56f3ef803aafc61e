"""Admin > Clean up test records: the criteria, a dry run that lists what would go, then the
batched delete and its report. A thin layer over :mod:`dms_desktop.core.admin`: every backend
call runs on the long lane (see gui.operations) with progress and Cancel; a user who is not an
admin sees a plain "needs admin rights" message and nothing runs (the admin tools refuse too)."""

from __future__ import annotations

import logging
from dataclasses import replace

from PySide6.QtCore import (
    QSortFilterProxyModel,
    Qt,
    Signal,
    Slot,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from ..core.admin import (
    AdminService,
    CleanupCriteria,
    CleanupPlan,
    DeletionReport,
)
from ..core.admin_text import (
    cleanup_plan_per_user,
    cleanup_plan_summary,
)
from ..core.errors import AuthError, ValidationError
from ..core.owner_names import (
    OwnerDirectory,
    looks_like_an_id,
)
from .admin_widgets import (
    MAX_COLUMN_WIDTH,
    NEEDS_ADMIN,
    NO_OWNERS,
    SORT_ROLE,
    AdminDialog,
    AdminFactory,
    Named,
    Owners,
    PlanTableModel,
    PoolUsers,
    format_report,
    open_admin_for,
    optional_int,
    optional_time,
    pool_users_of,
    regions_of,
)
from .operations import OperationContext, Operations

log = logging.getLogger(__name__)


class CleanupDialog(AdminDialog):
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
        self.setWindowTitle(self.tr("Clean up test records"))
        self.resize(980, 640)
        self.plan: CleanupPlan | None = None
        self.owners = NO_OWNERS
        self.report: DeletionReport | None = None

        self.tag_edit = QLineEdit("test")
        self.tag_edit.setObjectName("cleanupTagEdit")
        self.name_mode = QComboBox()
        self.name_mode.setObjectName("cleanupNameMode")
        self.name_mode.addItem(self.tr("Glob"), "glob")
        self.name_mode.addItem(self.tr("Starts with"), "prefix")
        self.name_edit = QLineEdit()
        self.name_edit.setObjectName("cleanupNameEdit")
        self.name_edit.setPlaceholderText(self.tr("e.g. seed-*.txt"))
        name_row = QHBoxLayout()
        name_row.addWidget(self.name_mode)
        name_row.addWidget(self.name_edit, 1)
        self.created_after_edit = QLineEdit()
        self.created_after_edit.setObjectName("cleanupCreatedAfterEdit")
        self.created_before_edit = QLineEdit()
        self.created_before_edit.setObjectName("cleanupCreatedBeforeEdit")
        for edit in (self.created_after_edit, self.created_before_edit):
            edit.setPlaceholderText(self.tr("ISO date, e.g. 2024-05-01 (UTC)"))
        self.owners_edit = QLineEdit()
        self.owners_edit.setObjectName("cleanupOwnersEdit")
        self.owners_edit.setPlaceholderText(self.tr("user names or ids, separated by commas"))
        self.min_size_edit = QLineEdit()
        self.min_size_edit.setObjectName("cleanupMinSizeEdit")
        self.max_size_edit = QLineEdit()
        self.max_size_edit.setObjectName("cleanupMaxSizeEdit")
        size_row = QHBoxLayout()
        size_row.addWidget(self.min_size_edit)
        size_row.addWidget(QLabel(self.tr("to")))
        size_row.addWidget(self.max_size_edit)
        self.orphans_check = QCheckBox(
            self.tr("Only orphans (metadata without file, files without metadata)")
        )
        self.orphans_check.setObjectName("cleanupOrphansCheck")
        self.expired_check = QCheckBox(self.tr("Only expired test records (expiresAt is past)"))
        self.expired_check.setObjectName("cleanupExpiredCheck")

        form = QFormLayout()
        form.addRow(self.tr("Tag:"), self.tag_edit)
        form.addRow(self.tr("Filename:"), name_row)
        form.addRow(self.tr("Created after:"), self.created_after_edit)
        form.addRow(self.tr("Created before:"), self.created_before_edit)
        form.addRow(self.tr("Owners:"), self.owners_edit)
        form.addRow(self.tr("Size (bytes):"), size_row)
        form.addRow("", self.orphans_check)
        form.addRow("", self.expired_check)

        self.preview_button = QPushButton(self.tr("Preview"))
        self.preview_button.setObjectName("cleanupPreviewButton")
        self.preview_button.clicked.connect(self.preview)
        self.delete_button = QPushButton(self.tr("Delete"))
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
        self.summary_label = QLabel(
            self.tr("Set the criteria, then Preview: nothing is deleted yet.")
        )
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
            created_after=optional_time(self.created_after_edit, self.tr("Created after")),
            created_before=optional_time(self.created_before_edit, self.tr("Created before")),
            owners=owners,
            min_size=optional_int(self.min_size_edit, self.tr("The minimum size")),
            max_size=optional_int(self.max_size_edit, self.tr("The maximum size")),
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
            self.show_error(AuthError(self.tr(NEEDS_ADMIN)))
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
                regions = regions_of(ctx) | {
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
            self.delete_button.setText(self.tr("Delete"))
        else:
            self.summary_label.setText(
                self.tr("{summary} Nothing has been deleted.").format(
                    summary=cleanup_plan_summary(plan)
                )
            )
            self.per_user_label.setText("\n".join(cleanup_plan_per_user(plan, owners.labels)))
            self.delete_button.setText(self.tr("Delete %n document(s)", "", plan.count))
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
        if not self.confirm(plan.count, self.tr("Delete %n document(s)?", "", plan.count)):
            return

        def delete(service: AdminService, ctx: OperationContext) -> DeletionReport:
            return service.delete(plan, progress=ctx.report_progress, cancel=ctx.cancel)

        self._run(delete, self._on_deleted)

    def _on_deleted(self, result: DeletionReport) -> None:
        self.report = result
        self.plan = None
        self._set_busy(False)
        self.delete_button.setText(self.tr("Delete"))
        self.show_report(format_report(result))
        self.summary_label.setText(self.tr("Done. Preview again to see what is left."))
        self.deletion_finished.emit()
