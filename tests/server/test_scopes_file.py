"""FIELDSYNC_SCOPES_FILE: read at start, refused when invalid, and served by a real hub process."""

from __future__ import annotations

from pathlib import Path

import pytest

from server.app import create_app
from server.auth import JwtVerifier
from server.cli import main
from server.config import Settings, load_settings
from sync.errors import ConfigError
from sync.protocol import Stateless
from sync.protocol.control import SCOPES_DOCUMENT, ScopeMembers, Subscribe, decode_control, encode_control
from sync.scopes import DEFAULT_SCOPES_FILE
from tests.support.client import HubClient
from tests.support.hub import HubProcess, free_port
from tests.support.inproc import SECRET

OWN_SCOPES = """
[scopes.open_policies]
description = "Every open policy of the tenant."
roles = ["agent"]

[[scopes.open_policies.match]]
type = "policy"
status = "open"
"""


def test_the_variable_is_read_and_defaults_to_the_packaged_file() -> None:
    assert load_settings({}).scopes_file == str(DEFAULT_SCOPES_FILE)
    assert load_settings({"FIELDSYNC_SCOPES_FILE": "/etc/fieldsync/scopes.toml"}).scopes_file == "/etc/fieldsync/scopes.toml"
    with pytest.raises(ConfigError, match="FIELDSYNC_SCOPES_FILE must not be empty"):
        load_settings({"FIELDSYNC_SCOPES_FILE": " "})


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (None, "No such file"),
        ("[scopes.x]\nroles = ['agent']\n", "needs at least one [[scopes.x.match]]"),
    ],
)
def test_an_invalid_file_stops_the_app_from_being_built(tmp_path: Path, text: str | None, problem: str) -> None:
    path = tmp_path / "scopes.toml"
    if text is not None:
        path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        create_app(Settings(scopes_file=str(path)), verifier=JwtVerifier(secret=SECRET))
    assert str(info.value).startswith(f"FIELDSYNC_SCOPES_FILE: scopes file {path}") and problem in str(info.value)


def test_serve_with_an_invalid_file_exits_2_with_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "scopes.toml").write_text("[scopes.x\n", encoding="utf-8")
    environ = {"FIELDSYNC_SCOPES_FILE": str(tmp_path / "scopes.toml"), "FIELDSYNC_JWT_SECRET": SECRET,
               "FIELDSYNC_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/hub.db", "FIELDSYNC_PORT": str(free_port())}
    assert main(["serve"], environ=environ) == 2
    err = capsys.readouterr().err
    assert "fieldsync: FIELDSYNC_SCOPES_FILE: scopes file" in err and "Traceback" not in err
    assert not (tmp_path / "hub.db").exists(), "the file is checked before the database is touched"


async def test_a_hub_process_serves_the_scopes_of_its_file(tmp_path: Path) -> None:
    path = tmp_path / "scopes.toml"
    path.write_text(OWN_SCOPES, encoding="utf-8")
    hub = HubProcess(tmp_path, f"sqlite+aiosqlite:///{tmp_path}/hub.db", {"FIELDSYNC_SCOPES_FILE": str(path)})
    hub.start()
    try:
        async with HubClient.connect(hub.ws_url) as client:
            assert await client.authenticate(SCOPES_DOCUMENT, hub.token(sub="agent-1", roles=("agent",))) == "read-write"
            for id, scope in (("mine", "my_work_orders"), ("policies", "open_policies")):
                await client.send_frame(Stateless(SCOPES_DOCUMENT, encode_control(Subscribe(id=id, scope=scope))))
            unknown = await client.wait_notice(SCOPES_DOCUMENT, "unknown_scope")
            assert unknown.subscription == "mine" and "open_policies" in unknown.message

            def answered() -> list[ScopeMembers]:
                return [m for f in client.frames if isinstance(f, Stateless) and f.document == SCOPES_DOCUMENT
                        and isinstance(m := decode_control(f.payload), ScopeMembers)]

            await client._wait(lambda: bool(answered()), 10)
            (answer,) = answered()
            assert (answer.id, answer.scope, answer.members, answer.version) == ("policies", "open_policies", [], 0)
    finally:
        hub.stop()
