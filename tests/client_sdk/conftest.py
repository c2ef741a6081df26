"""Fixtures of the SDK tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.client_sdk.devices import Devices


@pytest.fixture
async def devices(tmp_path: Path) -> AsyncIterator[Devices]:
    """A factory of devices (replica + records + sync client), all closed after the test."""
    made = Devices(tmp_path)
    yield made
    await made.close()
