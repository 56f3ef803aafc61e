"""`dms login`, `dms logout`, `dms whoami`: who is signed in, and the remembered session."""

from __future__ import annotations

import argparse

from ..connect import finish_new_password, require_password_sign_in, sign_in
from ..core.errors import ValidationError
from ..core.formatting import human_time
from ..core.identity import NewPasswordRequired, RememberedSessions
from ..core.list_snapshot import ListSnapshots
from .context import EXIT_OK, Context, add_command
from .terminal import read_new_password, read_password


def cmd_login(context: Context) -> int:
    args = context.args
    require_password_sign_in(context.backend)
    username = args.username or (input("Username: ") if context.interactive else None)
    if not username:
        raise ValidationError("Give a username with --username (no terminal to ask on).")
    password = read_password(context)
    try:
        user = sign_in(context.backend, username, password)
    except NewPasswordRequired as challenge:
        context.note("This is your first sign-in: choose a new password.")
        user = finish_new_password(context.backend, challenge, read_new_password(context))
    context.print(f"Signed in as {user.username} (user id {user.user_id}).")
    if args.no_remember or user.refresh_token is None:
        return EXIT_OK
    if RememberedSessions().remember(context.backend.profile.name, user):
        context.print("The session is remembered in the system keyring; `dms logout` forgets it.")
    else:
        context.note(
            "This system has no usable keyring, so the session cannot be remembered; "
            "set DMS_USERNAME and DMS_PASSWORD for later commands instead."
        )
    return EXIT_OK


def cmd_logout(context: Context) -> int:
    ListSnapshots.of(context.paths).forget(context.backend.profile.name)  # the window's list
    if RememberedSessions().forget(context.backend.profile.name):
        context.print("Signed out; the remembered session was forgotten.")
    else:
        context.print("There was no remembered session.")
    return EXIT_OK


def cmd_whoami(context: Context) -> int:
    user = context.user
    backend = context.backend
    info = {
        "username": user.username,
        "userId": user.user_id,
        "admin": user.is_admin,
        "profile": backend.profile.name,
        "endpoint": backend.endpoint_url or f"AWS ({backend.region})",
        "sessionEnds": user.session_ends.isoformat() if user.session_ends else None,
    }
    if context.args.json:
        context.print_json(info)
    else:
        role = " (admin)" if user.is_admin else ""
        context.print(f"{user.username}{role}, user id {user.user_id}")
        context.print(f"profile {backend.profile.name}, backend {info['endpoint']}")
        if user.session_ends is not None:
            context.print(f"session ends {human_time(user.session_ends)}; then sign in again")
    return EXIT_OK


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """`dms login`, `dms logout` and `dms whoami`."""
    login = add_command(
        commands, "login", cmd_login, "sign in and remember the session in the keyring"
    )
    login.add_argument("--username", "-u")
    login.add_argument("--no-remember", action="store_true", help="do not keep the session")
    add_command(commands, "logout", cmd_logout, "forget the remembered session")
    whoami = add_command(commands, "whoami", cmd_whoami, "show who is signed in, and where")
    whoami.add_argument("--json", action="store_true")
