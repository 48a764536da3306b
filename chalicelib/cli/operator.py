"""`spoke-admin`: the operator's command, run with the deployment's credentials, never through the API.

It reaches the stage's table the way the functions do: boto3's default credential chain, and the
stage's resource names from the environment (SPOKE_TABLE_NAME, SPOKE_BUCKET_NAME, ... read through
Settings), through the same services and adapters. Nobody can call these on themselves over HTTP.

    spoke-admin set-plan ORG PLAN              ORG: id or slug; PLAN: free, professional, enterprise
    spoke-admin show ORG                       plan, limits and usage, as JSON
    spoke-admin set-module-owner MODULE EMAIL  owner of a default-organization module made before owners
"""
from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from typing import TextIO

from chalicelib.domain.errors import DomainError
from chalicelib.domain.plans import PLAN_NAMES


def _services() -> object:
    from chalicelib.wiring import services

    return services()


def set_plan(args: argparse.Namespace, out: TextIO) -> int:
    org, before = _services().organizations.set_plan(args.org, args.plan)  # type: ignore[attr-defined]
    out.write(f"{org.slug} ({org.id}): {before} -> {org.plan}\n")
    return 0


def show(args: argparse.Namespace, out: TextIO) -> int:
    overview = _services().organizations.show(args.org)  # type: ignore[attr-defined]
    out.write(json.dumps(overview, indent=2, sort_keys=True) + "\n")
    return 0


def set_module_owner(args: argparse.Namespace, out: TextIO) -> int:
    services = _services()
    user_id = services.organizations.user_id_for(args.email)  # type: ignore[attr-defined]
    module = services.modules.assign_owner(args.module, user_id)  # type: ignore[attr-defined]
    out.write(f"{module.name}: owner {module.owner_id} ({args.email})\n")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="spoke-admin", description=(
        "Spoke operator commands. Uses the deployment's AWS credentials and the stage's SPOKE_* environment."))
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    plan = commands.add_parser("set-plan", help="move an organization to another plan")
    plan.add_argument("org", help="organization id (org-...) or slug")
    plan.add_argument("plan", choices=PLAN_NAMES)
    plan.set_defaults(handler=set_plan)
    shown = commands.add_parser("show", help="an organization's plan, limits and usage (JSON)")
    shown.add_argument("org", help="organization id (org-...) or slug")
    shown.set_defaults(handler=show)
    owner = commands.add_parser("set-module-owner",
                                help="give a default-organization module made before owners an owner")
    owner.add_argument("module")
    owner.add_argument("email", help="the owner's account email")
    owner.set_defaults(handler=set_module_owner)
    return parser


def main(argv: Sequence[str] | None = None, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """0 on success; 1 with a message on stderr when the registry refuses (unknown organization, ...)."""
    out, err = out or sys.stdout, err or sys.stderr
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:
        return 0 if exit_.code in (0, None) else 1
    handler: Callable[[argparse.Namespace, TextIO], int] | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help(err)
        return 1
    try:
        return handler(args, out)
    except DomainError as refused:
        err.write(f"spoke-admin: {refused.code}: {refused.message}\n")
        return 1


if __name__ == "__main__":
    sys.exit(main())
