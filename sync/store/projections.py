"""The projection interface: the queryable view of each record, numbered per tenant for scopes."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from datetime import datetime

from sync.store.matches import MatchSet
from sync.store.records import Projection, ProjectionChange


__all__ = ["ProjectionStore", "ScopeIndex"]


class ProjectionStore(ABC):
    """Projections of records. Every method raises ``StoreError`` on failure."""

    @abstractmethod
    async def save_projections(self, rows: Sequence[Projection]) -> None:
        """Insert or replace projections, all in one transaction (the last row wins for a repeated name).

        Each saved row gets the next ``seq`` of its tenant; a tenant's saves commit in the order of their numbers.
        """

    @abstractmethod
    async def get_projection(self, tenant: str, name: str) -> Projection | None:
        """The projection of one record, or ``None``."""

    @abstractmethod
    async def query_projections(
        self,
        tenant: str,
        *,
        type: str | None = None,
        status: str | None = None,
        assignee: str | None = None,
        updated_since: datetime | None = None,
        limit: int = 1000,
    ) -> list[Projection]:
        """Projections of a tenant matching every given filter, oldest ``updated_at`` first.

        ``updated_since`` is inclusive, so a caller paging by the last seen timestamp misses nothing.
        """


class ScopeIndex(ABC):
    """What scopes ask of the projections: their members and what changed since a device's version."""

    @abstractmethod
    async def projection_seq(self, tenant: str) -> int:
        """The last ``seq`` given to a projection of ``tenant`` (0 before the first); every lower one is committed."""

    @abstractmethod
    async def scope_members(self, tenant: str, scope: MatchSet) -> list[str]:
        """Names of the projections of ``tenant`` that ``scope`` accepts, sorted (access rules not applied)."""

    @abstractmethod
    async def projections_changed_since(self, tenant: str, seq: int, *, limit: int = 1000) -> list[ProjectionChange]:
        """Projections of ``tenant`` whose ``seq`` is above ``seq``, lowest first, at most ``limit``."""
