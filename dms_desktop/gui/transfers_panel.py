"""The transfers dock: every upload and download with its progress, speed and state.

Pause / Resume (per transfer and for all) stop a transfer keeping what it did and continue it
where it stopped; Discard gives up a paused or interrupted one (see gui.transfers).

The table model follows :class:`TransferQueue` one transfer at a time (``changed(id)``): a
progress tick repaints one row; a new transfer inserts one row; a removed one removes one row.
"""

from __future__ import annotations

from PySide6.QtCore import (
    QAbstractTableModel,
    QItemSelection,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSize,
    Qt,
    Slot,
)
from PySide6.QtGui import QBrush, QColor, QPainter
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QDockWidget,
    QHBoxLayout,
    QHeaderView,
    QPushButton,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionProgressBar,
    QStyleOptionViewItem,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from ..core.formatting import human_duration, human_size
from .transfer_items import Transfer, TransferState
from .transfers import TransferQueue
from .translations import QT_TRANSLATE_NOOP

ModelIndex = QModelIndex | QPersistentModelIndex

COLUMNS = (
    QT_TRANSLATE_NOOP("TransferTableModel", "Name"),
    QT_TRANSLATE_NOOP("TransferTableModel", "Kind"),
    QT_TRANSLATE_NOOP("TransferTableModel", "Files"),
    QT_TRANSLATE_NOOP("TransferTableModel", "Progress"),
    QT_TRANSLATE_NOOP("TransferTableModel", "Bytes"),
    QT_TRANSLATE_NOOP("TransferTableModel", "Speed"),
    QT_TRANSLATE_NOOP("TransferTableModel", "Time left"),
    QT_TRANSLATE_NOOP("TransferTableModel", "State"),
)
NAME, KIND, FILES, PROGRESS, BYTES, SPEED, TIME_LEFT, STATE = range(len(COLUMNS))

PercentRole = Qt.ItemDataRole.UserRole + 1
"""The Progress column's percentage (0-100) as an int, for the delegate."""

TransferIdRole = Qt.ItemDataRole.UserRole + 2
"""Any column: the transfer id of the row."""

_FAILED_COLOR = QColor(176, 0, 32)


def transfer_percent(transfer: Transfer) -> int:
    """0-100; a finished empty transfer counts as complete."""
    if transfer.total <= 0:
        return 100 if transfer.state is TransferState.DONE else 0
    return max(0, min(100, transfer.done * 100 // transfer.total))


class TransferTableModel(QAbstractTableModel):
    """One row per transfer in the queue: the unfinished ones first, in the order they were
    added (so a new transfer shows above every finished one), then the finished ones, the last
    to finish first. A transfer that finishes moves down to the top of the finished ones."""

    def __init__(self, queue: TransferQueue, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._queue = queue
        present = queue.transfers()
        finished = sorted(
            (transfer for transfer in present if transfer.state.finished),
            key=lambda transfer: -(transfer.finished_at or 0.0),
        )
        unfinished = [transfer for transfer in present if not transfer.state.finished]
        self._ids: list[int] = [transfer.transfer_id for transfer in unfinished + finished]
        self._finished: set[int] = {transfer.transfer_id for transfer in finished}
        queue.changed.connect(self._on_changed)

    # --- reading ---

    def rowCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self._ids)

    def columnCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(  # noqa: N802 (Qt's name)
        self,
        section: int,
        orientation: Qt.Orientation,
        role: int = Qt.ItemDataRole.DisplayRole,
    ) -> object:
        if (
            orientation == Qt.Orientation.Horizontal
            and role == Qt.ItemDataRole.DisplayRole
            and 0 <= section < len(COLUMNS)
        ):
            return self.tr(COLUMNS[section])
        return None

    def transfer_at(self, row: int) -> Transfer | None:
        """The transfer shown in ``row`` (None if out of range or already gone)."""
        if not 0 <= row < len(self._ids):
            return None
        try:
            return self._queue.get(self._ids[row])
        except KeyError:
            return None

    def row_of(self, transfer_id: int) -> int | None:
        try:
            return self._ids.index(transfer_id)
        except ValueError:
            return None

    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid() or index.parent().isValid():
            return None
        transfer = self.transfer_at(index.row())
        if transfer is None:
            return None
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if column == FILES:
                return self._files_text(transfer)
            if column == STATE and transfer.failures:
                failed = self.tr("%n failed", "", len(transfer.failures))
                return self.tr("{state}, {failed}").format(
                    state=self.tr(transfer.state.value), failed=failed
                )
            return self._display(transfer, column)
        if role == PercentRole and column == PROGRESS:
            return transfer_percent(transfer)
        if role == TransferIdRole:
            return transfer.transfer_id
        if role == Qt.ItemDataRole.ToolTipRole:
            if column == STATE and transfer.error:
                return transfer.error
            if transfer.failures and column in (STATE, FILES):
                return "\n".join(transfer.failures)
            if column == NAME:
                return transfer.name
            return None
        if role == Qt.ItemDataRole.ForegroundRole and column == STATE:
            if transfer.state is TransferState.FAILED:
                return QBrush(_FAILED_COLOR)
            return None
        if role == Qt.ItemDataRole.TextAlignmentRole and column in (FILES, BYTES, SPEED, TIME_LEFT):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def _files_text(self, transfer: Transfer) -> str:
        """A job's files done of all ("120 of 5,000"); empty for a transfer of one file."""
        if transfer.files_total is None:
            return ""
        return (
            self.tr("%1 of %2")
            .replace("%1", f"{transfer.files_done:,}")
            .replace("%2", f"{transfer.files_total:,}")
        )

    def _display(self, transfer: Transfer, column: int) -> str:
        if column == NAME:
            return transfer.name
        if column == KIND:
            return self.tr(transfer.kind.value)
        if column == PROGRESS:
            return f"{transfer_percent(transfer)}%"
        if column == BYTES:
            return self.tr("{done} of {total}").format(
                done=human_size(transfer.done), total=human_size(transfer.total)
            )
        if column == SPEED:
            # While running: the speed of the last seconds; once done: the average.
            speed = transfer.speed
            return "" if not speed else self.tr("{size}/s").format(size=human_size(int(speed)))
        if column == TIME_LEFT:
            seconds = transfer.seconds_left
            return "" if seconds is None else human_duration(seconds)
        if column == STATE:
            return self.tr(transfer.state.value)
        return ""

    # --- following the queue ---

    @property
    def unfinished_count(self) -> int:
        """The rows at the top that are not finished."""
        return len(self._ids) - len(self._finished)

    @Slot(int)
    def _on_changed(self, transfer_id: int) -> None:
        row = self.row_of(transfer_id)
        try:
            transfer: Transfer | None = self._queue.get(transfer_id)
        except KeyError:
            transfer = None
        if transfer is None:
            if row is not None:
                self.beginRemoveRows(QModelIndex(), row, row)
                del self._ids[row]
                self._finished.discard(transfer_id)
                self.endRemoveRows()
            return
        if row is None:
            at = self.unfinished_count
            self.beginInsertRows(QModelIndex(), at, at)
            self._ids.insert(at, transfer_id)
            self.endInsertRows()
            return
        if transfer.state.finished and transfer_id not in self._finished:
            row = self._move_to_finished(row, transfer_id)
        self.dataChanged.emit(self.index(row, 0), self.index(row, len(COLUMNS) - 1))

    def _move_to_finished(self, row: int, transfer_id: int) -> int:
        """Move the row of a transfer that just finished to the top of the finished ones."""
        target = self.unfinished_count - 1  # its row once moved (it stops counting as unfinished)
        if row != target:
            # Qt's destination is the row it goes before, counted before the move.
            self.beginMoveRows(QModelIndex(), row, row, QModelIndex(), target + 1)
            del self._ids[row]
            self._ids.insert(target, transfer_id)
            self._finished.add(transfer_id)
            self.endMoveRows()
        else:
            self._finished.add(transfer_id)
        return target


class ProgressBarDelegate(QStyledItemDelegate):
    """Draws the Progress column as a progress bar (from ``PercentRole``)."""

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: ModelIndex) -> None:
        percent = index.data(PercentRole)
        if not isinstance(percent, int):
            super().paint(painter, option, index)
            return
        bar = QStyleOptionProgressBar()
        bar.rect = option.rect.adjusted(2, 2, -2, -2)
        bar.state = option.state | QStyle.StateFlag.State_Horizontal
        bar.direction = option.direction
        bar.fontMetrics = option.fontMetrics
        bar.palette = option.palette
        bar.minimum = 0
        bar.maximum = 100
        bar.progress = percent
        bar.text = f"{percent}%"
        bar.textVisible = True
        bar.textAlignment = Qt.AlignmentFlag.AlignCenter
        widget = option.widget
        style = widget.style() if widget is not None else QApplication.style()
        style.drawControl(QStyle.ControlElement.CE_ProgressBar, bar, painter, widget)

    def sizeHint(self, option: QStyleOptionViewItem, index: ModelIndex) -> QSize:  # noqa: N802
        hint = super().sizeHint(option, index)
        return QSize(max(hint.width(), 120), hint.height())


class TransfersPanel(QDockWidget):
    """The "Transfers" dock over a :class:`TransferQueue`, with pause / resume / discard,
    cancel / retry / clear."""

    def __init__(self, queue: TransferQueue, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Transfers"))
        self.setObjectName("transfersDock")
        self._queue = queue
        self._model = TransferTableModel(queue, self)

        self._table = QTableView()
        self._table.setObjectName("transfersTable")
        self._table.setModel(self._model)
        self._table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self._table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self._table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self._table.verticalHeader().setVisible(False)
        self._table.setItemDelegateForColumn(PROGRESS, ProgressBarDelegate(self._table))
        header = self._table.horizontalHeader()
        header.setSectionResizeMode(NAME, QHeaderView.ResizeMode.Stretch)
        header.setStretchLastSection(False)
        for column, width in (
            (KIND, 80),
            (FILES, 110),
            (PROGRESS, 120),
            (BYTES, 170),
            (SPEED, 100),
        ):
            self._table.setColumnWidth(column, width)

        self.cancel_button = QPushButton(self.tr("Cancel"))
        self.cancel_button.setObjectName("cancelTransferButton")
        self.cancel_button.setToolTip(self.tr("Cancel the selected transfers"))
        self.cancel_all_button = QPushButton(self.tr("Cancel all"))
        self.cancel_all_button.setObjectName("cancelAllTransfersButton")
        self.retry_button = QPushButton(self.tr("Retry"))
        self.retry_button.setObjectName("retryTransferButton")
        self.retry_button.setToolTip(
            self.tr("Start the selected failed or cancelled transfers again")
        )
        self.clear_button = QPushButton(self.tr("Clear finished"))
        self.clear_button.setObjectName("clearFinishedButton")
        self.pause_button = QPushButton(self.tr("Pause"))
        self.pause_button.setObjectName("pauseTransferButton")
        self.pause_button.setToolTip(self.tr("Stop the selected transfers, keeping what they did"))
        self.resume_button = QPushButton(self.tr("Resume"))
        self.resume_button.setObjectName("resumeTransferButton")
        self.resume_button.setToolTip(self.tr("Continue the selected transfers where they stopped"))
        self.discard_button = QPushButton(self.tr("Discard"))
        self.discard_button.setObjectName("discardTransferButton")
        self.discard_button.setToolTip(
            self.tr(
                "Give up the selected paused or interrupted transfers (what they sent or wrote "
                "is removed)"
            )
        )
        self.pause_all_button = QPushButton(self.tr("Pause all"))
        self.pause_all_button.setObjectName("pauseAllTransfersButton")
        self.resume_all_button = QPushButton(self.tr("Resume all"))
        self.resume_all_button.setObjectName("resumeAllTransfersButton")
        self.pause_button.clicked.connect(self.pause_selected)
        self.resume_button.clicked.connect(self.resume_selected)
        self.discard_button.clicked.connect(self.discard_selected)
        self.pause_all_button.clicked.connect(self.pause_all)
        self.resume_all_button.clicked.connect(self.resume_all)
        self.cancel_button.clicked.connect(self.cancel_selected)
        self.cancel_all_button.clicked.connect(self.cancel_all)
        self.retry_button.clicked.connect(self.retry_selected)
        self.clear_button.clicked.connect(self.clear_finished)

        buttons = QHBoxLayout()
        for button in (
            self.pause_button,
            self.resume_button,
            self.discard_button,
            self.pause_all_button,
            self.resume_all_button,
            self.cancel_button,
            self.cancel_all_button,
            self.retry_button,
            self.clear_button,
        ):
            buttons.addWidget(button)
        buttons.addStretch(1)

        body = QWidget()
        body.setObjectName("transfersPanelBody")
        layout = QVBoxLayout(body)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self._table)
        layout.addLayout(buttons)
        self.setWidget(body)

        self._table.selectionModel().selectionChanged.connect(self._on_selection_changed)
        self._model.rowsInserted.connect(self._show_new_row)
        queue.changed.connect(self._on_queue_changed)
        self._update_buttons()

    @property
    def model(self) -> TransferTableModel:
        return self._model

    @property
    def table(self) -> QTableView:
        return self._table

    def selected_transfers(self) -> list[Transfer]:
        rows = sorted({index.row() for index in self._table.selectionModel().selectedRows()})
        return [t for t in (self._model.transfer_at(row) for row in rows) if t is not None]

    # --- commands ---

    @Slot()
    def pause_selected(self) -> None:
        for transfer in self.selected_transfers():
            self._queue.pause(transfer.transfer_id)

    @Slot()
    def resume_selected(self) -> None:
        for transfer in self.selected_transfers():
            self._queue.resume(transfer.transfer_id)

    @Slot()
    def discard_selected(self) -> None:
        for transfer in self.selected_transfers():
            self._queue.discard(transfer.transfer_id)

    @Slot()
    def pause_all(self) -> None:
        self._queue.pause_all()

    @Slot()
    def resume_all(self) -> None:
        self._queue.resume_all()

    @Slot()
    def cancel_selected(self) -> None:
        for transfer in self.selected_transfers():
            self._queue.cancel(transfer.transfer_id)

    @Slot()
    def cancel_all(self) -> None:
        self._queue.cancel_all()

    @Slot()
    def retry_selected(self) -> None:
        for transfer in self.selected_transfers():
            self._queue.retry(transfer.transfer_id)

    @Slot()
    def clear_finished(self) -> None:
        self._queue.clear_finished()

    @Slot(QModelIndex, int, int)
    def _show_new_row(self, _parent: QModelIndex, first: int, _last: int) -> None:
        """A new transfer is scrolled into view (the list may be long with finished ones)."""
        self._table.scrollTo(self._model.index(first, NAME))

    # --- enabled states ---

    @Slot(QItemSelection, QItemSelection)
    def _on_selection_changed(self, _selected: QItemSelection, _deselected: QItemSelection) -> None:
        self._update_buttons()

    @Slot(int)
    def _on_queue_changed(self, _transfer_id: int) -> None:
        self._update_buttons()

    def _update_buttons(self) -> None:
        selected = self.selected_transfers()
        transfers = self._queue.transfers()
        retryable = {TransferState.FAILED, TransferState.CANCELLED}
        self.pause_button.setEnabled(any(t.state.active for t in selected))
        self.resume_button.setEnabled(any(t.state.resumable for t in selected))
        self.discard_button.setEnabled(any(t.state.resumable for t in selected))
        self.pause_all_button.setEnabled(any(t.state.active for t in transfers))
        self.resume_all_button.setEnabled(any(t.state.resumable for t in transfers))
        self.cancel_button.setEnabled(any(t.state.active for t in selected))
        self.cancel_all_button.setEnabled(any(t.state.active for t in transfers))
        self.retry_button.setEnabled(any(t.state in retryable for t in selected))
        self.clear_button.setEnabled(any(t.state.finished for t in transfers))
