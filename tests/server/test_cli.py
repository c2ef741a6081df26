from __future__ import annotations

import importlib.metadata
import os
import subprocess
import sys
import tomllib
import types
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from server.auth import JwtVerifier
from server.cli import VARIABLE_HELP, main
from server.config import Settings, claim_names, hub_tunables, load_settings, variables
from server.token_keys import resolve_jwt_secret
from sync.access import Principal
from sync.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]
TOKEN_ARGS = ["token", "--sub", "u-1", "--tenant", "acme", "--device", "tablet-7", "--roles", "technician, viewer"]
EXPECTED = Principal(user="u-1", tenant="acme", device="tablet-7", roles=frozenset({"technician", "viewer"}))


async def test_token_signs_with_the_secret_the_hub_created(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    # What `fieldsync serve` does at its first start in this directory with an empty environment.
    secret, generated = resolve_jwt_secret(load_settings({}))
    assert generated is True
    assert main(TOKEN_ARGS, environ={}) == 0
    out, err = capsys.readouterr()
    assert err == ""
    assert secret not in out
    assert await JwtVerifier(secret=secret).verify(out.strip()) == EXPECTED


def test_token_never_generates_a_secret(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(TOKEN_ARGS, environ={}) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("fieldsync: no secret to sign with: FIELDSYNC_JWT_SECRET is not set and "
                          f"{tmp_path / 'fieldsync.secret'} (FIELDSYNC_SECRET_FILE) does not exist")
    assert "the hub creates its development secret in ./fieldsync.secret of the directory it runs in" in err
    assert "set FIELDSYNC_SECRET_FILE to that file" in err and err.count("\n") == 1
    assert list(tmp_path.iterdir()) == []


async def test_token_reads_the_secret_file_it_is_pointed_to(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    hub_dir, elsewhere = tmp_path / "hub", tmp_path / "elsewhere"
    hub_dir.mkdir()
    elsewhere.mkdir()
    (hub_dir / "fieldsync.secret").write_text("the-hubs-own-development-secret-0123456789\n")
    monkeypatch.chdir(elsewhere)
    assert main(TOKEN_ARGS, environ={"FIELDSYNC_SECRET_FILE": str(hub_dir / "fieldsync.secret")}) == 0
    assert await JwtVerifier(secret="the-hubs-own-development-secret-0123456789").verify(capsys.readouterr().out.strip()) == EXPECTED
    assert list(elsewhere.iterdir()) == []


async def test_token_with_configured_secret(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    secret = "p" * 40
    assert main(TOKEN_ARGS, environ={"FIELDSYNC_ENV": "production", "FIELDSYNC_JWT_SECRET": secret}) == 0
    assert await JwtVerifier(secret=secret).verify(capsys.readouterr().out.strip()) == EXPECTED
    assert list(tmp_path.iterdir()) == []


async def test_token_carries_the_teams_it_is_given(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    secret = "p" * 40
    args = [*TOKEN_ARGS, "--teams", "north, south"]
    assert main(args, environ={"FIELDSYNC_ENV": "production", "FIELDSYNC_JWT_SECRET": secret}) == 0
    principal = await JwtVerifier(secret=secret).verify(capsys.readouterr().out.strip())
    assert principal.teams == frozenset({"north", "south"}) and EXPECTED.teams == frozenset()


def test_token_cannot_be_minted_with_only_a_public_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    environ = {"FIELDSYNC_ENV": "production", "FIELDSYNC_JWT_PUBLIC_KEY": str(tmp_path / "jwt.pem")}
    assert main(TOKEN_ARGS, environ=environ) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("fieldsync: cannot mint a token")
    assert "Traceback" not in err


def test_production_without_a_key_refuses_to_mint(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(TOKEN_ARGS, environ={"FIELDSYNC_ENV": "production"}) == 2
    assert "FIELDSYNC_JWT_SECRET" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_config_error_is_one_line_on_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(TOKEN_ARGS, environ={"FIELDSYNC_PORT": "eighty"}) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("fieldsync: FIELDSYNC_PORT")
    assert err.count("\n") == 1


def test_unknown_role_is_warned_about(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    args = ["token", "--sub", "u", "--tenant", "t", "--device", "d", "--roles", "technicain"]
    assert main(args, environ={"FIELDSYNC_JWT_SECRET": "s" * 40}) == 0
    assert "role 'technicain' grants no access" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["token"],
        ["token", "--sub", "u", "--tenant", "t", "--device", "d"],
        ["token", "--sub", "u", "--tenant", "t", "--device", "d", "--roles", " , "],
        ["token", "--sub", "", "--tenant", "t", "--device", "d", "--roles", "viewer"],
        ["token", "--sub", "u", "--tenant", "t", "--device", "d", "--roles", "viewer", "--ttl", "0"],
        ["token", "--sub", "u", "--tenant", "t", "--device", "d", "--roles", "viewer", "--ttl", "soon"],
        ["frobnicate"],
    ],
)
def test_usage_errors_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv, environ={}) == 2
    assert capsys.readouterr().out == ""


def test_help_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"], environ={}) == 0
    assert "token" in capsys.readouterr().out


@pytest.mark.parametrize(("command", "handler"), [("serve", "run_serve"), ("migrate", "run_migrate")])
def test_serve_and_migrate_get_the_loaded_settings(
    command: str, handler: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[str, Settings]] = []
    fake = types.ModuleType("server.serve")
    fake.run_serve = lambda settings: calls.append(("run_serve", settings)) or 0  # type: ignore[attr-defined]
    fake.run_migrate = lambda settings: calls.append(("run_migrate", settings)) or 3  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "server.serve", fake)
    code = main([command], environ={"FIELDSYNC_PORT": "9001"})
    assert calls == [(handler, Settings(port=9001))]
    assert code == (0 if command == "serve" else 3)


async def test_python_dash_m_server_prints_a_verifiable_token(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FIELDSYNC_")}
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env["FIELDSYNC_SECRET_FILE"] = str(tmp_path / "dev.secret")
    (tmp_path / "dev.secret").write_text("a-development-secret-0123456789abcdef\n")
    result = subprocess.run(
        [sys.executable, "-m", "server", *TOKEN_ARGS], cwd=tmp_path, env=env, capture_output=True, text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    secret = (tmp_path / "dev.secret").read_text().strip()
    assert await JwtVerifier(secret=secret).verify(result.stdout.strip()) == EXPECTED


def test_python_dash_m_server_config_error(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FIELDSYNC_")}
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env["FIELDSYNC_MAX_FRAME_BYTES"] = "-1"
    result = subprocess.run(
        [sys.executable, "-m", "server", *TOKEN_ARGS], cwd=tmp_path, env=env, capture_output=True, text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.startswith("fieldsync: FIELDSYNC_MAX_FRAME_BYTES")
    assert "Traceback" not in result.stderr


def test_rsa_public_key_only_in_development_cannot_mint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    pem = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()
    assert main(TOKEN_ARGS, environ={"FIELDSYNC_JWT_PUBLIC_KEY": pem}) == 2
    assert "cannot mint" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FIELDSYNC_")}
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return subprocess.run([sys.executable, "-m", "server", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=60)


def test_token_in_an_empty_directory_refuses_with_the_hint(tmp_path: Path) -> None:
    result = run_cli(*TOKEN_ARGS, cwd=tmp_path)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.startswith("fieldsync: no secret to sign with") and result.stderr.count("\n") == 1
    assert "FIELDSYNC_SECRET_FILE" in result.stderr and "(the repository root for bin/hub)" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_version_prints_the_package_version(tmp_path: Path) -> None:
    result = run_cli("--version", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"fieldsync {importlib.metadata.version('fieldsync')}\n"
    assert importlib.metadata.version("fieldsync") == tomllib.loads((ROOT / "pyproject.toml").read_text())[
        "project"]["version"]


def test_fieldsync_console_script_prints_the_version() -> None:
    script = Path(sys.executable).with_name("fieldsync")
    result = subprocess.run([str(script), "--version"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and result.stdout.startswith("fieldsync ")


@pytest.mark.parametrize(
    ("command", "says", "reads"),
    [
        ("serve", "Run the hub", [v for v in variables() if v != "FIELDSYNC_ADMIN_TOKEN"]),
        ("migrate", "Create or upgrade the tables", ["FIELDSYNC_DATABASE_URL"]),
        ("token", "It never creates a secret", ["FIELDSYNC_JWT_SECRET", "FIELDSYNC_SECRET_FILE", "FIELDSYNC_ENV",
                                                "FIELDSYNC_JWT_PUBLIC_KEY"]),
    ],
)
def test_each_command_help_says_what_it_does_and_what_it_reads(
    command: str, says: str, reads: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([command, "--help"], environ={}) == 0
    out = " ".join(capsys.readouterr().out.split())  # argparse wraps text to the terminal's width
    assert says in out
    assert "environment variables it reads:" in out
    listed = {word for word in out.replace("[", " ").split() if word.startswith("FIELDSYNC_") and word.isupper()}
    assert set(reads) <= listed
    for variable in reads:
        assert f" {variable} " in out


def test_the_main_help_lists_the_commands_and_the_version_flag(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"], environ={}) == 0
    out = capsys.readouterr().out
    assert all(name in out for name in ("serve", "migrate", "token", "--version"))


def test_token_with_an_absent_absolute_secret_file_says_to_start_the_hub(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "hub.secret"
    assert main(TOKEN_ARGS, environ={"FIELDSYNC_SECRET_FILE": str(path)}) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"fieldsync: no secret to sign with: FIELDSYNC_JWT_SECRET is not set and {path} ")
    assert "start the hub first, or set FIELDSYNC_JWT_SECRET" in err and err.count("\n") == 1
    assert not path.exists()


def test_token_cannot_be_minted_for_a_hub_that_trusts_only_a_jwks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(TOKEN_ARGS, environ={"FIELDSYNC_JWKS_URL": "https://idp.example/jwks.json"}) == 2
    err = capsys.readouterr().err
    assert err.startswith("fieldsync: cannot mint a token: this hub verifies no HS256 tokens")
    assert "the keys of FIELDSYNC_JWKS_URL" in err and err.count("\n") == 1
    assert list(tmp_path.iterdir()) == []


async def test_token_carries_the_configured_audience_and_issuer(capsys: pytest.CaptureFixture[str]) -> None:
    secret = "s" * 40
    environ = {"FIELDSYNC_JWT_SECRET": secret, "FIELDSYNC_JWT_AUDIENCE": "fieldsync-api",
               "FIELDSYNC_JWT_ISSUER": "https://hub.example/"}
    assert main(TOKEN_ARGS, environ=environ) == 0
    token = capsys.readouterr().out.strip()
    verifier = JwtVerifier(secret=secret, audience="fieldsync-api", issuer="https://hub.example/")
    assert await verifier.verify(token) == EXPECTED


def test_serve_help_lists_every_variable_the_settings_accept(capsys: pytest.CaptureFixture[str]) -> None:
    # ``variables()`` is what load_settings accepts: any other FIELDSYNC_* name is refused as unknown
    assert main(["serve", "--help"], environ={}) == 0
    out = capsys.readouterr().out
    for variable in variables():
        if variable == "FIELDSYNC_ADMIN_TOKEN":  # read by `fieldsync admin`, never by the hub: in its own help
            continue
        assert f"  {variable} " in out, f"{variable} is not in `fieldsync serve --help`"
    with pytest.raises(ConfigError, match="unknown variable"):
        load_settings({"FIELDSYNC_JWKS": "https://idp.example/jwks.json"})
    # each server variable has its own line of help, not only the engine's tunables
    assert set(VARIABLE_HELP) == set(variables()) - {variable for variable, _ in hub_tunables()}


async def test_token_uses_the_configured_claim_names(capsys: pytest.CaptureFixture[str]) -> None:
    secret = "s" * 40
    environ = {"FIELDSYNC_JWT_SECRET": secret, "FIELDSYNC_JWT_ROLES_CLAIM": "https://acme.example/roles"}
    assert main(TOKEN_ARGS, environ=environ) == 0
    token = capsys.readouterr().out.strip()
    names = claim_names(load_settings(environ))
    assert await JwtVerifier(secret=secret, claims=names).verify(token) == EXPECTED
