"""`dms configure`: write an ``aws`` profile from the outputs of the deployed backend stack or an
Amplify app's ``amplify_outputs.json``; `dms admin amplify-outputs`: write that file for a web app.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ..core.amplify_outputs import profile_from_amplify_outputs, write_amplify_outputs
from ..core.aws import new_session
from ..core.config import AwsProfile, choose_profile, load_config
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
    if args.from_amplify_outputs:
        profile = profile_from_amplify_outputs(Path(args.from_amplify_outputs).expanduser())
    elif args.from_stack:
        session = new_session(region_name=args.region)
        if not session.region_name:
            raise ConfigError("Which region is the stack in? Pass --region (or set AWS_REGION).")
        outputs = outputs_from_stack(session, args.from_stack)
        profile = profile_from_outputs(outputs, f"The stack {args.from_stack!r}")
    else:
        outputs = outputs_from_json(Path(args.from_json).expanduser())
        profile = profile_from_outputs(outputs, f"The file {args.from_json}")
    name = args.profile_name
    save_profile(context.paths.config_file, name, profile, make_default=args.make_default)
    context.print(f"Wrote the profile {name!r} to {context.paths.config_file}.")
    if args.from_amplify_outputs:
        context.print(
            f"Its documents table is {profile.table!r} (the file's custom.dms.table, else the "
            "backend template's default); edit the profile if the stack uses another."
        )
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
    source.add_argument(
        "--from-amplify-outputs",
        metavar="FILE",
        help="read an Amplify app's amplify_outputs.json (the same pools and bucket)",
    )
    configure.add_argument("--region", help="the stack's region (default: the AWS config's)")
    configure.add_argument("--profile-name", default="aws", help="the profile (default: aws)")
    configure.add_argument("--make-default", action="store_true", help="make it the default")


def cmd_amplify_outputs(context: Context) -> int:
    """Write ``amplify_outputs.json`` for the chosen profile (no sign-in needed)."""
    chosen = choose_profile(load_config(context.paths.config_file), context.args.profile)
    if not isinstance(chosen.settings, AwsProfile):
        raise ConfigError(
            f"The profile {chosen.name!r} is the local sandbox; an Amplify app connects to a "
            "backend on AWS (choose its profile with --profile)."
        )
    target = Path(context.args.output).expanduser()
    write_amplify_outputs(target, chosen.settings)
    context.print(f"Wrote {target} for the profile {chosen.name!r}.")
    return EXIT_OK


def register_amplify_outputs(admin_commands: argparse._SubParsersAction[Any]) -> None:
    """`dms admin amplify-outputs`."""
    command = add_command(
        admin_commands,
        "amplify-outputs",
        cmd_amplify_outputs,
        "write amplify_outputs.json so an Amplify web app uses the same users and documents",
    )
    command.add_argument(
        "-o", "--output", default="amplify_outputs.json", metavar="FILE", help="where to write it"
    )
