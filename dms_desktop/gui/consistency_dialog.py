"""Admin > Check metadata and files: every item against the stored bodies, the findings by kind,
and a repair of the kinds that can be repaired. A thin layer over :mod:`dms_desktop.core.admin`
(see gui.cleanup_dialog for how it runs)."""

from __future__ import annotations

import logging
from datetime import timedelta

from PySide6.QtCore import (
    Qt,
    Signal,
    Slot,
)
from PySide6.QtWidgets import (
    QCheckBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ..core.admin import (
    DEFAULT_ORPHAN_GRACE,
    DEFAULT_STALE_HOURS,
    REPAIRABLE_KINDS,
    AdminService,
    CheckReport,
    DeletionReport,
    FindingKind,
)
from ..core.admin_text import (
    check_summary,
)
from ..core.errors import AuthError
from ..core.formatting import human_size
from ..core.owner_names import (
    OwnerDirectory,
)
from .admin_widgets import (
    MAX_COLUMN_WIDTH,
    NEEDS_ADMIN,
    NO_OWNERS,
    AdminDialog,
    AdminFactory,
    Named,
    Owners,
    PoolUsers,
    format_report,
    open_admin_for,
    pool_users_of,
)
from .operations import OperationContext, Operations

log = logging.getLogger(__name__)


class ConsistencyDialog(AdminDialog):
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
        self.setWindowTitle(self.tr("Check consistency"))
        self.resize(1040, 600)
        self.check_report: CheckReport | None = None
        self.repair_report: DeletionReport | None = None

        self.stale_hours_spin = QDoubleSpinBox()
        self.stale_hours_spin.setObjectName("staleHoursSpin")
        self.stale_hours_spin.setRange(0, 24 * 365)
        self.stale_hours_spin.setValue(DEFAULT_STALE_HOURS)
        self.stale_hours_spin.setSuffix(self.tr(" h"))
        self.grace_spin = QDoubleSpinBox()
        self.grace_spin.setObjectName("orphanGraceSpin")
        self.grace_spin.setRange(0, 24 * 60)
        self.grace_spin.setValue(DEFAULT_ORPHAN_GRACE.total_seconds() / 60)
        self.grace_spin.setSuffix(self.tr(" min"))
        self.verify_check = QCheckBox(self.tr("Verify checksums (downloads every file: slow)"))
        self.verify_check.setObjectName("verifyChecksumsCheck")
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.FieldsStayAtSizeHint)
        form.addRow(self.tr("Uploads abandoned after:"), self.stale_hours_spin)
        form.addRow(self.tr("Files are orphans after:"), self.grace_spin)
        form.addRow("", self.verify_check)

        self.check_button = QPushButton(self.tr("Check"))
        self.check_button.setObjectName("consistencyCheckButton")
        self.check_button.clicked.connect(self.run_check)
        self.repair_button = QPushButton(self.tr("Repair selected kinds"))
        self.repair_button.setObjectName("consistencyRepairButton")
        self.repair_button.setEnabled(False)
        self.repair_button.clicked.connect(self.repair)
        self.tree = QTreeWidget()
        self.tree.setObjectName("consistencyResultsTree")
        self.tree.setHeaderLabels(
            [
                self.tr("Problem"),
                self.tr("Owner"),
                self.tr("Stored file"),
                self.tr("Size"),
                self.tr("Detail"),
            ]
        )
        self.tree.setWordWrap(False)
        self.tree.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.tree.header().setStretchLastSection(False)  # the detail as wide as it is
        self.tree.itemChanged.connect(self._update_repair_button)
        self.summary_label = QLabel(self.tr("Check reads everything and changes nothing."))
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
            self.show_error(AuthError(self.tr(NEEDS_ADMIN)))
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
                label = f"{kind.value} ({len(found)})"
                if not repairable:
                    label = self.tr("{kind}: flagged only").format(kind=label)
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
        question = self.tr("Make %n repair(s) ({kinds})?", "", count)
        if not self.confirm(count, question.format(kinds=", ".join(k.value for k in kinds))):
            return

        def repair(service: AdminService, ctx: OperationContext) -> DeletionReport:
            return service.repair(report, kinds, progress=ctx.report_progress, cancel=ctx.cancel)

        self._run(repair, self._on_repaired)

    def _on_repaired(self, result: DeletionReport) -> None:
        self.repair_report = result
        self._show_findings(None)
        self.summary_label.setText(self.tr("Repaired. Check again to confirm."))
        self.show_report(format_report(result))
        self.repair_finished.emit()
