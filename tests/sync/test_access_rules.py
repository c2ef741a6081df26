"""The access rules file: every mistake refused with its place named; decisions for records and creations."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from sync.access import DEFAULT_ACCESS_FILE, Principal, Scope, load_rules, parse_rules
from sync.errors import ConfigError

TECH = Principal("tech-1", "acme", "d1", frozenset({"technician"}), frozenset({"north"}))


def grant(**body: Any) -> dict[str, Any]:
    return {"work_order": [{"roles": ["technician"], "access": "read-write", **body}]}


@pytest.mark.parametrize(("data", "message"), [
    ({"boat": []}, "'boat' is not a record type"),
    ({"work_order": {"roles": []}}, "must be a list of [[work_order]] tables"),
    (grant(color="red"), "unknown key 'color'"),
    (grant(roles=[]), "'roles' must be a non-empty list"),
    (grant(roles=["pilot"]), "unknown role 'pilot'"),
    (grant(access="all"), "'access' must be"),
    (grant(when={"technician": "device"}), "when.technician must be \"user\" or \"team\""),
    (grant(when=["technician"]), "'when' must be a table"),
    (grant(write="status"), "'write' must be a list"),
    (grant(access="readonly", write=["status"]), "'write' needs access = \"read-write\""),
    (grant(access="readonly", create=True), "'create' must be true or false, and true needs"),
])
def test_each_mistake_is_refused_with_its_grant_named(data: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_rules(data, source="rules.toml")
    assert message in str(caught.value) and str(caught.value).startswith("rules.toml")


def test_a_missing_or_malformed_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="access rules file .*missing.toml"):
        load_rules(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[[work_order]\n")
    with pytest.raises(ConfigError, match="access rules file .*bad.toml"):
        load_rules(bad)


def test_the_packaged_rules_load_and_name_the_fields_they_read() -> None:
    rules = load_rules(DEFAULT_ACCESS_FILE)
    assert rules.fields["work_order"] == {"technician", "team"}
    assert rules.fields["warranty_claim"] == {"assignee", "team", "customer"}


def test_a_decision_takes_the_best_grant_and_the_union_of_what_it_may_write() -> None:
    rules = parse_rules({"work_order": [
        {"roles": ["technician"], "access": "read-write", "when": {"technician": "user"}, "write": ["status"]},
        {"roles": ["technician"], "access": "read-write", "when": {"team": "team"}, "write": ["notes"]},
        {"roles": ["technician"], "access": "readonly"},
    ]})
    both = rules.decide(TECH, "work_order", {"technician": "tech-1", "team": "north"})
    assert both.scope is Scope.READ_WRITE and both.writable == {"status", "notes"}
    assert both.may_write("notes") and not both.may_write("technician")
    assert rules.decide(TECH, "work_order", {"technician": "tech-2"}).scope is Scope.READONLY
    assert rules.decide(TECH, "policy", {}).scope is None, "a type without grants reaches nothing"


def test_a_record_not_yet_created_is_open_to_its_creators_and_to_unconditional_readers_only() -> None:
    rules = load_rules()
    creation = rules.decide(TECH, "work_order", None)
    assert creation.scope is Scope.READ_WRITE and creation.create and creation.writable is None
    adjuster = Principal("adj-1", "acme", "d", frozenset({"adjuster"}))
    assert rules.decide(adjuster, "insurance_claim", None).scope is None, "adjusters do not create claims"
    viewer = Principal("v", "acme", "d", frozenset({"viewer"}))
    assert rules.decide(viewer, "policy", None).scope is Scope.READONLY
    assert not rules.decide(viewer, "policy", None).create


def test_conditions_read_nested_fields_and_never_match_missing_or_non_text_values() -> None:
    rules = load_rules()
    customer = Principal("cust-1", "acme", "d", frozenset({"customer"}))
    assert rules.decide(customer, "warranty_claim", {"customer": {"customer_id": "cust-1"}}).scope is Scope.READ_WRITE
    for record in ({"customer": "cust-1"}, {"customer": {"customer_id": ["cust-1"]}}, {"customer": None}, {}):
        assert rules.decide(customer, "warranty_claim", record).scope is None, record
