"""From a profile to a working document service: start or join the sandbox, sign in, build clients.

Shared by the CLI and the window (which calls it on its worker thread), so both reach the backend
the same way. On the sandbox, both go through the data folder's one ``SandboxConnection``: it
finds the sandbox again (or restarts it) when it stops or moves, and the failed request is sent
again (see ``sandbox.connection``). On AWS, a :class:`Reachability` follows whether the backend
answers, so that the window can say "offline" and retry instead of failing each action.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .core.auth import (
    complete_new_password,
    sign_in_with_aws_profile,
    sign_in_with_password,
    sign_in_with_refresh_token,
)
from .core.aws import make_client
from .core.blobs import TransferSettings
from .core.config import AwsProfile, ChosenProfile, choose_profile, load_config
from .core.errors import AuthError, ConfigError
from .core.identity import CognitoPool, NewPasswordRequired, RememberedSessions, SignedIn
from .core.journal import journal_for
from .core.paths import AppPaths
from .core.schema import DEFAULT_TRASH_DAYS
from .core.service import DocumentService
from .core.share_links import IDENTITY_POOL_LINK_LIFETIME, ApiShareLinks

if TYPE_CHECKING:  # loaded by admins only (its import costs ~50 ms of everyone's start-up)
    import boto3

    from .core.admin import AdminService
    from .core.search.service import DocumentSearch
    from .sandbox import SandboxConnection

log = logging.getLogger(__name__)


class Reachability:
    """Whether an AWS backend answers, as the signed-in user's requests find it: offline after a
    request could not reach it (once botocore's own retries, with backoff, gave up), online
    again at the next answer. Listeners are called on the thread that noticed the change."""

    def __init__(self) -> None:
        self._online = True
        self._lock = threading.Lock()
        self._listeners: list[Callable[[bool], None]] = []

    @property
    def online(self) -> bool:
        return self._online

    def add_listener(self, listener: Callable[[bool], None]) -> None:
        with self._lock:
            self._listeners.append(listener)

    def remove_listener(self, listener: Callable[[bool], None]) -> None:
        with self._lock:
            if listener in self._listeners:
                self._listeners.remove(listener)

    def watch(self, session: boto3.Session) -> None:
        """Follow the requests of the clients ``session`` makes from now on."""
        session.events.register(
            "needs-retry", self._attempt_ended, unique_id=f"dms-reachability-{id(self)}"
        )

    def _attempt_ended(
        self, response: Any = None, caught_exception: BaseException | None = None, **_: Any
    ) -> None:
        from botocore.exceptions import ConnectionClosedError, EndpointConnectionError
        from botocore.exceptions import ConnectTimeoutError as BotoConnectTimeoutError

        if caught_exception is None:
            if response is not None:
                self._set(True)
        elif isinstance(
            caught_exception,
            EndpointConnectionError | BotoConnectTimeoutError | ConnectionClosedError,
        ):
            self._set(False)

    def _set(self, online: bool) -> None:
        with self._lock:
            if online == self._online:
                return
            self._online = online
            listeners = list(self._listeners)
        log.info("the backend is %s", "reachable again" if online else "unreachable: offline")
        for listener in listeners:
            listener(online)


@dataclass(frozen=True)
class Backend:
    """Where the documents live, for one profile."""

    profile: ChosenProfile
    region: str
    endpoint_url: str | None
    table: str
    bucket: str
    pool: CognitoPool | None
    # The sandbox's connection (the sandbox profile), or whether AWS answers (an AWS profile).
    sandbox: SandboxConnection | None = field(default=None, compare=False)
    reachability: Reachability | None = field(default=None, compare=False)
    trash_days: int = DEFAULT_TRASH_DAYS  # the stack's TrashRetentionDays (the sandbox: default)

    @property
    def is_sandbox(self) -> bool:
        return self.profile.is_sandbox


def open_backend(paths: AppPaths, profile_name: str | None = None) -> Backend:
    """Resolve the profile; for the sandbox, join the running one or start it."""
    profile = choose_profile(load_config(paths.config_file), profile_name)
    settings = profile.settings
    if isinstance(settings, AwsProfile):
        pool = None
        if settings.user_pool_id and settings.app_client_id and settings.identity_pool_id:
            pool = CognitoPool(
                region=settings.region,
                user_pool_id=settings.user_pool_id,
                app_client_id=settings.app_client_id,
                identity_pool_id=settings.identity_pool_id,
                endpoint_url=settings.endpoint_url,
                session_days=settings.session_days,
            )
        return Backend(
            profile,
            settings.region,
            settings.endpoint_url,
            settings.table,
            settings.bucket,
            pool,
            reachability=Reachability(),
            trash_days=settings.trash_days,
        )
    from .sandbox import SandboxConnection

    connection = SandboxConnection.of(paths, port=settings.port)
    info = connection.connect()
    pool = info.cognito_pool()
    return Backend(
        profile, info.region, info.endpoint_url, info.table, info.bucket, pool, sandbox=connection
    )


def _require_pool(backend: Backend) -> CognitoPool:
    if backend.pool is None:
        raise ConfigError(
            f"Profile {backend.profile.name!r} signs in with a named AWS profile, not a "
            "password; no `dms login` is needed."
        )
    return backend.pool


def require_password_sign_in(backend: Backend) -> None:
    """ConfigError unless this backend signs in with a username and password (Cognito)."""
    _require_pool(backend)


def sign_in(backend: Backend, username: str, password: str) -> SignedIn:
    return sign_in_with_password(_require_pool(backend), username, password)


def finish_new_password(
    backend: Backend, challenge: NewPasswordRequired, new_password: str
) -> SignedIn:
    """Complete a first sign-in that asked for a new password."""
    return complete_new_password(_require_pool(backend), challenge, new_password)


def resume_session(backend: Backend, sessions: RememberedSessions | None = None) -> SignedIn | None:
    """Sign in without asking for a password: with the profile's named AWS profile, or with the
    remembered refresh token of this profile, if there is one."""
    settings = backend.profile.settings
    if isinstance(settings, AwsProfile) and settings.aws_profile:
        return sign_in_with_aws_profile(
            settings.aws_profile, backend.region, backend.endpoint_url, settings.user_id
        )
    remembered = (sessions or RememberedSessions()).recall(backend.profile.name)
    if remembered is None:
        return None
    return sign_in_with_refresh_token(
        _require_pool(backend),
        remembered.username,
        remembered.refresh_token,
        remembered.signed_in_at,
    )


def sign_in_non_interactive(
    backend: Backend, sessions: RememberedSessions | None = None
) -> SignedIn:
    """Sign in without asking: DMS_USERNAME/DMS_PASSWORD, else the remembered session, else (on
    the sandbox) the demo user."""
    username = os.environ.get("DMS_USERNAME")
    password = os.environ.get("DMS_PASSWORD")
    if username and password:
        return sign_in(backend, username, password)
    resumed = resume_session(backend, sessions)
    if resumed is not None:
        return resumed
    if backend.is_sandbox:
        from .sandbox import DEMO_USER

        return sign_in(backend, *DEMO_USER)
    raise AuthError("Not signed in: run `dms login`, or set DMS_USERNAME and DMS_PASSWORD.")


def open_service(
    backend: Backend,
    user: SignedIn,
    settings: TransferSettings | None = None,
    paths: AppPaths | None = None,
) -> DocumentService:
    """The document service of ``user``: every call goes through their own credentials. With
    ``paths``, its transfers are journaled in that data folder (see core.journal)."""
    if backend.reachability is not None:
        backend.reachability.watch(user.session)
    return DocumentService.for_user(
        user.session,
        backend.endpoint_url,
        backend.table,
        backend.bucket,
        user.user_id,
        settings,
        journal_for(paths) if paths is not None else None,
        owner_name=user.username,
        trash_days=backend.trash_days,
        # A Cognito sign-in's AWS credentials last about an hour; so do links signed with them.
        share_limit=None
        if backend.is_sandbox or backend.pool is None
        else IDENTITY_POOL_LINK_LIFETIME,
        finish_share_link=_sandbox_share_link(backend.sandbox) if backend.sandbox else None,
        api_share_links=_api_share_links(backend, user),
    )


def _api_share_links(backend: Backend, user: SignedIn) -> ApiShareLinks | None:
    """The web API's share route for links longer than a Cognito sign-in's credentials last:
    on AWS with a Cognito sign-in and the profile's api_url (the API stack's ApiUrl)."""
    settings = backend.profile.settings
    api_url = settings.api_url if isinstance(settings, AwsProfile) else None
    if backend.is_sandbox or backend.pool is None or user.refresh_token is None:
        return None
    if not api_url or not api_url.startswith("https://"):
        return None  # links of an hour only (search says what is wrong with the URL)
    return ApiShareLinks(api_url, backend.region, _frozen_credentials(user.session))


def _frozen_credentials(session: Any) -> Callable[[], object]:
    def credentials() -> object:
        current = session.get_credentials()
        if current is None:
            raise AuthError("The session has expired; sign in again.")
        return current.get_frozen_credentials()

    return credentials


def _sandbox_share_link(sandbox: SandboxConnection) -> Callable[[str], str]:
    """The sandbox answers its owner only: a share link carries the proof that they made it."""
    from .sandbox.lifecycle import with_share_proof

    def finish(url: str) -> str:
        return with_share_proof(url, sandbox.info.key)

    return finish


def open_admin_service(backend: Backend, user: SignedIn, paths: AppPaths) -> AdminService:
    """The admin tools for ``user`` (AuthError unless they are in the admins group); audit logs
    go to ``paths.data_dir / "audit"``."""
    from .core.admin import AdminService, require_admin

    require_admin(user)  # before any client is built
    session = user.session
    dynamodb = make_client(session, "dynamodb", backend.endpoint_url)
    s3 = make_client(session, "s3", backend.endpoint_url)
    return AdminService(
        dynamodb,
        s3,
        backend.table,
        backend.bucket,
        user,
        audit_dir=paths.data_dir / "audit",
        journal=journal_for(paths),
    )


def open_search(backend: Backend, user: SignedIn, paths: AppPaths) -> DocumentSearch:
    """Search for ``user``: on the sandbox its search index (read here, written by the sandbox),
    on AWS the web API's ``GET /search``."""
    if not backend.is_sandbox:
        return _api_search(backend, user)
    from .core.errors import Unavailable
    from .core.search.embedded import EmbeddedIndex
    from .core.search.service import IndexSearch
    from .sandbox.search_host import POSITION_FILE, SEARCH_DIR, search_index_dir

    if not (paths.sandbox_dir / SEARCH_DIR / POSITION_FILE).exists():
        raise Unavailable("The sandbox is still building its search index; try again in a moment.")
    return IndexSearch(EmbeddedIndex(search_index_dir(paths.sandbox_dir)), user.user_id)


def _api_search(backend: Backend, user: SignedIn) -> DocumentSearch:
    """GET /search of the profile's web API, signed with the user's identity pool credentials
    (the API is IAM-authorised and filters by the caller's identity id)."""
    from .core.search.api_client import ApiSearch

    settings = backend.profile.settings
    api_url = settings.api_url if isinstance(settings, AwsProfile) else None
    if not api_url:
        raise ConfigError(
            f"Profile {backend.profile.name!r} has no api_url: search on AWS goes through the "
            "web API; set api_url to the API stack's output ApiUrl (see docs/search.md)."
        )
    if backend.pool is None or user.refresh_token is None:
        raise ConfigError(
            "Search on AWS needs a Cognito sign-in (`dms login`): the web API does not accept "
            "a named AWS profile."
        )
    session = user.session

    def credentials() -> object:
        current = session.get_credentials()
        if current is None:
            raise AuthError("The session has expired; sign in again.")
        return current.get_frozen_credentials()

    return ApiSearch(api_url, backend.region, credentials)


def reindex_search(
    backend: Backend,
    user: SignedIn,
    user_id: str | None,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Rebuild the search index from the table: one user's entries, or everyone's (admins
    only); returns how many documents were indexed."""
    import json
    import urllib.error
    import urllib.request

    from .core.admin import require_admin
    from .core.errors import SandboxError, Unavailable

    require_admin(user)
    if not backend.is_sandbox or backend.sandbox is None:
        raise ConfigError(
            f"Profile {backend.profile.name!r}: on AWS the index is rebuilt by the indexer "
            "function (see docs/search.md)."
        )
    from .sandbox.info import KEY_HEADER
    from .sandbox.search_host import REINDEX_PATH

    sandbox = backend.sandbox.info  # where it runs now, and the key it answers to
    request = urllib.request.Request(  # noqa: S310 (the sandbox's own loopback address)
        sandbox.endpoint_url + REINDEX_PATH,
        data=json.dumps({"user": user_id}).encode(),
        method="POST",
        headers={"Content-Type": "application/json", KEY_HEADER: sandbox.key},
    )
    try:
        with urllib.request.urlopen(request, timeout=3600) as answer:  # noqa: S310
            for line in answer:
                report = json.loads(line)
                if "error" in report:
                    raise SandboxError(
                        f"The sandbox could not rebuild its index: {report['error']}"
                    )
                if "indexed" in report:
                    return int(report["indexed"])
                if progress is not None:
                    progress(int(report["done"]), int(report["total"] or 0))
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise Unavailable(f"The sandbox did not finish rebuilding its index: {exc}") from exc
    raise Unavailable("The sandbox stopped before it finished rebuilding its index.")


# --- `dms local`: the sandbox of a data folder, for the CLI (which does not import the sandbox) ---


def sandbox_port(paths: AppPaths, profile_name: str | None) -> int:
    """The port the chosen profile's sandbox asks for (0: any); ValidationError unless the
    profile is a sandbox profile."""
    from .core.config import SandboxProfile
    from .core.errors import ValidationError

    settings = choose_profile(load_config(paths.config_file), profile_name).settings
    if not isinstance(settings, SandboxProfile):
        raise ValidationError(
            "`dms local` commands work on a sandbox profile (e.g. --profile local)."
        )
    return settings.port


def serve_sandbox(paths: AppPaths, port: int, on_ready: Callable[[str], None]) -> None:
    """Run the sandbox of ``paths`` in the foreground until stopped; ``on_ready`` gets its
    endpoint URL once it serves."""
    from .sandbox import serve

    serve(paths, port=port, on_ready=lambda info: on_ready(info.endpoint_url))


def stop_sandbox(paths: AppPaths) -> bool:
    """Stop the sandbox of ``paths`` (its state is saved); False if none was running."""
    from .sandbox import stop

    return stop(paths)


def add_sandbox_user(
    paths: AppPaths, port: int, username: str, password: str, *, admin: bool = False
) -> None:
    """Add a user to the sandbox of ``paths``, starting it if needed."""
    from .sandbox import add_user, connect_or_start

    add_user(connect_or_start(paths, port=port), username, password, admin=admin)


def remove_sandbox_user(paths: AppPaths, port: int, username: str) -> None:
    """Remove a user from the sandbox of ``paths``, starting it if needed; their documents stay."""
    from .sandbox import connect_or_start, remove_user

    remove_user(connect_or_start(paths, port=port), username)


def reset_sandbox(paths: AppPaths) -> Path | None:
    """Move the stopped sandbox's state aside; the backup folder, or None if it had none."""
    from .sandbox import reset

    return reset(paths)
