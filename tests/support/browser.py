"""A real headless Chromium for the viewer's tests: Debian's ``chromium`` driven by Selenium through Debian's
``chromium-driver`` (the pair comes from one apt source, so their versions match). Missing, the test fails
with what to install; it never skips. Screenshots go to ``test-artifacts/viewer/`` (ignored by git).
"""

from __future__ import annotations

import asyncio
import re
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import pytest
from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "viewer"
T = TypeVar("T")


class Browser:
    """One Chromium window on the hub's viewer, with waits that let the test's event loop run."""

    def __init__(self, driver: WebDriver, shots: Path) -> None:
        self.driver = driver
        self.shots = shots

    def open(self, url: str) -> None:
        self.driver.get(url)

    def sign_in(self, base: str, token: str) -> None:
        self.driver.get(f"{base}/#/sign-in")
        area = self.driver.find_element(By.ID, "token")
        self.driver.execute_script("arguments[0].value = arguments[1];", area, token)
        area.submit()
        # the list page loads first; then tests navigate

    def go(self, base: str, fragment: str) -> None:
        self.driver.get(f"{base}/{fragment}")

    def text(self, css: str) -> str | None:
        found = self.driver.find_elements(By.CSS_SELECTOR, css)
        return found[0].text if found else None

    async def until(self, check: Callable[[], T], timeout: float = 10, what: str = "") -> T:
        """Poll ``check`` (quick DOM reads) until it gives something truthy; the event loop runs in between."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                value = check()
            except WebDriverException:
                value = None  # the page is being redrawn
            if value:
                return value
            if time.monotonic() > deadline:
                self.shot(f"timeout-{what or 'until'}")
                raise AssertionError(f"the page never showed {what or 'it'} (notice: {self.text('#notice')!r})")
            await asyncio.sleep(0.02)

    def shot(self, name: str) -> Path:
        self.shots.mkdir(parents=True, exist_ok=True)
        path = self.shots / f"{re.sub(r'[^A-Za-z0-9_.-]+', '-', name)}.png"
        self.driver.save_screenshot(str(path))
        return path


def _driver(width: int, height: int) -> WebDriver:
    binary = shutil.which("chromium")
    driver_path = shutil.which("chromedriver")
    if binary is None or driver_path is None:
        pytest.fail("the browser tests need Debian's chromium and chromium-driver (bin/services installs them)",
                    pytrace=False)
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     f"--window-size={width},{height}"):
        options.add_argument(argument)
    return webdriver.Chrome(service=Service(executable_path=driver_path), options=options)


@pytest.fixture
def browser(request: pytest.FixtureRequest) -> Iterator[Browser]:
    """A headless Chromium at phone width (412 × 915 CSS pixels), closed after the test."""
    driver = _driver(412, 915)
    try:
        yield Browser(driver, ARTIFACTS / request.node.name)
    finally:
        driver.quit()
