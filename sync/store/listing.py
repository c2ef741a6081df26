"""The listing interface: pages of projections by filters and a sort with keyset positions, and report rows.

What the REST API asks of the store. Access rules are not applied here: callers filter what they show.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sync.store.records import Projection

__all__ = [
    "LISTING_SORTS", "ListedRecord", "RecordFilter", "RecordListing", "RecordOrder", "ReportGroup", "ReportRow",
]

#: The columns a listing may be sorted by; the record's name breaks ties, so every order is total.
LISTING_SORTS = ("updated_at", "name", "status", "assignee", "due_at")


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordFilter:
    """Projections matching every field that is set. Instants are timezone-aware."""

    type: str | None = None
    status: str | None = None
    assignee: str | None = None
    team: str | None = None
    due_before: datetime | None = None
    """Records with a due time strictly before this."""
    overdue: bool | None = None
    """Open (per the lifecycle) and due before ``now``; ``False``: every other record."""
    updated_since: datetime | None = None
    """Inclusive."""
    q: str | None = None
    """Case-insensitive text in the record's title, number or customer."""
    now: datetime | None = None
    """The instant ``overdue`` is judged at; required when ``overdue`` is set."""


@dataclass(frozen=True, slots=True)
class RecordOrder:
    """A sort column of ``LISTING_SORTS``, ascending or descending, with the name as tiebreaker."""

    column: str = "updated_at"
    descending: bool = False

    def __post_init__(self) -> None:
        if self.column not in LISTING_SORTS:
            raise ValueError(f"sort column must be one of {', '.join(LISTING_SORTS)}")


@dataclass(frozen=True, slots=True)
class ListedRecord:
    """One projection of a page and its keyset position (``key``: the sort column's value, never null)."""

    projection: Projection
    key: Any
    """A string or a timezone-aware datetime; give it back as ``after`` with the name to continue after it."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ReportRow:
    """What reports read of a projection: its typed columns, and the record map when it was asked for."""

    name: str
    type: str
    status: str | None
    assignee: str | None
    due_at: datetime | None
    status_since: datetime | None
    amount: Decimal | None
    record: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ReportGroup:
    """Figures of the projections sharing one (type, status, assignee), at an instant ``now``."""

    type: str
    status: str | None
    assignee: str | None
    count: int
    overdue: int
    """Open (per the lifecycle) and due before ``now``."""
    next_due: datetime | None
    """The earliest due time at or after ``now`` of an open record: when the next one becomes overdue."""
    with_amount: int
    amount: Decimal
    """The sum of the amounts (0 without any)."""
    oldest_since: datetime | None
    """The earliest ``status_updated_at``."""
    over_limit: int
    """Records whose ``status_updated_at`` is before the group's cutoff."""
    next_since: datetime | None
    """The earliest ``status_updated_at`` at or after the cutoff: the next to cross it, as time passes."""


class RecordListing(ABC):
    """Listing and reporting over projections. Every method raises ``StoreError`` on failure."""

    @abstractmethod
    async def list_records(
        self,
        tenant: str,
        where: RecordFilter,
        order: RecordOrder,
        *,
        after: tuple[Any, str] | None = None,
        limit: int = 20,
    ) -> list[ListedRecord]:
        """At most ``limit`` projections of ``tenant`` matching ``where``, in ``order`` after position ``after``.

        ``after`` is (``key``, name) of the last record a previous page ended with. Positions do not depend on
        offsets, so records inserted while a client pages never make it see a record twice or miss one that
        keeps its sort key.
        """

    @abstractmethod
    async def report_rows(
        self, tenant: str, *, types: Sequence[str], with_record: bool = False
    ) -> list[ReportRow]:
        """The report rows of every projection of ``tenant`` of the given types, in name order."""

    @abstractmethod
    async def report_groups(
        self,
        tenant: str,
        *,
        types: Sequence[str],
        now: datetime,
        cutoffs: Mapping[tuple[str, str], datetime],
    ) -> list[ReportGroup]:
        """Per (type, status, assignee) of ``tenant``'s projections of ``types``: the figures of ``ReportGroup``.

        ``cutoffs`` gives, per (type, status), the instant a ``status_updated_at`` must precede to count in
        ``over_limit``; groups without one count 0 there and have no ``next_since``.
        """

    @abstractmethod
    async def update_times(self, tenant: str, name: str, *, limit: int = 100) -> list[datetime]:
        """When the newest ``limit`` entries still in the update log of document ``name`` were stored, newest first."""
