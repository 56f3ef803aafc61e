"""A stand-in for the window's Operations that runs each operation at once, on this thread."""

from __future__ import annotations

from typing import Any, TypeVar

from dms_desktop.core.errors import DmsError
from dms_desktop.core.paths import AppPaths
from dms_desktop.gui.operations import (
    Account,
    Lane,
    Operation,
    OperationFunction,
    OperationRequest,
    UserServices,
    run_function,
)

T = TypeVar("T")


class ImmediateOperations:
    """``Operations`` whose operations run when started, on the calling thread, against
    ``service``; a failure nobody receives is raised (a test would not see it otherwise)."""

    def __init__(self, service: Any) -> None:
        # Not remembered (as a fresh Account): no list is kept for the next start.
        self.account = Account(AppPaths.resolve("/nonexistent/dms-test-home"))
        self._services = UserServices(lambda _account: service)
        self._ids = 0

    def fast(self, function: OperationFunction[T], success: Any = None) -> Operation[T]:
        return Operation(self, Lane.FAST, function, success)

    def long(self, function: OperationFunction[T], success: Any = None) -> Operation[T]:
        return Operation(self, Lane.LONG, function, success)

    def report_error(self, error: DmsError) -> None:
        raise error

    def _start(self, operation: Operation[object]) -> None:
        self._ids += 1
        request = OperationRequest(
            self._ids, operation.function, self.account, operation.cancel_token
        )
        ok, outcome = run_function(request, self._services, operation.deliver_progress)
        if ok:
            operation.deliver_success(outcome)
        else:
            assert isinstance(outcome, DmsError)
            operation.deliver_failure(outcome, self.report_error)
