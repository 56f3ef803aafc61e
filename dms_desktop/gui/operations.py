"""The window's background work: typed operations on two lanes, in the style of Anki's QueryOp.

    operations.fast(lambda ctx: ctx.service.get(document_id), self._show).failure(...).run()

An operation is a function of an :class:`OperationContext`; it runs on a lane's worker thread,
and its result comes back on the GUI thread to ``success`` with its type (``Operation[T]``). A
:class:`DmsError` goes to ``failure``, by default to the app's one error reporter; any other
exception is logged with its traceback and reported as "Something went wrong". ``progress``
receives what the function reports with :meth:`OperationContext.report_progress`; ``cancel``
sets the operation's :class:`CancelToken` (cooperative: a queued operation does not start, a
running one stops where it checks ``ctx.cancel``).

Two lanes, each a worker object on a QThread of its own, run their operations in the order they
were started, one at a time:

- **fast**: what the user waits for at once: pages, gets, tag counts, edits, sign-in, small deletes;
- **long**: what may take a while: hashing for the duplicate check, previews, admin runs, big
  deletes, recovery of interrupted work.

So a page never waits behind the hash of a large file or an admin run.

The signed-in user reaches the lanes as an :class:`Account`: immutable, set by the GUI thread,
and captured by each operation when it starts. Each lane (and the transfer pool) builds its own
DocumentService from the account's SignedIn, on a boto3 Session of its own that signs with the
user's credentials (see core.aws.session_for_thread); nothing mutable is shared between threads.
"""

from __future__ import annotations

import enum
import itertools
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Generic, Protocol, TypeVar, cast

from PySide6.QtCore import QObject, QThread, Signal, Slot

from ..core.cancellation import CancelToken, throttled
from ..core.errors import AuthError, Cancelled, DmsError
from ..core.identity import SignedIn
from ..core.paths import AppPaths

if TYPE_CHECKING:  # they load boto3: the lanes import them when they first need them
    from ..connect import Backend
    from ..core.admin import AdminService
    from ..core.search.service import DocumentSearch
    from ..core.service import DocumentService

log = logging.getLogger(__name__)

T = TypeVar("T")
ErrorReporter = Callable[[DmsError], None]
ProgressReceiver = Callable[[int, int], None]


class Lane(enum.Enum):
    """Where an operation runs (see the module docstring for which work goes where)."""

    FAST = "fast"
    LONG = "long"


@dataclass(frozen=True)
class Account:
    """Who is signed in, where: what operations work with. Never changed, only replaced (by the
    GUI thread); each operation carries the one that was current when it was started."""

    paths: AppPaths
    profile_name: str | None = None
    backend: Backend | None = None
    user: SignedIn | None = field(default=None, repr=False)
    remembered: bool = False  # the session is remembered: the first page is kept for next time

    def signed_out(self) -> Account:
        return replace(self, user=None, remembered=False)


ServiceFactory = Callable[[Account], "DocumentService"]


def open_user_service(account: Account) -> DocumentService:
    """The document service of the account's user, on a Session of the calling thread."""
    from ..connect import open_service

    backend, user = signed_in(account)
    return open_service(backend, user_for_this_thread(user), paths=account.paths)


def signed_in(account: Account) -> tuple[Backend, SignedIn]:
    if account.backend is None or account.user is None:
        raise AuthError("Not signed in.")
    return account.backend, account.user


def user_for_this_thread(user: SignedIn) -> SignedIn:
    """``user`` with a boto3 Session of the calling thread (same credentials)."""
    from ..core.aws import session_for_thread

    return replace(user, session=session_for_thread(user.session))


class UserServices:
    """The signed-in user's DocumentService for one lane (or the transfer pool): built on first
    use by the thread that needs it, and again when another user signs in."""

    def __init__(self, factory: ServiceFactory) -> None:
        self._factory = factory
        self._lock = threading.Lock()  # the transfer pool's threads may ask at the same time
        self._built: tuple[SignedIn | None, DocumentService] | None = None
        self._search: tuple[SignedIn | None, DocumentSearch] | None = None

    def service(self, account: Account) -> DocumentService:
        with self._lock:
            if self._built is None or self._built[0] is not account.user:
                self._built = (account.user, self._factory(account))
            return self._built[1]

    def search(self, account: Account) -> DocumentSearch:
        """The user's search, kept like the service: opening the index (or finding the web
        API) is done once per user, not for every keystroke's query."""
        from ..connect import open_search

        with self._lock:
            if self._search is None or self._search[0] is not account.user:
                backend, user = signed_in(account)
                self._search = (account.user, open_search(backend, user, account.paths))
            return self._search[1]


class OperationContext:
    """What an operation's function gets, on its lane's thread."""

    def __init__(
        self,
        account: Account,
        services: UserServices,
        cancel: CancelToken,
        report_progress: ProgressReceiver,
    ) -> None:
        self.account = account
        self.cancel = cancel
        self._services = services
        self._report_progress = report_progress

    @property
    def paths(self) -> AppPaths:
        return self.account.paths

    @property
    def service(self) -> DocumentService:
        """The signed-in user's document service (AuthError when nobody is signed in)."""
        return self._services.service(self.account)

    def admin_service(self) -> AdminService:
        """The signed-in admin's tools (AuthError unless the user is an admin)."""
        from ..connect import open_admin_service

        backend, user = signed_in(self.account)
        return open_admin_service(backend, user_for_this_thread(user), self.paths)

    def search(self) -> DocumentSearch:
        """Search for the signed-in user (the sandbox's index, or the web API on AWS)."""
        return self._services.search(self.account)

    def report_progress(self, done: int, total: int) -> None:
        """Tell the operation's ``progress`` receiver (on the GUI thread) how far it is."""
        self._report_progress(done, total)


OperationFunction = Callable[[OperationContext], T]


class _Runner(Protocol):
    def _start(self, operation: Operation[object]) -> None:
        """Run ``operation`` and deliver its outcome to it on the GUI thread."""


class Operation(Generic[T]):
    """One piece of background work and what to do with its outcome; see the module docstring.

    Built with :meth:`Operations.fast` or :meth:`Operations.long`, started with :meth:`run`."""

    def __init__(
        self,
        runner: _Runner,
        lane: Lane,
        function: OperationFunction[T],
        success: Callable[[T], None] | None = None,
    ) -> None:
        self.lane = lane
        self.function = function
        self.cancel_token = CancelToken()
        self._runner = runner
        self._success = success
        self._failure: ErrorReporter | None = None
        self._progress: ProgressReceiver | None = None
        self.started = False
        self.finished = False

    def failure(self, receiver: ErrorReporter) -> Operation[T]:
        """Send a failure to ``receiver`` instead of the app's error reporter."""
        self._failure = receiver
        return self

    def progress(self, receiver: ProgressReceiver) -> Operation[T]:
        """Send the (done, total) the function reports to ``receiver``."""
        self._progress = receiver
        return self

    def run(self) -> Operation[T]:
        """Start it on its lane (once)."""
        if not self.started:
            self.started = True
            self._runner._start(cast("Operation[object]", self))
        return self

    def cancel(self) -> None:
        """Ask it to stop: a queued operation does not start, a running one stops where it
        checks ``ctx.cancel``. Its ``failure`` receiver then gets :class:`Cancelled`."""
        self.cancel_token.cancel()

    # --- called by the runner, on the GUI thread ---

    def deliver_success(self, result: object) -> None:
        self.finished = True
        if self._success is not None:
            self._success(cast(T, result))

    def deliver_failure(self, error: DmsError, report_error: ErrorReporter) -> None:
        self.finished = True
        if self._failure is not None:
            self._failure(error)
        else:
            report_error(error)

    def deliver_progress(self, done: int, total: int) -> None:
        if self._progress is not None and not self.finished:
            self._progress(done, total)


@dataclass(frozen=True)
class OperationRequest:
    """What a lane's thread gets of an operation: never its GUI-thread receivers."""

    operation_id: int
    function: OperationFunction[object]
    account: Account
    cancel: CancelToken


def run_function(
    request: OperationRequest, services: UserServices, report_progress: ProgressReceiver
) -> tuple[bool, object]:
    """Run the request's function: (True, result), or (False, the DmsError to report)."""
    operation_id = request.operation_id
    if request.cancel.cancelled:
        return False, Cancelled("The operation was cancelled.")
    context = OperationContext(request.account, services, request.cancel, report_progress)
    try:
        return True, request.function(context)
    except DmsError as error:
        # One line: an expected failure (a wrong password, the network) is no bug; what caused
        # it is logged with -v.
        log.info("operation %d failed: %s", operation_id, error)
        if error.__cause__ is not None:
            log.debug("operation %d failed because of:", operation_id, exc_info=error.__cause__)
        return False, error
    except Exception as exc:  # the one place where a bug in an operation is reported
        log.exception("operation %d failed unexpectedly", operation_id)
        return False, DmsError(f"Something went wrong ({type(exc).__name__}); see the log.")


class _LaneWorker(QObject):
    """Lives on its lane's thread: runs requests in the order they arrive."""

    succeeded = Signal(int, object)
    failed = Signal(int, object)
    progressed = Signal(int, object, object)  # operation id, done, total (may pass 2**31)

    def __init__(self, services: UserServices) -> None:
        super().__init__()
        self._services = services

    @Slot(object)
    def run(self, request: OperationRequest) -> None:
        def emit_progress(done: int, total: int) -> None:
            self.progressed.emit(request.operation_id, done, total)

        # A check of 20,000 documents reports each one: the GUI thread sees ten a second.
        report_progress = throttled(emit_progress)
        ok, outcome = run_function(request, self._services, report_progress)
        if ok:
            self.succeeded.emit(request.operation_id, outcome)
        else:
            self.failed.emit(request.operation_id, outcome)


class _Lane(QObject):
    """A worker on a QThread of its own (GUI-thread side)."""

    submit = Signal(object)

    def __init__(self, lane: Lane, services: UserServices) -> None:
        super().__init__()
        self.worker_thread = QThread()
        self.worker_thread.setObjectName(f"operations-{lane.value}")
        self.worker = _LaneWorker(services)
        self.worker.moveToThread(self.worker_thread)
        self.submit.connect(self.worker.run)
        self.worker_thread.start()

    def stop(self) -> None:
        """Stop after the operation in progress (queued ones are dropped) and wait for it."""
        self.worker_thread.quit()
        self.worker_thread.wait()


class Operations(QObject):
    """Starts operations on the two lanes and answers them on the GUI thread."""

    busy_changed = Signal(bool)

    def __init__(
        self,
        account: Account,
        report_error: ErrorReporter,
        service_factory: ServiceFactory = open_user_service,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._account = account
        self._report_error = report_error
        self._service_factory = service_factory
        self._ids = itertools.count(1)
        self._pending: dict[int, Operation[object]] = {}
        self._transfer_services = UserServices(service_factory)
        self._lanes: dict[Lane, _Lane] = {}
        for lane in Lane:
            runner = _Lane(lane, UserServices(service_factory))
            runner.worker.succeeded.connect(self._on_succeeded)
            runner.worker.failed.connect(self._on_failed)
            runner.worker.progressed.connect(self._on_progressed)
            self._lanes[lane] = runner
        self._stopped = False

    # --- the account ---

    @property
    def account(self) -> Account:
        return self._account

    def set_account(self, account: Account) -> None:
        """Operations started from now on work for ``account`` (those running keep theirs)."""
        self._account = account

    def transfer_service(self) -> DocumentService:
        """The signed-in user's service for the transfer pool's threads (called on them)."""
        return self._transfer_services.service(self._account)

    # --- starting ---

    def fast(
        self, function: OperationFunction[T], success: Callable[[T], None] | None = None
    ) -> Operation[T]:
        """An operation on the fast lane (pages, gets, counts, edits, sign-in)."""
        return Operation(self, Lane.FAST, function, success)

    def long(
        self, function: OperationFunction[T], success: Callable[[T], None] | None = None
    ) -> Operation[T]:
        """An operation on the long lane (hashing, previews, admin runs, big deletes)."""
        return Operation(self, Lane.LONG, function, success)

    def on(
        self,
        lane: Lane,
        function: OperationFunction[T],
        success: Callable[[T], None] | None = None,
    ) -> Operation[T]:
        return Operation(self, lane, function, success)

    def report_error(self, error: DmsError) -> None:
        """The app's one error reporter (the message bar), for receivers that also report; a
        cancelled operation is not reported (nobody needs telling what they cancelled)."""
        if not isinstance(error, Cancelled):
            self._report_error(error)

    @property
    def busy(self) -> bool:
        """Some operation has not answered yet."""
        return bool(self._pending)

    def _start(self, operation: Operation[object]) -> None:
        if self._stopped:
            log.info("operation dropped: the app is closing")
            return
        operation_id = next(self._ids)
        was_busy = self.busy
        self._pending[operation_id] = operation
        if not was_busy:
            self.busy_changed.emit(True)
        request = OperationRequest(
            operation_id, operation.function, self._account, operation.cancel_token
        )
        self._lanes[operation.lane].submit.emit(request)

    # --- answers (GUI thread) ---

    def _finish(self, operation_id: int) -> Operation[object] | None:
        operation = self._pending.pop(operation_id, None)
        if operation is not None and not self._pending:
            self.busy_changed.emit(False)
        return operation

    @Slot(int, object)
    def _on_succeeded(self, operation_id: int, result: object) -> None:
        operation = self._finish(operation_id)
        if operation is not None:
            operation.deliver_success(result)

    @Slot(int, object)
    def _on_failed(self, operation_id: int, error: DmsError) -> None:
        operation = self._finish(operation_id)
        if operation is not None:
            operation.deliver_failure(error, self.report_error)

    @Slot(int, object, object)
    def _on_progressed(self, operation_id: int, done: int, total: int) -> None:
        operation = self._pending.get(operation_id)
        if operation is not None:
            operation.deliver_progress(done, total)

    # --- stopping ---

    def cancel_all(self) -> None:
        """Cancel every operation that has not answered yet (e.g. at sign-out)."""
        for operation in list(self._pending.values()):
            operation.cancel()

    def lane_threads(self) -> list[QThread]:
        return [lane.worker_thread for lane in self._lanes.values()]

    def shutdown(self) -> None:
        """Cancel what is pending, let the operations in progress end, stop both threads."""
        self._stopped = True
        self.cancel_all()
        self._pending.clear()
        for lane in self._lanes.values():
            lane.stop()
