"""Fixtures of the SDK tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.client_sdk.devices import Devices
from tests.client_sdk.scripted_hub import ScriptedHub


@pytest.fixture
async def devices(tmp_path: Path) -> AsyncIterator[Devices]:
    """A factory of devices (replica + records + sync client), all closed after the test."""
    made = Devices(tmp_path)
    yield made
    await made.close()


@pytest.fixture
async def scripted() -> AsyncIterator[ScriptedHub]:
    """The stand-in hub the devices of a test talk to."""
    async with ScriptedHub() as hub:
        yield hub
