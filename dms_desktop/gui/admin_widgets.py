"""The pieces the Admin menu's dialogs (gui.cleanup_dialog, gui.consistency_dialog) share: the
base dialog that runs admin tools on the long lane with progress and Cancel, the plan table, the
deletion confirmation, and owners shown by name (see core.owner_names)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from PySide6.QtCore import (
    QAbstractTableModel,
    QCoreApplication,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Slot,
)
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ..core.admin import (
    CONFIRM_TYPED_ABOVE,
    AdminService,
    DeletionReport,
    PlannedDeletion,
    needs_typed_confirmation,
)
from ..core.admin_text import (
    deletion_report_text,
)
from ..core.aws import make_client
from ..core.errors import AuthError, DmsError, ValidationError
from ..core.formatting import human_size, human_time, printable
from ..core.owner_names import (
    FROM_USER_POOL,
    OwnerDirectory,
    user_names_from_pool,
)
from ..core.time_input import parse_moment
from .operations import Operation, OperationContext, Operations
from .translations import QT_TRANSLATE_NOOP

log = logging.getLogger(__name__)

NEEDS_ADMIN = QT_TRANSLATE_NOOP(
    "AdminDialog", "This needs admin rights: sign in as a member of the 'admins' group."
)
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
                where = QCoreApplication.translate("Owners", "No name is known for this owner.")
            elif owner.source == FROM_USER_POOL:
                where = QCoreApplication.translate("Owners", "Name from the user pool.")
            else:
                where = QCoreApplication.translate(
                    "Owners", "Name as the owner's app recorded it on their documents."
                )
            owner_id = QCoreApplication.translate("Owners", "Owner id: {id}").format(id=user_id)
            tooltips[user_id] = f"{owner_id}\n{where}"
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

    def __init__(self, count: int, question: str, parent: QWidget | None = None) -> None:
        """``question``: what is asked, translated, e.g. "Delete 3 documents?"."""
        super().__init__(parent)
        self.setObjectName("confirmDeletionDialog")
        self.setWindowTitle(self.tr("Confirm"))
        self._count = count
        layout = QVBoxLayout(self)
        text = QLabel(self.tr("{question} This cannot be undone.").format(question=question))
        text.setWordWrap(True)
        layout.addWidget(text)
        self.count_edit = QLineEdit()
        self.count_edit.setObjectName("confirmCountEdit")
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setObjectName("confirmOkButton")
        self.ok_button.setText(self.tr("Delete {count}").format(count=count))
        if needs_typed_confirmation(count):
            layout.addWidget(
                QLabel(
                    self.tr("More than {limit}: type {count} to confirm.").format(
                        limit=CONFIRM_TYPED_ABOVE, count=count
                    )
                )
            )
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


def ask_to_confirm(parent: QWidget, count: int, question: str) -> bool:
    return ConfirmDeletionDialog(count, question, parent).exec() == QDialog.DialogCode.Accepted


class PlanTableModel(QAbstractTableModel):
    """The dry run's documents (already in memory): sorted by a proxy on SORT_ROLE."""

    HEADERS = (
        QT_TRANSLATE_NOOP("PlanTableModel", "Name"),
        QT_TRANSLATE_NOOP("PlanTableModel", "Owner"),
        QT_TRANSLATE_NOOP("PlanTableModel", "Size"),
        QT_TRANSLATE_NOOP("PlanTableModel", "Created"),
        QT_TRANSLATE_NOOP("PlanTableModel", "Tags"),
        QT_TRANSLATE_NOOP("PlanTableModel", "Why"),
        QT_TRANSLATE_NOOP("PlanTableModel", "Id"),
    )

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
            return QCoreApplication.translate("PlanTableModel", self.HEADERS[section])
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
                item.filename or self.tr("(no metadata)"),
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


def optional_int(edit: QLineEdit, what: str) -> int | None:
    text = edit.text().strip()
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        message = QCoreApplication.translate(
            "AdminDialog", "{what} must be a whole number of bytes."
        )
        raise ValidationError(message.format(what=what)) from None


def optional_time(edit: QLineEdit, what: str) -> datetime | None:
    text = edit.text().strip()
    if not text:
        return None
    try:
        return parse_moment(text)
    except ValidationError as error:
        raise ValidationError(f"{what}: {error}") from None


def regions_of(ctx: OperationContext) -> set[str]:
    """The regions the sandbox's owner ids may start with (``region:sub``)."""
    account = ctx.account
    regions = {account.backend.region} if account.backend is not None else set()
    if account.user is not None and ":" in account.user.user_id:
        regions.add(account.user.user_id.split(":")[0])
    return regions


class AdminDialog(QDialog):
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
        # (how many, the question): whether the user confirmed.
        self.confirm: Callable[[int, str], bool] = lambda count, question: ask_to_confirm(
            self, count, question
        )
        self.error_label = QLabel()
        self.error_label.setObjectName("adminErrorLabel")
        self.error_label.setWordWrap(True)
        self.error_label.hide()
        self.not_admin_label = QLabel(self.tr(NEEDS_ADMIN))
        self.not_admin_label.setObjectName("notAdminLabel")
        self.not_admin_label.setWordWrap(True)
        self.not_admin_label.setVisible(not is_admin)
        self.progress_bar = QProgressBar()
        self.progress_bar.setObjectName("adminProgressBar")
        self.progress_bar.hide()
        self.cancel_button = QPushButton(self.tr("Cancel"))
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
        self.close_button.setToolTip(self.tr("Close; while a job runs, this cancels it first"))
        self.close_box.rejected.connect(self.reject)

    @property
    def running(self) -> bool:
        return self._operation is not None

    def _run(self, run: AdminRun[T], on_success: Callable[[T], None]) -> bool:
        """Start ``run`` on the long lane with the admin's tools; False if refused."""
        if not self._is_admin:
            self.show_error(AuthError(self.tr(NEEDS_ADMIN)))
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
