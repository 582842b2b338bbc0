"""Downloads by sha256 and by release/filename: ETag, 304, ranges, HEAD, caching, Content-Disposition."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from starlette.testclient import TestClient

from dist.http.downloads import UNSATISFIABLE, content_disposition, parse_range
from tests.http.conftest import assert_error, publish, sha256

DATA = bytes(range(256)) * 40  # 10240 bytes
IMMUTABLE = "public, max-age=31536000, immutable"


@pytest.fixture
def blob(client: TestClient, publisher: dict[str, str]) -> str:
    publish(client, publisher, "1.0.0", {"app-1.0.tar.gz": (DATA, "any"), "naïve «app».bin": (b"n", "any")})
    return sha256(DATA)


def test_download_by_sha256_and_by_filename(client: TestClient, blob: str) -> None:
    for url in (f"/api/objects/{blob}", "/api/apps/demo/releases/1.0.0/artifacts/app-1.0.tar.gz"):
        response = client.get(url)
        assert response.status_code == 200
        assert response.content == DATA
        assert response.headers["etag"] == f'"{blob}"'
        assert response.headers["cache-control"] == IMMUTABLE
        assert response.headers["accept-ranges"] == "bytes"
        assert response.headers["content-length"] == str(len(DATA))
    by_name = client.get("/api/apps/demo/releases/1.0.0/artifacts/app-1.0.tar.gz")
    assert by_name.headers["content-disposition"] == 'attachment; filename="app-1.0.tar.gz"'
    assert "content-disposition" not in client.get(f"/api/objects/{blob}").headers


def test_non_ascii_filename_uses_rfc_5987(client: TestClient, blob: str) -> None:
    response = client.get("/api/apps/demo/releases/1.0.0/artifacts/" + quote("naïve «app».bin"))
    assert response.status_code == 200
    assert response.content == b"n"
    disposition = response.headers["content-disposition"]
    assert disposition == (
        "attachment; filename=\"na_ve _app_.bin\"; filename*=UTF-8''na%C3%AFve%20%C2%ABapp%C2%BB.bin"
    )


def test_if_none_match_gives_304(client: TestClient, blob: str) -> None:
    url = f"/api/objects/{blob}"
    for header in (f'"{blob}"', f'W/"{blob}"', f'"other", "{blob}"', "*"):
        response = client.get(url, headers={"If-None-Match": header})
        assert response.status_code == 304, header
        assert response.content == b""
        assert response.headers["etag"] == f'"{blob}"'
    assert client.get(url, headers={"If-None-Match": '"other"'}).status_code == 200


@pytest.mark.parametrize(
    ("header", "first", "last"),
    [
        ("bytes=0-99", 0, 99),
        ("bytes=10000-", 10000, 10239),
        ("bytes=-40", 10200, 10239),
        ("bytes=10230-99999", 10230, 10239),
    ],
)
def test_single_range(client: TestClient, blob: str, header: str, first: int, last: int) -> None:
    response = client.get(f"/api/objects/{blob}", headers={"Range": header})
    assert response.status_code == 206
    assert response.content == DATA[first : last + 1]
    assert response.headers["content-range"] == f"bytes {first}-{last}/{len(DATA)}"
    assert response.headers["content-length"] == str(last - first + 1)
    assert response.headers["etag"] == f'"{blob}"'


def test_unsatisfiable_range_is_416(client: TestClient, blob: str) -> None:
    for header in ("bytes=10240-", "bytes=99999-100000", "bytes=-0"):
        response = client.get("/api/apps/demo/releases/1.0.0/artifacts/app-1.0.tar.gz", headers={"Range": header})
        assert_error(response, 416, "download.range_not_satisfiable")
        assert response.headers["content-range"] == f"bytes */{len(DATA)}"


def test_ignored_ranges_send_the_whole_blob(client: TestClient, blob: str) -> None:
    url = f"/api/objects/{blob}"
    for header in ("bytes=5-1", "items=0-1", "bytes=a-b", "bytes=0-1,5-6"):
        response = client.get(url, headers={"Range": header})
        assert (response.status_code, response.content) == (200, DATA), header
    # If-Range names another version of the bytes: the range no longer applies.
    response = client.get(url, headers={"Range": "bytes=0-9", "If-Range": '"other"'})
    assert (response.status_code, len(response.content)) == (200, len(DATA))
    response = client.get(url, headers={"Range": "bytes=0-9", "If-Range": f'"{blob}"'})
    assert (response.status_code, response.content) == (206, DATA[:10])


def test_head(client: TestClient, blob: str) -> None:
    response = client.head("/api/apps/demo/releases/1.0.0/artifacts/app-1.0.tar.gz")
    assert response.status_code == 200
    assert response.content == b""
    assert response.headers["content-length"] == str(len(DATA))
    assert response.headers["etag"] == f'"{blob}"'
    assert response.headers["content-disposition"].startswith("attachment;")
    ranged = client.head(f"/api/objects/{blob}", headers={"Range": "bytes=0-9"})
    assert (ranged.status_code, ranged.headers["content-length"], ranged.content) == (206, "10", b"")


def test_yanked_release_stays_downloadable(client: TestClient, blob: str, admin: dict[str, str]) -> None:
    assert client.post("/api/apps/demo/releases/1.0.0/yank", headers=admin, content=b"").status_code == 200
    assert client.get("/api/apps/demo/releases/1.0.0/artifacts/app-1.0.tar.gz").content == DATA


def test_download_refusals(client: TestClient, blob: str) -> None:
    assert_error(client.get("/api/objects/" + "0" * 64), 404, "object.not_found")
    assert_error(client.get("/api/objects/" + "A" * 64), 422, "object.invalid_sha256")
    assert_error(client.get("/api/objects/../dist.db"), 404, "route.not_found")
    assert_error(client.get("/api/apps/demo/releases/1.0.0/artifacts/other.bin"), 404, "artifact.not_found")
    assert_error(client.get("/api/apps/demo/releases/2.0.0/artifacts/app-1.0.tar.gz"), 404, "release.not_found")
    assert_error(client.get("/api/apps/ghost/releases/1.0.0/artifacts/app-1.0.tar.gz"), 404, "app.not_found")


def test_parse_range() -> None:
    assert parse_range(None, 10) is None
    assert parse_range("bytes=0-0", 10) == (0, 0)
    assert parse_range("bytes = 2 - 4", 10) == (2, 4)
    assert parse_range("bytes=-100", 10) == (0, 9)
    assert parse_range("bytes=0-", 0) == UNSATISFIABLE
    assert parse_range("bytes=-5", 0) == UNSATISFIABLE
    assert parse_range("bytes=²-3", 10) is None
    assert parse_range("bytes=-", 10) is None


def test_content_disposition_escapes_quotes() -> None:
    assert (
        content_disposition('a"b\\c%.txt') == "attachment; filename=\"a_b_c_.txt\"; filename*=UTF-8''a%22b%5Cc%25.txt"
    )
