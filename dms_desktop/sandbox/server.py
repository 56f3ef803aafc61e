"""The sandbox server: moto behind a middleware that makes each change durable before its answer.

Every request's body is read first (in one read, see ``sandbox.middleware.read_body_at_once``);
then the request holds a shared lock while moto runs it (a read: also while its response is
sent); a checkpoint holds the lock exclusively, so it pickles the backends between requests.

A request that changes something is answered only once the change is on disk: what it touched is
written to the write-ahead log as after-images (``changes``, ``wal``; new bodies into their body
files first) and synced, several requests sharing one ``fsync``. A change the log has no form
for (creating a table, say) is saved by a full checkpoint before the answer instead. So a
``kill -9`` of the sandbox loses no acknowledged change: a start loads the last checkpoint and
replays the log after it. What it does lose: the parts of multipart uploads in progress (never
kept, see ``persistence``; the uploads themselves are, so they can be aborted), and sign-ins to
the identity pool, which the app does not rely on (see ``changes``).

Checkpoints only bound the log (and so the time a start spends replaying it): one runs
``CHECKPOINT_QUIET_SECONDS`` after the last change, ``CHECKPOINT_MAX_DELAY_SECONDS`` after the
first one under continuous load, or as soon as the log holds ``CHECKPOINT_LOG_BYTES``. The state
file is replaced atomically and names the first log segment it does not contain; the segments
before it are deleted once it is committed.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import signal
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from types import FrameType

import filelock
from moto.moto_server import werkzeug_app
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    create_backend_app,
)
from werkzeug.serving import BaseWSGIServer

import dms_desktop
from dms_desktop.core.aws import route_endpoint
from dms_desktop.core.errors import SandboxError
from dms_desktop.core.paths import private_folder
from dms_desktop.sandbox import (
    changes,
    fast_query,
    garbage,
    multipart,
    samples,
    search_host,
    transactions,
)
from dms_desktop.sandbox.body_files import take_out_lost_objects
from dms_desktop.sandbox.change_log import ChangeLog
from dms_desktop.sandbox.checkpoints import (
    Checkpointer,
)
from dms_desktop.sandbox.connection import KeyedRoute
from dms_desktop.sandbox.http_server import OpenConnections, bind_server
from dms_desktop.sandbox.info import (
    INFO_FILE,
    REGION,
    RUN_LOCK_FILE,
    WAL_DIR,
    SandboxInfo,
    write_atomically,
)
from dms_desktop.sandbox.lifecycle import (
    TrashPurger,
    keep_old_versions,
    upgrade_resources,
)
from dms_desktop.sandbox.middleware import (
    HOST,
    SandboxMiddleware,
    SandboxRuntime,
)
from dms_desktop.sandbox.passwords import plain_passwords_left
from dms_desktop.sandbox.persistence import clear_backends
from dms_desktop.sandbox.provisioning import create_resources, sandbox_client
from dms_desktop.sandbox.state_store import StateStore
from dms_desktop.sandbox.wal import WriteAheadLog
from dms_desktop.sandbox.web_uploads import ObjectCreatedHandler

log = logging.getLogger(__name__)

SAMPLES_TIMEOUT_SECONDS = 60.0

_serving_in_this_process = threading.Lock()  # moto's backends are process-wide


def quiet_noisy_loggers() -> None:
    """Werkzeug logs each request; botocore logs credentials and tokens at DEBUG; moto warns
    about each template resource it cannot deploy (known: see _deploy_template)."""
    warnings.filterwarnings("ignore", message="Tried to parse AWS::", category=UserWarning)
    logging.getLogger("moto.cloudformation.parsing").setLevel(logging.ERROR)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    for name in ("botocore", "boto3", "s3transfer", "urllib3"):
        logging.getLogger(name).setLevel(logging.WARNING)


@contextlib.contextmanager
def _stop_on_signals(stop: threading.Event) -> Iterator[None]:
    """SIGTERM/SIGINT set ``stop`` while serving (only possible on the main thread)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, _frame: FrameType | None) -> None:
        log.info("Signal %d: stopping the sandbox", signum)
        stop.set()

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def _seed_samples(info: SandboxInfo) -> None:
    try:
        samples.seed_sample_documents(info)
    except Exception:
        log.exception("Could not add the sample documents to the local sandbox")


def run_sandbox(
    sandbox_dir: Path,
    port: int = 0,
    idle_timeout: float | None = None,
    on_ready: Callable[[SandboxInfo], None] | None = None,
    stop_event: threading.Event | None = None,
) -> None:
    """Serve the sandbox of ``sandbox_dir`` until stopped, idle, or signalled; see ``serve``."""
    quiet_noisy_loggers()
    multipart.install()
    transactions.install()  # before changes: its hook notes what a transaction writes
    changes.install()  # after multipart: both change how objects read their bodies
    fast_query.install()
    # Read when each service's app is made (at its first request): no CORS headers from moto.
    werkzeug_app.DISABLE_GLOBAL_CORS = True  # type: ignore[attr-defined]
    sandbox_dir = private_folder(sandbox_dir.expanduser().resolve())
    if not _serving_in_this_process.acquire(blocking=False):
        raise SandboxError(
            "A local sandbox is already running in this program (moto's state is per process)"
        )
    try:
        with garbage.freezing_long_lived_objects():  # no long pauses of every request
            _run_in_folder(sandbox_dir, port, idle_timeout, on_ready, stop_event)
    finally:
        _serving_in_this_process.release()


def _run_in_folder(
    sandbox_dir: Path,
    port: int,
    idle_timeout: float | None,
    on_ready: Callable[[SandboxInfo], None] | None,
    stop_event: threading.Event | None,
) -> None:
    run_lock = filelock.FileLock(str(sandbox_dir / RUN_LOCK_FILE))
    try:
        run_lock.acquire(timeout=0)
    except filelock.Timeout as exc:
        raise SandboxError(
            f"A local sandbox is already running for {sandbox_dir}; stop it with "
            "`dms local stop` first"
        ) from exc
    try:
        _serve_locked(sandbox_dir, port, idle_timeout, on_ready, stop_event)
    finally:
        clear_backends()
        run_lock.release()


def _serve_locked(
    sandbox_dir: Path,
    port: int,
    idle_timeout: float | None,
    on_ready: Callable[[SandboxInfo], None] | None,
    stop_event: threading.Event | None,
) -> None:
    store = StateStore(sandbox_dir)
    try:
        _serve_from_store(store, sandbox_dir, port, idle_timeout, on_ready, stop_event)
    finally:
        store.close()


def _serve_from_store(
    store: StateStore,
    sandbox_dir: Path,
    port: int,
    idle_timeout: float | None,
    on_ready: Callable[[SandboxInfo], None] | None,
    stop_event: threading.Event | None,
) -> None:
    loaded = store.load()
    wal = WriteAheadLog(sandbox_dir / WAL_DIR)
    change_log = ChangeLog(wal, store.bodies)
    replayed = lost = 0
    taken_out: set[changes.Address] = set()
    if loaded is None:
        if wal.segments():
            log.warning("No state file in %s: its write-ahead log is dropped", sandbox_dir)
            wal.remove_before(wal.segments()[-1] + 1)
    else:
        try:
            replayed = change_log.replay(loaded.wal_segment)
        except Exception as exc:
            log.exception("Cannot replay the sandbox's write-ahead log")
            raise SandboxError(
                f"The local sandbox's write-ahead log in {wal.directory} is unreadable ({exc}); "
                "run `dms local reset` to move it aside and start with an empty sandbox"
            ) from exc
        with changes.recording() as removed:
            lost = take_out_lost_objects()
        taken_out = removed.addresses
        log.info("Replayed %d logged change(s); %d object(s) with a lost body", replayed, lost)
        if loaded.migrated_from is None and change_log.replayed_all_bodies:
            # Body files no entry and no replayed record refers to: written for a change the
            # server did not live to log, or left when it died before deleting them.
            swept = store.bodies.remove_all_but(store.body_ids() | change_log.replayed_bodies)
            if swept:
                log.info("Deleted %d body file(s) that nothing refers to", swept)
    change_log.remember_tokens()
    wal.start()
    if taken_out:  # logged like any change: the state database still has them
        wal.wait_durable(change_log.commit(taken_out))
    runtime = SandboxRuntime(sandbox_dir=sandbox_dir)
    if stop_event is not None:
        runtime.stop_requested = stop_event
    app = SandboxMiddleware(DomainDispatcherApplication(create_backend_app), runtime)
    connections = OpenConnections()
    server = bind_server(app, port, connections)
    runtime.listen_on(server.port)
    endpoint_url = f"http://{HOST}:{server.port}"
    route_endpoint(endpoint_url, KeyedRoute(runtime.key))  # this process's own clients
    server_thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.2}, name="sandbox-http"
    )
    server_thread.start()
    checkpointer: Checkpointer | None = None
    search: search_host.SearchHost | None = None
    purger: TrashPurger | None = None
    samples_thread: threading.Thread | None = None
    info_path = sandbox_dir / INFO_FILE
    try:
        if loaded is None:
            log.info("First start of the local sandbox in %s", sandbox_dir)
            try:
                resources, samples_seeded = create_resources(endpoint_url), False
            except Exception as exc:
                log.exception("Could not create the sandbox's resources")
                raise SandboxError(
                    f"The local sandbox could not set itself up in {sandbox_dir}: {exc}"
                ) from exc
        else:
            resources, samples_seeded = loaded.resources, loaded.samples_seeded
        checkpointer = Checkpointer(store, runtime.lock, resources, change_log)
        # Recorded before seeding: the hook runs once, even if it fails or is interrupted.
        checkpointer.samples_seeded = True
        first_save = loaded is None or loaded.migrated_from is not None
        if first_save and not checkpointer.checkpoint_now(full=True):
            raise SandboxError(f"The local sandbox cannot write its state in {sandbox_dir}")
        runtime.checkpointer = checkpointer
        if replayed or lost:
            checkpointer.mark_dirty()  # fold the log into the state soon
        checkpointer.start()
        search = search_host.SearchHost(
            sandbox_dir,
            resources.table,
            resources.bucket,
            runtime.lock.shared,
            runtime.lock.exclusive,
            change_log.replayed_items,
            checkpointer.mark_dirty,
        )
        checkpointer.before_save = search.trim_consumed
        runtime.search = search
        search.start()
        runtime.object_created = ObjectCreatedHandler(
            sandbox_client(endpoint_url, "s3", None),
            sandbox_client(endpoint_url, "dynamodb", None),
            resources.table,
            resources.bucket,
        )
        if loaded is not None:  # a folder made by an earlier version: add what it lacks
            upgrade_resources(sandbox_client(endpoint_url, "dynamodb", None), resources.table)
            keep_old_versions(sandbox_client(endpoint_url, "s3", None), resources.bucket)
        purger = TrashPurger(
            functools.partial(sandbox_client, endpoint_url, session=None),
            resources.table,
            resources.bucket,
        )
        if loaded is not None:
            purger.purge_now()  # what expired while the sandbox was stopped, before anyone looks
        purger.start()
        info = SandboxInfo(
            endpoint_url=endpoint_url,
            region=REGION,
            user_pool_id=resources.user_pool_id,
            app_client_id=resources.app_client_id,
            identity_pool_id=resources.identity_pool_id,
            table=resources.table,
            bucket=resources.bucket,
            pid=os.getpid(),
            key=runtime.key,
        )
        if loaded is not None and plain_passwords_left():
            checkpointer.mark_dirty()  # a state from before passwords were hashed
        if not samples_seeded:
            if loaded is not None:
                checkpointer.mark_dirty()
            # Clients are told about the sandbox only once its samples are in: none of them
            # sees a half-seeded first start. Seeding talks HTTP to us, so not a request thread.
            samples_thread = threading.Thread(
                target=_seed_samples, args=(info,), name="sandbox-samples"
            )
            samples_thread.start()
            samples_thread.join(timeout=SAMPLES_TIMEOUT_SECONDS)
        write_atomically(info_path, info.to_json().encode())
        log.info(
            "Local sandbox for %s listening on %s (dms_desktop from %s)",
            sandbox_dir,
            endpoint_url,
            Path(dms_desktop.__file__).parent,
        )
        if on_ready is not None:
            on_ready(info)
        with _stop_on_signals(runtime.stop_requested):
            _wait_for_stop(runtime, idle_timeout)
    finally:
        if search is not None:
            search.stop()  # before the last checkpoint, which drops what it consumed
        if purger is not None:
            purger.stop()
        _shut_down(server, server_thread, runtime, checkpointer, samples_thread, connections)
        with contextlib.suppress(OSError):
            info_path.unlink()


def _wait_for_stop(runtime: SandboxRuntime, idle_timeout: float | None) -> None:
    """Until a stop is asked for, or ``idle_timeout`` seconds passed without an AWS request
    while no lease was held (a window holds one while it is open)."""
    while True:
        timeout = 1.0
        if idle_timeout is not None:
            idle_for = time.monotonic() - runtime.last_activity()
            if idle_for >= idle_timeout:
                log.info("Local sandbox idle for %.0f s: stopping", idle_for)
                return
            timeout = min(timeout, idle_timeout - idle_for)
        if runtime.stop_requested.wait(timeout):
            return


def _shut_down(
    server: BaseWSGIServer,
    server_thread: threading.Thread,
    runtime: SandboxRuntime,
    checkpointer: Checkpointer | None,
    samples_thread: threading.Thread | None,
    connections: OpenConnections,
) -> None:
    if samples_thread is not None:  # let a first start finish its samples
        samples_thread.join(timeout=30)
    server.shutdown()  # no new connections
    server_thread.join()
    if checkpointer is not None:
        checkpointer.stop()
    with runtime.lock.exclusive():  # waits for requests in flight; later ones get 503
        runtime.closed = True
    if checkpointer is not None:
        checkpointer.checkpoint_now()
        checkpointer.wait_for_commits(timeout=10)  # their records: redundant now, but answered
        checkpointer.wal.close()
    connections.close_all(timeout=10)
    server.server_close()
    if runtime.object_created is not None:
        runtime.object_created.close()
    log.info("Local sandbox for %s stopped", runtime.sandbox_dir)
