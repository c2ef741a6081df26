"""The web viewer in a real headless Chromium against a real hub process, with devices on raw protocol clients."""

from __future__ import annotations

import time

from pycrdt import Doc, Map
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.keys import Keys

from conflict import Hlc, write_field
from tests.support.browser import Browser
from tests.support.stamped import write
from tests.support.client import HubClient
from tests.support.hub import HubProcess

WO = "work_order:WO-B1"
SUPERVISOR = {"sub": "sup-1", "device": "browser", "roles": ("supervisor",)}


def field(doc: Doc, name: str) -> object:
    return doc.get("record", type=Map).get(name)


async def open_record(browser: Browser, hub: HubProcess, name: str) -> None:
    browser.sign_in(hub.http_url, hub.token(**SUPERVISOR))
    browser.go(hub.http_url, f"#/record/{name}")
    await browser.until(lambda: browser.text("#connection") == "live", what="the record live")
    await browser.until(lambda: browser.driver.find_elements("css selector", "#status-form:not([hidden])"),
                        what="the status form of a read-write scope")


async def test_a_device_edit_shows_on_the_open_record_page_within_a_second(hub: HubProcess, browser: Browser) -> None:
    async with HubClient.connect(hub.ws_url) as tablet:
        await tablet.open(WO, hub.token(sub="sup-2", device="tablet", roles=("supervisor",)))
        clock = Hlc("tablet")
        assert await write(tablet, WO, {"status": "OPEN", "title": "Pump 3"}, clock=clock, user="sup-2",
                           roles=("supervisor",))
        await open_record(browser, hub, WO)
        await browser.until(lambda: browser.text('tr[data-field="title"] td') == "Pump 3", what="the title")

        started = time.monotonic()
        assert await write(tablet, WO, {"title": "Pump 3, seal replaced"}, clock=clock, user="sup-2",
                           roles=("supervisor",))
        await browser.until(lambda: browser.text('tr[data-field="title"] td') == "Pump 3, seal replaced",
                            timeout=1, what="the device's edit within 1 s")
        assert time.monotonic() - started < 1
        browser.shot("record-page-live")


async def test_a_status_changed_in_the_page_reaches_the_device(hub: HubProcess, browser: Browser) -> None:
    async with HubClient.connect(hub.ws_url) as tablet:
        await tablet.open(WO, hub.token(sub="tech-1", device="tablet", roles=("technician",)))
        assert await write(tablet, WO, {"status": "OPEN", "title": "Boiler"}, clock=Hlc("tablet"), user="tech-1",
                           roles=("technician",))
        await open_record(browser, hub, WO)
        await browser.until(lambda: browser.text('tr[data-field="status"] td') == "OPEN", what="OPEN")

        browser.driver.execute_script("document.getElementById('status-choice').value = 'SCHEDULED';")
        browser.driver.find_element("css selector", "#status-form button").click()

        await tablet.wait_for(WO, lambda doc: field(doc, "status") == "SCHEDULED", timeout=5)
        await browser.until(lambda: "Saved by the hub" in (browser.text("#notice") or ""), what="the ack")
        browser.shot("status-changed")


async def test_an_invalid_transition_made_in_the_page_is_reverted_and_the_page_says_why(
    hub: HubProcess, browser: Browser
) -> None:
    async with HubClient.connect(hub.ws_url) as tablet:
        await tablet.open(WO, hub.token(sub="tech-1", device="tablet", roles=("technician",)))
        assert await write(tablet, WO, {"status": "OPEN"}, clock=Hlc("tablet"), user="tech-1", roles=("technician",))
        await open_record(browser, hub, WO)
        await browser.until(lambda: browser.text('tr[data-field="status"] td') == "OPEN", what="OPEN")

        browser.driver.execute_script("document.getElementById('status-choice').value = 'CLOSED';")
        browser.driver.find_element("css selector", "#status-form button").click()

        notice = await browser.until(lambda: (t := browser.text("#notice")) and "invalid_transition" in t and t,
                                     what="the refusal")
        assert "status" in notice
        await browser.until(lambda: browser.text('tr[data-field="status"] td') == "OPEN", what="OPEN again")
        assert field(tablet.docs[WO], "status") == "OPEN", "no replica keeps the refused status"
        browser.shot("invalid-transition-reverted")


async def test_a_dashboard_count_changes_live_when_a_device_completes_a_work_order(
    hub: HubProcess, browser: Browser
) -> None:
    async with HubClient.connect(hub.ws_url) as office:
        await office.open(WO, hub.token(sub="sup-2", device="office", roles=("supervisor",)))
        clock = Hlc("office")
        assert await write(office, WO, {"status": "OPEN", "technician": "tech-1"}, clock=clock, user="sup-2",
                           roles=("supervisor",))
        assert await write(office, WO, {"status": "IN_PROGRESS"}, clock=clock, user="sup-2", roles=("supervisor",))
        browser.sign_in(hub.http_url, hub.token(**SUPERVISOR))
        browser.go(hub.http_url, "#/dashboard")
        in_progress = 'tr[data-type="work_order"][data-status="IN_PROGRESS"] .count'
        completed = 'tr[data-type="work_order"][data-status="COMPLETED"] .count'
        await browser.until(lambda: browser.text(in_progress) == "1", what="one work order in progress")
        assert browser.text(completed) is None

        assert await write(office, WO, {"status": "COMPLETED"}, clock=clock, user="sup-2", roles=("supervisor",))
        await browser.until(lambda: browser.text(completed) == "1", timeout=5, what="the completed count")
        assert browser.text(in_progress) is None
        browser.shot("dashboard")


async def test_a_conflict_is_resolved_on_the_review_page_and_every_replica_converges(
    hub: HubProcess, browser: Browser
) -> None:
    name = "warranty_claim:WC-B1"
    manager = ("claims_manager",)
    async with HubClient.connect(hub.ws_url) as office:
        await office.open(name, hub.token(sub="mgr-0", device="office", roles=manager))
        clock = Hlc("office")
        for status in ("SUBMITTED", "IN_REVIEW", "APPROVED", "PROCESSING"):
            assert await write(office, name, {"status": status}, clock=clock, user="mgr-0", roles=manager)
        offline = Doc()
        offline.apply_update(office.docs[name].get_update())  # desk B synced earlier, then went offline
        async with HubClient.connect(hub.ws_url) as desk_a:
            await desk_a.open(name, hub.token(sub="mgr-a", device="desk-a", roles=manager))
            assert await write(desk_a, name, {"status": "COMPLETED"}, clock=Hlc("desk-a"), user="mgr-a", roles=manager)
            write_field(offline, "status", "REJECTED", clock=Hlc("desk-b"), user="mgr-b", roles=manager)
            async with HubClient.connect(hub.ws_url) as desk_b:
                await desk_b.open(name, hub.token(sub="mgr-b", device="desk-b", roles=manager), doc=offline)
                browser.sign_in(hub.http_url, hub.token(**SUPERVISOR))
                browser.go(hub.http_url, "#/conflicts")
                buttons = await browser.until(
                    lambda: browser.driver.find_elements("css selector", '[data-kind="conflict"] button'),
                    what="the conflict",
                )
                browser.shot("conflict-review")
                assert browser.driver.find_elements("css selector", '[data-kind="violation"]'), "listed, not chosen"
                next(b for b in buttons if b.text == "Choose REJECTED").click()
                await browser.until(lambda: "resolved with REJECTED" in (browser.text("#notice") or ""),
                                    what="the resolution")
                for device in (office, desk_a, desk_b):
                    await device.wait_for(name, lambda doc: field(doc, "status") == "REJECTED", timeout=5)
                await browser.until(
                    lambda: not browser.driver.find_elements("css selector", '[data-kind="conflict"]'),
                    what="the conflict gone from the queue",
                )
                browser.shot("conflict-resolved")


async def test_the_viewer_is_used_from_the_keyboard_alone(hub: HubProcess, browser: Browser) -> None:
    async with HubClient.connect(hub.ws_url) as tablet:
        await tablet.open(WO, hub.token(sub="tech-1", device="tablet", roles=("technician",)))
        assert await write(tablet, WO, {"status": "OPEN", "title": "Keyboard"}, clock=Hlc("tablet"), user="tech-1",
                           roles=("technician",))
    browser.go(hub.http_url, "#/sign-in")
    token_box = await browser.until(lambda: browser.driver.find_elements("css selector", "#token"), what="sign-in")
    assert browser.driver.switch_to.active_element == token_box[0], "the token box has the focus"
    token_box[0].send_keys(hub.token(**SUPERVISOR))
    keys = ActionChains(browser.driver)
    keys.send_keys(Keys.TAB, Keys.TAB, Keys.ENTER).perform()  # past the file input to "Sign in"
    await browser.until(lambda: browser.driver.find_elements("css selector", f'tr[data-name="{WO}"] a'),
                        what="the list")

    def focus_on(text: str) -> bool:
        for _ in range(40):
            ActionChains(browser.driver).send_keys(Keys.TAB).perform()
            if browser.driver.switch_to.active_element.text == text:
                return True
        return False

    assert focus_on(WO), "the record's link is reached with Tab"
    ActionChains(browser.driver).send_keys(Keys.ENTER).perform()
    await browser.until(lambda: browser.text("#connection") == "live", what="the record live")
    assert focus_on("Change status"), "the status form is reached with Tab"
    browser.shot("keyboard")


async def test_a_record_page_the_token_may_not_open_says_so(hub: HubProcess, browser: Browser) -> None:
    browser.sign_in(hub.http_url, hub.token(sub="guest", device="browser", roles=("guest",)))
    browser.go(hub.http_url, f"#/record/{WO}")
    notice = await browser.until(lambda: (t := browser.text("#notice")) and "Access refused" in t and t,
                                 what="the refusal")
    assert "forbidden" in notice
    assert browser.driver.find_elements("css selector", "#status-form[hidden]"), "nothing to edit"
    browser.shot("access-refused")
