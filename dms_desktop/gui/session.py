"""Operations that connect, sign in and sign out (functions of an OperationContext).

They only return what they found; the app puts it into the Account on the GUI thread. They
import ``connect`` (and with it boto3) when they first run, on a lane: the window does not wait
for boto3 to load before it shows.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..core.config import choose_profile, load_config
from ..core.errors import AuthError, ConfigError
from ..core.identity import NewPasswordRequired, RememberedSessions, SignedIn
from ..core.list_snapshot import SNAPSHOT_FOLDER, ListSnapshot, ListSnapshots
from ..core.models import Document, utc_now
from ..core.paths import AppPaths
from .operations import OperationContext, OperationFunction
from .previews import PREVIEW_CACHE_FOLDER

if TYPE_CHECKING:
    from ..connect import Backend
    from ..core.interrupted import InterruptedTransfer


def connect(ctx: OperationContext) -> Backend:
    """Resolve the profile; on the sandbox, join it or start it (can take a few seconds)."""
    from ..connect import open_backend

    return open_backend(ctx.paths, ctx.account.profile_name)


def _backend(ctx: OperationContext) -> Backend:
    return ctx.account.backend if ctx.account.backend is not None else connect(ctx)


def recover_interrupted(ctx: OperationContext) -> list[str]:
    """Resume or clean up the work a crash interrupted (this user's transfers and deletes; an
    admin's batch deletes too); one message for each (see core.recovery)."""
    messages = ctx.service.recover_interrupted()
    user = ctx.account.user
    if user is not None and user.is_admin:
        messages += ctx.admin_service().recover_interrupted()
    return messages


def interrupted_transfers(ctx: OperationContext) -> list[InterruptedTransfer]:
    """The user's uploads and downloads kept to be resumed (core.interrupted)."""
    return ctx.service.interrupted_transfers()


@dataclass(frozen=True)
class Started:
    """What the start-up operation found: the backend, the remembered session's outcome (as
    :func:`resume` returns it), and whether a session can be remembered on this system."""

    backend: Backend
    resumed: SignedIn | AuthError | None
    can_remember: bool = True


def connect_and_resume(ctx: OperationContext) -> Started:
    """Connect, then resume the remembered session, in one operation: between two the lane
    would wait for the window, which is busy with its first paint at that moment (13-40 ms)."""
    backend = connect(ctx)
    resumed = resume(ctx, backend)
    can_remember = isinstance(resumed, SignedIn) or RememberedSessions().available()
    return Started(backend, resumed, can_remember)


def resume(ctx: OperationContext, backend: Backend) -> SignedIn | AuthError | None:
    """Sign in with the remembered session, if any; None when the user must sign in, and why
    (e.g. the session has ended) when the remembered session no longer works."""
    from ..connect import resume_session

    profile = backend.profile.name
    try:
        user = resume_session(backend)
    except AuthError as error:
        RememberedSessions().forget(profile)
        ListSnapshots.of(ctx.paths).forget(profile)
        return error
    if user is None:
        ListSnapshots.of(ctx.paths).forget(profile)  # e.g. `dms logout` forgot the session
    return user


@dataclass(frozen=True)
class SignInResult:
    backend: Backend
    user: SignedIn
    remembered: bool | None  # None: not asked to remember; False: no keyring


def sign_in_operation(
    username: str, password: str, remember: bool
) -> OperationFunction[SignInResult]:
    def sign_in_with_password(ctx: OperationContext) -> SignInResult:
        from ..connect import sign_in

        backend = _backend(ctx)
        user = sign_in(backend, username, password)
        return _after_sign_in(ctx, backend, user, remember)

    return sign_in_with_password


def new_password_operation(
    challenge: NewPasswordRequired, new_password: str, remember: bool
) -> OperationFunction[SignInResult]:
    def choose_new_password(ctx: OperationContext) -> SignInResult:
        from ..connect import finish_new_password

        backend = _backend(ctx)
        user = finish_new_password(backend, challenge, new_password)
        return _after_sign_in(ctx, backend, user, remember)

    return choose_new_password


def _after_sign_in(
    ctx: OperationContext, backend: Backend, user: SignedIn, remember: bool
) -> SignInResult:
    remembered = None
    if remember and user.refresh_token:
        remembered = RememberedSessions().remember(backend.profile.name, user)
    if not remembered:
        ListSnapshots.of(ctx.paths).forget(backend.profile.name)
    return SignInResult(backend, user, remembered)


OPEN_CACHE_FOLDER = "open"  # fresh copies downloaded to open with the system's apps
USER_CACHE_FOLDERS = (PREVIEW_CACHE_FOLDER, OPEN_CACHE_FOLDER, SNAPSHOT_FOLDER)


def sign_out(ctx: OperationContext) -> None:
    """Forget the remembered session and delete what was cached of the user's documents."""
    if ctx.account.backend is not None:
        RememberedSessions().forget(ctx.account.backend.profile.name)
    remove_user_caches(ctx)


def remove_user_caches(ctx: OperationContext) -> None:
    """Delete what was cached of the signed-out user's documents (previews, copies opened with
    other apps, the kept first page). Run on each lane after sign-out: what a lane had started
    before (a preview) has written its cache file by then."""
    for folder in USER_CACHE_FOLDERS:
        shutil.rmtree(ctx.paths.cache_dir / folder, ignore_errors=True)


def keep_first_page(ctx: OperationContext, documents: list[Document]) -> None:
    """Keep the live first page of the start-up listing for the next start (see
    core.list_snapshot); only for a remembered session."""
    account = ctx.account
    if account.remembered and account.backend is not None:
        snapshot = ListSnapshot(utc_now(), documents)
        ListSnapshots.of(ctx.paths).save(account.backend.profile.name, snapshot)


def load_snapshot(paths: AppPaths, profile_name: str | None) -> ListSnapshot | None:
    """The list kept for the profile the app starts on, if any (read on the GUI thread: a small
    file, and no AWS library)."""
    try:
        profile = choose_profile(load_config(paths.config_file), profile_name).name
    except ConfigError:
        return None  # the connect operation reports it
    return ListSnapshots.of(paths).load(profile)
