"""Log positions in SQL: each document's head moved by appends (which number their entries), read for many at once."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from sync.store.records import LogPosition
from sync.store.tables import document_logs

__all__ = ["advance_heads", "read_positions"]

async def advance_heads(conn: AsyncConnection, insert: Any, counts: dict[tuple[str, str], int]) -> dict[tuple[str, str], int]:
    """Move each document's head by its count (``insert``: the dialect's INSERT of ``document_logs``); returns
    the new heads. Each head's row stays locked until the transaction ends, so one document's appends commit
    in the order of the numbers they were given."""
    # A fixed order: two nodes appending to the same documents never wait on each other in a cycle.
    keys = sorted(counts, key=lambda key: (str(key[0]), str(key[1])))
    stmt = insert.on_conflict_do_update(
        index_elements=[document_logs.c.tenant, document_logs.c.name],
        set_={"head": document_logs.c.head + insert.excluded.head},
    ).returning(document_logs.c.tenant, document_logs.c.name, document_logs.c.head)
    # Executed for many rows at once, the statement is compiled once and sent as multi-row VALUES pages in
    # this order (a statement built with all its rows would be compiled again at every append).
    rows = [{"tenant": tenant, "name": name, "head": counts[(tenant, name)], "folded": 0} for tenant, name in keys]
    return {(tenant, name): head for tenant, name, head in await conn.execute(stmt, rows)}


async def read_positions(conn: AsyncConnection, tenant: str, names: Sequence[str]) -> dict[str, LogPosition]:
    """The positions of those of ``names`` that have one (at most a few hundred names per call)."""
    query = select(document_logs.c.name, document_logs.c.head, document_logs.c.folded).where(
        document_logs.c.tenant == tenant, document_logs.c.name.in_(names)
    )
    return {name: LogPosition(head, folded) for name, head, folded in await conn.execute(query)}
