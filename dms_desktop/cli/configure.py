"""`dms configure`: write an ``aws`` profile from the outputs of the deployed backend stack."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..core.aws import new_session
from ..core.errors import ConfigError
from ..core.stack_config import (
    outputs_from_json,
    outputs_from_stack,
    profile_from_outputs,
    save_profile,
)
from .context import EXIT_OK, Context, add_command


def cmd_configure(context: Context) -> int:
    """Write an ``aws`` profile from the outputs of the deployed backend stack."""
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


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """`dms configure`."""
    configure = add_command(
        commands, "configure", cmd_configure, "write a profile from the deployed AWS backend stack"
    )
    source = configure.add_mutually_exclusive_group(required=True)
    source.add_argument("--from-stack", metavar="NAME", help="read the stack's outputs")
    source.add_argument(
        "--from-json", metavar="FILE", help="read `aws cloudformation describe-stacks` output"
    )
    configure.add_argument("--region", help="the stack's region (default: the AWS config's)")
    configure.add_argument("--profile-name", default="aws", help="the profile (default: aws)")
    configure.add_argument("--make-default", action="store_true", help="make it the default")
