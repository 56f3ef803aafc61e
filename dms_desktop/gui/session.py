"""Jobs that connect, sign in and sign out; they run on the backend worker thread.

They import ``connect`` (and with it boto3) when they first run, on the worker: the window does
not wait for boto3 to load before it shows.
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
from .backend import Job, WorkerState
from .previews import PREVIEW_CACHE_FOLDER

if TYPE_CHECKING:
    from ..connect import Backend


def connect(state: WorkerState) -> Backend:
    """Resolve the profile; on the sandbox, join it or start it (can take a few seconds)."""
    from ..connect import open_backend

    state.backend = open_backend(state.paths, state.profile_name)
    return state.backend


def _backend(state: WorkerState) -> Backend:
    return state.backend if state.backend is not None else connect(state)


def _activate(state: WorkerState, user: SignedIn) -> None:
    from ..connect import open_service

    state.user = user
    state.set_service(open_service(_backend(state), user, paths=state.paths))


def recover_interrupted(state: WorkerState) -> list[str]:
    """Resume or clean up the work a crash interrupted (this user's transfers and deletes; an
    admin's batch deletes too); one message for each (see core.recovery)."""
    from ..connect import open_admin_service

    messages = state.service.recover_interrupted()
    if state.user is not None and state.user.is_admin:
        admin = open_admin_service(_backend(state), state.user, state.paths)
        messages += admin.recover_interrupted()
    return messages


@dataclass(frozen=True)
class Started:
    """What the start-up job found: the backend, and the remembered session's outcome (as
    :func:`resume` returns it)."""

    backend: Backend
    resumed: SignedIn | AuthError | None


def connect_and_resume(state: WorkerState) -> Started:
    """Connect, then resume the remembered session, in one job: between two jobs the worker would
    wait for the window, which is busy with its first paint at that moment (13-40 ms)."""
    backend = connect(state)
    return Started(backend, resume(state))


def resume(state: WorkerState) -> SignedIn | AuthError | None:
    """Sign in with the remembered session, if any; None when the user must sign in, and why
    (e.g. the session has ended) when the remembered session no longer works."""
    from ..connect import resume_session

    backend = _backend(state)
    profile = backend.profile.name
    try:
        user = resume_session(backend)
    except AuthError as error:
        RememberedSessions().forget(profile)
        ListSnapshots.of(state.paths).forget(profile)
        return error
    if user is None:
        ListSnapshots.of(state.paths).forget(profile)  # e.g. `dms logout` forgot the session
        return None
    _activate(state, user)
    state.remembered = True
    return user


@dataclass(frozen=True)
class SignInResult:
    user: SignedIn
    remembered: bool | None  # None: not asked to remember; False: no keyring


def sign_in_job(username: str, password: str, remember: bool) -> Job:
    def job(state: WorkerState) -> SignInResult:
        from ..connect import sign_in

        backend = _backend(state)
        return _after_sign_in(state, backend, sign_in(backend, username, password), remember)

    return job


def _after_sign_in(
    state: WorkerState, backend: Backend, user: SignedIn, remember: bool
) -> SignInResult:
    _activate(state, user)
    remembered = None
    if remember and user.refresh_token:
        remembered = RememberedSessions().remember(backend.profile.name, user)
    state.remembered = bool(remembered)
    if not state.remembered:
        ListSnapshots.of(state.paths).forget(backend.profile.name)
    return SignInResult(user, remembered)


def new_password_job(challenge: NewPasswordRequired, new_password: str, remember: bool) -> Job:
    def job(state: WorkerState) -> SignInResult:
        from ..connect import finish_new_password

        backend = _backend(state)
        user = finish_new_password(backend, challenge, new_password)
        return _after_sign_in(state, backend, user, remember)

    return job


OPEN_CACHE_FOLDER = "open"  # fresh copies downloaded to open with the system's apps
USER_CACHE_FOLDERS = (PREVIEW_CACHE_FOLDER, OPEN_CACHE_FOLDER, SNAPSHOT_FOLDER)


def sign_out(state: WorkerState) -> None:
    """Forget the remembered session, drop the user's credentials from the worker and delete
    what was cached of their documents (previews, copies opened with other apps)."""
    if state.backend is not None:
        RememberedSessions().forget(state.backend.profile.name)
    state.user = None
    state.remembered = False
    state.set_service(None)
    for folder in USER_CACHE_FOLDERS:
        shutil.rmtree(state.paths.cache_dir / folder, ignore_errors=True)


def keep_first_page(state: WorkerState, documents: list[Document]) -> None:
    """Keep the live first page of the start-up listing for the next start (see
    core.list_snapshot); only for a remembered session."""
    if state.remembered and state.backend is not None:
        snapshot = ListSnapshot(utc_now(), documents)
        ListSnapshots.of(state.paths).save(state.backend.profile.name, snapshot)


def load_snapshot(paths: AppPaths, profile_name: str | None) -> ListSnapshot | None:
    """The list kept for the profile the app starts on, if any (read on the GUI thread: a small
    file, and no AWS library)."""
    try:
        profile = choose_profile(load_config(paths.config_file), profile_name).name
    except ConfigError:
        return None  # the worker's connect reports it
    return ListSnapshots.of(paths).load(profile)
