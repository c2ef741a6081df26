"""Sockets opened and closed, and each refusal, logged once at info with structured fields, never the token."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from sync.protocol import AuthToken, PermissionDenied, Sync, SyncStep
from tests.support.inproc import Connection, running_hub, token
from tests.support.stored import record_updates

NAME = "work_order:WO-1"


async def test_a_bad_token_and_a_readonly_write_are_logged_with_their_codes_and_without_the_token(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="sync.refusals")
    forged = token() + "x"
    viewer_token = token(sub="viewer-1", device="tablet-9", roles=("viewer",))
    async with running_hub(tmp_path) as hub:
        conn = Connection(hub)
        conn.socket.push(AuthToken(NAME, forged))
        await conn.socket.wait_frame(PermissionDenied, document=NAME)
        viewer = Connection(hub)
        await viewer.open(NAME, viewer_token)
        viewer.socket.push(Sync(NAME, SyncStep.UPDATE, record_updates(1)[1][0]))
        await viewer.socket.wait_notice(NAME, "readonly")
        await conn.finish()
        await viewer.finish()
    lines = [record.getMessage() for record in caplog.records if record.name == "sync.refusals"]
    assert len(lines) == 2, lines
    assert "code=token_invalid" in lines[0] and repr(NAME) in lines[0]
    assert "code=readonly" in lines[1] and "device=tablet-9" in lines[1] and "user=viewer-1" in lines[1]
    assert all(record.levelno == logging.INFO for record in caplog.records if record.name == "sync.refusals")
    text = caplog.text
    for secret in (forged, viewer_token, forged.split(".")[1], viewer_token.split(".")[2]):
        assert secret not in text


async def test_a_connection_closed_for_a_bad_frame_is_logged(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="sync.refusals")
    async with running_hub(tmp_path) as hub:
        conn = Connection(hub)
        conn.socket.push("text frames are not the protocol")
        await conn.socket.wait_closed()
        await conn.finish()
    (line,) = [record.getMessage() for record in caplog.records if record.name == "sync.refusals"]
    assert line.startswith("refused connection: code=unsupported_message")


async def test_opened_and_closed_sockets_are_logged_with_their_identity_and_fields(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="sync.connections")
    async with running_hub(tmp_path) as hub:
        conn = Connection(hub)
        await conn.open(NAME, token(sub="tech-7", device="tablet-3"))
        await conn.finish()
    opened, closed = [r for r in caplog.records if r.name == "sync.connections"]
    assert opened.event == "connection_opened" and opened.node == hub.node_id  # type: ignore[attr-defined]
    assert opened.connection.startswith(hub.node_id + "-")  # type: ignore[attr-defined]
    assert closed.event == "connection_closed" and closed.connection == opened.connection  # type: ignore[attr-defined]
    assert (closed.tenant, closed.user, closed.device) == ("acme", "tech-7", "tablet-3")  # type: ignore[attr-defined]
    assert closed.frames_in >= 2 and closed.levelno == logging.INFO  # type: ignore[attr-defined]
