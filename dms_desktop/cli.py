"""`dms`: the command-line client. Every failure is one line on stderr and a documented exit code.

Exit codes: 0 ok, 1 unexpected error, 2 usage, 3 invalid input, 4 not found, 5 conflict,
6 authentication, 7 backend unavailable or throttled, 8 cancelled, 9 integrity (checksum),
10 configuration, 11 sandbox, 12 local file missing or unreadable, 130 interrupted (Ctrl+C).
"""

from __future__ import annotations

import argparse
import contextlib
import getpass
import json
import logging
import sys
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TextIO, TypeVar

from . import __version__
from .connect import (
    Backend,
    finish_new_password,
    open_backend,
    open_service,
    require_password_sign_in,
    sign_in,
    sign_in_non_interactive,
)
from .core.errors import Cancelled, DmsError, IntegrityError, LocalFileError, ValidationError
from .core.formatting import human_duration, human_size, human_time
from .core.identity import NewPasswordRequired, RememberedSessions, SignedIn
from .core.list_snapshot import ListSnapshots
from .core.listing import MAX_PAGE_SIZE, ListQuery, damaged_message
from .core.localfiles import UploadSource, collect_upload_sources, file_checksum
from .core.logs import configure_logging
from .core.models import (
    Document,
    normalize_filename,
    normalize_folder,
    normalize_tags,
    utc_now,
)
from .core.paths import AppPaths
from .core.schema import SortField
from .core.service import DocumentService

log = logging.getLogger("dms_desktop.cli")

NumberT = TypeVar("NumberT", int, float)

EXIT_OK = 0
EXIT_UNEXPECTED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


class Context:
    """What every command gets: the paths, the chosen profile and lazily the signed-in service."""

    def __init__(self, args: argparse.Namespace, out: TextIO, err: TextIO) -> None:
        self.args = args
        self.out = out
        self.err = err
        self.paths = AppPaths.resolve(args.home)
        self._backend: Backend | None = None
        self._user: SignedIn | None = None
        self._service: DocumentService | None = None

    @property
    def backend(self) -> Backend:
        if self._backend is None:
            self._backend = open_backend(self.paths, self.args.profile)
        return self._backend

    @property
    def user(self) -> SignedIn:
        if self._user is None:
            self._user = sign_in_non_interactive(self.backend)
        return self._user

    @property
    def service(self) -> DocumentService:
        if self._service is None:
            self._service = open_service(self.backend, self.user, paths=self.paths)
            self.report_recovered(self._service.recover_interrupted())
        return self._service

    def report_recovered(self, messages: list[str]) -> None:
        """Say what the start did with work a crash interrupted (see core.recovery)."""
        for message in messages:
            self.note(f"dms: {message}")

    @property
    def interactive(self) -> bool:
        return sys.stdin.isatty() and self.err.isatty()

    def print(self, text: str = "") -> None:
        print(text, file=self.out)

    def note(self, text: str) -> None:
        print(text, file=self.err)

    def print_json(self, value: Any) -> None:
        json.dump(value, self.out, indent=2, ensure_ascii=False)
        self.out.write("\n")


class ProgressLine:
    """A one-line progress display on a terminal (nothing when stderr is not a terminal)."""

    def __init__(self, stream: TextIO, label: str) -> None:
        self._stream = stream
        self._label = label if len(label) <= 30 else label[:27] + "..."
        self._enabled = stream.isatty()
        self._started = time.monotonic()
        self._last_draw = 0.0

    def update(self, done: int, total: int) -> None:
        now = time.monotonic()
        if not self._enabled or (now - self._last_draw < 0.1 and done < total):
            return
        self._last_draw = now
        elapsed = max(now - self._started, 1e-6)
        speed = done / elapsed
        percent = 100 if total == 0 else int(done * 100 / total)
        left = (total - done) / speed if speed > 0 else 0
        self._stream.write(
            f"\r{self._label:<30} {percent:3d}% {human_size(done):>9} of {human_size(total):<9}"
            f" {human_size(int(speed))}/s  {human_duration(left)} left   "
        )
        self._stream.flush()

    def finish(self) -> None:
        if self._enabled:
            self._stream.write("\r" + " " * 90 + "\r")
            self._stream.flush()


def _document_row(document: Document) -> str:
    tags = ", ".join(document.tags)
    return (
        f"{document.document_id}  {document.filename[:40]:<40}  {document.file_type[:24]:<24}  "
        f"{human_size(document.size):>9}  {human_time(document.updated_at)}  {tags}"
    )


def _print_details(context: Context, document: Document) -> None:
    rows = [
        ("Name", document.filename),
        ("Id", document.document_id),
        ("Type", document.file_type),
        ("Size", f"{human_size(document.size)} ({document.size} bytes)"),
        ("Tags", ", ".join(document.tags) or "-"),
        ("Folder", document.folder or "-"),
        ("Created", human_time(document.created_at)),
        ("Updated", human_time(document.updated_at)),
        ("Version", str(document.version)),
        ("SHA-256", document.checksum),
        ("Stored at", document.s3_key),
    ]
    if document.expires is not None:
        rows.append(("Expires", f"{human_time(document.expires)} (test record)"))
    for label, value in rows:
        context.print(f"{label + ':':<11}{value}")


def _confirm(context: Context, question: str) -> bool:
    context.err.write(f"{question} [y/N] ")
    context.err.flush()
    answer = sys.stdin.readline().strip().lower()
    return answer in {"y", "yes"}


# --- commands -------------------------------------------------------------------------------


def cmd_login(context: Context) -> int:
    args = context.args
    require_password_sign_in(context.backend)
    username = args.username or (input("Username: ") if context.interactive else None)
    if not username:
        raise ValidationError("Give a username with --username (no terminal to ask on).")
    password = _read_password(context)
    try:
        user = sign_in(context.backend, username, password)
    except NewPasswordRequired as challenge:
        context.note("This is your first sign-in: choose a new password.")
        user = finish_new_password(context.backend, challenge, _read_new_password(context))
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


def _read_password(context: Context) -> str:
    import os

    from_env = os.environ.get("DMS_PASSWORD")
    if from_env:
        return from_env
    if not context.interactive:
        raise ValidationError("No terminal to ask for the password on; set DMS_PASSWORD.")
    return getpass.getpass("Password: ")


def _read_new_password(context: Context) -> str:
    import os

    from_env = os.environ.get("DMS_NEW_PASSWORD")
    if from_env:
        return from_env
    if not context.interactive:
        raise ValidationError("No terminal to ask for the new password on; set DMS_NEW_PASSWORD.")
    first = getpass.getpass("New password: ")
    if getpass.getpass("New password again: ") != first:
        raise ValidationError("The two new passwords differ; run `dms login` again.")
    return first


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


def cmd_list(context: Context) -> int:
    args = context.args
    if args.all and args.cursor:
        raise ValidationError("--all starts at the beginning; it cannot be combined with --cursor.")
    query = ListQuery(
        sort=SortField(args.sort),
        descending=args.desc if args.sort != SortField.CREATED else not args.asc,
        tag=args.tag,
        text=args.search,
        file_type=args.type,
        page_size=min(args.limit, MAX_PAGE_SIZE) if not args.all else MAX_PAGE_SIZE,
    )
    service = context.service
    documents: list[Document] = []
    damaged: list[str] = []
    cursor = args.cursor
    while True:
        page = service.list_page(query, cursor)
        documents += page.documents
        damaged += page.damaged
        cursor = page.cursor
        if not args.all or cursor is None:
            break
    # A damaged document is left out, not allowed to hide the others; exit 9 says so to scripts.
    code = IntegrityError.exit_code if damaged else EXIT_OK
    if args.json:
        context.print_json(
            {
                "documents": [doc.to_json_dict() for doc in documents],
                "nextCursor": cursor,
                "damaged": damaged,
            }
        )
    elif not documents:
        context.print("No documents match." if query.is_filtered else "No documents yet.")
    else:
        for document in documents:
            context.print(_document_row(document))
        if cursor:
            context.note(f"{len(documents)} shown, more available: use --all, or --cursor {cursor}")
    if damaged:
        context.note(f"dms: {damaged_message(damaged)}")
    return code


def cmd_upload(context: Context) -> int:
    args = context.args
    tags = normalize_tags(args.tag or [])
    sources = collect_upload_sources([Path(path) for path in args.paths])
    if not sources:
        raise LocalFileError("There is no file to upload in the given folders.")
    problems = _check_sources(sources)
    if problems:
        for problem in problems:
            context.note(f"dms: {problem}")
        raise ValidationError(f"Nothing was uploaded: {len(problems)} file(s) cannot be stored.")
    service = context.service
    expires = utc_now() + args.expires_in if args.expires_in else None
    uploaded: list[Document] = []
    failures: list[DmsError] = []
    for source in sources:
        try:
            document = _upload_one(context, service, source, tags, expires)
        except Cancelled:
            raise
        except DmsError as error:
            failures.append(error)
            context.note(f"dms: {source.path}: {error}")
            continue
        if document is not None:
            uploaded.append(document)
            if not args.json:
                context.print(f"Uploaded {source.path} as {document.document_id}")
    if args.json:
        context.print_json([document.to_json_dict() for document in uploaded])
    if failures:
        context.note(f"{len(uploaded)} uploaded, {len(failures)} failed.")
        return failures[0].exit_code
    return EXIT_OK


def _check_sources(sources: list[UploadSource]) -> list[str]:
    problems = []
    for source in sources:
        try:
            normalize_filename(source.path.name)
            normalize_folder(source.folder)
        except ValidationError as error:
            problems.append(f"{source.path}: {error}")
    return problems


def _upload_one(
    context: Context,
    service: DocumentService,
    source: UploadSource,
    tags: tuple[str, ...],
    expires: datetime | None,
) -> Document | None:
    policy = context.args.duplicates
    if policy != "keep":
        duplicates = service.find_duplicates(file_checksum(source.path))
        if duplicates:
            names = ", ".join(f"{doc.filename} ({doc.document_id})" for doc in duplicates[:3])
            if policy == "ask" and context.interactive:
                keep = _confirm(
                    context, f"{source.path} is already stored as {names}. Upload again?"
                )
            else:
                keep = policy == "ask"  # no terminal to ask on: keep both, but say so
            if not keep:
                context.note(f"Skipped {source.path}: already stored as {names}.")
                return None
            context.note(f"Note: {source.path} is already stored as {names}; keeping both.")
    progress = ProgressLine(context.err, source.path.name)
    try:
        return service.upload(
            source.path,
            tags=tags,
            folder=source.folder,
            expires=expires,
            progress=progress.update,
        )
    finally:
        progress.finish()


def cmd_info(context: Context) -> int:
    document = context.service.get(context.args.id)
    if context.args.json:
        context.print_json(document.to_json_dict())
    else:
        _print_details(context, document)
    return EXIT_OK


def cmd_download(context: Context) -> int:
    args = context.args
    service = context.service
    document = service.get(args.id)
    target = Path(args.output) if args.output else Path.cwd()
    progress = ProgressLine(context.err, document.filename)
    try:
        path = service.download(
            document.document_id, target, overwrite=args.overwrite, progress=progress.update
        )
    finally:
        progress.finish()
    context.print(f"Downloaded {document.filename} to {path}")
    return EXIT_OK


def cmd_delete(context: Context) -> int:
    args = context.args
    service = context.service
    documents = [service.get(document_id) for document_id in dict.fromkeys(args.ids)]
    if not args.yes:
        if not context.interactive:
            raise ValidationError("Deleting needs confirmation: add --yes (no terminal to ask on).")
        names = "\n".join(f"  {doc.filename} ({doc.document_id})" for doc in documents)
        if not _confirm(context, f"Delete {len(documents)} document(s)?\n{names}\n"):
            context.note("Nothing was deleted.")
            return EXIT_OK
    failures: list[DmsError] = []
    for document in documents:
        try:
            service.delete(document.document_id)
        except DmsError as error:
            failures.append(error)
            context.note(f"dms: {document.document_id}: {error}")
            continue
        context.print(f"Deleted {document.filename} ({document.document_id})")
    return failures[0].exit_code if failures else EXIT_OK


def cmd_tag(context: Context) -> int:
    args = context.args
    if not args.add and not args.remove:
        raise ValidationError("Say what to change: --add TAG and/or --remove TAG.")
    document = context.service.retag(args.id, add=args.add or (), remove=args.remove or ())
    context.print(f"{document.filename}: tags {', '.join(document.tags) or '(none)'}")
    return EXIT_OK


def cmd_rename(context: Context) -> int:
    document = context.service.rename(context.args.id, context.args.name)
    context.print(f"Renamed to {document.filename}")
    return EXIT_OK


def cmd_local_serve(context: Context) -> int:
    from .sandbox import serve

    def ready(info: Any) -> None:
        context.print(
            f"Sandbox running at {info.endpoint_url} (data in {context.paths.sandbox_dir})"
        )
        context.print("Press Ctrl+C to stop.")
        context.out.flush()

    serve(context.paths, port=context.args.port, on_ready=ready)
    context.print("Sandbox stopped; its state is saved.")
    return EXIT_OK


def cmd_local_stop(context: Context) -> int:
    from .sandbox import stop

    if stop(context.paths):
        context.print("Sandbox stopped; its state is saved.")
    else:
        context.print("No sandbox was running for this data folder.")
    return EXIT_OK


def cmd_local_add_user(context: Context) -> int:
    from .sandbox import add_user, connect_or_start

    args = context.args
    password = _read_password(context)
    info = connect_or_start(context.paths, port=_sandbox_port(context))
    add_user(info, args.name, password, admin=args.admin)
    role = "admin" if args.admin else "user"
    context.print(f"Added {role} {args.name} to the sandbox.")
    return EXIT_OK


def cmd_local_reset(context: Context) -> int:
    from .sandbox import reset

    if not context.args.yes:
        raise ValidationError(
            "Resetting moves the sandbox's documents aside (they are kept in a backup folder); "
            "add --yes to do it."
        )
    backup = reset(context.paths)
    if backup is None:
        context.print("The sandbox had no saved state.")
    else:
        context.print(f"The sandbox state was moved to {backup}; the next start begins afresh.")
    return EXIT_OK


def cmd_configure(context: Context) -> int:
    """Write an ``aws`` profile from the outputs of the deployed backend stack."""
    from .core.aws import new_session
    from .core.errors import ConfigError
    from .core.stack_config import (
        outputs_from_json,
        outputs_from_stack,
        profile_from_outputs,
        save_profile,
    )

    args = context.args
    if args.from_stack:
        session = new_session(region_name=args.region)
        if not session.region_name:
            raise ConfigError("Which region is the stack in? Pass --region (or set AWS_REGION).")
        outputs = outputs_from_stack(session, args.from_stack)
        source = f"The stack {args.from_stack!r}"
    else:
        outputs = outputs_from_json(Path(args.from_json).expanduser())
        source = f"The file {args.from_json}"
    name = args.profile_name
    save_profile(
        context.paths.config_file,
        name,
        profile_from_outputs(outputs, source),
        make_default=args.make_default,
    )
    context.print(f"Wrote the profile {name!r} to {context.paths.config_file}.")
    if args.make_default:
        context.print("It is now the default profile: `dms login` signs in there.")
    else:
        context.print(f"Use it with `dms --profile {name} login` (or add --make-default).")
    return EXIT_OK


def _sandbox_port(context: Context) -> int:
    from .core.config import SandboxProfile, choose_profile, load_config

    settings = choose_profile(load_config(context.paths.config_file), context.args.profile).settings
    if not isinstance(settings, SandboxProfile):
        raise ValidationError(
            "`dms local` commands work on a sandbox profile (e.g. --profile local)."
        )
    return settings.port


# --- parser ---------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dms",
        description="Browse, upload, download and manage your documents (DynamoDB + S3).",
        epilog="Without a configured AWS profile, commands use the local sandbox.",
    )
    parser.add_argument("--version", action="version", version=f"dms {__version__}")
    parser.add_argument("--profile", help="the profile to use (default: local, the sandbox)")
    parser.add_argument("--home", help="keep config, data, cache and logs under this folder")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="log more (-vv: debug)")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def command(name: str, handler: Callable[[Context], int], help_text: str) -> Any:
        sub = commands.add_parser(name, help=help_text, description=help_text)
        sub.set_defaults(handler=handler)
        return sub

    login = command("login", cmd_login, "sign in and remember the session in the keyring")
    login.add_argument("--username", "-u")
    login.add_argument("--no-remember", action="store_true", help="do not keep the session")
    command("logout", cmd_logout, "forget the remembered session")
    whoami = command("whoami", cmd_whoami, "show who is signed in, and where")
    whoami.add_argument("--json", action="store_true")

    listing = command("list", cmd_list, "list documents (newest first)")
    listing.add_argument("--tag", help="only documents with this tag (any case)")
    listing.add_argument("--search", metavar="TEXT", help="filename contains TEXT (any case)")
    listing.add_argument(
        "--type", metavar="MIME", help="file type, e.g. application/pdf or image/*"
    )
    listing.add_argument("--sort", choices=[field.value for field in SortField], default="created")
    order = listing.add_mutually_exclusive_group()
    order.add_argument("--desc", action="store_true", help="descending (created: the default)")
    order.add_argument("--asc", action="store_true", help="ascending (the default but for created)")
    listing.add_argument(
        "--limit",
        type=number_argument(int, 1, "a whole number"),
        default=50,
        help="page size (default 50)",
    )
    listing.add_argument("--cursor", help="continue after a previous page (see --json nextCursor)")
    listing.add_argument("--all", action="store_true", help="every matching document")
    listing.add_argument("--json", action="store_true")

    upload = command("upload", cmd_upload, "upload files (folders recursively)")
    upload.add_argument("paths", nargs="+", metavar="PATH")
    upload.add_argument("--tag", action="append", metavar="TAG", help="tag every file (repeatable)")
    upload.add_argument(
        "--duplicates",
        choices=["ask", "skip", "keep"],
        default="ask",
        help="when the same content is already stored: ask (keep both if there is no terminal), "
        "skip, or keep both",
    )
    upload.add_argument(
        "--expires-in",
        type=duration_argument,
        metavar="DURATION",
        help="store as test records that expire after DURATION (e.g. 90m, 12h, 7d, 2w): "
        "DynamoDB's TTL removes them in AWS, and `dms admin cleanup --expired` at once",
    )
    upload.add_argument("--json", action="store_true")

    info = command("info", cmd_info, "show a document's details")
    info.add_argument("id")
    info.add_argument("--json", action="store_true")

    download = command("download", cmd_download, "download a document (checksum verified)")
    download.add_argument("id")
    download.add_argument("-o", "--output", help="a folder, or the file to write")
    download.add_argument("--overwrite", action="store_true", help="replace an existing file")

    delete = command("delete", cmd_delete, "delete documents")
    delete.add_argument("ids", nargs="+", metavar="ID")
    delete.add_argument("--yes", "-y", action="store_true", help="do not ask for confirmation")

    tag = command("tag", cmd_tag, "add or remove tags")
    tag.add_argument("id")
    tag.add_argument("--add", action="append", metavar="TAG")
    tag.add_argument("--remove", action="append", metavar="TAG")

    rename = command("rename", cmd_rename, "rename a document")
    rename.add_argument("id")
    rename.add_argument("name")

    from .cli_admin import add_admin_commands  # imported here: cli_admin imports this module

    add_admin_commands(commands)

    configure = command(
        "configure", cmd_configure, "write a profile from the deployed AWS backend stack"
    )
    source = configure.add_mutually_exclusive_group(required=True)
    source.add_argument("--from-stack", metavar="NAME", help="read the stack's outputs")
    source.add_argument(
        "--from-json", metavar="FILE", help="read `aws cloudformation describe-stacks` output"
    )
    configure.add_argument("--region", help="the stack's region (default: the AWS config's)")
    configure.add_argument("--profile-name", default="aws", help="the profile (default: aws)")
    configure.add_argument("--make-default", action="store_true", help="make it the default")

    local = commands.add_parser("local", help="the local sandbox backend")
    local_commands = local.add_subparsers(dest="local_command", metavar="COMMAND", required=True)
    serve = local_commands.add_parser("serve", help="run the sandbox in the foreground")
    serve.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: any free)")
    serve.set_defaults(handler=cmd_local_serve)
    stop = local_commands.add_parser("stop", help="stop the running sandbox (state is saved)")
    stop.set_defaults(handler=cmd_local_stop)
    add_user = local_commands.add_parser("add-user", help="add a sandbox user")
    add_user.add_argument("name")
    add_user.add_argument("--admin", action="store_true", help="member of the admins group")
    add_user.set_defaults(handler=cmd_local_add_user)
    reset = local_commands.add_parser(
        "reset", help="move the sandbox's state aside and start afresh"
    )
    reset.add_argument("--yes", action="store_true")
    reset.set_defaults(handler=cmd_local_reset)
    return parser


_DURATION_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def duration_argument(text: str) -> timedelta:
    """An argparse ``type`` for a duration such as 90m, 12h, 7d or 2w."""
    number, unit = text.strip()[:-1], text.strip()[-1:].lower()
    if unit not in _DURATION_UNITS or not number.isdigit() or int(number) == 0:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a duration; use a whole number and m, h, d or w, e.g. 7d"
        )
    return timedelta(**{_DURATION_UNITS[unit]: int(number)})


def number_argument(
    convert: Callable[[str], NumberT], minimum: NumberT, what: str
) -> Callable[[str], NumberT]:
    """An argparse ``type`` for a number of at least ``minimum`` ("a whole number", ...)."""

    def parse(text: str) -> NumberT:
        try:
            value = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {what}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum:g}")
        return value

    return parse


def main(
    argv: Sequence[str] | None = None, out: TextIO | None = None, err: TextIO | None = None
) -> int:
    out = out or sys.stdout
    err = err or sys.stderr
    parser = build_parser()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            args = parser.parse_args(argv)
    except SystemExit as exit_:
        return int(exit_.code or 0)
    log_file: Path | None = None
    try:
        context = Context(args, out, err)
        log_file = configure_logging(context.paths.log_dir, args.verbose)
        log.debug("dms %s: %s", __version__, args.command)
        return int(args.handler(context))
    except DmsError as error:
        log.info("command failed: %s", error, exc_info=error.__cause__ is not None)
        print(f"dms: {error}", file=err)
        return error.exit_code
    except KeyboardInterrupt:
        print("dms: interrupted; nothing half-done was kept.", file=err)
        return EXIT_INTERRUPTED
    except Exception:
        log.exception("unexpected error")
        where = f" (details in {log_file})" if log_file else ""
        print(f"dms: unexpected error{where}.", file=err)
        return EXIT_UNEXPECTED


if __name__ == "__main__":
    sys.exit(main())
