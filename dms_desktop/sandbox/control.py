"""Finding, starting, stopping and resetting the sandbox of a data folder from a client."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
import shutil
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

import filelock
from botocore.exceptions import BotoCoreError, ClientError

from dms_desktop.core.errors import SandboxError
from dms_desktop.core.paths import PRIVATE_FILE_MODE, AppPaths, private_folder
from dms_desktop.sandbox.info import (
    CHALLENGE_HEADER,
    HEALTH_PATH,
    INFO_FILE,
    KEY_HEADER,
    LEASE_PATH,
    PROOF_HEADER,
    RUN_LOCK_FILE,
    SHUTDOWN_PATH,
    START_LOCK_FILE,
    SandboxInfo,
    proof,
    proof_matches,
)

log = logging.getLogger(__name__)

DEFAULT_IDLE_TIMEOUT = 30 * 60.0
START_TIMEOUT = 60.0
LOG_FILE = "sandbox.log"
ERROR_MARKER = "SANDBOX-ERROR: "  # the daemon's last word on why it could not start
_POLL_SECONDS = 0.05

# Daemons this process started, kept so that they are reaped (no zombies) once they exit.
_spawned: list[subprocess.Popen[bytes]] = []
_spawned_lock = threading.Lock()


def _sandbox_dir(paths: AppPaths) -> Path:
    return paths.sandbox_dir.expanduser().resolve()


def _is_running(sandbox_dir: Path) -> bool:
    """Whether a server holds the folder's run lock (it may still be starting)."""
    probe = filelock.FileLock(str(sandbox_dir / RUN_LOCK_FILE))
    try:
        probe.acquire(timeout=0)
    except filelock.Timeout:
        return True
    probe.release()
    return False


def health(info: SandboxInfo, timeout: float = 2.0) -> dict[str, Any] | None:
    """The health document of the sandbox ``info`` describes, or None if nothing answers there,
    or something that cannot prove it has the sandbox's key (the key itself is not sent: a
    program that took the port of a stopped sandbox learns nothing)."""
    challenge = secrets.token_hex(16)
    request = urllib.request.Request(  # noqa: S310 (http://127.0.0.1 only)
        info.endpoint_url + HEALTH_PATH,
        headers={CHALLENGE_HEADER: challenge, PROOF_HEADER: proof(info.key, "client", challenge)},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (loopback)
            data = json.loads(response.read())
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict):
        return None
    if not proof_matches(info.key, "server", challenge, str(data.get("proof", ""))):
        return None
    return data


def _owner_request(info: SandboxInfo, path: str, method: str, body: dict[str, Any]) -> int | None:
    """A control request (shutdown, lease) as the owner; its HTTP status, None if unanswered."""
    request = urllib.request.Request(  # noqa: S310 (http://127.0.0.1 only)
        info.endpoint_url + path,
        method=method,
        data=json.dumps(body).encode(),
        headers={KEY_HEADER: info.key, "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310 (loopback)
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except (OSError, ValueError):
        return None


def hold_lease(info: SandboxInfo, holder: str, seconds: float) -> bool:
    """Keep the sandbox from stopping for being idle for ``seconds`` (renew before they end)."""
    return _owner_request(info, LEASE_PATH, "POST", {"holder": holder, "seconds": seconds}) == 200


def release_lease(info: SandboxInfo, holder: str) -> None:
    _owner_request(info, LEASE_PATH, "DELETE", {"holder": holder})


def _read_info(sandbox_dir: Path) -> SandboxInfo | None:
    try:
        return SandboxInfo.from_json((sandbox_dir / INFO_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _verified_info(sandbox_dir: Path) -> SandboxInfo | None:
    """sandbox.json, if the server it names answers as OUR sandbox for THIS folder."""
    info = _read_info(sandbox_dir)
    if info is None:
        return None
    data = health(info)
    if (
        data is None
        or data.get("service") != "dms-sandbox"
        or data.get("pid") != info.pid
        or data.get("sandbox_dir") != str(sandbox_dir)
        or not data.get("ready")
    ):
        return None
    return info


def _reap_spawned() -> None:
    with _spawned_lock:
        _spawned[:] = [process for process in _spawned if process.poll() is None]


def join_or_start(
    paths: AppPaths,
    port: int = 0,
    timeout: float = START_TIMEOUT,
    idle_timeout: float | None = DEFAULT_IDLE_TIMEOUT,
) -> SandboxInfo:
    """The running sandbox of this data folder, started in the background if none runs.

    Safe to call from several processes at once: they all end up with the same sandbox. (Clients
    use ``connection.connect_or_start``, which also routes their requests to it.)
    """
    _reap_spawned()
    sandbox_dir = private_folder(_sandbox_dir(paths))
    private_folder(paths.data_dir)
    private_folder(paths.log_dir)
    deadline = time.monotonic() + timeout
    start_lock = filelock.FileLock(str(sandbox_dir / START_LOCK_FILE))
    try:
        start_lock.acquire(timeout=timeout)
    except filelock.Timeout as exc:
        raise SandboxError(
            f"Timed out after {timeout:.0f} s waiting for another program starting the local "
            f"sandbox in {sandbox_dir}"
        ) from exc
    try:
        if _is_running(sandbox_dir) and _started_by_an_earlier_version(sandbox_dir, deadline):
            _replace_earlier_version(sandbox_dir, deadline)
        if _is_running(sandbox_dir):
            return _wait_until(
                deadline,
                lambda: _verified_info(sandbox_dir),
                lambda: None if _is_running(sandbox_dir) else "it stopped while starting",
                sandbox_dir,
                paths.log_dir / LOG_FILE,
            )
        return _spawn_and_wait(paths, sandbox_dir, port, idle_timeout, deadline)
    finally:
        start_lock.release()


def python_of_this_package() -> tuple[list[str], dict[str, str]]:
    """How to start ``python -m dms_desktop...`` so that the child imports this very package,
    whatever the current directory: the command's start and the child's environment.

    Python puts the current directory first on a child's ``sys.path`` (``-m``); run from a
    project's source folder, the child imported that folder's ``dms_desktop`` instead of the
    installed one. ``-P`` leaves it out; and when the child would then find another copy of the
    package than this process uses (or none: a clone run without installing), the folder this
    process imported it from goes first on the child's PYTHONPATH."""
    import dms_desktop

    env = dict(os.environ)
    ours = Path(dms_desktop.__file__).resolve()
    if _found_without_current_folder("dms_desktop") != ours:
        root = str(ours.parent.parent)
        env["PYTHONPATH"] = os.pathsep.join(
            entry for entry in (root, env.get("PYTHONPATH", "")) if entry
        )
    return [sys.executable, "-P"], env


def _found_without_current_folder(name: str) -> Path | None:
    """Where a child started with ``-P`` (same site-packages and PYTHONPATH, so the same import
    hooks, e.g. an editable install's) finds the top-level package ``name``."""
    from importlib.machinery import PathFinder

    search = list(sys.path) if sys.flags.safe_path else sys.path[1:]
    for finder in sys.meta_path:
        find_spec = getattr(finder, "find_spec", None)
        if find_spec is None:
            continue
        try:
            spec = find_spec(name, search if finder is PathFinder else None)
        except (ImportError, ValueError):
            continue
        if spec is not None:
            return Path(spec.origin).resolve() if spec.origin else None
    return None


def _started_by_an_earlier_version(sandbox_dir: Path, deadline: float) -> bool:
    """Whether the running sandbox was started by a version that had no key (its info file has
    none): it cannot prove itself, and this version cannot use it."""
    while True:
        info = _read_info(sandbox_dir)
        if info is not None:
            return not info.key
        if not _is_running(sandbox_dir) or time.monotonic() >= deadline:
            return False  # still starting (it writes its info file once ready), or gone
        time.sleep(_POLL_SECONDS)


def _replace_earlier_version(sandbox_dir: Path, deadline: float) -> None:
    """Stop a sandbox an earlier version started (it saves its state): the next start is ours."""
    info = _read_info(sandbox_dir)
    log.info("Stopping the local sandbox an earlier version started, to start it again")
    if info is not None and not _request_shutdown(info):
        _terminate(info.pid)
    run_lock = filelock.FileLock(str(sandbox_dir / RUN_LOCK_FILE))
    try:
        run_lock.acquire(timeout=max(0.0, deadline - time.monotonic()))
    except filelock.Timeout as exc:
        raise SandboxError(
            f"The local sandbox an earlier version started in {sandbox_dir} did not stop; "
            "stop it with `dms local stop`"
        ) from exc
    run_lock.release()


def _spawn_and_wait(
    paths: AppPaths, sandbox_dir: Path, port: int, idle_timeout: float | None, deadline: float
) -> SandboxInfo:
    log_path = paths.log_dir / LOG_FILE
    python, env = python_of_this_package()
    command = [
        *python,
        "-m",
        "dms_desktop.sandbox",
        "serve",
        "--sandbox-dir",
        str(sandbox_dir),
        "--log-dir",
        str(paths.log_dir),
        "--port",
        str(port),
        "--idle-timeout",
        str(idle_timeout if idle_timeout is not None else 0),
    ]
    detach: dict[str, Any] = {"start_new_session": True}
    if os.name == "nt":
        detach = {
            "creationflags": subprocess.CREATE_NEW_PROCESS_GROUP  # type: ignore[attr-defined,unused-ignore]
            | subprocess.DETACHED_PROCESS  # type: ignore[attr-defined,unused-ignore]
        }
    with _open_log(log_path) as log_file:
        log_offset = log_file.tell()
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            close_fds=True,
            env=env,
            **detach,
        )
    with _spawned_lock:
        _spawned.append(process)
    log.info("Started the local sandbox daemon (pid %d) for %s", process.pid, sandbox_dir)

    def ready() -> SandboxInfo | None:
        info = _verified_info(sandbox_dir)
        return info if info is not None and info.pid == process.pid else None

    def failed() -> str | None:
        if process.poll() is None:
            return None
        return _startup_error(log_path, log_offset) or f"it exited with code {process.returncode}"

    try:
        return _wait_until(deadline, ready, failed, sandbox_dir, log_path)
    except SandboxError:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=10)
        raise


def _open_log(path: Path) -> BinaryIO:
    """The daemon's log, for appending; created readable by its owner only."""
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, PRIVATE_FILE_MODE)
    if os.name == "posix":
        os.fchmod(fd, PRIVATE_FILE_MODE)
    return os.fdopen(fd, "ab")


def _wait_until(
    deadline: float,
    ready: Callable[[], SandboxInfo | None],
    failed: Callable[[], str | None],
    sandbox_dir: Path,
    log_path: Path,
) -> SandboxInfo:
    while True:
        info = ready()
        if info is not None:
            return info
        reason = failed()
        if reason is not None:
            if reason.startswith(ERROR_MARKER):
                raise SandboxError(reason.removeprefix(ERROR_MARKER))
            raise SandboxError(f"The local sandbox did not start: {reason}; see {log_path}")
        if time.monotonic() >= deadline:
            raise SandboxError(
                f"The local sandbox for {sandbox_dir} did not become ready in time; see {log_path}"
            )
        time.sleep(_POLL_SECONDS)


def _startup_error(log_path: Path, offset: int) -> str | None:
    """The daemon's own error message from what it logged since ``offset``."""
    try:
        with log_path.open("rb") as handle:
            handle.seek(offset)
            text = handle.read().decode("utf-8", "replace")
    except OSError:
        return None
    lines = [line for line in text.splitlines() if line.startswith(ERROR_MARKER)]
    return lines[-1] if lines else None


def stop(paths: AppPaths, timeout: float = 30.0) -> bool:
    """Stop this folder's sandbox (it checkpoints first); False if none was running."""
    _reap_spawned()
    sandbox_dir = _sandbox_dir(paths)
    if not sandbox_dir.is_dir() or not _is_running(sandbox_dir):
        return False
    deadline = time.monotonic() + timeout
    info = _wait_for_info(sandbox_dir, deadline)
    if info is not None and not _request_shutdown(info):
        _terminate(info.pid)
    run_lock = filelock.FileLock(str(sandbox_dir / RUN_LOCK_FILE))
    try:
        run_lock.acquire(timeout=max(0.0, deadline - time.monotonic()))
    except filelock.Timeout as exc:
        raise SandboxError(
            f"The local sandbox for {sandbox_dir} did not stop within {timeout:.0f} s"
        ) from exc
    run_lock.release()
    with _spawned_lock:
        for process in _spawned:
            if info is not None and process.pid == info.pid:
                process.wait(timeout=max(1.0, deadline - time.monotonic()))
    _reap_spawned()
    return True


def _wait_for_info(sandbox_dir: Path, deadline: float) -> SandboxInfo | None:
    """The running server's info; waits while it is still starting."""
    while True:
        info = _verified_info(sandbox_dir)
        if info is not None or not _is_running(sandbox_dir):
            return info
        unverified = _read_info(sandbox_dir)
        if unverified is not None and not unverified.key:  # an earlier version's
            return unverified
        if time.monotonic() >= deadline:
            return _read_info(sandbox_dir)
        time.sleep(_POLL_SECONDS)


def _request_shutdown(info: SandboxInfo) -> bool:
    return _owner_request(info, SHUTDOWN_PATH, "POST", {}) == 202


def _terminate(pid: int) -> None:
    import signal

    with contextlib.suppress(OSError):
        os.kill(pid, signal.SIGTERM)


def add_user(info: SandboxInfo, username: str, password: str, admin: bool = False) -> None:
    """Add a confirmed user with a permanent password to the running sandbox; nothing is left of
    the user if any step fails (e.g. a password the pool's policy rejects)."""
    from dms_desktop.sandbox.provisioning import create_user, sandbox_client

    cognito = sandbox_client(info.endpoint_url, "cognito-idp", None)
    try:
        create_user(cognito, info.user_pool_id, username, password, admin)
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        message = exc.response.get("Error", {}).get("Message", str(exc))
        if code == "UsernameExistsException":
            raise SandboxError(f"The local sandbox already has a user {username!r}") from exc
        if code == "InvalidPasswordException":
            raise SandboxError(f"Password not accepted: {message}") from exc
        raise SandboxError(f"Could not add user {username!r}: {message}") from exc
    except BotoCoreError as exc:
        raise SandboxError(f"Could not reach the local sandbox at {info.endpoint_url}") from exc
    finally:
        cognito.close()


def remove_user(info: SandboxInfo, username: str) -> None:
    """Remove a user from the running sandbox (their documents stay, under their user id)."""
    from dms_desktop.sandbox.provisioning import sandbox_client

    cognito = sandbox_client(info.endpoint_url, "cognito-idp", None)
    try:
        cognito.admin_delete_user(UserPoolId=info.user_pool_id, Username=username)
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        message = exc.response.get("Error", {}).get("Message", str(exc))
        if code == "UserNotFoundException":
            raise SandboxError(f"The local sandbox has no user {username!r}") from exc
        raise SandboxError(f"Could not remove user {username!r}: {message}") from exc
    except BotoCoreError as exc:
        raise SandboxError(f"Could not reach the local sandbox at {info.endpoint_url}") from exc
    finally:
        cognito.close()


def reset(paths: AppPaths) -> Path | None:
    """Move the stopped sandbox's state into a timestamped backup folder; None if empty.

    Nothing is deleted: the backup folder can be moved back by hand.
    """
    sandbox_dir = _sandbox_dir(paths)
    if not sandbox_dir.is_dir():
        return None
    start_lock = filelock.FileLock(str(sandbox_dir / START_LOCK_FILE))
    try:
        start_lock.acquire(timeout=10)
    except filelock.Timeout as exc:
        raise SandboxError("The local sandbox is starting; stop it before resetting") from exc
    try:
        if _is_running(sandbox_dir):
            raise SandboxError(
                "The local sandbox is running; stop it with `dms local stop` before resetting"
            )
        lock_files = {RUN_LOCK_FILE, START_LOCK_FILE}
        entries = [entry for entry in sandbox_dir.iterdir() if entry.name not in lock_files]
        if not entries:
            return None
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        backup = sandbox_dir.parent / "sandbox-backups" / f"sandbox-{stamp}"
        backup.mkdir(parents=True)
        for entry in entries:
            shutil.move(str(entry), str(backup / entry.name))
        log.info("Moved the local sandbox's state to %s", backup)
        return backup
    finally:
        start_lock.release()
