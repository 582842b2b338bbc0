"""The download pages in a real browser: Debian's Chromium, headless, driven by Selenium through Debian's
chromium-driver. Buttons download the files, the visitor's platform comes first, no script from hostile notes
runs, a phone's 390 px need no horizontal scroll, dark mode follows the system, and axe-core finds no
violation. Screenshots go to build/test-artifacts/.

Without chromium, chromium-driver or axe-core (`make clients`) these tests skip, saying so; under CI=true they
fail instead.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dist.persistence.store import StoreLocation, open_store
from tests.conftest import REPO_ROOT
from tests.pages.conftest import FILES, LINUX_UA, MAC_UA, WINDOWS_UA, fill
from tests.support import start, stop

AXE = REPO_ROOT / ".cache" / "node" / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = REPO_ROOT / "build" / "test-artifacts"
HOW = "run `make clients` (apt: chromium chromium-driver; npm: axe-core into .cache/node), or `bash .ci/run`"
FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
)


def missing(what: str) -> None:
    message = f"{what} is not installed: {HOW}"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="module")
def browser_paths() -> tuple[str, str]:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if chromium is None:
        missing("chromium")
    if driver is None:
        missing("chromium-driver")
    if not AXE.exists():
        missing("axe-core (npm)")
    assert chromium is not None and driver is not None
    return chromium, driver


@pytest.fixture
def browser(browser_paths: tuple[str, str], tmp_path: Path) -> Iterator[Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    chromium, driver_path = browser_paths
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path / 'profile'}")
    options.add_argument("--window-size=1280,900")
    driver = webdriver.Chrome(options=options, service=Service(driver_path))
    try:
        driver.set_page_load_timeout(30)
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def site(location: StoreLocation, tmp_path: Path) -> Iterator[str]:
    store = open_store(location)
    try:
        fill(store)
    finally:
        store.close()
    process, port = start(location, tmp_path / "distd.log", "--counts-interval", "0")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(process)


def screenshot(driver: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(ARTIFACTS / f"{name}.png"))


def user_agent(driver: Any, agent: str) -> None:
    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd("Network.setUserAgentOverride", {"userAgent": agent})


def axe_violations(driver: Any) -> list[dict[str, Any]]:
    driver.execute_script(AXE.read_text())
    driver.set_script_timeout(60)
    found: list[dict[str, Any]] = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {resultTypes: ['violations']})"
        ".then(r => done(r.violations.map(v => ({id: v.id, help: v.help, nodes: v.nodes.map(n => n.html)}))))"
        ".catch(e => done([{id: 'axe-error', help: String(e), nodes: []}]));"
    )
    return found


def buttons(driver: Any) -> list[str]:
    from selenium.webdriver.common.by import By

    return [b.text for b in driver.find_elements(By.CSS_SELECTOR, "article.release a.button")]


def test_visitors_platform_first_and_buttons_download(browser: Any, site: str, tmp_path: Path) -> None:
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    browser.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
    for agent, first, name in (
        (WINDOWS_UA, "Download for Windows x86-64", "windows"),
        (MAC_UA, "Download for macOS Universal", "mac"),
        (LINUX_UA, "Download for Linux x86-64", "linux"),
    ):
        user_agent(browser, agent)
        browser.get(f"{site}/apps/demo")
        shown = buttons(browser)
        assert shown[0] == first, shown
        assert len(shown) == 2 * len(FILES)  # stable and beta
        screenshot(browser, f"app-page-{name}")
    from selenium.webdriver.common.by import By

    browser.find_elements(By.CSS_SELECTOR, "article.release a.button")[0].click()
    target = downloads / FILES["linux-x86_64"]
    deadline = time.monotonic() + 20
    while not target.exists():
        assert time.monotonic() < deadline, list(downloads.iterdir())
        time.sleep(0.1)
    assert target.read_bytes() == b"1.2.0 linux-x86_64"


def test_no_script_from_the_notes_runs(browser: Any, site: str) -> None:
    from selenium.webdriver.common.by import By

    for path in ("/apps/demo", "/apps/demo/releases/1.1.0"):
        browser.get(site + path)
        # Click whatever the notes made a link, except the honest one (this machine may have no network).
        count = len(browser.find_elements(By.CSS_SELECTOR, ".notes a"))
        for index in range(count):
            link = browser.find_elements(By.CSS_SELECTOR, ".notes a")[index]
            if not (link.get_attribute("href") or "").startswith("https://example.com/"):
                link.click()
                assert browser.execute_script("return window.hacked === undefined")
                browser.get(site + path)
        for image in browser.find_elements(By.CSS_SELECTOR, ".notes img"):
            assert not (image.get_attribute("src") or "").startswith("javascript:")
        assert browser.execute_script("return window.hacked === undefined")
        assert browser.execute_script("return document.scripts.length") == 0
        notes = " ".join(n.text for n in browser.find_elements(By.CSS_SELECTOR, "section.notes"))
        assert "Faster" in notes and "<script>window.hacked = 10</script>" in notes
    screenshot(browser, "hostile-notes")


def test_a_phone_needs_no_horizontal_scroll(browser: Any, site: str) -> None:
    browser.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride", {"width": 390, "height": 844, "deviceScaleFactor": 2, "mobile": True}
    )
    for name, path in (("index", "/"), ("app", "/apps/demo"), ("release", "/apps/demo/releases/1.1.0")):
        browser.get(site + path)
        widths = browser.execute_script(
            "return [document.documentElement.scrollWidth, document.documentElement.clientWidth, window.innerWidth]"
        )
        assert widths[0] <= widths[1] == 390, (path, widths)
        screenshot(browser, f"phone-{name}")


def test_dark_mode_follows_the_system(browser: Any, site: str) -> None:
    background = "return getComputedStyle(document.body).backgroundColor"
    browser.get(f"{site}/apps/demo")
    assert browser.execute_script(background) == "rgb(255, 255, 255)"
    browser.execute_cdp_cmd(
        "Emulation.setEmulatedMedia", {"features": [{"name": "prefers-color-scheme", "value": "dark"}]}
    )
    browser.get(f"{site}/apps/demo")
    assert browser.execute_script(background) == "rgb(13, 17, 23)"
    screenshot(browser, "app-page-dark")


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_axe_core_finds_no_violation(browser: Any, site: str, scheme: str) -> None:
    browser.execute_cdp_cmd(
        "Emulation.setEmulatedMedia", {"features": [{"name": "prefers-color-scheme", "value": scheme}]}
    )
    for width in (1280, 390):
        browser.execute_cdp_cmd(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": 900, "deviceScaleFactor": 1, "mobile": width < 500},
        )
        for path in ("/", "/apps/demo", "/apps/demo/releases/1.1.0", "/apps/demo/releases/1.0.0"):
            browser.get(site + path)
            assert axe_violations(browser) == [], (scheme, width, path)
