"""Qt helpers of the window benchmarks: a GUI-thread heartbeat, a paint probe, waiting, and the
window started with a remembered session (as a returning user starts it)."""

from __future__ import annotations

import ctypes
import os
import time
from collections.abc import Callable
from typing import Any

import keyring
from PySide6.QtCore import QEvent, QEventLoop, QObject, Qt, QTimer
from PySide6.QtWidgets import QAbstractItemView, QApplication

from dms_desktop.core.identity import RememberedSessions
from dms_desktop.gui.app import DesktopApp
from dms_desktop.gui.translations import install_translations
from tests.benchmarks.common import BenchSandbox, percentile
from tests.support.keyrings import MemoryKeyring

HEARTBEAT_MS = 5

_pread: Any
try:  # libc's pread through ctypes.PyDLL, which keeps the interpreter lock during the call
    _pread = ctypes.PyDLL(None).pread
    _pread.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_long]
    _pread.restype = ctypes.c_ssize_t
except (AttributeError, OSError, TypeError):  # no C library to load this way (Windows)
    _pread = None


def application() -> QApplication:
    """The QApplication, with the translations the app installs at start-up (gui.translations)."""
    app = QApplication.instance()
    if app is None:
        app = QApplication(["dms-bench"])
        install_translations(app)
    assert isinstance(app, QApplication)
    return app


def wait_until(condition: Callable[[], bool], timeout: float = 600.0) -> None:
    """Run the event loop until ``condition()`` holds (checked every 2 ms, no busy loop)."""
    if condition():
        return
    loop = QEventLoop()
    deadline = time.monotonic() + timeout
    failed = False

    def check() -> None:
        nonlocal failed
        if condition():
            loop.quit()
        elif time.monotonic() > deadline:
            failed = True
            loop.quit()

    poll = QTimer()
    poll.setInterval(2)
    poll.timeout.connect(check)
    poll.start()
    loop.exec()
    poll.stop()
    if failed:
        raise TimeoutError("the window did not get there in time")


class _ProcFile:
    """A /proc file read again and again, each time without letting go of the interpreter lock.

    Python's own file calls let go of it, and while other threads are busy (a transfer's) each
    call waits its turn to get it back. Reading the heartbeat's file that way on every tick made
    it stall three times as often as the app did: during a 1 GB upload with eight parts in
    flight, 48-154 ms against 38-44 ms without the reads."""

    def __init__(self, path: str) -> None:
        self._buffer = ctypes.create_string_buffer(4096)
        try:
            self._fd = os.open(path, os.O_RDONLY) if _pread is not None else -1
        except OSError:
            self._fd = -1

    def first_line_fields(self) -> list[bytes]:
        """The fields of its first line; none where the kernel does not have the file."""
        if self._fd < 0 or _pread is None:
            return []
        count = _pread(self._fd, self._buffer, len(self._buffer), 0)
        return self._buffer.raw[: max(count, 0)].split(b"\n", 1)[0].split()

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


class _Clocks:
    """Linux's accounts of the thread that made it, zeros where the kernel does not tell:
    (seconds it ran on a CPU, seconds it was runnable but waited for one, seconds the machine's
    host took the machine's CPUs away, summed over CPUs: "steal", on a virtual machine)."""

    _TICK = 1 / os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 0.01

    def __init__(self) -> None:
        self._thread = _ProcFile("/proc/thread-self/schedstat")
        self._machine = _ProcFile("/proc/stat")

    def read(self) -> tuple[float, float, float]:
        thread, machine = self._thread.first_line_fields(), self._machine.first_line_fields()
        running, waiting = (int(thread[0]) / 1e9, int(thread[1]) / 1e9) if thread else (0, 0)
        steal = int(machine[8]) * self._TICK if len(machine) > 8 else 0.0
        return running, waiting, steal

    def close(self) -> None:
        self._thread.close()
        self._machine.close()


class Heartbeat(QObject):
    """A 5 ms timer on the GUI thread; a late tick is a stall of the GUI thread.

    Each stall is also split into the part the GUI thread spent waiting for a CPU (the machine
    busy with other processes: not the app's doing) and the rest (the app's own: its GUI work,
    or the interpreter lock held by another thread). The worst stalls also say how long the
    virtual machine's host took its CPUs away meanwhile ("steal"): the guest sees that time as
    neither running nor waiting, i.e. blocked, and every thread of every process stops."""

    def __init__(self) -> None:
        super().__init__()
        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(HEARTBEAT_MS)
        self._timer.timeout.connect(self._tick)
        self._last = 0.0
        self._last_clocks = (0.0, 0.0, 0.0)
        self._clocks: _Clocks | None = None
        self.stalls: list[float] = []  # seconds beyond the period, one per tick
        self.own_stalls: list[float] = []  # the same, less the time spent waiting for a CPU
        # Stalls over 20 ms: (stall, waiting for a CPU, running, neither: blocked, e.g. on a lock
        # or by the host, host's steal meanwhile).
        self.breakdowns: list[tuple[float, float, float, float, float]] = []

    def start(self) -> None:
        self.stalls = []
        self.own_stalls = []
        self.breakdowns = []
        self._clocks = _Clocks()  # made here, on the GUI thread: it reads that thread's file
        self._last = time.perf_counter()
        self._last_clocks = self._clocks.read()
        self._timer.start()

    def stop(self) -> list[float]:
        self._timer.stop()
        self._tick()
        if self._clocks is not None:
            self._clocks.close()
            self._clocks = None
        return self.stalls

    def _tick(self) -> None:
        now = time.perf_counter()
        clocks = self._clocks.read() if self._clocks is not None else (0.0, 0.0, 0.0)
        stall = max(0.0, now - self._last - HEARTBEAT_MS / 1000)
        last = self._last_clocks
        running, waiting, steal = (clocks[0] - last[0], clocks[1] - last[1], clocks[2] - last[2])
        self.stalls.append(stall)
        self.own_stalls.append(max(0.0, stall - waiting))
        if stall > 0.02:
            elapsed = now - self._last
            blocked = max(0.0, elapsed - running - waiting)
            self.breakdowns.append((stall, waiting, running, blocked, steal))
        self._last, self._last_clocks = now, clocks

    def worst_breakdowns(self, count: int = 3) -> str:
        """The worst stalls, each as "stall ms (waiting for a CPU / running / blocked; host's
        steal)", in ms; steal is counted in 10 ms ticks."""
        worst = sorted(self.breakdowns, reverse=True)[:count]
        return ", ".join(
            f"{s * 1000:.0f} ({w * 1000:.0f}/{r * 1000:.0f}/{b * 1000:.0f}; {t * 1000:.0f})"
            for s, w, r, b, t in worst
        )

    def summary(self) -> tuple[float, float]:
        """(p99, max) stall in milliseconds."""
        if not self.stalls:
            return 0.0, 0.0
        return percentile(self.stalls, 0.99) * 1000, max(self.stalls) * 1000

    def own_summary(self) -> tuple[float, float]:
        """(p99, max) of the stalls less the time the GUI thread waited for a CPU, in ms."""
        if not self.own_stalls:
            return 0.0, 0.0
        return percentile(self.own_stalls, 0.99) * 1000, max(self.own_stalls) * 1000


class PaintProbe(QObject):
    """Records when a view has finished painting rows (the first time, after ``arm``): live rows
    only, or with ``live_only=False`` also those of a list kept from the last start."""

    def __init__(self, view: QAbstractItemView, *, live_only: bool = True) -> None:
        super().__init__()
        self._view = view
        self._live_only = live_only
        self.painted_at: float | None = None
        self._armed = False
        view.viewport().installEventFilter(self)

    def arm(self) -> None:
        self.painted_at = None
        self._armed = True

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        model = self._view.model()
        kept = self._live_only and getattr(model, "showing_snapshot", False)
        if self._armed and event.type() == QEvent.Type.Paint and model.rowCount() > 0 and not kept:
            self._armed = False
            # Runs once this paint event is done.
            QTimer.singleShot(0, self._record)
        return False

    def _record(self) -> None:
        self.painted_at = time.perf_counter()


def remember_session(sandbox: BenchSandbox, username: str, password: str) -> None:
    """As "remember me" does: the refresh token of the user in the (in-memory) keyring."""
    if not isinstance(keyring.get_keyring(), MemoryKeyring):
        keyring.set_keyring(MemoryKeyring())
    user = sandbox.sign_in((username, password))
    assert RememberedSessions().remember("local", user)


def close(desktop: DesktopApp) -> None:
    desktop.window.confirm_quit_without_asking()
    desktop.window.close()
    desktop.shutdown()
    QApplication.processEvents()
