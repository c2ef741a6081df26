"""Work orders: a job for a field technician on a piece of equipment."""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum

import msgspec

from conflict.records.common import Amount, Entry, Minutes, Note, Priority, Record, Timestamp, non_negative


class WorkOrderStatus(StrEnum):
    OPEN = "OPEN"
    SCHEDULED = "SCHEDULED"
    IN_PROGRESS = "IN_PROGRESS"
    PENDING_APPROVAL = "PENDING_APPROVAL"
    COMPLETED = "COMPLETED"
    CLOSED = "CLOSED"
    CANCELLED = "CANCELLED"


class Equipment(msgspec.Struct, kw_only=True):
    equipment_id: str | None = None
    name: str | None = None
    number: str | None = None
    location: str | None = None


class TaskStatus(StrEnum):
    PENDING = "PENDING"
    IN_PROGRESS = "IN_PROGRESS"
    DONE = "DONE"
    SKIPPED = "SKIPPED"


class Task(Entry, kw_only=True):
    title: str | None = None
    status: TaskStatus = TaskStatus.PENDING
    estimated_minutes: Minutes | None = None
    actual_minutes: Minutes | None = None
    first_time_fix: bool | None = None


class PartUsage(Entry, kw_only=True):
    part_number: str | None = None
    name: str | None = None
    quantity: Decimal | None = None
    unit_cost: Amount | None = None

    def __post_init__(self) -> None:
        non_negative(self, "quantity", "unit_cost")


class WorkOrder(Record, kw_only=True):
    number: str | None = None
    title: str | None = None
    description: str | None = None
    status: WorkOrderStatus | None = None
    priority: Priority | None = None
    due_at: Timestamp | None = None
    scheduled_start: Timestamp | None = None
    scheduled_end: Timestamp | None = None
    actual_start: Timestamp | None = None
    actual_end: Timestamp | None = None
    estimated_minutes: Minutes | None = None
    actual_minutes: Minutes | None = None
    technician: str | None = None
    team: str | None = None
    equipment: Equipment | None = None
    tasks: list[Task] = []
    parts_used: list[PartUsage] = []
    notes: list[Note] = []
