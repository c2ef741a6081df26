"""``fieldsync check``: one line per check and an exit status a deployment script can branch on."""

from __future__ import annotations

from pathlib import Path

import pytest

from server.config import load_settings
from sync.errors import ConfigError

from server.check import EXIT_CONFIG, EXIT_DATABASE, EXIT_REDIS, EXIT_SCHEMA
from server.cli import main
from sync.store import upgrade
from tests.support.databases import run_sync
from tests.support.hub import free_port

SECRET = "fieldsync-test-secret-0123456789abcdef-0123456789"


def check(capsys: pytest.CaptureFixture[str], **environ: str) -> tuple[int, list[str]]:
    status = main(["check"], environ=environ)
    return status, capsys.readouterr().out.splitlines()


def test_a_migrated_database_passes_every_check(store_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    status, lines = check(capsys, FIELDSYNC_DATABASE_URL=store_url)
    assert status == 0, lines
    assert [line.split(":")[0] for line in lines] == ["ok   configuration", "ok   database", "ok   schema"]


def test_a_database_without_the_newest_schema_says_to_migrate(empty_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    if empty_url.startswith("sqlite"):
        run_sync(upgrade(empty_url, "0003"))  # an older hub's database
    status, lines = check(capsys, FIELDSYNC_DATABASE_URL=empty_url)
    assert status == EXIT_SCHEMA
    assert lines[-1].startswith("FAIL schema: the schema is at ") and lines[-1].endswith("run fieldsync migrate")


def test_a_missing_sqlite_file_is_reported_and_not_created(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, lines = check(capsys, FIELDSYNC_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path}/absent.db")
    assert status == EXIT_DATABASE and lines[-1].startswith("FAIL database: the SQLite file ")
    assert list(tmp_path.iterdir()) == []


def test_an_unreachable_postgres_is_a_database_failure(capsys: pytest.CaptureFixture[str]) -> None:
    status, lines = check(capsys, FIELDSYNC_DATABASE_URL=f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/x")
    assert status == EXIT_DATABASE and lines[-1].startswith("FAIL database: ")


@pytest.mark.parametrize(("environ", "says"), [
    ({"FIELDSYNC_ENV": "production"}, "production needs FIELDSYNC_JWT_SECRET, FIELDSYNC_JWT_PUBLIC_KEY or FIELDSYNC_JWKS_URL"),
    ({"FIELDSYNC_SCOPES_FILE": "/nonexistent/scopes.toml"}, "FIELDSYNC_SCOPES_FILE: "),
    ({"FIELDSYNC_DATABASE_URL": "mysql://db/x"}, "FIELDSYNC_DATABASE_URL names mysql://"),
])
def test_an_invalid_configuration_fails_first(environ: dict[str, str], says: str,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    status, lines = check(capsys, **environ)
    assert status == EXIT_CONFIG and lines == [lines[0]] and lines[0].startswith("FAIL configuration: ")
    assert says in lines[0]


def test_an_unknown_variable_is_a_configuration_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check"], environ={"FIELDSYNC_NOPE": "1"}) == EXIT_CONFIG
    assert "unknown variable(s) FIELDSYNC_NOPE" in capsys.readouterr().err


def test_redis_is_checked_when_configured(store_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    status, lines = check(capsys, FIELDSYNC_DATABASE_URL=store_url, FIELDSYNC_REDIS_URL="redis://127.0.0.1:6379/0",
                          FIELDSYNC_JWT_SECRET=SECRET)
    if store_url.startswith("sqlite"):  # several nodes need Postgres: the configuration itself is refused
        assert status == 2, lines
        with pytest.raises(ConfigError, match="SQLite is single-node"):
            load_settings({"FIELDSYNC_DATABASE_URL": store_url, "FIELDSYNC_REDIS_URL": "redis://127.0.0.1:6379/0"})
        return
    assert status == 0 and lines[-1] == "ok   redis: redis://127.0.0.1:6379/0 answers", lines
    status, lines = check(capsys, FIELDSYNC_DATABASE_URL=store_url,
                          FIELDSYNC_REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")
    assert status == EXIT_REDIS and lines[-1].startswith("FAIL redis: FIELDSYNC_REDIS_URL does not answer: ")
