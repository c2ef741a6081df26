"""The viewer's admin page in a real headless Chromium against a real hub process, with a device on a raw
protocol client: its socket and its record listed live, revoked and restored only after a confirmation."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webelement import WebElement

from sync.protocol.codes import CloseCode
from tests.support.browser import Browser
from tests.support.client import Denied, HubClient
from tests.support.hub import HubProcess
from tests.support.http import call

WO = "work_order:WO-A1"
ADMIN = {"sub": "ops-1", "device": "browser", "roles": ("admin",)}
ROW = 'tr[data-device="tablet-lost"]'


def button(browser: Browser, css: str) -> WebElement | None:
    found = browser.driver.find_elements("css selector", css)
    return found[0] if found else None


async def press(browser: Browser, css: str, key: str | None = None) -> None:
    """Click the element (or press ``key`` on it); a row redrawn under the test is found again."""

    def act() -> bool:
        element = browser.driver.find_element("css selector", css)
        if key:
            element.send_keys(key)
        else:
            element.click()
        return True

    await browser.until(act, what=css)


async def test_an_admin_revokes_a_connected_device_after_confirming_and_restores_it(
    hub: HubProcess, browser: Browser
) -> None:
    lost = hub.token(sub="tech-1", device="tablet-lost")
    async with HubClient.connect(hub.ws_url) as tablet:
        await tablet.open(WO, lost)
        browser.sign_in(hub.http_url, hub.token(**ADMIN))
        await browser.until(lambda: browser.driver.find_element("id", "admin-link").is_displayed(),
                            what="the Admin link for an admin")
        browser.go(hub.http_url, "#/admin")
        await browser.until(lambda: browser.text(f"#connections {ROW}"), what="the device's socket")
        status, answer = await call(hub.http_url + "/admin/connections", token=hub.token(**ADMIN))
        (node,) = answer["nodes"]
        assert status == 200 and browser.text(f"#connections {ROW} .node") == node["node"], "each socket names its node"
        await browser.until(lambda: f"nodes {node['node']} (this one)" in (browser.text("main") or ""),
                            what="the nodes that answered")
        await browser.until(lambda: browser.text(f"#devices {ROW}[data-state=active] .state") == "active",
                            what="the device, active")
        browser.shot("admin-page")

        # asked first: cancelling changes nothing
        await press(browser, f"#devices {ROW} button")
        dialog = await browser.until(lambda: button(browser, "dialog#confirm[open]"), what="the confirmation")
        assert "Revoke tablet-lost?" in dialog.text
        assert browser.driver.switch_to.active_element.text == "Cancel", "the safe choice has the focus"
        browser.shot("admin-confirm-revoke")
        await press(browser, "#confirm-no")
        await browser.until(lambda: not button(browser, "dialog#confirm[open]"), what="the dialog closed")
        assert tablet.close_code is None

        await press(browser, f"#devices {ROW} button")
        await press(browser, "dialog[open] #confirm-yes")
        assert await tablet.wait_closed(5) == CloseCode.DEVICE_REVOKED
        assert tablet.close_reason.startswith("device_revoked: ")
        await browser.until(lambda: "tablet-lost revoked: 1 socket(s) closed" in (browser.text("#notice") or ""),
                            what="the result")
        state = await browser.until(lambda: browser.text(f"#devices {ROW}[data-state=revoked] .state"),
                                    what="the device, revoked")
        assert state.startswith("revoked ") and state.endswith(" by ops-1")
        await browser.until(lambda: not browser.text(f"#connections {ROW}"), what="its socket gone")
        browser.shot("admin-revoked")

    async with HubClient.connect(hub.ws_url) as again:
        with pytest.raises(Denied, match=r"^device_revoked: "):
            await again.authenticate(WO, lost)

    # restored from the keyboard alone: Enter on the row's button, Shift+Tab from Cancel to the confirmation
    await press(browser, f"#devices {ROW} button", Keys.ENTER)
    await browser.until(lambda: button(browser, "dialog#confirm[open]"), what="the confirmation")
    ActionChains(browser.driver).key_down(Keys.SHIFT).send_keys(Keys.TAB).key_up(Keys.SHIFT).perform()
    assert browser.driver.switch_to.active_element.text == "Restore tablet-lost"
    ActionChains(browser.driver).send_keys(Keys.ENTER).perform()
    await browser.until(lambda: browser.text(f"#devices {ROW}[data-state=active] .state"), what="the device, restored")
    await browser.until(lambda: "tablet-lost restored" in (browser.text("#notice") or ""), what="the result")
    await browser.until(lambda: browser.driver.switch_to.active_element.text == "Revoke…",
                        what="the focus on the device's row")

    async with HubClient.connect(hub.ws_url) as back:
        await back.open(WO, lost)
        await browser.until(lambda: browser.text(f"#connections {ROW}"), what="its socket again")
        browser.shot("admin-restored")


async def test_a_token_without_the_admin_role_sees_the_refusal(hub: HubProcess, browser: Browser) -> None:
    browser.sign_in(hub.http_url, hub.token(sub="sup-1", device="browser", roles=("supervisor",)))
    assert not browser.driver.find_element("id", "admin-link").is_displayed()
    browser.go(hub.http_url, "#/admin")
    refused = await browser.until(lambda: browser.text("#admin-refused"), what="the refusal")
    assert refused == "Refused: forbidden: the admin API needs the role 'admin'"
    assert not browser.driver.find_elements("css selector", "#devices"), "nothing to act on"
    browser.shot("admin-refused")
