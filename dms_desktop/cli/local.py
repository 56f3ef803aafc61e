"""`dms local serve|stop|add-user|remove-user|reset|seed`: the local sandbox of this data folder."""

from __future__ import annotations

import argparse

from ..connect import (
    add_sandbox_user,
    remove_sandbox_user,
    reset_sandbox,
    sandbox_port,
    serve_sandbox,
    stop_sandbox,
)
from ..core.aws import make_client
from ..core.cancellation import CancelToken
from ..core.errors import ValidationError
from ..core.formatting import plural
from ..core.seeding import DocumentSeeder, SeedRequest
from .context import EXIT_INTERRUPTED, EXIT_OK, Context
from .terminal import CountProgress, cancel_on_interrupt, read_password


def cmd_local_serve(context: Context) -> int:
    def ready(endpoint_url: str) -> None:
        context.print(f"Sandbox running at {endpoint_url} (data in {context.paths.sandbox_dir})")
        context.print("Press Ctrl+C to stop.")
        context.out.flush()

    serve_sandbox(context.paths, context.args.port, ready)
    context.print("Sandbox stopped; its state is saved.")
    return EXIT_OK


def cmd_local_stop(context: Context) -> int:
    if stop_sandbox(context.paths):
        context.print("Sandbox stopped; its state is saved.")
    else:
        context.print("No sandbox was running for this data folder.")
    return EXIT_OK


def cmd_local_add_user(context: Context) -> int:
    args = context.args
    password = read_password(context)
    port = sandbox_port(context.paths, args.profile)
    add_sandbox_user(context.paths, port, args.name, password, admin=args.admin)
    role = "admin" if args.admin else "user"
    context.print(f"Added {role} {args.name} to the sandbox.")
    return EXIT_OK


def cmd_local_remove_user(context: Context) -> int:
    name = context.args.name
    remove_sandbox_user(context.paths, sandbox_port(context.paths, context.args.profile), name)
    context.print(
        f"Removed {name} from the sandbox; their documents are kept (an admin can delete them)."
    )
    return EXIT_OK


def cmd_local_reset(context: Context) -> int:
    if not context.args.yes:
        raise ValidationError(
            "Resetting moves the sandbox's documents aside (they are kept in a backup folder); "
            "add --yes to do it."
        )
    backup = reset_sandbox(context.paths)
    if backup is None:
        context.print("The sandbox had no saved state.")
    else:
        context.print(f"The sandbox state was moved to {backup}; the next start begins afresh.")
    return EXIT_OK


def cmd_local_seed(context: Context) -> int:
    """Fill the signed-in user's sandbox partition with generated documents."""
    args = context.args
    backend = context.backend
    if not backend.is_sandbox:
        raise ValidationError(
            "dms local seed fills the local sandbox only; this profile is an AWS backend."
        )
    request = SeedRequest(
        context.user.user_id, args.count, args.tag, args.text, owner_name=context.user.username
    )
    session = context.user.session
    seeder = DocumentSeeder(
        make_client(session, "dynamodb", backend.endpoint_url),
        make_client(session, "s3", backend.endpoint_url),
        backend.table,
        backend.bucket,
    )
    cancel = CancelToken()
    progress = CountProgress(context.err, "Seeding")
    try:
        with cancel_on_interrupt(cancel):
            stored = seeder.seed(
                request, progress=lambda done: progress.update(done, request.count), cancel=cancel
            )
    finally:
        progress.finish()
    tag_note = f" tagged {request.tag}"
    if stored < request.count:
        context.print(
            f"Stopped: {plural(stored, 'generated document')} stored{tag_note} "
            f"of {request.count:,}."
        )
        return EXIT_INTERRUPTED
    context.print(f"Stored {plural(stored, 'generated document')}{tag_note}.")
    return EXIT_OK


def _count(text: str) -> int:
    """A number of documents, with or without thousands separators (1,000 or 1_000)."""
    try:
        return int(text.replace(",", "").replace("_", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of documents") from None


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """`dms local` and its subcommands."""
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
    remove_user = local_commands.add_parser("remove-user", help="remove a sandbox user")
    remove_user.add_argument("name")
    remove_user.set_defaults(handler=cmd_local_remove_user)
    reset = local_commands.add_parser(
        "reset", help="move the sandbox's state aside and start afresh"
    )
    reset.add_argument("--yes", action="store_true")
    reset.set_defaults(handler=cmd_local_reset)
    seed = local_commands.add_parser(
        "seed", help="fill the sandbox with generated documents (for trying the app at scale)"
    )
    seed.add_argument("--count", type=_count, required=True, metavar="N")
    seed.add_argument("--tag", default="seed", help="tag every document (default: seed)")
    seed.add_argument(
        "--text", action="store_true", help="bodies of about 60 words each (for search)"
    )
    seed.set_defaults(handler=cmd_local_seed)
