"""`dms share`: a download link of a document that works without signing in, until it expires
(core.share_links; see docs/lifecycle.md)."""

from __future__ import annotations

import argparse

from ..core.formatting import human_time, printable
from ..core.share_links import DEFAULT_SHARE_EXPIRY, SHARE_EXPIRIES, SIGNERS
from .context import EXIT_OK, Context, add_command


def cmd_share(context: Context) -> int:
    service = context.service
    document = service.find(context.args.document)
    link = service.share_link(document.document_id, SHARE_EXPIRIES[context.args.expires])
    if context.args.json:
        context.print_json(link.to_json_dict())
    else:
        context.print(link.url)
        context.note(
            f"Anyone with this link can download {printable(document.filename)} until "
            f"{human_time(link.expires_at)} (link {SIGNERS[link.signed_by]})."
        )
    return EXIT_OK


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """`dms share`."""
    share = add_command(
        commands, "share", cmd_share, "print a download link that works without signing in"
    )
    share.add_argument(
        "document", metavar="DOCUMENT", help="a document's id, or its name if no other has it"
    )
    share.add_argument(
        "--expires",
        choices=list(SHARE_EXPIRIES),
        default=DEFAULT_SHARE_EXPIRY,
        help=f"how long the link works (default {DEFAULT_SHARE_EXPIRY}; a Cognito sign-in on "
        "AWS: longer than 1h through the web API's share route, if the profile has api_url)",
    )
    share.add_argument("--json", action="store_true")
