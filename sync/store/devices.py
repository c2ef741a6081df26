"""The devices interface: devices seen by the hub, what they follow, and which of them are revoked."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from datetime import datetime

from sync.store.records import DeviceRecord, DeviceSeen

__all__ = ["MAX_LISTED", "DeviceStore"]

#: Most document names stored per device (a device may hold thousands; the count is what operators need).
MAX_LISTED = 500


class DeviceStore(ABC):
    """Devices of each tenant. Every method raises ``StoreError`` on failure."""

    @abstractmethod
    async def save_devices(self, rows: Sequence[DeviceSeen]) -> None:
        """Insert or update devices in one transaction: the first save sets ``first_seen_at``, later ones keep it;
        an empty ``client_version`` or a ``None`` ``synced_at`` keeps the stored value; revocation is untouched."""

    @abstractmethod
    async def get_device(self, tenant: str, device: str) -> DeviceRecord | None:
        """One device of a tenant, or ``None``."""

    @abstractmethod
    async def list_devices(
        self,
        tenant: str,
        *,
        user: str | None = None,
        revoked: bool | None = None,
        seen_since: datetime | None = None,
        after: str | None = None,
        limit: int = 100,
    ) -> list[DeviceRecord]:
        """Devices of a tenant matching every given filter, by device id, those after ``after`` (a keyset page)."""

    @abstractmethod
    async def revoke_device(self, tenant: str, device: str, *, at: datetime, by: str) -> DeviceRecord | None:
        """Mark a known device revoked (again: the first time stays); ``None`` when the tenant has no such device."""

    @abstractmethod
    async def restore_device(self, tenant: str, device: str) -> DeviceRecord | None:
        """Lift a revocation; ``None`` when the tenant has no such device."""

    @abstractmethod
    async def revoked_devices(self) -> list[tuple[str, str]]:
        """(tenant, device) of every revoked device, for a hub starting up."""
