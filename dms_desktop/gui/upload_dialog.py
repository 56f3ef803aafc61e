"""The upload dialog: choose files and folders, tag them, see problems before anything is sent.

Every file is checked locally as soon as it is added (name, folder, readable); the tags are
checked as they are typed; the Upload button stays disabled while anything is wrong. Files whose
content is already stored are found on the long lane (hashing big files never blocks the window
nor the list's pages) and skipped unless "Upload anyway" is ticked on their row. The checks are
the upload plan's (core.upload_plan), as for `dms upload`; the checksum found for the duplicate
check goes with the upload, so a file is hashed once.
"""

from __future__ import annotations

import functools
from datetime import timedelta
from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Slot
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ..core.cancellation import CancelToken
from ..core.errors import Cancelled, DmsError, LocalFileError, ValidationError
from ..core.formatting import human_size
from ..core.localfiles import UploadSource, collect_upload_sources, guess_file_type
from ..core.models import normalize_folder, normalize_tags, utc_now
from ..core.tag_text import split_tags
from ..core.upload_plan import (
    ContentCheck,
    Decision,
    DuplicatePolicy,
    check_source,
    decide,
    duplicate_names,
)
from .drops import DropHandler
from .operations import Operations
from .tag_completer import TagCompleter
from .transfer_items import UploadSpec
from .upload_rows import (
    COLUMNS,
    MANY_FILES,
    NAME,
    PROBLEM_COLOR,
    SIZE,
    STATUS,
    TYPE,
    UPLOAD_ANYWAY,
    DuplicateCheck,
    SharedChecksums,
    UploadRow,
    render_row,
)

DEFAULT_TEST_RECORD_DAYS = 7
REFRESH_INTERVAL_MS = 100  # duplicate results for many small files: refresh at most this often


class UploadDialog(QDialog):
    """Choose what to upload; :meth:`specs` says what to queue after the dialog is accepted."""

    def __init__(
        self,
        operations: Operations,
        known_tags: list[str],
        initial_paths: list[Path] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("uploadDialog")
        self.setWindowTitle(self.tr("Upload files"))
        self._operations = operations
        self._rows: list[UploadRow] = []
        self._row_numbers: dict[int, int] = {}  # row key -> index in _rows
        self._next_key = 0
        self._cancel = CancelToken()  # set when the dialog closes: stops pending hashing
        self._tags: tuple[str, ...] = ()
        self._tag_problem = ""
        self._roots: list[Path] = []  # the files and folders added, as chosen
        self._shared: SharedChecksums | None = None  # the stored checksums, for many files

        self.add_files_button = QPushButton(self.tr("Add files…"))
        self.add_files_button.setObjectName("addUploadFilesButton")
        self.add_folder_button = QPushButton(self.tr("Add folder…"))
        self.add_folder_button.setObjectName("addUploadFolderButton")
        self.remove_button = QPushButton(self.tr("Remove"))
        self.remove_button.setObjectName("removeUploadFilesButton")
        self.remove_button.setEnabled(False)
        for button in (self.add_files_button, self.add_folder_button, self.remove_button):
            # Never the default: Enter (e.g. after typing the tags) means Upload, not "add
            # more files" because that button had the focus last.
            button.setAutoDefault(False)
        self.add_files_button.clicked.connect(self._choose_files)
        self.add_folder_button.clicked.connect(self._choose_folder)
        self.remove_button.clicked.connect(self.remove_selected)

        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setObjectName("uploadFileTable")
        self.table.setHorizontalHeaderLabels([self.tr(column) for column in COLUMNS])
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.setWordWrap(False)  # one line per file; the whole text is in the tooltip
        self.table.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(NAME, QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(STATUS, QHeaderView.ResizeMode.Stretch)
        header.resizeSection(NAME, 220)
        metrics = self.table.fontMetrics()
        for column, widest in ((SIZE, "1023 bytes"), (TYPE, "CSV spreadsheet")):
            header.resizeSection(column, metrics.horizontalAdvance(widest) + 20)
        anyway_header = QTableWidgetItem(self.tr(COLUMNS[UPLOAD_ANYWAY]))
        anyway_header.setToolTip(
            self.tr("Files already stored are skipped; tick to upload another copy.")
        )
        self.table.setHorizontalHeaderItem(UPLOAD_ANYWAY, anyway_header)
        self.table.itemChanged.connect(self._on_item_changed)
        self.table.itemSelectionChanged.connect(self._on_selection_changed)

        self.tags_edit = QLineEdit()
        self.tags_edit.setObjectName("uploadTagsEdit")
        self.tags_edit.setPlaceholderText(self.tr("Tags for all files, separated by commas"))
        self.tags_edit.setCompleter(TagCompleter(known_tags, self.tags_edit))
        self.tags_edit.textChanged.connect(self._on_tags_changed)

        self.expires_check = QCheckBox(self.tr("Test records, expiring after"))
        self.expires_check.setObjectName("uploadExpiresCheck")
        self.expires_check.setToolTip(
            self.tr(
                "For test uploads: the documents are removed on their own when they expire "
                "(DynamoDB TTL in AWS), and an admin's cleanup of expired records removes them "
                "at once."
            )
        )
        self.expires_days = QSpinBox()
        self.expires_days.setObjectName("uploadExpiresDaysSpin")
        self.expires_days.setRange(1, 365)
        self.expires_days.setValue(DEFAULT_TEST_RECORD_DAYS)
        self.expires_days.valueChanged.connect(self._show_days_unit)
        self._show_days_unit(self.expires_days.value())
        self.expires_days.setEnabled(False)
        self.expires_check.toggled.connect(self.expires_days.setEnabled)

        self.problem_label = QLabel()
        self.problem_label.setObjectName("uploadProblemLabel")
        self.problem_label.setWordWrap(True)
        self.problem_label.setStyleSheet(f"color: {PROBLEM_COLOR.name()};")
        self.problem_label.hide()

        self.summary_label = QLabel()
        self.summary_label.setObjectName("uploadSummaryLabel")
        self.summary_label.setWordWrap(True)

        self.button_box = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.upload_button = self.button_box.addButton(
            self.tr("Upload"), QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.upload_button.setObjectName("uploadButton")
        cancel_button = self.button_box.button(QDialogButtonBox.StandardButton.Cancel)
        cancel_button.setObjectName("uploadCancelButton")
        self.button_box.accepted.connect(self.accept)
        self.button_box.rejected.connect(self.reject)

        file_buttons = QHBoxLayout()
        file_buttons.addWidget(self.add_files_button)
        file_buttons.addWidget(self.add_folder_button)
        file_buttons.addWidget(self.remove_button)
        file_buttons.addStretch(1)
        tags_row = QHBoxLayout()
        tags_label = QLabel(self.tr("&Tags:"))
        tags_label.setBuddy(self.tags_edit)
        tags_row.addWidget(tags_label)
        tags_row.addWidget(self.tags_edit, 1)
        tags_row.addSpacing(12)
        tags_row.addWidget(self.expires_check)
        tags_row.addWidget(self.expires_days)
        layout = QVBoxLayout(self)
        layout.addLayout(file_buttons)
        layout.addWidget(self.table, 1)
        layout.addLayout(tags_row)
        layout.addWidget(self.problem_label)
        layout.addWidget(self.summary_label)
        layout.addWidget(self.button_box)
        # Now that it is inside the dialog: made default before, the dialog never knew it, and
        # chose the first button of the focus chain at show time ("Add files…", so Enter after
        # the tags reopened the file chooser).
        self.upload_button.setDefault(True)
        self.resize(900, 480)

        self._refresh_timer = QTimer(self)
        self._refresh_timer.setSingleShot(True)
        self._refresh_timer.setInterval(REFRESH_INTERVAL_MS)
        self._refresh_timer.timeout.connect(self._refresh)

        self._drops = DropHandler(self)
        self._drops.install(self)
        self._drops.files_dropped.connect(self._on_files_dropped)

        if initial_paths:
            self.add_paths(initial_paths)
        self._refresh()

    # --- public API ---

    def add_paths(self, paths: list[Path]) -> None:
        """Add files as they are and folders recursively (their files keep the relative folder)."""
        sources: list[UploadSource] = []
        for path in paths:
            if path not in self._roots:
                self._roots.append(path)
            if path.is_dir():
                QGuiApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
                try:
                    sources.extend(collect_upload_sources([path]))
                finally:
                    QGuiApplication.restoreOverrideCursor()
            else:
                sources.append(UploadSource(path, ""))  # problems are shown on its row
        self._add_sources(sources)

    def specs(self) -> list[UploadSpec]:
        """What to upload: every file without a problem, duplicates only if "Upload anyway"."""
        expires = (
            utc_now() + timedelta(days=self.expires_days.value())
            if self.expires_check.isChecked()
            else None
        )
        return [
            UploadSpec(
                path=row.path,
                tags=self._tags,
                folder=normalize_folder(row.folder),
                expires=expires,
                content=row.content,
            )
            for row in self._rows
            if not row.problem and not row.skipped
        ]

    def roots(self) -> list[Path]:
        """The files and folders that were added (a folder job is named after them)."""
        return list(self._roots)

    @property
    def tags(self) -> tuple[str, ...]:
        """The normalised tags for all files (empty while the tags field has a problem)."""
        return self._tags

    @property
    def checking(self) -> bool:
        """True while duplicate checks are still running."""
        return any(row.checking for row in self._rows)

    def can_upload(self) -> bool:
        return (
            bool(self._rows)
            and not self._tag_problem
            and not self.checking
            and not any(row.problem for row in self._rows)
            and bool(self.specs())
        )

    def set_upload_anyway(self, row: int, upload: bool) -> None:
        """Tick or untick "Upload anyway" on a duplicate row (as a click on its checkbox would)."""
        item = self.table.item(row, UPLOAD_ANYWAY)
        if item is not None and item.flags() & Qt.ItemFlag.ItemIsUserCheckable:
            item.setCheckState(Qt.CheckState.Checked if upload else Qt.CheckState.Unchecked)

    # --- QDialog ---

    def accept(self) -> None:
        if not self.can_upload():
            return
        super().accept()

    def done(self, result: int) -> None:
        self._cancel.cancel()  # pending duplicate checks stop at the next chunk
        self._refresh_timer.stop()
        super().done(result)

    @Slot(int)
    def _show_days_unit(self, days: int) -> None:
        """The unit after the number of days, in the grammar of that number."""
        self.expires_days.setSuffix(self.tr(" day(s)", "", days))

    # --- adding and removing ---

    @Slot()
    def _choose_files(self) -> None:
        names, _ = QFileDialog.getOpenFileNames(self, self.tr("Add files to upload"))
        if names:
            self.add_paths([Path(name) for name in names])

    @Slot()
    def _choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, self.tr("Add a folder to upload"))
        if folder:
            self.add_paths([Path(folder)])

    @Slot(list)
    def _on_files_dropped(self, paths: list[Path]) -> None:
        self.add_paths(paths)

    def _add_sources(self, sources: list[UploadSource]) -> None:
        known = {(row.path.absolute(), row.folder) for row in self._rows}
        if self._shared is None and len(self._rows) + len(sources) >= MANY_FILES:
            self._shared = SharedChecksums()
        shared = self._shared
        self.table.blockSignals(True)
        try:
            for source in sources:
                marker = (source.path.absolute(), source.folder)
                if marker in known:
                    continue  # added twice: keep one
                known.add(marker)
                row = self._new_row(source)
                self._row_numbers[row.key] = len(self._rows)
                self._rows.append(row)
                self.table.insertRow(self.table.rowCount())
                self._render(len(self._rows) - 1)
                if row.checking:
                    self._operations.long(
                        DuplicateCheck(source, self._cancel, shared),
                        functools.partial(self._on_duplicates, row.key),
                    ).failure(functools.partial(self._on_duplicate_check_failed, row.key)).run()
        finally:
            self.table.blockSignals(False)
        self._refresh()

    def _new_row(self, source: UploadSource) -> UploadRow:
        self._next_key += 1
        path = source.path
        try:
            checked = check_source(source)
        except ValidationError as error:
            try:
                size: int | None = path.stat().st_size
            except OSError:
                size = None
            return UploadRow(
                key=self._next_key,
                path=path,
                folder=source.folder,
                size=size,
                file_type=guess_file_type(path.name),
                problem=str(error),
            )
        return UploadRow(
            key=self._next_key,
            path=path,
            folder=source.folder,
            size=checked.size,
            file_type=checked.file_type,
            checking=True,
        )

    @Slot()
    def remove_selected(self) -> None:
        """Remove the selected files from the list."""
        rows = sorted({index.row() for index in self.table.selectedIndexes()}, reverse=True)
        for row in rows:
            self.table.removeRow(row)
            del self._rows[row]
        self._row_numbers = {row.key: number for number, row in enumerate(self._rows)}
        self._refresh()

    # --- duplicate check results (GUI thread, from the long lane) ---

    def _row_of(self, key: int) -> int | None:
        return self._row_numbers.get(key)

    def _schedule_refresh(self) -> None:
        if not self._refresh_timer.isActive():
            self._refresh_timer.start()

    def _on_duplicates(self, key: int, result: ContentCheck) -> None:
        number = self._row_of(key)
        if number is None or self._cancel.cancelled:
            return  # removed meanwhile, or the dialog is closed
        row = self._rows[number]
        row.checking = False
        row.content = result.content
        # The dialog's policy is "ask": the row's "Upload anyway" box is the question.
        if decide(result.duplicates, DuplicatePolicy.ASK, can_ask=True) is Decision.ASK:
            row.duplicate_of = duplicate_names(result.duplicates)
        self._render(number)
        self._schedule_refresh()

    def _on_duplicate_check_failed(self, key: int, error: DmsError) -> None:
        number = self._row_of(key)
        if number is None or self._cancel.cancelled or isinstance(error, Cancelled):
            return
        row = self._rows[number]
        row.checking = False
        if isinstance(error, LocalFileError):
            row.problem = str(error)  # it vanished or became unreadable since it was added
        else:
            row.note = self.tr("Could not check for duplicates: {error}").format(error=error)
        self._render(number)
        self._schedule_refresh()

    # --- showing ---

    def _render(self, number: int) -> None:
        render_row(self.table, number, self._rows[number])

    @Slot(QTableWidgetItem)
    def _on_item_changed(self, item: QTableWidgetItem) -> None:
        if item.column() != UPLOAD_ANYWAY or not 0 <= item.row() < len(self._rows):
            return
        row = self._rows[item.row()]
        anyway = item.checkState() == Qt.CheckState.Checked
        if row.duplicate_of and anyway != row.upload_anyway:
            row.upload_anyway = anyway
            self._render(item.row())
            self._refresh()

    @Slot()
    def _on_selection_changed(self) -> None:
        self.remove_button.setEnabled(bool(self.table.selectedIndexes()))

    @Slot(str)
    def _on_tags_changed(self, text: str) -> None:
        try:
            self._tags = normalize_tags(split_tags(text))
        except ValidationError as error:
            self._tags = ()
            self._tag_problem = str(error)
        else:
            self._tag_problem = ""
        self._refresh()

    @Slot()
    def _refresh(self) -> None:
        """Problems, summary and the Upload button's state from the rows and the tags."""
        problems: list[str] = []
        if self._tag_problem:
            problems.append(self.tr("Tags: {problem}").format(problem=self._tag_problem))
        bad = sum(1 for row in self._rows if row.problem)
        if bad:
            problems.append(
                self.tr(
                    "%n file(s) cannot be uploaded (see the Status column); remove them to go on.",
                    "",
                    bad,
                )
            )
        self.problem_label.setText("\n".join(problems))
        self.problem_label.setVisible(bool(problems))

        summary: list[str] = []
        if not self._rows:
            summary.append(self.tr("Add files or folders, or drop them here."))
        else:
            total = sum(row.size or 0 for row in self._rows)
            files = self.tr("%n file(s), {size}.", "", len(self._rows))
            summary.append(files.format(size=human_size(total)))
        checking = sum(1 for row in self._rows if row.checking)
        if checking:
            summary.append(self.tr("Checking %n for duplicates…", "", checking))
        skipped = sum(1 for row in self._rows if row.skipped and not row.problem)
        if skipped:
            summary.append(
                self.tr(
                    "%n already stored: skipped unless you tick “Upload anyway” on the row.",
                    "",
                    skipped,
                )
            )
        self.summary_label.setText(" ".join(summary))
        self.upload_button.setEnabled(self.can_upload())
