"""The web viewer, served at ``/``: one page of plain JavaScript (``static/``) and one bundle of the stock
``yjs`` and ``@hocuspocus/provider`` that ``bin/setup`` builds with esbuild into ``build/`` (never a CDN).

The page signs in with a pasted token, reads lists, reports and conflicts from the REST API (and, for admins,
sockets and devices from the admin API), and opens a record's document over ``/sync`` like any other Yjs client.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from litestar import MediaType, Response, get
from litestar.static_files import create_static_files_router
from litestar.status_codes import HTTP_503_SERVICE_UNAVAILABLE

from conflict import LIFECYCLES
from server.api.visibility import REVIEWER_ROLES

__all__ = ["BUNDLE", "viewer_handlers"]

HERE = Path(__file__).resolve().parent
STATIC = HERE / "static"
#: Built by ``bin/setup`` (``npm ci`` + esbuild from ``package-lock.json``); ignored by git.
BUNDLE = HERE / "build" / "sync-client.js"
#: The Swagger UI's files, copied from ``swagger-ui-dist`` by the same build.
SWAGGER = HERE / "build" / "swagger"


def _domain() -> str:
    """What the page needs of the domain: each record type's statuses, and who may resolve conflicts."""
    data = {
        "statuses": {kind: list(lifecycle.statuses) for kind, lifecycle in LIFECYCLES.items()},
        "reviewer_roles": sorted(REVIEWER_ROLES),
    }
    return json.dumps(data).replace("</", "<\\/")


_PAGE = (STATIC / "index.html").read_text(encoding="utf-8").replace("__DOMAIN__", _domain())


@get("/", include_in_schema=False, media_type=MediaType.HTML, sync_to_thread=False)
def page() -> str:
    """The viewer's one page."""
    return _PAGE


@get("/viewer/sync-client.js", include_in_schema=False)
async def bundle() -> Response[Any]:
    """The Yjs and Hocuspocus bundle; 503 with what to do when it was not built."""
    try:
        content = BUNDLE.read_bytes()
    except FileNotFoundError:
        return Response(
            'throw new Error("the viewer bundle is not built: run bin/setup on a machine with npm");\n',
            media_type="text/javascript", status_code=HTTP_503_SERVICE_UNAVAILABLE,
        )
    return Response(content, media_type="text/javascript", headers={"Cache-Control": "no-cache"})


def viewer_handlers() -> list[Any]:
    """Route handlers for the page, its script and stylesheet, the bundle, and the Swagger UI's files."""
    files = create_static_files_router(path="/viewer", directories=[STATIC], include_in_schema=False,
                                       name="viewer-files")
    swagger = create_static_files_router(path="/viewer/swagger", directories=[SWAGGER], include_in_schema=False,
                                         name="swagger-files")
    return [page, bundle, swagger, files]
