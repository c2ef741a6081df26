"""``fieldsync admin ...``: the admin API of a running hub from a terminal or a script.

Answers are printed as JSON on stdout. Exit status: 0 done; 1 the hub refused (its ``code: reason`` on
stderr); 2 no token or a usage error; 3 the hub did not answer.
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from server.config import Settings

__all__ = ["EXIT_REFUSED", "EXIT_UNREACHABLE", "add_admin_commands", "run_admin"]

EXIT_REFUSED, EXIT_USAGE, EXIT_UNREACHABLE = 1, 2, 3


def add_admin_commands(admin: argparse.ArgumentParser) -> None:
    """The ``admin`` subcommands and their options."""
    admin.add_argument("--url", help="the hub's HTTP address (default http://FIELDSYNC_HOST:FIELDSYNC_PORT)")
    admin.add_argument("--token", help="an admin JWT (default FIELDSYNC_ADMIN_TOKEN)")
    actions = admin.add_subparsers(title="actions", metavar="ACTION", dest="action", required=True)
    actions.add_parser("connections", help="sockets on every hub node (each names its node), with traffic and "
                       "pending acknowledgements")
    actions.add_parser("rooms", help="documents in every hub node's memory (each names its node)")
    devices = actions.add_parser("devices", help="devices the hub has seen (filtered, paged)")
    devices.add_argument("--user", help="only this user's devices")
    devices.add_argument("--revoked", action="store_true", help="only revoked devices")
    devices.add_argument("--after", help="the page after this device id (the previous page's 'next')")
    devices.add_argument("--limit", type=int, default=100, help="devices per page (default 100, at most 500)")
    for name, text in (("device", "one device"), ("scopes", "a device's scope memberships"),
                       ("revoke", "close a device's sockets and refuse its tokens until restored"),
                       ("restore", "let a revoked device in again")):
        actions.add_parser(name, help=text).add_argument("device")
    for name, text in (("compact", "fold a document's log into its snapshot now"),
                       ("unload", "drop an idle document from the memory of the node asked")):
        actions.add_parser(name, help=text).add_argument("document")
    actions.add_parser("counts", help="refusals by code since the node started, stored conflicts by kind and code")


def run_admin(args: argparse.Namespace, settings: Settings) -> int:
    token = args.token or settings.admin_token
    if not token:
        print("fieldsync: the admin API needs a token: --token or FIELDSYNC_ADMIN_TOKEN (a JWT with the role admin)",
              file=sys.stderr)
        return EXIT_USAGE
    base = (args.url or f"http://{settings.host}:{settings.port}").rstrip("/") + "/admin"
    method, path, body = _route(args)
    request = urllib.request.Request(
        base + path, method=method, data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            answer = json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        try:
            refusal = json.loads(error.read())
            print(f"fieldsync: {error.code} {refusal['code']}: {refusal['reason']}", file=sys.stderr)
        except (ValueError, KeyError, TypeError):
            print(f"fieldsync: the hub answered {error.code} {error.reason}", file=sys.stderr)
        return EXIT_REFUSED
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        print(f"fieldsync: no answer from {base}: {reason}", file=sys.stderr)
        return EXIT_UNREACHABLE
    print(json.dumps(answer, indent=2, ensure_ascii=False))
    return 0


def _route(args: argparse.Namespace) -> tuple[str, str, Any]:
    quoted = urllib.parse.quote
    match args.action:
        case "devices":
            query = {"user": args.user, "revoked": "true" if args.revoked else None, "after": args.after,
                     "limit": str(args.limit)}
            return "GET", "/devices?" + urllib.parse.urlencode({k: v for k, v in query.items() if v is not None}), None
        case "device":
            return "GET", f"/devices/{quoted(args.device, safe='')}", None
        case "scopes":
            return "GET", f"/devices/{quoted(args.device, safe='')}/scopes", None
        case "revoke" | "restore":
            return "POST", f"/devices/{quoted(args.device, safe='')}/{args.action}", None
        case "compact" | "unload":
            return "POST", f"/documents/{args.action}", {"document": args.document}
        case _:
            return "GET", f"/{args.action}", None
