"""`dms-desktop`: start the window on the configured profile (the local sandbox by default).

Start-up: the window shows at once; the fast lane joins or starts the sandbox, resumes a
remembered session or opens the sign-in dialog (prefilled with the demo account on the sandbox),
then the first page loads. The app owns the Account (who is signed in, where) that operations
carry to the lanes (see gui.operations), and replaces it at each sign-in and sign-out.

While the window is open it holds a lease on the sandbox, so that the sandbox does not stop for
being idle; if it stops anyway (`dms local stop`) or moves, the sandbox's connection finds it
again or restarts it and the failed request is sent again (see sandbox.connection). On an AWS
profile whose backend cannot be reached, the status bar says "offline" and the list is reloaded
with growing intervals until it answers, instead of an error for each action.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer, Signal, Slot
from PySide6.QtWidgets import QApplication, QMessageBox

from .. import __version__
from ..core.errors import AuthError, DmsError, Unavailable
from ..core.identity import SignedIn
from ..core.logs import configure_logging
from ..core.paths import AppPaths, keep_new_files_private
from . import session
from .appearance import Appearance, desktop_settings
from .garbage import MainThreadGarbageCollector
from .icons import app_icon
from .main_window import MainWindow
from .message_bar import MessageBar
from .operations import Account, Operations
from .sign_in_dialog import SignInDialog
from .transfers import TransferQueue
from .translations import install_translations
from .window_menus import WindowMenus

if TYPE_CHECKING:  # boto3 loads on a lane, after the window shows (see session)
    from ..connect import Backend, Reachability
    from ..core.service import DocumentService
    from ..sandbox.connection import KeepOpen

log = logging.getLogger(__name__)

# Reloading the list while offline: first after this many seconds, then twice as long each time.
OFFLINE_RETRY_FIRST_SECONDS = 5
OFFLINE_RETRY_MAX_SECONDS = 60


class ConnectionAwareMessageBar(MessageBar):
    """The message bar, which leaves out "cannot be reached" errors while the status bar says
    the backend is offline (the window retries on its own meanwhile)."""

    offline = False

    def report_error(self, error: DmsError) -> None:
        if self.offline and isinstance(error, Unavailable):
            log.info("not shown while offline: %s", error)
            return
        super().report_error(error)


# The GUI thread shares the interpreter lock with the worker threads (pages, transfers, batched
# changes). A thread waiting for the lock gets it after at most the switch interval, and the GUI
# thread waits again at each return from Qt within one event: with Python's 5 ms, a worker
# applying 1,000 tag changes held the window 20-30 ms at a time; with 1 ms, half as long.
GUI_SWITCH_INTERVAL_S = 0.001


class DesktopApp(QObject):
    """Owns the operations, the transfer queue and the window, and runs the session flow."""

    reachability_changed = Signal(bool)  # from any thread (see connect.Reachability)

    def __init__(self, paths: AppPaths, profile_name: str | None = None) -> None:
        super().__init__()
        self.paths = paths
        self.garbage_collector = MainThreadGarbageCollector(self)
        self.garbage_collector.start()
        self._switch_interval = sys.getswitchinterval()
        sys.setswitchinterval(GUI_SWITCH_INTERVAL_S)
        self.message_bar = ConnectionAwareMessageBar()
        self.operations = Operations(Account(paths, profile_name), self.message_bar.report_error)
        self.transfers = TransferQueue(self._service_for_transfers)
        self.window = MainWindow(self.operations, self.transfers, self.message_bar, paths)
        self.appearance = Appearance(desktop_settings(paths), self)  # before the window shows
        self.appearance.changed.connect(self.message_bar.follow_palette)
        self.menus = WindowMenus(self.window, self.appearance, paths.log_dir)
        self.window.sign_out_requested.connect(self.sign_out)
        self.window.sign_in_requested.connect(self.ask_sign_in)
        self.connected_backend: Backend | None = None
        self.user: SignedIn | None = None
        self.sign_in_dialog: SignInDialog | None = None
        self.can_remember = True  # the system has a keyring for "remember me" (known at start)
        self._keep_open: KeepOpen | None = None
        self._reachability: Reachability | None = None
        self.reachability_changed.connect(self._on_reachability_changed)
        self._offline_retry = QTimer(self)
        self._offline_retry.setObjectName("offlineRetryTimer")
        self._offline_retry.setSingleShot(True)
        self._offline_retry.timeout.connect(self._retry_while_offline)
        self._offline_retry_seconds = OFFLINE_RETRY_FIRST_SECONDS

    def _service_for_transfers(self) -> DocumentService:
        return self.operations.transfer_service()  # called on the transfer threads

    def start(self) -> None:
        """Show the window (with the list as last seen, if kept), then connect and resume the
        session in the background. (Sending that job first gained a few ms to the live page but
        made the kept list paint ~30 ms later: the worker held the interpreter lock meanwhile.)"""
        if self.window.model.rowCount() == 0:
            snapshot = session.load_snapshot(self.paths, self.operations.account.profile_name)
            if snapshot is not None:
                self.window.show_snapshot(snapshot)
        self.window.show()
        self._show_progress(self.tr("Connecting…"))
        start = self.operations.fast(session.connect_and_resume, self._on_started)
        start.failure(self._on_connect_failed).run()

    def _show_progress(self, text: str) -> None:
        """``text`` in the status bar, with the age of the list kept from the last start if it
        is shown meanwhile."""
        model = self.window.model
        kept = f" · {model.status_text()}" if model.showing_snapshot else ""
        self.window.loaded_label.setText(f"{text}{kept}")

    def _on_started(self, started: session.Started) -> None:
        self.connected_backend = started.backend
        account = self.operations.account
        self.operations.set_account(replace(account, backend=started.backend))
        self.can_remember = started.can_remember
        self._follow_connection(started.backend)
        self._on_resumed(started.resumed)

    def _follow_connection(self, backend: Backend) -> None:
        """Keep the sandbox running while the window is open; follow whether AWS answers."""
        if backend.sandbox is not None and self._keep_open is None:
            self._keep_open = backend.sandbox.keep_open()
        if backend.reachability is not None and self._reachability is None:
            self._reachability = backend.reachability
            self._reachability.add_listener(self.reachability_changed.emit)

    @Slot(bool)
    def _on_reachability_changed(self, online: bool) -> None:
        self.message_bar.offline = not online
        if online:
            self._offline_retry.stop()
            self._offline_retry_seconds = OFFLINE_RETRY_FIRST_SECONDS
            if self.user is not None and self.connected_backend is not None:
                self.window.show_user(self.user, self.connected_backend.profile.name)
                self.window.refresh()  # what failed while offline, e.g. the last reload
            return
        self._schedule_offline_retry()

    def _schedule_offline_retry(self) -> None:
        seconds = self._offline_retry_seconds
        self.window.account.show_offline(
            self.tr("Offline: the backend cannot be reached; trying again in {seconds} s").format(
                seconds=seconds
            )
        )
        self._offline_retry.start(seconds * 1000)
        self._offline_retry_seconds = min(seconds * 2, OFFLINE_RETRY_MAX_SECONDS)

    @Slot()
    def _retry_while_offline(self) -> None:
        """Reload the list (a request like any other: its answer brings the window back
        online), and try again later if the backend still does not answer."""
        if self._reachability is None or self._reachability.online:
            return
        self.window.account.show_offline(self.tr("Offline: trying to reach the backend…"))
        if self.user is not None:
            self.window.refresh()
        self._schedule_offline_retry()

    def _on_connect_failed(self, error: DmsError) -> None:
        self.message_bar.report_error(error)
        self.message_bar.set_action(self.tr("Try again"), self.start)
        self._show_progress(self.tr("Not connected"))

    def _on_resumed(self, user: SignedIn | AuthError | None) -> None:
        if isinstance(user, SignedIn):
            self._signed_in(user, remembered=True)
            return
        if isinstance(user, AuthError):  # e.g. the remembered session has ended
            self.message_bar.show_notice(str(user))
        self.window.clear_user()  # the list snapshot shown meanwhile, if any
        self.ask_sign_in()

    @Slot()
    def ask_sign_in(self) -> None:
        backend = self.connected_backend
        if backend is None:
            self.start()
            return
        if backend.is_sandbox:
            from ..sandbox import DEMO_USER

            where = self.tr("the local sandbox (demo account filled in)")
            username, password = DEMO_USER
        else:
            where = f"{backend.profile.name} ({backend.region})"
            username, password = "", ""
        dialog = SignInDialog(
            self.operations, where, username, password, self.window, can_remember=self.can_remember
        )
        dialog.accepted.connect(self._on_sign_in_accepted)
        dialog.rejected.connect(self._on_sign_in_rejected)
        self.sign_in_dialog = dialog
        self.window.loaded_label.setText(self.tr("Not signed in"))
        dialog.open()

    @Slot()
    def _on_sign_in_accepted(self) -> None:
        dialog = self.sign_in_dialog
        if dialog is None or dialog.result_value is None:
            return
        result = dialog.result_value
        self.sign_in_dialog = None
        self.message_bar.dismiss()  # e.g. "the remembered session has expired": not any more
        if result.remembered is False:
            self.message_bar.show_notice(
                self.tr(
                    "Signed in. This system has no keyring, so the session cannot be remembered: "
                    "you will sign in again next time."
                )
            )
        self.connected_backend = result.backend
        self._follow_connection(result.backend)
        self._signed_in(result.user, remembered=bool(result.remembered))

    @Slot()
    def _on_sign_in_rejected(self) -> None:
        self.sign_in_dialog = None
        self.message_bar.show_notice(self.tr("You are not signed in."))
        self.message_bar.set_action(self.tr("Sign in…"), self.ask_sign_in)

    def _signed_in(self, user: SignedIn, *, remembered: bool) -> None:
        """From now on operations work for ``user`` (on every lane, and the transfers)."""
        account = self.operations.account
        backend = self.connected_backend or account.backend
        self.operations.set_account(
            replace(account, backend=backend, user=user, remembered=remembered)
        )
        self.user = user
        profile = self.connected_backend.profile.name if self.connected_backend else ""
        self.window.show_user(user, profile)
        self.window.set_signed_in(True)
        self.window.set_admin(user.is_admin)
        self.window.start_browsing()
        self.operations.long(session.recover_interrupted, self._on_recovered).run()

    def _on_recovered(self, messages: list[str]) -> None:
        """Tell what the start did with work a crash interrupted, in the message bar; the
        transfers kept to be resumed go to the transfers panel (Resume / Discard)."""
        self.operations.long(session.interrupted_transfers, self.transfers.show_interrupted).run()
        if not messages:
            return
        self.window.refresh()  # a resumed upload is a new document in the list
        notice = messages[0]
        if len(messages) > 1:
            more = self.tr("{message} (and %n more: see Details)", "", len(messages) - 1)
            notice = more.format(message=messages[0])
        self.message_bar.show_notice(notice, details="\n".join(messages))

    @Slot()
    def sign_out(self) -> None:
        running = self.transfers.active_count
        if running:
            answer = QMessageBox.question(
                self.window,
                self.tr("Transfers are running"),
                self.tr("%n transfer(s) still running. Cancel and sign out?", "", running),
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                QMessageBox.StandardButton.No,
            )
            if answer != QMessageBox.StandardButton.Yes:
                return
            self.transfers.cancel_all()
        self.user = None
        self.operations.cancel_all()  # what the user started need not finish for nobody
        self.operations.set_account(self.operations.account.signed_out())
        self.window.set_admin(False)
        self.window.clear_user()
        self.window.set_signed_in(False)
        self.transfers.clear_finished()
        self.transfers.forget_kept()  # the user's: shown again at their next sign-in
        self.operations.fast(session.sign_out, self._on_signed_out).run()
        # The long lane removes the caches too, after the preview it may be writing.
        self.operations.long(session.remove_user_caches).run()

    def _on_signed_out(self, _nothing: None) -> None:
        self.ask_sign_in()

    def shutdown(self) -> None:
        """Cancel transfers and stop every thread (on quit); let the sandbox stop once idle."""
        self._offline_retry.stop()
        if self._reachability is not None:
            self._reachability.remove_listener(self.reachability_changed.emit)
        self.transfers.shutdown()
        self.operations.shutdown()
        if self._keep_open is not None:
            self._keep_open.close()
            self._keep_open = None
        self.garbage_collector.stop()
        sys.setswitchinterval(self._switch_interval)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dms-desktop", description="DMS Desktop")
    parser.add_argument("--version", action="version", version=f"dms-desktop {__version__}")
    parser.add_argument("--profile", help="the profile to use (default: local, the sandbox)")
    parser.add_argument("--home", help="keep config, data, cache and logs under this folder")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="log more")
    entry = parser.add_mutually_exclusive_group()
    entry.add_argument(
        "--install-desktop-entry",
        action="store_true",
        help="add DMS Desktop and its icon to your desktop's menu (XDG_DATA_HOME), then exit",
    )
    entry.add_argument(
        "--remove-desktop-entry", action="store_true", help="take it out again, then exit"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args, qt_args = build_parser().parse_known_args(argv)
    if args.install_desktop_entry or args.remove_desktop_entry:
        from . import desktop_entry

        return desktop_entry.run(remove=args.remove_desktop_entry)
    keep_new_files_private()
    paths = AppPaths.resolve(args.home)
    paths.make_private()
    configure_logging(paths.log_dir, args.verbose, console=False)
    app = QApplication.instance() or QApplication([sys.argv[0], *qt_args])
    assert isinstance(app, QApplication)
    app.setApplicationName("DMS Desktop")
    app.setApplicationVersion(__version__)
    app.setDesktopFileName("dms-desktop")
    app.setWindowIcon(app_icon())
    install_translations(app)
    desktop = DesktopApp(paths, args.profile)
    desktop.start()
    code = app.exec()
    desktop.shutdown()
    return int(code)


if __name__ == "__main__":
    sys.exit(main())
