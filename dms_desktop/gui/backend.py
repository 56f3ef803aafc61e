"""The window's way to the backend: one worker object on its own QThread runs jobs in order.

A job is a function of :class:`WorkerState` (the signed-in user's service and friends) that runs
on the worker thread; its result or its :class:`DmsError` comes back on the GUI thread to the
callbacks given to :meth:`BackendClient.call`, as in Anki's ``QueryOp``. Everything that talks to
DynamoDB, S3 or Cognito from the window goes through here or through the transfer queue.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from PySide6.QtCore import QObject, QThread, Signal, Slot

from ..core.errors import AuthError, DmsError
from ..core.identity import SignedIn
from ..core.paths import AppPaths

if TYPE_CHECKING:  # they load boto3: the worker imports them when it first needs them
    from ..connect import Backend
    from ..core.service import DocumentService

log = logging.getLogger(__name__)

T = TypeVar("T")
Job = Callable[["WorkerState"], Any]
SuccessCallback = Callable[[Any], None]
FailureCallback = Callable[[DmsError], None]


@dataclass
class WorkerState:
    """What jobs work with; only ever touched on the worker thread."""

    paths: AppPaths
    profile_name: str | None = None
    backend: Backend | None = None
    user: SignedIn | None = None
    remembered: bool = False  # the user's session is remembered: the list is kept for next time
    _service: DocumentService | None = field(default=None, repr=False)

    @property
    def service(self) -> DocumentService:
        if self._service is None:
            raise AuthError("Not signed in.")
        return self._service

    def set_service(self, service: DocumentService | None) -> None:
        self._service = service


class BackendWorker(QObject):
    """Runs jobs on its thread, one at a time, in the order they were sent."""

    succeeded = Signal(int, object)
    failed = Signal(int, object)

    def __init__(self, state: WorkerState) -> None:
        super().__init__()
        self._state = state

    @Slot(int, object)
    def run(self, job_id: int, job: Job) -> None:
        try:
            result = job(self._state)
        except DmsError as error:
            log.info("job %d failed: %s", job_id, error, exc_info=error.__cause__ is not None)
            self.failed.emit(job_id, error)
        except Exception as exc:  # the one place where any failure is reported
            log.exception("job %d failed unexpectedly", job_id)
            self.failed.emit(
                job_id, DmsError(f"Something went wrong ({type(exc).__name__}); see the log.")
            )
        else:
            self.succeeded.emit(job_id, result)


class BackendClient(QObject):
    """GUI-thread handle on the worker: ``call(job, on_success, on_failure)``."""

    _submit = Signal(int, object)
    busy_changed = Signal(bool)

    def __init__(
        self,
        state: WorkerState,
        report_error: FailureCallback,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._report_error = report_error
        self._ids = itertools.count(1)
        self._pending: dict[int, tuple[SuccessCallback | None, FailureCallback | None]] = {}
        self._thread = QThread()
        self._thread.setObjectName("backend-worker")
        self._worker = BackendWorker(state)
        self._worker.moveToThread(self._thread)
        self._submit.connect(self._worker.run)
        self._worker.succeeded.connect(self._on_succeeded)
        self._worker.failed.connect(self._on_failed)
        self._thread.start()

    @property
    def busy(self) -> bool:
        return bool(self._pending)

    def call(
        self,
        job: Job,
        on_success: SuccessCallback | None = None,
        on_failure: FailureCallback | None = None,
    ) -> int:
        """Run ``job`` on the worker; ``on_failure`` defaults to the app's error reporter."""
        job_id = next(self._ids)
        was_busy = self.busy
        self._pending[job_id] = (on_success, on_failure)
        if not was_busy:
            self.busy_changed.emit(True)
        self._submit.emit(job_id, job)
        return job_id

    def _finish(self, job_id: int) -> tuple[SuccessCallback | None, FailureCallback | None]:
        callbacks = self._pending.pop(job_id, (None, None))
        if not self._pending:
            self.busy_changed.emit(False)
        return callbacks

    @Slot(int, object)
    def _on_succeeded(self, job_id: int, result: object) -> None:
        on_success, _ = self._finish(job_id)
        if on_success is not None:
            on_success(result)

    @Slot(int, object)
    def _on_failed(self, job_id: int, error: DmsError) -> None:
        _, on_failure = self._finish(job_id)
        (on_failure or self._report_error)(error)

    def shutdown(self) -> None:
        """Stop the worker thread after the job in progress (queued jobs are dropped)."""
        self._pending.clear()
        self._thread.quit()
        self._thread.wait()
