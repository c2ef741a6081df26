"""The ``fieldsync`` command: ``serve``, ``migrate`` and ``token``.

Every command reads its settings from ``FIELDSYNC_*`` variables first, so a bad configuration is reported the
same way everywhere: ``fieldsync: <message>`` on stderr and exit status 2, without a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Mapping

from server.auth import mint_token
from server.config import Settings, load_settings, resolve_jwt_secret
from sync.access import READONLY_ROLES, WRITER_ROLES
from sync.errors import ConfigError

EXIT_CONFIG = 2

Handler = Callable[[argparse.Namespace, Settings], int]


def main(argv: list[str] | None = None, *, environ: Mapping[str, str] | None = None) -> int:
    """Run the command line ``argv`` (default ``sys.argv[1:]``) with ``environ`` (default ``os.environ``)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits on --help and on usage errors; report the status instead
        return exc.code if isinstance(exc.code, int) else EXIT_CONFIG
    handler: Handler | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help(sys.stderr)
        return EXIT_CONFIG
    try:
        return handler(args, load_settings(environ))
    except ConfigError as exc:
        print(f"fieldsync: {exc}", file=sys.stderr)
        return EXIT_CONFIG


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with one subcommand per command."""
    parser = argparse.ArgumentParser(
        prog="fieldsync",
        description="Offline-first sync hub. Configured by FIELDSYNC_* environment variables (see the README).",
    )
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the hub (HTTP and the /sync WebSocket)")
    serve.set_defaults(handler=_serve)

    migrate = commands.add_parser("migrate", help="create or upgrade the database tables")
    migrate.set_defaults(handler=_migrate)

    token = commands.add_parser(
        "token",
        help="print an HS256 token signed with the hub's secret",
        description="Print a token signed with FIELDSYNC_JWT_SECRET, or in development with the secret the hub "
        "keeps in FIELDSYNC_SECRET_FILE (./fieldsync.secret where it runs). It never creates a secret.",
    )
    token.add_argument("--sub", required=True, type=_non_empty, help="user id (the 'sub' claim)")
    token.add_argument("--tenant", required=True, type=_non_empty, help="tenant id")
    token.add_argument("--device", required=True, type=_non_empty, help="device id")
    token.add_argument("--roles", required=True, type=_roles, help="comma-separated roles, e.g. technician,viewer")
    token.add_argument("--teams", type=_teams, default=[], help="comma-separated teams, for team scopes")
    token.add_argument("--ttl", type=_positive_int, default=3600, metavar="SECONDS", help="lifetime (default 3600)")
    token.set_defaults(handler=_token)
    return parser


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    from server.serve import run_serve  # imported here so `fieldsync token` does not load the web stack

    return run_serve(settings)


def _migrate(args: argparse.Namespace, settings: Settings) -> int:
    from server.serve import run_migrate

    return run_migrate(settings)


def _token(args: argparse.Namespace, settings: Settings) -> int:
    secret, _ = resolve_jwt_secret(settings, generate=False)
    if secret is None:
        raise ConfigError(
            "cannot mint a token: no FIELDSYNC_JWT_SECRET is set and this hub verifies RS256 tokens with "
            "FIELDSYNC_JWT_PUBLIC_KEY; tokens must come from the issuer that holds the private key"
        )
    for role in args.roles:
        if role not in WRITER_ROLES | READONLY_ROLES:
            print(f"fieldsync: warning: role {role!r} grants no access to documents", file=sys.stderr)
    print(mint_token(secret, sub=args.sub, tenant=args.tenant, device=args.device, roles=args.roles,
                     teams=args.teams, ttl_seconds=args.ttl))
    return 0


def _non_empty(value: str) -> str:
    if not value.strip():
        raise argparse.ArgumentTypeError("must not be empty")
    return value.strip()


def _roles(value: str) -> list[str]:
    roles = [role.strip() for role in value.split(",") if role.strip()]
    if not roles:
        raise argparse.ArgumentTypeError("needs at least one role")
    return roles


def _teams(value: str) -> list[str]:
    return [team.strip() for team in value.split(",") if team.strip()]


def _positive_int(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not an integer") from None
    if number < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return number
