"""The admin API (``/admin``, role ``admin``) and the ``fieldsync admin`` command that calls it."""

from __future__ import annotations

from server.admin.routes import admin_router

__all__ = ["admin_router"]
