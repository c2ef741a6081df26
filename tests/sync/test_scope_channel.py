"""The ``$scopes`` control document on a real hub: its authentication, and every refusal a device can get on it."""

from __future__ import annotations

import re
from pathlib import Path

from sync.protocol.codes import CloseCode, ErrorCode
from sync.protocol import Authenticated, Awareness, AuthToken, PermissionDenied, QueryAwareness, Sync, SyncStep
from sync.protocol.control import SCOPES_DOCUMENT, Hello, ScopeMembers, Subscribe, Unsubscribe
from tests.support.inproc import running_hub, token
from tests.sync.scope_devices import ScopeDevice, projection, scope_token, seed

README = Path(__file__).resolve().parents[2] / "README.md"


async def test_scopes_is_authenticated_by_role_without_a_room(tmp_path: Path) -> None:
    async with running_hub(tmp_path) as hub:
        for roles, scope in ((("technician",), "read-write"), (("viewer",), "readonly"), (("customer",), "read-write")):
            device = ScopeDevice(hub)
            assert await device.auth(scope_token("u", *roles)) == Authenticated(SCOPES_DOCUMENT, scope)
            await device.finish()
        nobody = ScopeDevice(hub)
        denied = await nobody.auth(scope_token("u", "janitor"))
        assert isinstance(denied, PermissionDenied) and denied.reason.startswith("forbidden: ")
        assert hub.rooms == {}
        await nobody.finish()


async def test_a_bad_token_or_another_tenant_is_denied(tmp_path: Path) -> None:
    async with running_hub(tmp_path) as hub:
        device = ScopeDevice(hub)
        denied = await device.auth(scope_token(ttl=-120))
        assert isinstance(denied, PermissionDenied) and denied.reason.startswith("token_expired: ")
        await device.finish()

        device = ScopeDevice(hub)
        await device.conn.open("work_order:WO-1", token(tenant="acme"))
        denied = await device.auth(scope_token(tenant="globex"))
        assert isinstance(denied, PermissionDenied) and denied.reason.startswith("tenant_mismatch: ")
        await device.finish()


async def test_control_messages_before_the_auth_are_not_authenticated(tmp_path: Path) -> None:
    async with running_hub(tmp_path) as hub:
        device = ScopeDevice(hub)
        device.send(Subscribe(id="mine", scope="my_work_orders"))
        await device.socket.wait_notice(SCOPES_DOCUMENT, "not_authenticated")
        assert SCOPES_DOCUMENT not in device.conn.session.links, "nothing is held for a later Auth"
        await device.auth()
        assert (await device.subscribe("mine")).members == []
        await device.finish()


async def test_control_messages_after_a_denied_auth_are_not_authenticated(tmp_path: Path) -> None:
    async with running_hub(tmp_path) as hub:
        device = ScopeDevice(hub)
        await device.auth("not-a-token")
        device.send(Subscribe(id="mine", scope="my_work_orders"))
        await device.socket.wait_notice(SCOPES_DOCUMENT, "not_authenticated")
        await device.finish()


async def test_a_subscribe_sent_right_behind_its_auth_waits_for_it(tmp_path: Path) -> None:
    async with running_hub(tmp_path) as hub:
        await seed(hub, projection("work_order:WO-1", "OPEN", "ana"))
        device = ScopeDevice(hub)
        device.socket.push(AuthToken(SCOPES_DOCUMENT, scope_token()))
        device.send(Hello(client="test-sdk", version="1"))
        answer = await device.subscribe("mine")
        assert answer.members == ["work_order:WO-1"]
        assert device.notices() == [], "Hello is taken without an answer"
        await device.finish()


async def test_a_payload_that_is_no_control_message_is_invalid_control(tmp_path: Path) -> None:
    async with running_hub(tmp_path) as hub:
        device = ScopeDevice(hub)
        await device.auth()
        device.send("{not json")
        await device.socket.wait_notice(SCOPES_DOCUMENT, "invalid_control")
        device.send('{"type": "subscribe", "scope": "my_work_orders"}')  # no id
        await device.wait(lambda: sum(n.code == "invalid_control" for n in device.notices()) == 2)
        device.send(Subscribe(id="x" * 1000, scope="my_work_orders"))
        await device.wait(lambda: sum(n.code == "invalid_control" for n in device.notices()) == 3)
        notice = device.notices()[-1]
        assert notice.subscription == "x" * 200 and "1-200 characters" in notice.message, "echoed, cut short"
        assert hub.scopes.subscriptions == 0
        await device.finish()


async def test_frames_other_than_stateless_are_unsupported_on_scopes(tmp_path: Path) -> None:
    async with running_hub(tmp_path) as hub:
        device = ScopeDevice(hub)
        await device.auth()
        device.socket.push(Sync(SCOPES_DOCUMENT, SyncStep.STEP1, b"\x00"))
        device.socket.push(Sync(SCOPES_DOCUMENT, SyncStep.UPDATE, b"\x00\x00"))
        device.socket.push(Awareness(SCOPES_DOCUMENT, b"\x00"))
        device.socket.push(QueryAwareness(SCOPES_DOCUMENT))
        await device.wait(lambda: sum(n.code == "unsupported_message" for n in device.notices()) == 4)
        assert device.socket.statuses(SCOPES_DOCUMENT) == [False], "an update still gets its SyncStatus"
        assert not any(isinstance(f, Sync) for f in device.socket.received)

        device.send(ScopeMembers(id="x", scope="tenant", params={}, version=1, members=[]))
        await device.wait(lambda: sum(n.code == "unsupported_message" for n in device.notices()) == 5)
        assert "sent by the hub" in device.notices()[-1].message
        await device.finish()


async def test_an_unknown_scope_is_refused_with_the_subscription_id(tmp_path: Path) -> None:
    async with running_hub(tmp_path) as hub:
        device = ScopeDevice(hub)
        await device.auth()
        notice = await device.refused("s1", "everything_everywhere")
        assert (notice.code, notice.subscription) == ("unknown_scope", "s1")
        assert "my_work_orders" in notice.message
        await device.finish()


async def test_bad_params_are_refused_as_invalid_scope_params(tmp_path: Path) -> None:
    async with running_hub(tmp_path) as hub:
        device = ScopeDevice(hub)
        await device.auth(scope_token("ana", "technician", "agent"))
        for id, scope, params in (("a", "my_work_orders", {"colour": "red"}), ("b", "my_work_orders", {"user": "a b"}),
                                  ("c", "policy_with_claims", {})):
            notice = await device.refused(id, scope, **params)
            assert (notice.code, notice.subscription) == ("invalid_scope_params", id)
        await device.finish()


async def test_a_scope_the_token_may_not_follow_is_forbidden(tmp_path: Path) -> None:
    async with running_hub(tmp_path) as hub:
        tech = ScopeDevice(hub)
        await tech.auth(scope_token("ana"))
        notice = await tech.refused("spy", user="ben")
        assert (notice.code, notice.subscription) == ("forbidden", "spy")
        customer = ScopeDevice(hub)
        await customer.auth(scope_token("cus", "customer"))
        assert (await customer.refused("jobs")).code == "forbidden"

        agent = ScopeDevice(hub)
        await agent.auth(scope_token("ana", "claims_agent", teams=["north"]))
        assert (await agent.refused("other-team", "team_warranty_claims", team="south")).code == "forbidden"
        assert (await agent.subscribe("own-team", "team_warranty_claims")).params == {"team": "north"}
        await tech.finish(), await customer.finish(), await agent.finish()


async def test_a_refused_resubscribe_ends_the_previous_subscription(tmp_path: Path) -> None:
    async with running_hub(tmp_path) as hub:
        device = ScopeDevice(hub)
        await device.auth()
        await device.subscribe("mine")
        assert hub.scopes.subscriptions == 1
        assert (await device.refused("mine", user="ben")).code == "forbidden"
        assert hub.scopes.subscriptions == 0
        await device.finish()


async def test_too_many_subscriptions_on_one_connection(tmp_path: Path) -> None:
    async with running_hub(tmp_path, max_scopes_per_connection=2) as hub:
        device = ScopeDevice(hub)
        await device.auth()
        await device.subscribe("a")
        await device.subscribe("b")
        notice = await device.refused("c")
        assert (notice.code, notice.subscription) == ("too_many_scopes", "c")
        assert "at most 2" in notice.message
        await device.subscribe("b")  # replacing one is not one more
        device.send(Unsubscribe(id="a"))
        await device.subscribe("c")
        assert hub.scopes.subscriptions == 2
        other = ScopeDevice(hub)  # the limit is per connection
        await other.auth()
        await other.subscribe("a")
        await device.finish(), await other.finish()


async def test_control_messages_on_scopes_share_the_control_rate_limit(tmp_path: Path) -> None:
    async with running_hub(tmp_path, control_messages_per_minute=3) as hub:
        device = ScopeDevice(hub)
        await device.auth()
        for i in range(4):
            device.send(Subscribe(id=f"s{i}", scope="my_work_orders"))
        notice = await device.socket.wait_notice(SCOPES_DOCUMENT, "rate_limited")
        assert notice.retry_after and notice.retry_after > 0
        await device.wait(lambda: len([m for m in device.messages() if isinstance(m, ScopeMembers)]) == 3)
        assert {m.id for m in device.messages() if isinstance(m, ScopeMembers)} == {"s0", "s1", "s2"}
        await device.finish()


async def test_a_store_failure_is_reported_for_the_subscription(tmp_path: Path) -> None:
    async with running_hub(tmp_path) as hub:
        device = ScopeDevice(hub)
        await device.auth()
        await hub.store.close()
        try:
            notice = await device.refused("mine")
        finally:
            await hub.store.start()
        assert (notice.code, notice.subscription) == ("store_unavailable", "mine")
        assert hub.scopes.subscriptions == 0
        assert (await device.subscribe("mine")).members == []
        await device.finish()


async def test_every_code_a_client_can_receive_is_documented_in_the_readme() -> None:
    text = README.read_text(encoding="utf-8")
    documented = set(re.findall(r"^\| `([a-z_]+)` \|", text, flags=re.MULTILINE))
    missing = {str(code) for code in ErrorCode} - set(re.findall(r"`([a-z_]+)`", text))
    assert not missing, f"codes missing from the README: {sorted(missing)}"
    for code in ("unknown_scope", "invalid_scope_params", "too_many_scopes"):
        assert code in documented, f"{code} has no row in a protocol table"
    for close in CloseCode:
        assert f"| {int(close)} |" in text, f"close code {int(close)} has no row"
