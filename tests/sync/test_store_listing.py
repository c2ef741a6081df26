"""Contract of ``RecordListing`` on every backend: filters, keyset pages in every sort, report rows, log times."""

from __future__ import annotations

import random
import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import event

from sync.store import LISTING_SORTS, LogEntry, Projection, RecordFilter, RecordOrder, SqlStore
from sync.store.columns import derived_columns

TENANT = "acme"
T0 = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)


def work_order(number: int, status: str | None = "OPEN", *, technician: str | None = "ana", due: datetime | None = None,
               title: str = "Pump service", at: datetime = T0, tenant: str = TENANT, **fields: Any) -> Projection:
    record = {"number": f"WO-{number}", "title": title, "status": status, "technician": technician, **fields}
    if due is not None:
        record["due_at"] = due.isoformat()
    return Projection(tenant=tenant, name=f"work_order:WO-{number}", type="work_order", status=status,
                      assignee=technician, updated_at=at, body={"record": record, "overdue": False})


def claim(number: int, status: str = "SUBMITTED", *, amount: Any = "100.50", team: str | None = "north",
          customer: str = "Globex Ltd", since: datetime | None = None) -> Projection:
    record = {"claim_number": f"WC-{number}", "status": status, "assignee": "ina", "team": team,
              "customer": {"customer_id": f"C-{number}", "name": customer}, "claim_amount": amount}
    if since is not None:
        record["status_updated_at"] = since.isoformat()
    return Projection(tenant=TENANT, name=f"warranty_claim:WC-{number}", type="warranty_claim", status=status,
                      assignee="ina", updated_at=T0, body={"record": record})


async def names(store: SqlStore, where: RecordFilter, order: RecordOrder = RecordOrder("name")) -> list[str]:
    return [listed.projection.name for listed in await store.list_records(TENANT, where, order, limit=100)]


async def walk(store: SqlStore, order: RecordOrder, where: RecordFilter = RecordFilter(), size: int = 7) -> list[str]:
    seen: list[str] = []
    after = None
    while True:
        page = await store.list_records(TENANT, where, order, after=after, limit=size)
        seen += [listed.projection.name for listed in page]
        if len(page) < size:
            return seen
        after = (page[-1].key, page[-1].projection.name)


async def test_filters_select_by_typed_and_derived_columns(store: SqlStore) -> None:
    await store.save_projections([
        work_order(1, due=T0 + timedelta(days=1)),
        work_order(2, "IN_PROGRESS", technician="ben", due=T0 - timedelta(hours=1), title="Boiler repair"),
        work_order(3, "COMPLETED", due=T0 - timedelta(days=3)),
        work_order(4, technician=None, at=T0 + timedelta(minutes=5)),
        claim(7, customer="Initech 100% Ltd"),
        claim(8, "IN_REVIEW", team="south"),
        work_order(1, tenant="globex"),
    ])

    assert await names(store, RecordFilter()) == [
        "warranty_claim:WC-7", "warranty_claim:WC-8", "work_order:WO-1", "work_order:WO-2", "work_order:WO-3",
        "work_order:WO-4",
    ], "one tenant only"
    assert await names(store, RecordFilter(type="warranty_claim", status="IN_REVIEW")) == ["warranty_claim:WC-8"]
    assert await names(store, RecordFilter(assignee="ben")) == ["work_order:WO-2"]
    assert await names(store, RecordFilter(team="north")) == ["warranty_claim:WC-7"]
    assert await names(store, RecordFilter(due_before=T0)) == ["work_order:WO-2", "work_order:WO-3"]
    assert await names(store, RecordFilter(updated_since=T0 + timedelta(minutes=5))) == ["work_order:WO-4"]
    assert await names(store, RecordFilter(q="BOILER")) == ["work_order:WO-2"], "title, any case"
    assert await names(store, RecordFilter(q="wc-8")) == ["warranty_claim:WC-8"], "number"
    assert await names(store, RecordFilter(q="initech")) == ["warranty_claim:WC-7"], "customer name"
    assert await names(store, RecordFilter(q="100%")) == ["warranty_claim:WC-7"], "LIKE wildcards are literal"
    assert await names(store, RecordFilter(q="_")) == []


async def test_overdue_is_judged_at_the_given_instant(store: SqlStore) -> None:
    await store.save_projections([
        work_order(1, due=T0 + timedelta(hours=1)),
        work_order(2, "COMPLETED", due=T0 - timedelta(hours=1)),
        work_order(3, "SCHEDULED", due=T0 - timedelta(hours=1)),
        work_order(4),
        work_order(5, None, due=T0 - timedelta(hours=1)),
    ])

    assert await names(store, RecordFilter(overdue=True, now=T0)) == ["work_order:WO-3"]
    assert await names(store, RecordFilter(overdue=True, now=T0 + timedelta(hours=2))) == [
        "work_order:WO-1", "work_order:WO-3",
    ], "the clock alone makes a record overdue"
    assert await names(store, RecordFilter(overdue=False, now=T0)) == [
        "work_order:WO-1", "work_order:WO-2", "work_order:WO-4", "work_order:WO-5",
    ], "the complement, records without a due time or status included"
    with pytest.raises(ValueError):
        await store.list_records(TENANT, RecordFilter(overdue=True), RecordOrder())
    with pytest.raises(ValueError):
        await store.list_records(TENANT, RecordFilter(due_before=datetime(2026, 1, 1)), RecordOrder())


@pytest.mark.parametrize("descending", [False, True], ids=["ascending", "descending"])
async def test_keyset_pages_visit_every_record_once_in_every_sort(store: SqlStore, descending: bool) -> None:
    rng = random.Random(7)
    rows = [
        work_order(i, rng.choice(["OPEN", "SCHEDULED", None]), technician=rng.choice(["ana", "ben", None]),
                   due=rng.choice([None, T0 + timedelta(hours=rng.randint(-3, 3))]),
                   at=T0 + timedelta(seconds=rng.randint(0, 3)))
        for i in range(60)
    ]
    await store.save_projections(rows)
    for column in LISTING_SORTS:
        order = RecordOrder(column, descending)
        whole = await store.list_records(TENANT, RecordFilter(), order, limit=1000)
        keys = [(listed.key, listed.projection.name) for listed in whole]
        assert keys == sorted(keys, reverse=descending), f"{column}: a total order, name breaks ties"
        assert all(key is not None for key, _ in keys)
        assert await walk(store, order) == [name for _, name in keys], f"{column}: pages join into the whole"
    filtered = RecordFilter(assignee="ben")
    expected = await names(store, filtered, RecordOrder("due_at", descending))
    assert await walk(store, RecordOrder("due_at", descending), filtered, size=3) == expected


async def test_records_inserted_while_paging_never_repeat_or_hide_others(store: SqlStore) -> None:
    await store.save_projections([work_order(i, at=T0 + timedelta(seconds=i)) for i in range(100, 140)])
    order = RecordOrder("updated_at", descending=True)
    seen: list[str] = []
    after = None
    for step in range(100):
        page = await store.list_records(TENANT, RecordFilter(), order, after=after, limit=6)
        seen += [listed.projection.name for listed in page]
        if len(page) < 6:
            break
        after = (page[-1].key, page[-1].projection.name)
        # newer records land before the position: never seen by this walk, never pushing others along
        await store.save_projections([work_order(500 + step, at=T0 + timedelta(hours=1, seconds=step))])
    assert seen == [f"work_order:WO-{i}" for i in range(139, 99, -1)]


def test_sort_columns_are_a_whitelist() -> None:
    with pytest.raises(ValueError):
        RecordOrder("body")


async def test_report_rows_carry_the_derived_columns(store: SqlStore) -> None:
    since = T0 - timedelta(hours=50)
    await store.save_projections([claim(1, amount="250.75", since=since), claim(2, amount="not money"),
                                  work_order(3, due=T0)])

    rows = await store.report_rows(TENANT, types=["warranty_claim"])
    assert [(r.name, r.status, r.amount, r.status_since, r.record) for r in rows] == [
        ("warranty_claim:WC-1", "SUBMITTED", Decimal("250.75"), since, None),
        ("warranty_claim:WC-2", "SUBMITTED", None, None, None),
    ]
    [wo] = await store.report_rows(TENANT, types=["work_order"], with_record=True)
    assert (wo.assignee, wo.due_at, wo.record["number"]) == ("ana", T0, "WO-3")
    assert await store.report_rows(TENANT, types=[]) == []


async def test_update_times_are_the_logs_newest_first(store: SqlStore) -> None:
    name = "work_order:WO-1"
    assert await store.update_times(TENANT, name) == []
    await store.append([LogEntry(TENANT, name, b"\x00\x00")])
    await store.append([LogEntry(TENANT, name, b"\x00\x00"), LogEntry("globex", name, b"\x00\x00")])

    times = await store.update_times(TENANT, name)
    assert len(times) == 2 and times[0] >= times[1] and all(t.tzinfo is not None for t in times)
    assert len(await store.update_times(TENANT, name, limit=1)) == 1


def test_derived_columns_ignore_values_that_do_not_read() -> None:
    assert derived_columns("work_order", {"record": {"due_at": "soon", "team": 5, "title": None}}) == {
        "due_at": None, "team": None, "amount": None, "status_since": None, "search": None,
    }
    assert derived_columns("warranty_claim", {"record": {"claim_amount": -3}})["amount"] is None
    assert derived_columns("warranty_claim", {"record": {"claim_amount": True}})["amount"] is None
    assert derived_columns("work_order", {"record": {"due_at": "2026-01-05T09:00:00+01:00"}})["due_at"] == T0
    assert derived_columns("work_order", {"record": "not a map"})["search"] is None


async def test_report_groups_count_and_sum_per_type_status_and_assignee(store: SqlStore) -> None:
    await store.save_projections([
        work_order(1, "OPEN", due=T0 - timedelta(hours=1)),
        work_order(2, "OPEN", due=T0 + timedelta(hours=2)),
        work_order(3, "OPEN", due=T0 + timedelta(hours=1)),
        work_order(4, "COMPLETED", due=T0 - timedelta(hours=1)),
        work_order(5, "OPEN", technician="ben"),
        claim(6, amount="10.25", since=T0 - timedelta(hours=50)),
        claim(7, amount="5", since=T0 - timedelta(hours=10)),
        claim(8, amount=None, since=T0 - timedelta(hours=20)),
        work_order(9, "OPEN", tenant="globex"),
    ])
    cutoffs = {("warranty_claim", "SUBMITTED"): T0 - timedelta(hours=48)}

    groups = await store.report_groups(TENANT, types=["work_order", "warranty_claim"], now=T0, cutoffs=cutoffs)
    by_key = {(g.type, g.status, g.assignee): g for g in groups}
    assert set(by_key) == {("work_order", "OPEN", "ana"), ("work_order", "COMPLETED", "ana"),
                           ("work_order", "OPEN", "ben"), ("warranty_claim", "SUBMITTED", "ina")}
    ana = by_key[("work_order", "OPEN", "ana")]
    assert (ana.count, ana.overdue, ana.next_due) == (3, 1, T0 + timedelta(hours=1))
    done = by_key[("work_order", "COMPLETED", "ana")]
    assert (done.count, done.overdue, done.next_due) == (1, 0, None), "closed work is never overdue"
    claims = by_key[("warranty_claim", "SUBMITTED", "ina")]
    assert (claims.count, claims.with_amount, claims.amount) == (3, 2, Decimal("15.25"))
    assert claims.oldest_since == T0 - timedelta(hours=50)
    assert (claims.over_limit, claims.next_since) == (1, T0 - timedelta(hours=20))
    assert by_key[("work_order", "OPEN", "ben")].over_limit == 0, "no cutoff, nothing over it"
    assert await store.report_groups(TENANT, types=[], now=T0, cutoffs={}) == []
    with pytest.raises(ValueError):
        await store.report_groups(TENANT, types=["work_order"], now=datetime(2026, 1, 1), cutoffs={})


#: Where a record without a due time sorts (``sync.store.sql_listing``): its position, and the edge of the parts.
NO_DUE = datetime(9999, 12, 31, tzinfo=UTC)


@pytest.mark.parametrize("descending", [False, True], ids=["ascending", "descending"])
async def test_due_at_pages_cross_from_dated_to_undated_records_exactly_once(store: SqlStore, descending: bool) -> None:
    """Records with and without a due time, and due times at and beyond the position of none, in one order."""
    dues = [T0, T0, T0 + timedelta(hours=1), None, None, NO_DUE, NO_DUE + timedelta(hours=5), None, T0 - timedelta(1)]
    await store.save_projections([work_order(i, due=due) for i, due in enumerate(dues)])
    key = {f"work_order:WO-{i}": (due or NO_DUE) for i, due in enumerate(dues)}
    expected = sorted(key, key=lambda name: (key[name], name), reverse=descending)
    order = RecordOrder("due_at", descending)

    whole = await store.list_records(TENANT, RecordFilter(), order, limit=100)
    assert [(listed.projection.name, listed.key) for listed in whole] == [(name, key[name]) for name in expected]
    for size in (1, 2, 3, 4):
        assert await walk(store, order, size=size) == expected, f"pages of {size}"
    undated = "work_order:WO-4"  # a cursor ending on a record without a due time continues by name among them
    after = await store.list_records(TENANT, RecordFilter(), order, after=(NO_DUE, undated), limit=100)
    assert [listed.projection.name for listed in after] == expected[expected.index(undated) + 1:]
    with pytest.raises(ValueError):
        await store.list_records(TENANT, RecordFilter(), order, after=("not a time", undated))


@pytest.mark.parametrize(("where", "index"), [
    (RecordFilter(type="work_order", due_before=T0 + timedelta(hours=40)), "ix_projections_tenant_type_due_at_name"),
    (RecordFilter(), "ix_projections_tenant_due_at_name"),
], ids=["one-type", "every-type"])
async def test_a_due_at_page_reads_an_index_in_its_order_instead_of_sorting(
    store: SqlStore, where: RecordFilter, index: str
) -> None:
    """What ``GET /api/records?type=work_order&due_before=...&sort=due_at`` (and without a type) runs: a range
    of an index holding (due_at, name) in order, never a sort, not even of the records sharing a due time."""
    rows = [work_order(i, due=T0 + timedelta(hours=i % 50)) for i in range(3000)]  # 60 records per due time
    rows += [claim(i) for i in range(1000)]
    for start in range(0, len(rows), 1000):
        await store.save_projections(rows[start:start + 1000])
    dialect, lines = await plans(store, lambda: store.list_records(TENANT, where, RecordOrder("due_at"), limit=51))
    plan = "\n".join(lines)

    assert index in plan, plan
    if dialect == "sqlite":
        assert "TEMP B-TREE" not in plan, plan
    else:
        assert not re.search(r"\bSort\b", plan), plan


async def plans(store: SqlStore, call: Callable[[], Awaitable[object]]) -> tuple[str, list[str]]:
    """The dialect, and the database's plan of each listing statement ``call`` runs on ``store``."""
    engine = store._engine  # the store's own engine: the statements it really sends
    assert engine is not None
    statements: list[tuple[str, Any]] = []

    def seen(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        if "FROM projections" in statement:
            statements.append((statement, parameters))

    event.listen(engine.sync_engine, "before_cursor_execute", seen)
    try:
        await call()
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", seen)
    assert statements
    found = []
    async with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            await conn.exec_driver_sql("ANALYZE projections")  # what autovacuum does after a bulk load
        for statement, parameters in statements:
            explain = "EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite" else "EXPLAIN "
            result = await conn.exec_driver_sql(explain + statement, parameters)
            found += [" ".join(str(column) for column in row) for row in result]
    return engine.dialect.name, found
