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
import socket
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from importlib.resources import files
from pathlib import Path
from types import FrameType
from typing import Any

import boto3
import botocore.config
import filelock
from botocore.credentials import Credentials
from botocore.exceptions import BotoCoreError, ClientError
from moto.moto_server import werkzeug_app
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import BaseWSGIServer, make_server

import dms_desktop
from dms_desktop.core.aws import attach_credentials, new_session, route_endpoint
from dms_desktop.core.errors import SandboxError
from dms_desktop.core.paths import private_folder
from dms_desktop.core.schema import TABLE_NAME, time_to_live_specification
from dms_desktop.sandbox import changes, fast_query, multipart, samples, search_host, transactions
from dms_desktop.sandbox.body_files import take_out_lost_objects
from dms_desktop.sandbox.change_log import ChangeLog
from dms_desktop.sandbox.checkpoints import (
    Checkpointer,
)
from dms_desktop.sandbox.connection import KeyedRoute
from dms_desktop.sandbox.info import (
    ACCESS_KEY_ID,
    ADMIN_USER,
    ADMINS_GROUP,
    DEMO_USER,
    INFO_FILE,
    REGION,
    RUN_LOCK_FILE,
    SECRET_ACCESS_KEY,
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
    WsgiApp,
    unclosed_response,
)
from dms_desktop.sandbox.passwords import plain_passwords_left
from dms_desktop.sandbox.persistence import SandboxResources, clear_backends
from dms_desktop.sandbox.state_store import StateStore
from dms_desktop.sandbox.wal import WriteAheadLog
from dms_desktop.sandbox.web_uploads import ObjectCreatedHandler

log = logging.getLogger(__name__)

TEMPLATE_FILE = "dms-backend.yaml"  # the AWS template (resources/cloudformation)
SANDBOX_STACK = "dms-local"

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


class _Connections:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._open: dict[socket.socket, threading.Thread] = {}

    def add(self, connection: socket.socket, thread: threading.Thread) -> None:
        with self._lock:
            self._open[connection] = thread

    def discard(self, connection: socket.socket) -> None:
        with self._lock:
            self._open.pop(connection, None)

    def close_all(self, timeout: float) -> None:
        with self._lock:
            open_now = list(self._open.items())
        for connection, _thread in open_now:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        deadline = time.monotonic() + timeout
        for _connection, thread in open_now:
            thread.join(max(0.0, deadline - time.monotonic()))


def _request_handler(connections: _Connections) -> type[MotoRequestHandler]:
    class TrackedRequestHandler(MotoRequestHandler):
        """Remembers open connections so that stopping can close idle keep-alive ones."""

        def setup(self) -> None:
            super().setup()
            connections.add(self.connection, threading.current_thread())

        def finish(self) -> None:
            try:
                super().finish()
            finally:
                connections.discard(self.connection)

        def handle_one_request(self) -> None:
            try:
                super().handle_one_request()
            finally:
                # werkzeug does not close the response when the client resets the connection
                # while the request is drained (a client killed mid-response): without this the
                # request kept its shared lock, the next checkpoint waited for it forever, and
                # every later request with it.
                response = getattr(unclosed_response, "response", None)
                if response is not None:
                    response.close()

    return TrackedRequestHandler


def _listening_socket(port: int) -> socket.socket:
    """A socket listening on 127.0.0.1:port; SandboxError if the port is taken."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        if os.name == "nt":  # without this, Windows lets another program share the port
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_EXCLUSIVEADDRUSE, 1)  # type: ignore[attr-defined,unused-ignore]
        else:  # restart at once on the same port (TIME_WAIT); still refuses a live listener
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((HOST, port))
        sock.listen(128)
    except OSError as exc:
        sock.close()
        if port:
            raise SandboxError(
                f"Port {port} on {HOST} is already in use by another program "
                f"({exc.strerror}); choose another port under [profiles.local] in the config "
                "file, or use port = 0 for any free port"
            ) from exc
        raise SandboxError(f"The local sandbox cannot listen on {HOST}: {exc}") from exc
    return sock


def _bind(app: WsgiApp, port: int, connections: _Connections) -> BaseWSGIServer:
    # Our own socket: werkzeug would print and sys.exit() if binding failed.
    with _listening_socket(port) as sock:
        return make_server(
            HOST,
            port,
            app,
            threaded=True,
            request_handler=_request_handler(connections),
            fd=sock.fileno(),
        )


def owner_session() -> boto3.session.Session:
    """A session for the sandbox's owner: dummy AWS credentials (the sandbox checks none: its
    key does the checking, added to each request by the sandbox's route, see core.aws)."""
    session = new_session(region_name=REGION)
    attach_credentials(session, Credentials(ACCESS_KEY_ID, SECRET_ACCESS_KEY))
    return session


def sandbox_client(
    endpoint_url: str, service: str, session: boto3.session.Session | None, **config: Any
) -> Any:
    """A boto3 client for the sandbox as its owner (few retries unless ``config`` says)."""
    settings = botocore.config.Config(
        retries={"mode": "standard", "total_max_attempts": 2}, connect_timeout=5, read_timeout=60
    ).merge(botocore.config.Config(**config))
    service_name: Any = service  # boto3-stubs overloads on literal service names
    return (session or owner_session()).client(
        service_name, endpoint_url=endpoint_url, config=settings
    )


def create_user(cognito: Any, user_pool_id: str, username: str, password: str, admin: bool) -> None:
    """A confirmed user with a permanent password (raises botocore ClientError), or none at all:
    a step that fails (a password the policy rejects) removes the user it had created."""
    cognito.admin_create_user(UserPoolId=user_pool_id, Username=username, MessageAction="SUPPRESS")
    try:
        cognito.admin_set_user_password(
            UserPoolId=user_pool_id, Username=username, Password=password, Permanent=True
        )
        if admin:
            cognito.admin_add_user_to_group(
                UserPoolId=user_pool_id, Username=username, GroupName=ADMINS_GROUP
            )
    except BaseException:
        with contextlib.suppress(ClientError, BotoCoreError):
            cognito.admin_delete_user(UserPoolId=user_pool_id, Username=username)
        raise


def _deploy_template(endpoint_url: str, session: boto3.session.Session) -> tuple[str, str]:
    """The table and the bucket from the AWS template itself (one definition of the backend),
    deployed by moto's CloudFormation; returns (table, bucket).

    moto skips the template's Cognito resources, its bucket policy and the table's TTL (see
    tests/infra/test_moto_deploy.py): _create_resources makes the pools the same way by hand,
    and switches TTL on here.
    """
    template = files("dms_desktop.resources").joinpath("cloudformation", TEMPLATE_FILE)
    cloudformation = sandbox_client(endpoint_url, "cloudformation", session)
    dynamodb = sandbox_client(endpoint_url, "dynamodb", session)
    try:
        cloudformation.create_stack(
            StackName=SANDBOX_STACK,
            TemplateBody=template.read_text(encoding="utf-8"),
            Parameters=[{"ParameterKey": "TableName", "ParameterValue": TABLE_NAME}],
            Capabilities=["CAPABILITY_IAM"],
        )
        (stack,) = cloudformation.describe_stacks(StackName=SANDBOX_STACK)["Stacks"]
        if stack["StackStatus"] != "CREATE_COMPLETE":
            raise SandboxError(
                f"The sandbox could not deploy {TEMPLATE_FILE} ({stack['StackStatus']}: "
                f"{stack.get('StackStatusReason', 'no reason given')})."
            )
        outputs = {output["OutputKey"]: output["OutputValue"] for output in stack["Outputs"]}
        table, bucket = outputs["TableName"], outputs["BucketName"]
        dynamodb.update_time_to_live(
            TableName=table, TimeToLiveSpecification=time_to_live_specification()
        )
        keep_old_versions(sandbox_client(endpoint_url, "s3", session), bucket)
    finally:
        cloudformation.close()
        dynamodb.close()
    return table, bucket


def _create_resources(endpoint_url: str) -> SandboxResources:
    """First start of an empty folder: the template's table and bucket, then the user pool,
    users and identity pool."""
    session = owner_session()
    table, bucket = _deploy_template(endpoint_url, session)
    cognito = sandbox_client(endpoint_url, "cognito-idp", session)
    identity = sandbox_client(endpoint_url, "cognito-identity", session)
    try:
        pool = cognito.create_user_pool(
            PoolName="dms-local",
            Policies={
                "PasswordPolicy": {
                    "MinimumLength": 8,
                    "RequireUppercase": False,
                    "RequireLowercase": False,
                    "RequireNumbers": False,
                    "RequireSymbols": False,
                }
            },
        )["UserPool"]
        client = cognito.create_user_pool_client(
            UserPoolId=pool["Id"],
            ClientName="dms-desktop",
            GenerateSecret=False,
            ExplicitAuthFlows=[
                "ALLOW_USER_PASSWORD_AUTH",
                "ALLOW_REFRESH_TOKEN_AUTH",
                "ALLOW_USER_SRP_AUTH",
            ],
        )["UserPoolClient"]
        cognito.create_group(UserPoolId=pool["Id"], GroupName=ADMINS_GROUP)
        create_user(cognito, pool["Id"], *DEMO_USER, admin=False)
        create_user(cognito, pool["Id"], *ADMIN_USER, admin=True)
        identity_pool = identity.create_identity_pool(
            IdentityPoolName="dms_local",
            AllowUnauthenticatedIdentities=False,
            CognitoIdentityProviders=[
                {
                    "ProviderName": f"cognito-idp.{REGION}.amazonaws.com/{pool['Id']}",
                    "ClientId": client["ClientId"],
                    "ServerSideTokenCheck": False,
                }
            ],
        )
    finally:
        for service_client in (cognito, identity):
            service_client.close()
    return SandboxResources(
        user_pool_id=pool["Id"],
        app_client_id=client["ClientId"],
        identity_pool_id=identity_pool["IdentityPoolId"],
        table=table,
        bucket=bucket,
    )


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
    connections = _Connections()
    server = _bind(app, port, connections)
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
                resources, samples_seeded = _create_resources(endpoint_url), False
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
    connections: _Connections,
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
