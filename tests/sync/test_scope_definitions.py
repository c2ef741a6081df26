"""Scope definitions: the file format's checks, and who may follow which scope with which params."""

from __future__ import annotations

from pathlib import Path

import pytest

from sync.access import Principal
from sync.protocol.codes import ErrorCode
from sync.errors import AuthError, ConfigError, ProtocolError
from sync.scopes import DEFAULT_SCOPES_FILE, ScopeRegistry, load_definitions

VALID = """
[scopes.mine]
roles = ["technician"]
[scopes.mine.params.user]
from_token = "user"
[[scopes.mine.match]]
type = "work_order"
assignee = "{user}"
"""


def principal(user: str = "ana", *roles: str, teams: tuple[str, ...] = ()) -> Principal:
    return Principal(user=user, tenant="acme", device="d1", roles=frozenset(roles or ("technician",)),
                     teams=frozenset(teams))


@pytest.fixture(scope="module")
def registry() -> ScopeRegistry:
    return load_definitions()


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "scopes.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_packaged_file_defines_the_documented_scopes() -> None:
    registry = load_definitions()
    assert load_definitions(DEFAULT_SCOPES_FILE).definitions.keys() == registry.definitions.keys() == {
        "my_work_orders", "team_warranty_claims", "policy_with_claims", "tenant",
    }


def test_a_valid_file_of_ones_own_is_read(tmp_path: Path) -> None:
    registry = load_definitions(write(tmp_path, VALID))
    assert registry.resolve(principal(), "mine", {}).key == "mine(user=ana)"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[scopes.x\n", "scopes.toml"),  # not TOML
        ("title = 'x'\n" + VALID, "unknown top-level key 'title'"),
        ("", "defines no scope"),
        (VALID.replace("scopes.mine", "scopes.Mine"), "lower-case"),
        (VALID + "colour = 'red'\n", "unknown key 'colour'"),
        (VALID.replace('roles = ["technician"]', "roles = []"), "'roles' must be a non-empty list"),
        (VALID.replace('roles = ["technician"]', 'roles = ["technican"]'), "unknown role 'technican'"),
        (VALID.replace('from_token = "user"', 'from_token = "device"'), "'from_token' must be one of user, team"),
        (VALID.replace('from_token = "user"', 'from_token = "user"\nothers = ["boss"]'), "unknown role 'boss'"),
        (VALID.replace('from_token = "user"', 'from_token = "user"\nrequired = "yes"'), "'required' must be true"),
        (VALID.split("[[scopes.mine.match]]")[0], "needs at least one [[scopes.mine.match]]"),
        (VALID.replace('type = "work_order"', 'type = "invoice"'), "'type' must be"),
        (VALID.replace('type = "work_order"', 'type = "*"\nstatus = "open"'), "needs one record type"),
        (VALID.replace('type = "work_order"', 'type = "work_order"\nstatus = ["OPNE"]'), "'OPNE' is not a status of work_order"),
        (VALID.replace('type = "work_order"', 'type = "work_order"\nstatus = 3'), "'status' must be"),
        (VALID.replace('assignee = "{user}"', 'assignee = "{team}"'), "'{team}' names no param"),
        (VALID.replace('assignee = "{user}"', "assignee = 7"), "must be strings"),
        (VALID.replace('assignee = "{user}"', "fields = { team = 7 }"), "'fields' must map field names to strings"),
        (VALID.replace('assignee = "{user}"', 'include_deleted = "no"'), "'include_deleted' must be true or false"),
    ],
)
def test_an_invalid_file_is_a_config_error_that_says_where(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match="scopes.toml") as info:
        load_definitions(write(tmp_path, text))
    assert message in str(info.value)


def test_a_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="missing.toml: No such file"):
        load_definitions(tmp_path / "missing.toml")


def test_a_technician_follows_only_their_own_work_orders(registry: ScopeRegistry) -> None:
    assert registry.resolve(principal("ana"), "my_work_orders", {}).params == {"user": "ana"}
    assert registry.resolve(principal("ana"), "my_work_orders", {"user": "ana"}).key == "my_work_orders(user=ana)"
    with pytest.raises(AuthError) as info:
        registry.resolve(principal("ana"), "my_work_orders", {"user": "ben"})
    assert info.value.code is ErrorCode.FORBIDDEN


@pytest.mark.parametrize("role", ["viewer", "supervisor", "admin"])
def test_viewers_and_supervisors_may_follow_another_users_scope(registry: ScopeRegistry, role: str) -> None:
    scope = registry.resolve(principal("vic", role), "my_work_orders", {"user": "ben"})
    assert scope.params == {"user": "ben"}
    (match,) = scope.matches
    assert match.assignee == "ben"


def test_a_role_the_scope_does_not_name_is_forbidden(registry: ScopeRegistry) -> None:
    with pytest.raises(AuthError) as info:
        registry.resolve(principal("cus", "customer"), "my_work_orders", {})
    assert info.value.code is ErrorCode.FORBIDDEN


def test_the_team_comes_from_the_token(registry: ScopeRegistry) -> None:
    agent = principal("ana", "claims_agent", teams=("north",))
    assert registry.resolve(agent, "team_warranty_claims", {}).params == {"team": "north"}
    assert registry.resolve(agent, "team_warranty_claims", {"team": "north"}).key == "team_warranty_claims(team=north)"
    with pytest.raises(AuthError) as forbidden:
        registry.resolve(agent, "team_warranty_claims", {"team": "south"})
    assert forbidden.value.code is ErrorCode.FORBIDDEN

    two = principal("ana", "claims_agent", teams=("north", "south"))
    with pytest.raises(ProtocolError) as required:
        registry.resolve(two, "team_warranty_claims", {})
    assert required.value.code is ErrorCode.INVALID_SCOPE_PARAMS
    assert registry.resolve(two, "team_warranty_claims", {"team": "south"}).params == {"team": "south"}

    with pytest.raises(ProtocolError):
        registry.resolve(principal("ana", "claims_agent"), "team_warranty_claims", {})  # no team in the token
    manager = principal("meg", "claims_manager")
    assert registry.resolve(manager, "team_warranty_claims", {"team": "south"}).params == {"team": "south"}


def test_an_unknown_scope_names_the_known_ones(registry: ScopeRegistry) -> None:
    with pytest.raises(ProtocolError) as info:
        registry.resolve(principal(), "all_the_things", {})
    assert info.value.code is ErrorCode.UNKNOWN_SCOPE
    assert "my_work_orders" in info.value.reason


@pytest.mark.parametrize(
    ("scope", "params"),
    [
        ("my_work_orders", {"colour": "red"}),  # a param the scope does not take
        ("my_work_orders", {"user": "ana smith"}),  # a value outside the allowed characters
        ("my_work_orders", {"user": "x" * 121}),
        ("policy_with_claims", {}),  # a required param left out
    ],
)
def test_bad_params_are_invalid_scope_params(registry: ScopeRegistry, scope: str, params: dict[str, str]) -> None:
    with pytest.raises(ProtocolError) as info:
        registry.resolve(principal("ana", "technician", "agent"), scope, params)
    assert info.value.code is ErrorCode.INVALID_SCOPE_PARAMS


def test_a_resolved_scope_accepts_exactly_its_records(registry: ScopeRegistry) -> None:
    mine = registry.resolve(principal("ana"), "my_work_orders", {})
    assert mine.types == frozenset({"work_order"})
    assert mine.accepts("work_order:WO-1", "work_order", "OPEN", "ana", {})
    assert mine.accepts("work_order:WO-1", "work_order", "IN_PROGRESS", "ana", {})
    assert not mine.accepts("work_order:WO-1", "work_order", "CLOSED", "ana", {})
    assert not mine.accepts("work_order:WO-1", "work_order", "OPEN", "ben", {})
    assert not mine.accepts("work_order:WO-1", "work_order", "OPEN", "ana", {"deleted": True})
    assert not mine.accepts("policy:P-1", "policy", "ACTIVE", "ana", {})

    claims = registry.resolve(principal("ana", "agent"), "policy_with_claims", {"policy": "P-1"})
    assert claims.types == frozenset({"policy", "insurance_claim"})
    assert claims.accepts("policy:P-1", "policy", "ACTIVE", None, {})
    assert not claims.accepts("policy:P-2", "policy", "ACTIVE", None, {})
    assert claims.accepts("insurance_claim:IC-9", "insurance_claim", "CLOSED", None, {"policy_id": "P-1"})
    assert not claims.accepts("insurance_claim:IC-9", "insurance_claim", "CLOSED", None, {"policy_id": "P-2"})

    team = registry.resolve(principal("ana", "claims_agent", teams=("north",)), "team_warranty_claims", {})
    assert team.accepts("warranty_claim:WC-1", "warranty_claim", "SUBMITTED", None, {"team": "north"})
    assert not team.accepts("warranty_claim:WC-1", "warranty_claim", "SUBMITTED", None, {"team": "south"})
    assert not team.accepts("warranty_claim:WC-1", "warranty_claim", "COMPLETED", None, {"team": "north"})

    assert registry.resolve(principal("sup", "supervisor"), "tenant", {}).types is None
