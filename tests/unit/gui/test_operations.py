"""Background operations: two lanes (a page never waits behind long work), typed results,
progress, cancellation, the one error reporter, a service per thread, and a clean shutdown."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from PySide6.QtCore import QCoreApplication
from pytestqt.qtbot import QtBot

from dms_desktop.core.aws import new_session
from dms_desktop.core.errors import Cancelled, DmsError, NotFound
from dms_desktop.core.identity import SignedIn
from dms_desktop.core.paths import AppPaths
from dms_desktop.core.service import DocumentService
from dms_desktop.gui.document_model import DocumentTableModel
from dms_desktop.gui.operations import (
    Account,
    OperationContext,
    Operations,
    UserServices,
    user_for_this_thread,
)
from tests.support.aws import USER_ID

from .conftest import Cloud

WAIT_MS = 10_000
HOLD_SECONDS = 20  # a held operation gives up after this, so a failing test cannot hang


class Hold:
    """An operation that blocks its lane until the test releases it."""

    def __init__(self) -> None:
        self.started = threading.Event()
        self.release = threading.Event()

    def __call__(self, ctx: OperationContext) -> str:
        self.started.set()
        if not self.release.wait(HOLD_SECONDS):
            raise DmsError("the test never released the held operation")
        return "released"


def test_a_page_loads_while_the_long_lane_is_busy(
    qtbot: QtBot, operations: Operations, cloud: Cloud, tmp_path: Path
) -> None:
    """Paging while a large file is hashed (or a preview or an admin run is under way): the
    page arrives; the long work finishes afterwards."""
    source = tmp_path / "stored.txt"
    source.write_text("stored")
    cloud.service.upload(source)
    hold = Hold()
    long_results: list[str] = []
    operations.long(hold, long_results.append).run()
    assert hold.started.wait(HOLD_SECONDS)
    model = DocumentTableModel(operations)

    try:
        model.reload()  # the first page, on the fast lane
        qtbot.waitUntil(lambda: not model.is_loading, timeout=WAIT_MS)
        assert [document.filename for document in model.documents()] == ["stored.txt"]
        assert long_results == [], "the long lane is still busy"
    finally:
        hold.release.set()
    qtbot.waitUntil(lambda: long_results == ["released"], timeout=WAIT_MS)


def test_each_lane_runs_its_operations_in_the_order_they_were_started(
    qtbot: QtBot, operations: Operations
) -> None:
    done: list[str] = []
    for name in ("first", "second", "third"):
        operations.fast(lambda _ctx, name=name: name, done.append).run()
    qtbot.waitUntil(lambda: len(done) == 3, timeout=WAIT_MS)
    assert done == ["first", "second", "third"]


def test_the_result_comes_back_on_the_gui_thread_with_its_progress_first(
    qtbot: QtBot, operations: Operations
) -> None:
    gui_thread = threading.get_ident()
    seen: list[object] = []

    def count_to_three(ctx: OperationContext) -> int:
        seen.append(("ran on the GUI thread", threading.get_ident() == gui_thread))
        for done in (1, 2, 3):
            ctx.report_progress(done, 3)
        return 3

    def on_progress(done: int, total: int) -> None:
        seen.append((done, total, threading.get_ident() == gui_thread))

    def on_success(result: int) -> None:
        seen.append(("result", result, threading.get_ident() == gui_thread))

    operations.long(count_to_three, on_success).progress(on_progress).run()
    qtbot.waitUntil(lambda: bool(seen) and seen[-1][0] == "result", timeout=WAIT_MS)
    # (2, 3) may be left out: progress is throttled, but the first and the last always arrive.
    assert seen[0] == ("ran on the GUI thread", False)
    assert seen[1] == (1, 3, True)
    assert seen[-2:] == [(3, 3, True), ("result", 3, True)]
    assert set(seen[2:-2]) <= {(2, 3, True)}


def test_progress_reaches_the_gui_thread_at_most_ten_times_a_second(
    qtbot: QtBot, operations: Operations
) -> None:
    received: list[tuple[int, int]] = []
    finished: list[int] = []

    def check_many(ctx: OperationContext) -> int:
        for done in range(1, 20_001):  # an admin check reports every document
            ctx.report_progress(done, 20_000)
        return 20_000

    def on_progress(done: int, total: int) -> None:
        received.append((done, total))

    operations.long(check_many, finished.append).progress(on_progress).run()
    qtbot.waitUntil(lambda: finished == [20_000], timeout=WAIT_MS)
    assert received[0] == (1, 20_000) and received[-1] == (20_000, 20_000)
    assert len(received) < 200  # not 20,000 queued signals for the GUI thread to work through


def test_a_failure_nobody_receives_reaches_the_one_error_reporter(
    qtbot: QtBot, operations: Operations, reported_errors: list[DmsError]
) -> None:
    def missing(ctx: OperationContext) -> None:
        raise NotFound("Could not read the document: it does not exist (any more).")

    operations.fast(missing).run()
    qtbot.waitUntil(lambda: bool(reported_errors), timeout=WAIT_MS)
    assert [str(error) for error in reported_errors] == [
        "Could not read the document: it does not exist (any more)."
    ]


def test_a_failure_goes_to_its_receiver_instead(
    qtbot: QtBot, operations: Operations, reported_errors: list[DmsError]
) -> None:
    def missing(ctx: OperationContext) -> None:
        raise NotFound("gone")

    received: list[DmsError] = []
    operations.long(missing).failure(received.append).run()
    qtbot.waitUntil(lambda: bool(received), timeout=WAIT_MS)
    assert isinstance(received[0], NotFound)
    assert reported_errors == []


@pytest.mark.reports_unexpected_error
def test_a_bug_in_an_operation_is_reported_without_a_traceback(
    qtbot: QtBot, operations: Operations, reported_errors: list[DmsError]
) -> None:
    def buggy(ctx: OperationContext) -> None:
        raise KeyError("internal detail")

    operations.fast(buggy).run()
    qtbot.waitUntil(lambda: bool(reported_errors), timeout=WAIT_MS)
    assert str(reported_errors[0]) == "Something went wrong (KeyError); see the log."


def test_a_cancelled_operation_does_not_start_and_is_not_reported_as_an_error(
    qtbot: QtBot, operations: Operations, reported_errors: list[DmsError]
) -> None:
    hold = Hold()
    operations.long(hold).run()
    ran: list[str] = []
    queued = operations.long(lambda _ctx: ran.append("ran")).run()
    quiet = operations.long(lambda _ctx: ran.append("ran")).run()
    received: list[DmsError] = []
    queued.failure(received.append)

    queued.cancel()
    quiet.cancel()
    hold.release.set()

    qtbot.waitUntil(lambda: not operations.busy, timeout=WAIT_MS)
    assert ran == []
    assert len(received) == 1 and isinstance(received[0], Cancelled)
    assert reported_errors == []


def test_a_running_operation_sees_its_cancellation(qtbot: QtBot, operations: Operations) -> None:
    started = threading.Event()
    outcome: list[str] = []

    def until_cancelled(ctx: OperationContext) -> str:
        started.set()
        cancelled = threading.Event()
        ctx.cancel.on_cancel(cancelled.set)
        return "stopped" if cancelled.wait(HOLD_SECONDS) else "never cancelled"

    running = operations.long(until_cancelled, outcome.append).run()
    assert started.wait(HOLD_SECONDS)
    running.cancel()
    qtbot.waitUntil(lambda: bool(outcome), timeout=WAIT_MS)
    assert outcome == ["stopped"]


def test_an_operation_works_for_the_account_current_when_it_was_started(
    qtbot: QtBot, operations: Operations, tmp_path: Path
) -> None:
    hold = Hold()
    operations.fast(hold).run()
    seen: list[str | None] = []
    operations.fast(lambda ctx: ctx.account.profile_name, seen.append).run()
    operations.set_account(Account(AppPaths.resolve(tmp_path / "other"), "work"))
    operations.fast(lambda ctx: ctx.account.profile_name, seen.append).run()
    hold.release.set()
    qtbot.waitUntil(lambda: len(seen) == 2, timeout=WAIT_MS)
    assert seen == [None, "work"]


def test_each_lane_builds_its_own_service_once_per_user(
    qtbot: QtBot, cloud: Cloud, tmp_path: Path, reported_errors: list[DmsError]
) -> None:
    built_on: list[tuple[int, str | None]] = []

    def factory(account: Account) -> DocumentService:
        name = account.user.username if account.user else None
        built_on.append((threading.get_ident(), name))
        return cloud.service

    operations = Operations(Account(AppPaths.resolve(tmp_path)), reported_errors.append, factory)
    try:
        fast: list[int] = []
        long: list[int] = []

        def lane_thread(ctx: OperationContext) -> int:
            assert ctx.service is cloud.service
            return threading.get_ident()

        for _ in range(2):
            operations.fast(lane_thread, fast.append).run()
            operations.long(lane_thread, long.append).run()
        qtbot.waitUntil(lambda: len(fast) == len(long) == 2, timeout=WAIT_MS)
        fast_thread, long_thread = set(fast), set(long)
        assert len(fast_thread) == len(long_thread) == 1 and fast_thread != long_thread
        assert threading.get_ident() not in fast_thread | long_thread
        assert sorted(built_on) == sorted([(*fast_thread, None), (*long_thread, None)])

        user = SignedIn("someone", USER_ID, False, new_session(region_name="us-east-1"))
        operations.set_account(Account(AppPaths.resolve(tmp_path), backend=None, user=user))
        operations.fast(lane_thread, fast.append).run()
        qtbot.waitUntil(lambda: len(fast) == 3, timeout=WAIT_MS)
        assert built_on[-1] == (*fast_thread, "someone")
    finally:
        operations.shutdown()


def test_a_thread_signs_with_the_user_s_credentials_on_a_session_of_its_own() -> None:
    from botocore.credentials import Credentials

    from dms_desktop.core.aws import attach_credentials

    session = new_session(region_name="eu-west-1")
    credentials = Credentials("AKIDEXAMPLE", "secret")
    attach_credentials(session, credentials)
    user = SignedIn("someone", USER_ID, False, session)

    copy = user_for_this_thread(user)

    assert copy.session is not user.session
    assert copy.session.get_credentials() is credentials
    assert (copy.username, copy.user_id, copy.is_admin) == ("someone", USER_ID, False)


def test_a_service_cache_builds_again_only_for_another_user() -> None:
    built: list[str | None] = []

    def factory(account: Account) -> DocumentService:
        built.append(account.user.username if account.user else None)
        return object()  # type: ignore[return-value]

    services = UserServices(factory)
    paths = AppPaths.resolve("/nonexistent")
    first = SignedIn("first", USER_ID, False, new_session())
    second = SignedIn("second", USER_ID, False, new_session())
    account = Account(paths, user=first)

    same = services.service(account)
    assert services.service(Account(paths, "renamed", user=first)) is same
    services.service(Account(paths, user=second))
    assert built == ["first", "second"]


def test_no_thread_is_left_running_after_shutdown(
    qtbot: QtBot, cloud: Cloud, tmp_path: Path, reported_errors: list[DmsError]
) -> None:
    operations = Operations(
        Account(AppPaths.resolve(tmp_path)), reported_errors.append, lambda _a: cloud.service
    )
    threads = operations.lane_threads()
    assert len(threads) == 2 and all(thread.isRunning() for thread in threads)
    hold = Hold()
    held = operations.long(hold).run()
    assert hold.started.wait(HOLD_SECONDS)
    queued: list[str] = []
    operations.long(lambda _ctx: "never", queued.append).run()

    hold.release.set()
    operations.shutdown()

    assert all(thread.isFinished() for thread in threads)
    assert held.cancel_token.cancelled, "shutdown cancels what is still pending"
    late: list[str] = []
    operations.fast(lambda _ctx: "after shutdown", late.append).run()
    QCoreApplication.processEvents()  # a reply already posted would arrive now: none may
    assert queued == [] and late == [] and not operations.busy
