"""Service levels for the open-ages report: how long a record may stay in an open status.

Written as ``FIELDSYNC_REPORT_SLA``: comma-separated ``<type>.<STATUS>=<hours>h`` (``warranty_claim.IN_REVIEW=48h``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

from conflict import LIFECYCLES
from sync import ConfigError

__all__ = ["DEFAULT_SLA", "parse_sla"]

DEFAULT_SLA = (
    "work_order.OPEN=24h,work_order.SCHEDULED=72h,work_order.IN_PROGRESS=48h,work_order.PENDING_APPROVAL=24h,"
    "warranty_claim.SUBMITTED=24h,warranty_claim.IN_REVIEW=48h,warranty_claim.REQUIRES_INFO=120h,"
    "insurance_claim.REPORTED=24h,insurance_claim.INVESTIGATING=240h"
)


def parse_sla(text: str) -> Mapping[tuple[str, str], timedelta]:
    """(type, status) -> the longest a record should stay in that status; ``ConfigError`` naming the mistake."""
    limits: dict[tuple[str, str], timedelta] = {}
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        target, sep, hours = item.partition("=")
        record_type, dot, status = target.strip().partition(".")
        if not sep or not dot:
            raise ConfigError(f"{item!r} is not <type>.<STATUS>=<hours>h")
        lifecycle = LIFECYCLES.get(record_type)
        if lifecycle is None:
            raise ConfigError(f"{item!r}: unknown record type {record_type!r}")
        if status not in lifecycle.open:
            raise ConfigError(f"{item!r}: {status!r} is not an open status of {record_type}")
        try:
            value = float(hours.strip().removesuffix("h"))
        except ValueError:
            raise ConfigError(f"{item!r}: the limit must be hours, like 48h") from None
        if not 0 < value < 100_000:
            raise ConfigError(f"{item!r}: the limit must be between 0 and 100000 hours")
        limits[(record_type, status)] = timedelta(hours=value)
    return limits
