"""The download pages as a client sees their HTML (in process, no browser): download buttons in the visitor's
order, digests, Markdown notes with nothing hostile left, yanked releases marked, pagination, the stylesheet,
ETags and the read cache keeping one page per platform."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

from starlette.testclient import TestClient

from dist.http.app import create_app
from dist.persistence.store import Store, StoreLocation, open_store
from dist.services import releases
from dist.services.releases import ArtifactSpec
from tests.http.conftest import assert_error
from tests.legacy.generate import generate
from tests.pages.conftest import FILES, LINUX_UA, MAC_UA, PHONE_UA, WINDOWS_UA, fill


class Links(HTMLParser):
    """The download buttons (their text and href), every tag and attribute, and the text of the page."""

    def __init__(self) -> None:
        super().__init__()
        self.buttons: list[tuple[str, str]] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self._in_button: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        self.tags.append((tag, found))
        if tag == "a" and "button" in (found.get("class") or ""):
            self._in_button = found["href"] or ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._in_button is not None:
            self.buttons.append(("".join(self._text).strip(), self._in_button))
            self._in_button, self._text = None, []

    def handle_data(self, data: str) -> None:
        if self._in_button is not None:
            self._text.append(data)


def parsed(html: str) -> Links:
    links = Links()
    links.feed(html)
    return links


def stable_buttons(client: TestClient, user_agent: str) -> list[str]:
    html = client.get("/apps/demo", headers={"User-Agent": user_agent}).text
    # The stable channel comes first; its buttons are the first five.
    return [text for text, _ in parsed(html).buttons[: len(FILES)]]


def test_index_lists_the_apps(pages: TestClient) -> None:
    answer = pages.get("/")
    assert answer.status_code == 200 and answer.headers["content-type"] == "text/html; charset=utf-8"
    assert '<a href="/apps/demo">demo</a>' in answer.text
    assert '<html lang="en">' in answer.text and "<main" in answer.text


def test_the_visitors_platform_comes_first(pages: TestClient) -> None:
    assert stable_buttons(pages, WINDOWS_UA)[0] == "Download for Windows x86-64"
    assert stable_buttons(pages, MAC_UA)[0] == "Download for macOS Universal"
    linux = stable_buttons(pages, LINUX_UA)
    assert linux[:3] == ["Download for Linux x86-64", "Download for Linux ARM64", "Download for any platform"]
    # Unknown: the release's own order.
    assert stable_buttons(pages, PHONE_UA) == [
        "Download for Linux x86-64",
        "Download for Windows x86-64",
        "Download for macOS Universal",
        "Download for Linux ARM64",
        "Download for any platform",
    ]
    html = pages.get("/apps/demo", headers={"User-Agent": WINDOWS_UA}).text
    assert html.count("for your system") == 2  # stable and beta each recommend one file
    assert 'class="button primary"' in html


def test_buttons_download_the_files_and_digests_are_shown(pages: TestClient, filled: Store) -> None:
    html = pages.get("/apps/demo", headers={"User-Agent": LINUX_UA}).text
    for text, href in parsed(html).buttons[: len(FILES)]:
        download = pages.get(href)
        assert download.status_code == 200, (text, href)
        assert download.content.startswith(b"1.2.0 ")
    release = releases.get_release(filled.uow(), "demo", "1.2.0")
    for artifact in release.artifacts:
        assert f"<code>{artifact.sha256}</code>" in html
    assert "Demo Setup.exe" in html


def test_hostile_notes_lose_every_script(pages: TestClient) -> None:
    for path in ("/apps/demo", "/apps/demo/releases/1.1.0"):
        html = pages.get(path).text
        assert "<strong>Faster</strong>" in html and '<a href="https://example.com/docs"' in html
        notes = "".join(re.findall(r'<section class="notes"[^>]*>(.*?)</section>', html, re.DOTALL))
        assert "Faster" in notes
        assert not {tag for tag, _ in parsed(notes).tags} & {"svg", "details", "img"}
        for tag, attributes in parsed(html).tags:
            assert tag not in ("script", "iframe", "style", "object", "embed"), tag
            for name, value in attributes.items():
                assert not name.startswith("on"), (tag, name)
                assert not re.match(r"\s*(javascript|data|vbscript):", value or "", re.IGNORECASE), (tag, value)
        # What was code stays visible as text.
        assert "&lt;script&gt;window.hacked = 10&lt;/script&gt;" in html


def test_yanked_releases_are_marked_and_still_shown(pages: TestClient) -> None:
    html = pages.get("/apps/demo").text
    assert re.search(r'1\.0\.0</a> <time[^>]*>[^<]*</time> <span class="badge yanked">yanked</span>', html)
    page = pages.get("/apps/demo/releases/1.0.0").text
    assert "This release was withdrawn" in page and "Download for" in page


def test_release_page_and_refusals(pages: TestClient) -> None:
    page = pages.get("/apps/demo/releases/1.2.0")
    assert page.status_code == 200 and "Served on stable." in page.text
    assert_error(pages.get("/apps/nope"), 404, "app.not_found")
    assert_error(pages.get("/apps/demo/releases/9.9.9"), 404, "release.not_found")
    assert_error(pages.get("/apps/demo/releases/latest"), 422, "release.invalid_version")
    assert_error(pages.get("/apps/demo?cursor=x"), 422, "release.invalid_cursor")


def test_pages_of_releases(store: Store) -> None:
    fill(store)
    sha = store.objects.put_stream([b"x"]).sha256
    for n in range(3, 120):
        releases.publish(store.uow(), app="demo", version=f"1.{n}.0", artifacts=[ArtifactSpec("a", sha)], actor="t")
    with TestClient(create_app(store, counts_interval=0)) as client:
        first = client.get("/apps/demo").text
        listed = re.findall(r'<a href="/apps/demo/releases/([^"]+)">', first)
        assert listed[:2] == ["1.119.0", "1.118.0"] and len(listed) == 50
        cursor = re.search(r'href="/apps/demo\?cursor=(\d+)" rel="next"', first)
        assert cursor is not None
        second = client.get(f"/apps/demo?cursor={cursor.group(1)}").text
        assert re.findall(r'<a href="/apps/demo/releases/([^"]+)">', second)[0] == "1.69.0"
        third_cursor = re.search(r'cursor=(\d+)" rel="next"', second)
        assert third_cursor is not None
        last = client.get(f"/apps/demo?cursor={third_cursor.group(1)}").text
        assert re.findall(r'<a href="/apps/demo/releases/([^"]+)">', last)[-1] == "1.0.0"
        assert 'rel="next"' not in last and "Download for" not in last


def test_stylesheet_etags_and_the_cache(pages: TestClient) -> None:
    html = pages.get("/apps/demo", headers={"User-Agent": WINDOWS_UA})
    css_url = re.search(r'<link rel="stylesheet" href="([^"]+)">', html.text)
    assert css_url is not None
    css = pages.get(css_url.group(1))
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    assert "prefers-color-scheme: dark" in css.text and "immutable" in css.headers["cache-control"]
    assert html.headers["vary"] == "User-Agent"
    again = pages.get("/apps/demo", headers={"User-Agent": WINDOWS_UA, "If-None-Match": html.headers["etag"]})
    assert again.status_code == 304
    # Cached per platform: another visitor gets their own order.
    assert stable_buttons(pages, MAC_UA)[0] == "Download for macOS Universal"
    assert stable_buttons(pages, WINDOWS_UA)[0] == "Download for Windows x86-64"


def test_the_page_of_an_app_with_ten_thousand_releases_stays_small(tmp_path: Path) -> None:
    """HTML and stylesheet of the app page of a 10,000-release app (the test suite's generator, imported on first
    load) within 60 KB: its releases come a page at a time."""
    root = tmp_path / "store"
    slug = generate(root, apps=1, releases=10_000, blob_bytes=0)["apps"][0]["slug"]
    store = open_store(StoreLocation(root, None))
    try:
        with TestClient(create_app(store, counts_interval=0)) as client:
            page = client.get(f"/apps/{slug}", headers={"User-Agent": LINUX_UA})
            assert page.status_code == 200 and "Download for" in page.text
            css_url = re.search(r'<link rel="stylesheet" href="([^"]+)">', page.text)
            assert css_url is not None
            css = client.get(css_url.group(1))
            assert len(page.content) + len(css.content) <= 60 * 1024
            assert len(re.findall(r'<a href="/apps/[^/]+/releases/', page.text)) == 50
    finally:
        store.close()


def test_adoption_is_drawn_as_an_inline_svg(pages: TestClient) -> None:
    html = pages.get("/apps/demo").text
    svg = re.search(r'<svg role="img" aria-label="([^"]+)"[^>]*>(.*?)</svg>', html)
    assert svg is not None
    # 40 checks over five days: 1.0.0 15, 1.2.0 15, 1.1.0 10.
    assert svg.group(1).endswith(": 1.2.0 38%, 1.0.0 38%, 1.1.0 25%")
    assert len(re.findall(r"<rect ", svg.group(2))) == 5 * 3
    assert "1.1.0: 25.0% (10)" in html and "1.0.0: 37.5% (15)" in html
