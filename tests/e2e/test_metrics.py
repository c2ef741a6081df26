"""/metrics of a real hub process, parsed by prometheus_client's own parser: counters follow what the test does."""

from __future__ import annotations

import asyncio

import pytest
from prometheus_client import CONTENT_TYPE_LATEST
from prometheus_client.parser import text_string_to_metric_families

from sync.protocol import AuthToken
from tests.support.client import Denied, HubClient
from tests.support.hub import HubProcess, free_port
from tests.support.http import request

NAME = "work_order:WO-3"
SCRAPE = "scrape-token-for-tests"


def scrape(url: str, token: str | None = SCRAPE) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    status, body, headers = request(url, token=token)
    assert status == 200, body
    assert headers["content-type"].replace(" ", "") == CONTENT_TYPE_LATEST.replace(" ", "")
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(body.decode()) for sample in family.samples}


def value(samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.mark.hub_env(FIELDSYNC_METRICS_TOKEN=SCRAPE)
async def test_counters_move_with_frames_updates_and_refusals(hub: HubProcess) -> None:
    url = hub.http_url + "/metrics"
    before = await asyncio.to_thread(scrape, url)
    assert value(before, "fieldsync_connections") == 0 and value(before, "fieldsync_rooms") == 0
    async with HubClient.connect(hub.ws_url) as client:
        await client.open(NAME, hub.token())
        for i in range(5):
            assert await client.set_fields(NAME, {"summary": f"edit {i}"})
        with pytest.raises(Denied):
            await client.authenticate("bogus", hub.token())
        await client.send_frame(AuthToken(NAME + "x", hub.token(ttl_seconds=-120)))
        await client.wait_acks(NAME, 6)
        await asyncio.sleep(0.2)
        during = await asyncio.to_thread(scrape, url)
        assert value(during, "fieldsync_connections") == 1 and value(during, "fieldsync_rooms") == 1
        assert value(during, "fieldsync_frames_received_total", type="sync") - value(
            before, "fieldsync_frames_received_total", type="sync") == 1 + 1 + 5  # step 1, step 2, updates
        assert value(during, "fieldsync_frames_received_total", type="auth") == 3
        assert value(during, "fieldsync_bytes_received_total", type="sync") > 0
        assert value(during, "fieldsync_frames_sent_total", type="sync_status") == 6
        assert value(during, "fieldsync_updates_committed_total") == 5
        assert value(during, "fieldsync_acks_total", result="committed") == 6  # the empty step 2 is acknowledged too
        assert value(during, "fieldsync_refusals_total", code="invalid_document_name") == 1
        assert value(during, "fieldsync_documents_loaded_total") >= 1
        assert value(during, "fieldsync_commit_batch_size_count") == value(during, "fieldsync_commit_batches_total") >= 1
        assert value(during, "fieldsync_commit_batch_size_sum") == 5
        assert value(during, "fieldsync_ack_latency_seconds_count") >= 1
        assert value(during, "fieldsync_store_query_seconds_count", action="append") >= 1
        await asyncio.sleep(0.6)
    after = await asyncio.to_thread(scrape, url)
    assert value(after, "fieldsync_connections") == 0
    # a closed socket's traffic stays counted
    assert value(after, "fieldsync_frames_received_total", type="sync") == value(during, "fieldsync_frames_received_total", type="sync")
    assert value(after, "fieldsync_refusals_total", code="token_expired") == 1
    assert value(after, "fieldsync_connections_opened_total") == value(after, "fieldsync_connections_closed_total") == 1
    assert ("fieldsync_event_loop_lag_seconds", ()) in after and ("fieldsync_bus_lag_seconds", ()) in after


@pytest.mark.hub_env(FIELDSYNC_METRICS_TOKEN=SCRAPE)
async def test_a_scrape_without_the_token_is_refused(hub: HubProcess) -> None:
    url = hub.http_url + "/metrics"
    status, body, _ = await asyncio.to_thread(request, url)
    assert status == 401 and body.startswith(b"token_missing: ")
    status, body, _ = await asyncio.to_thread(request, url, token="guess")
    assert status == 401 and body.startswith(b"token_invalid: ")


METRICS_PORT = free_port()


@pytest.mark.hub_env(FIELDSYNC_METRICS_PORT=str(METRICS_PORT), FIELDSYNC_ENV="production")
async def test_metrics_on_a_port_of_their_own_are_not_on_the_hubs_port(hub: HubProcess) -> None:
    status, _, _ = await asyncio.to_thread(request, hub.http_url + "/metrics")
    assert status == 404
    samples = await asyncio.to_thread(scrape, f"http://127.0.0.1:{METRICS_PORT}/metrics", None)
    assert value(samples, "fieldsync_connections") == 0
    status, _, _ = await asyncio.to_thread(request, f"http://127.0.0.1:{METRICS_PORT}/other")
    assert status == 404


@pytest.mark.hub_env(FIELDSYNC_ENV="production")
async def test_production_without_a_token_or_port_does_not_show_its_metrics(hub: HubProcess) -> None:
    status, body, _ = await asyncio.to_thread(request, hub.http_url + "/metrics")
    assert status == 403 and body.startswith(b"forbidden: set FIELDSYNC_METRICS_TOKEN or FIELDSYNC_METRICS_PORT")


@pytest.mark.hub_env(FIELDSYNC_METRICS="off")
async def test_metrics_off_serves_nothing(hub: HubProcess) -> None:
    status, _, _ = await asyncio.to_thread(request, hub.http_url + "/metrics")
    assert status == 404
