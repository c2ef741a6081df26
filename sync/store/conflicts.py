"""The conflicts interface: conflicts and violations found by the referee, and their review."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any

from sync.store.records import ConflictRecord

__all__ = ["ConflictStore"]


class ConflictStore(ABC):
    """Conflicts of records. Every method raises ``StoreError`` on failure."""

    @abstractmethod
    async def save_conflicts(self, rows: Sequence[ConflictRecord]) -> None:
        """Insert conflicts in one transaction; a row whose (tenant, name, key) is already stored is skipped."""

    @abstractmethod
    async def list_conflicts(
        self,
        tenant: str,
        *,
        status: str | None = None,
        needs_review: bool | None = None,
        name: str | None = None,
        limit: int = 1000,
    ) -> list[ConflictRecord]:
        """Conflicts of a tenant matching every given filter, oldest first."""

    @abstractmethod
    async def count_conflicts(self, tenant: str) -> dict[tuple[str, str | None, str], int]:
        """How many conflicts a tenant has, per (kind, code, status)."""

    @abstractmethod
    async def get_conflict(self, tenant: str, conflict_id: int) -> ConflictRecord | None:
        """One conflict of a tenant, or ``None``."""

    @abstractmethod
    async def resolve_conflict(
        self, tenant: str, conflict_id: int, resolution: dict[str, Any], by: str
    ) -> ConflictRecord | None:
        """Mark an open conflict resolved; the updated row, or ``None`` when no open conflict has that id."""
