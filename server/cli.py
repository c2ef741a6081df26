"""The ``fieldsync`` command: ``serve``, ``migrate``, ``token``, ``check`` and ``admin``.

Every command reads its settings from ``FIELDSYNC_*`` variables first, so a bad configuration is reported the
same way everywhere: ``fieldsync: <message>`` on stderr and exit status 2, without a traceback.
"""

from __future__ import annotations

import argparse
import sys
import textwrap
from collections.abc import Callable, Mapping
from importlib.metadata import PackageNotFoundError, version

from server.auth import mint_token
from server.config import Settings, claim_names, hub_tunables, load_settings
from server.token_keys import resolve_jwt_secret
from sync import READONLY_ROLES, WRITER_ROLES, ConfigError

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


#: What each server variable means, for ``--help``; the engine's tunables are listed with their defaults.
VARIABLE_HELP = {
    "FIELDSYNC_HOST": "interface to listen on (default 127.0.0.1)",
    "FIELDSYNC_PORT": "port; the WebSocket endpoint is /sync (default 8765)",
    "FIELDSYNC_DATABASE_URL": "sqlite+aiosqlite:///./fieldsync.db (default) or postgresql+asyncpg://user@host/db",
    "FIELDSYNC_REDIS_URL": "Redis for the bus between hub nodes (needs Postgres); unset: one node",
    "FIELDSYNC_REDIS_PREFIX": "prefix of every Redis key and channel (default fieldsync), one per deployment",
    "FIELDSYNC_JWT_SECRET": "HS256 secret that signs and verifies tokens",
    "FIELDSYNC_JWT_PUBLIC_KEY": "RS256 (RSA) or ES256 (EC P-256) public key, PEM text or a file path",
    "FIELDSYNC_JWKS_URL": "an identity provider's JWKS URL: RS256 and ES256 keys, looked up by the token's kid",
    "FIELDSYNC_JWT_AUDIENCE": "when set, every token's aud must name it (unset: aud is not checked)",
    "FIELDSYNC_JWT_ISSUER": "when set, every token's iss must be exactly this",
    "FIELDSYNC_JWT_ALGORITHMS": "accepted algorithms among HS256,RS256,ES256 (default: all the keys verify)",
    "FIELDSYNC_JWT_TENANT_CLAIM": "the claim naming the tenant (default tenant)",
    "FIELDSYNC_JWT_DEVICE_CLAIM": "the claim naming the device (default device; sid fits many providers)",
    "FIELDSYNC_JWT_ROLES_CLAIM": "the claim listing the roles (default roles)",
    "FIELDSYNC_JWT_TEAMS_CLAIM": "the claim listing the teams (default teams)",
    "FIELDSYNC_ENV": "development (default) or production, which needs a secret, a public key or a JWKS URL",
    "FIELDSYNC_LOG_LEVEL": "critical, error, warning, info (default), debug or trace",
    "FIELDSYNC_SECRET_FILE": "the development secret, created by the hub (default ./fieldsync.secret)",
    "FIELDSYNC_SCOPES_FILE": "the scopes devices may follow (default: the packaged sync/scopes/scopes.toml)",
    "FIELDSYNC_ACCESS_FILE": "who reaches which record (default: the packaged sync/access/rules.toml)",
    "FIELDSYNC_LOG_FORMAT": "json or text (default: json in production, text in development)",
    "FIELDSYNC_METRICS": "on (default) or off: Prometheus metrics and /metrics",
    "FIELDSYNC_METRICS_TOKEN": "bearer token a scraper sends to /metrics",
    "FIELDSYNC_METRICS_PORT": "serve /metrics on this port only, instead of the hub's",
    "FIELDSYNC_ADMIN_TOKEN": "an admin JWT (role admin) that `fieldsync admin` sends",
    "FIELDSYNC_CACHE_URL": "Redis for the REST API's cache, redis://host:6379/0 (unset: in process, one node only)",
    "FIELDSYNC_WS_DEFLATE": "on or off (default): accept permessage-deflate on /sync when a client offers it",
    "FIELDSYNC_TRUSTED_PROXIES": "load balancers' addresses or networks, comma-separated: only their X-Forwarded-For "
                                 "names the client (unset: the header is ignored)",
    "FIELDSYNC_REPORT_SLA": "service levels of the open-ages report, <type>.<STATUS>=<hours>h, comma-separated",
}
SERVE_READS = tuple(variable for variable in VARIABLE_HELP if variable != "FIELDSYNC_ADMIN_TOKEN")
CHECK_READS = ("FIELDSYNC_DATABASE_URL", "FIELDSYNC_REDIS_URL", "FIELDSYNC_ENV", "FIELDSYNC_JWT_SECRET",
               "FIELDSYNC_JWT_PUBLIC_KEY", "FIELDSYNC_SCOPES_FILE")
ADMIN_READS = ("FIELDSYNC_ADMIN_TOKEN", "FIELDSYNC_HOST", "FIELDSYNC_PORT")
MIGRATE_READS = ("FIELDSYNC_DATABASE_URL",)
TOKEN_READS = ("FIELDSYNC_JWT_SECRET", "FIELDSYNC_SECRET_FILE", "FIELDSYNC_ENV", "FIELDSYNC_JWT_PUBLIC_KEY",
               "FIELDSYNC_JWKS_URL", "FIELDSYNC_JWT_ALGORITHMS", "FIELDSYNC_JWT_AUDIENCE", "FIELDSYNC_JWT_ISSUER",
               "FIELDSYNC_JWT_TENANT_CLAIM", "FIELDSYNC_JWT_DEVICE_CLAIM", "FIELDSYNC_JWT_ROLES_CLAIM",
               "FIELDSYNC_JWT_TEAMS_CLAIM")
HELP_WIDTH = 100
EVERY_COMMAND = ("Every command refuses an unknown FIELDSYNC_* variable and a bad value with one line on "
                 "stderr and exit status 2.")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with one subcommand per command."""
    parser = argparse.ArgumentParser(
        prog="fieldsync",
        description="Offline-first sync hub. Configured by FIELDSYNC_* environment variables (see the README "
        "and `fieldsync COMMAND --help`).",
        epilog=EVERY_COMMAND,
    )
    parser.add_argument("--version", action="version", version=f"fieldsync {package_version()}")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")

    serve = _command(
        commands, "serve", "run the hub (HTTP and the /sync WebSocket)",
        "Run the hub until SIGTERM or SIGINT. It checks the configuration, binds FIELDSYNC_HOST:FIELDSYNC_PORT, "
        "checks that the database answers and migrates it, and only then serves. In development without "
        "FIELDSYNC_JWT_SECRET it creates a secret in FIELDSYNC_SECRET_FILE and prints a command that mints a "
        "token for it.",
        SERVE_READS, tunables=True,
    )
    serve.set_defaults(handler=_serve)

    migrate = _command(
        commands, "migrate", "create or upgrade the database tables",
        "Create or upgrade the tables of the database at FIELDSYNC_DATABASE_URL to the newest schema "
        "(`fieldsync serve` does this too at start). A missing PostgreSQL database is not created: the error "
        "names the createdb command.",
        MIGRATE_READS,
    )
    migrate.set_defaults(handler=_migrate)

    token = _command(
        commands, "token", "print an HS256 token signed with the hub's secret",
        "Print a token for the hub to accept, signed with FIELDSYNC_JWT_SECRET, or in development with the "
        "secret the hub keeps in FIELDSYNC_SECRET_FILE (./fieldsync.secret of the directory the hub runs in: "
        "run this where the hub runs), carrying FIELDSYNC_JWT_AUDIENCE and FIELDSYNC_JWT_ISSUER when they are "
        "set, under the claim names the FIELDSYNC_JWT_*_CLAIM variables give. It never creates a secret: "
        "without one it refuses and says where the hub keeps it.",
        TOKEN_READS,
    )
    token.add_argument("--sub", required=True, type=_non_empty, help="user id (the 'sub' claim)")
    token.add_argument("--tenant", required=True, type=_non_empty, help="tenant id")
    token.add_argument("--device", required=True, type=_non_empty, help="device id")
    token.add_argument("--roles", required=True, type=_roles, help="comma-separated roles, e.g. technician,viewer")
    token.add_argument("--teams", type=_teams, default=[], help="comma-separated teams, for team scopes")
    token.add_argument("--ttl", type=_positive_int, default=3600, metavar="SECONDS", help="lifetime (default 3600)")
    token.set_defaults(handler=_token)

    check = _command(
        commands, "check", "check the configuration, database, schema and Redis; exit status for scripts",
        "Check what a hub needs without starting one: the configuration (FIELDSYNC_* values, the JWT key in "
        "production, the scopes file), that the database answers, that its schema is the newest, and that Redis "
        "answers when FIELDSYNC_REDIS_URL is set. One line per check; exit status 0 when all pass, else 2 "
        "(configuration), 3 (database), 4 (schema: run fieldsync migrate) or 5 (Redis).",
        CHECK_READS,
    )
    check.set_defaults(handler=_check)

    admin = _command(
        commands, "admin", "the admin API of a running hub: connections, devices, revoke, restore, compact",
        "Call the admin API of a running hub (http://FIELDSYNC_HOST:FIELDSYNC_PORT, or --url) with an admin JWT "
        "(--token, or FIELDSYNC_ADMIN_TOKEN) and print its JSON answer. Exit status 0 done, 1 refused by the hub, "
        "2 no token, 3 no answer.",
        ADMIN_READS,
    )
    from server.admin.cli import add_admin_commands

    add_admin_commands(admin)
    admin.set_defaults(handler=_admin)
    return parser


def _command(commands: argparse._SubParsersAction[argparse.ArgumentParser], name: str, summary: str,
             description: str, reads: tuple[str, ...], *, tunables: bool = False) -> argparse.ArgumentParser:
    """A subcommand whose ``--help`` says what it does and lists the variables it reads."""
    width = max(len(variable) for variable in reads)
    lines = ["environment variables it reads:"]
    lines += [f"  {variable:<{width}}  {VARIABLE_HELP[variable]}" for variable in reads]
    if tunables:
        lines.append("engine limits and timings (default in brackets; see the README, Configuration):")
        lines += [f"  {variable} [{default}]" for variable, default in hub_tunables()]
    lines += ["", textwrap.fill(EVERY_COMMAND, HELP_WIDTH)]
    return commands.add_parser(
        name, help=summary, description=textwrap.fill(description, HELP_WIDTH), epilog="\n".join(lines),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def package_version() -> str:
    """The installed package's version (``pip install -e .`` installs it for a checkout)."""
    try:
        return version("fieldsync")
    except PackageNotFoundError:
        return "(not installed: run bin/setup)"


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    from server.serve import run_serve  # imported here so `fieldsync token` does not load the web stack

    return run_serve(settings)


def _migrate(args: argparse.Namespace, settings: Settings) -> int:
    from server.serve import run_migrate

    return run_migrate(settings)


def _check(args: argparse.Namespace, settings: Settings) -> int:
    from server.check import run_check

    return run_check(settings)


def _admin(args: argparse.Namespace, settings: Settings) -> int:
    from server.admin.cli import run_admin

    return run_admin(args, settings)


def _token(args: argparse.Namespace, settings: Settings) -> int:
    secret, _ = resolve_jwt_secret(settings, generate=False)
    if secret is None:
        source = "FIELDSYNC_JWKS_URL" if settings.jwks_url is not None else "FIELDSYNC_JWT_PUBLIC_KEY"
        raise ConfigError(
            f"cannot mint a token: this hub verifies no HS256 tokens (FIELDSYNC_JWT_SECRET is not set), only "
            f"tokens signed with the keys of {source}; tokens must come from the issuer that holds the private key"
        )
    for role in args.roles:
        if role not in WRITER_ROLES | READONLY_ROLES:
            print(f"fieldsync: warning: role {role!r} grants no access to documents", file=sys.stderr)
    print(mint_token(secret, sub=args.sub, tenant=args.tenant, device=args.device, roles=args.roles,
                     teams=args.teams, ttl_seconds=args.ttl, audience=settings.jwt_audience,
                     issuer=settings.jwt_issuer, claims=claim_names(settings)))
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
