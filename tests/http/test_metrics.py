"""/metrics and the access log: the metrics scope (admin includes it), Prometheus text that prometheus_client's
own parser reads, numbers that are the server's whichever of several workers answers, a metrics directory that
goes when distd stops, and JSON access log lines with request ids and no secret."""

from __future__ import annotations

import json
import os
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families
from starlette.testclient import TestClient

from dist.http.app import create_app
from dist.persistence.store import Store, StoreLocation
from tests.cli.conftest import DIST
from tests.http.conftest import assert_error, bearer, make_token, publish
from tests.support import start, stop, store_args


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[sample.name, tuple(sorted(sample.labels.items()))] = sample.value
    return found


def value(text: str, name: str, **labels: str) -> float:
    return samples(text).get((name, tuple(sorted(labels.items()))), 0.0)


def test_metrics_needs_the_metrics_scope(store: Store) -> None:
    with TestClient(create_app(store, counts_interval=0)) as client:
        assert_error(client.get("/metrics"), 401, "auth.missing")
        assert_error(client.get("/metrics", headers=bearer(make_token(store, "publish")[1])), 403, "auth.missing_scope")
        assert client.get("/metrics", headers=bearer(make_token(store, "admin")[1])).status_code == 200
        answer = client.get("/metrics", headers=bearer(make_token(store, "metrics")[1]))
        assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/plain")


def test_requests_checks_bytes_and_cache_are_counted(store: Store) -> None:
    headers = bearer(make_token(store, "publish")[1])
    reader = bearer(make_token(store, "metrics")[1])
    with TestClient(create_app(store, counts_interval=0)) as client:
        publish(client, headers, "1.0.0", {"a.bin": (b"x" * 1000, "any")}, channel="stable")
        before = client.get("/metrics", headers=reader).text
        for _ in range(3):
            assert client.get("/api/apps/demo/channels/stable/latest", params={"current": "0.1.0"}).status_code == 200
        assert client.get("/api/apps/demo/releases/9.9.9").status_code == 404
        assert client.get("/api/apps/demo/releases/1.0.0/artifacts/a.bin").status_code == 200
        assert client.get("/no/such/path").status_code == 404
        after = client.get("/metrics", headers=reader).text

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    latest = "/api/apps/{slug}/channels/{name}/latest"
    assert delta("dist_http_requests_total", route=latest, method="GET", status="200") == 3
    assert (
        delta("dist_http_requests_total", route="/api/apps/{slug}/releases/{version}", method="GET", status="404") == 1
    )
    assert delta("dist_http_requests_total", route="other", method="GET", status="404") == 1
    assert delta("dist_update_checks_total", app="demo", channel="stable") == 3
    assert delta("dist_read_cache_lookups_total", result="hit") >= 2
    assert delta("dist_http_request_duration_seconds_count", route=latest) == 3
    artifact = "/api/apps/{slug}/releases/{version}/artifacts/{filename}"
    assert delta("dist_http_response_bytes_total", route=artifact) == 1000
    assert value(after, "dist_http_request_bytes_total", route="/api/upload") >= 1000


def test_several_workers_report_one_servers_numbers(location: StoreLocation, tmp_path: Path) -> None:
    log = tmp_path / "distd.log"
    process, port = start(location, log, "--workers", "2", "--counts-interval", "0")
    environment = Path(f"/proc/{process.pid}/environ").read_bytes().split(b"\0")
    metrics_dir = next(v.split(b"=", 1)[1].decode() for v in environment if v.startswith(b"PROMETHEUS_MULTIPROC_DIR="))
    try:
        token = subprocess.run(
            [str(DIST), *store_args(location), "token", "create", "--name", "m", "--scope", "metrics", "--json"],
            capture_output=True,
            text=True,
            timeout=60,
            env={k: v for k, v in os.environ.items() if not k.startswith("DIST_")},
        )
        secret = json.loads(token.stdout)["secret"]
        base = f"http://127.0.0.1:{port}"
        for _ in range(20):
            # A new connection each time: the kernel spreads them over both workers.
            assert httpx.get(f"{base}/api/apps").status_code == 200
        assert httpx.get(f"{base}/api/apps", headers={"X-Request-ID": "abc-123"}).headers["x-request-id"] == "abc-123"
        generated = httpx.get(f"{base}/api/apps", headers={"X-Request-ID": "bad id <script>"}).headers["x-request-id"]
        assert len(generated) == 32 and generated != "bad id"
        for _ in range(6):
            text = httpx.get(f"{base}/metrics", headers={"Authorization": f"Bearer {secret}"}).text
            assert value(text, "dist_http_requests_total", route="/api/apps", method="GET", status="200") == 22
        assert os.path.isdir(metrics_dir) and len(os.listdir(metrics_dir)) >= 2
    finally:
        stop(process)
    assert not os.path.exists(metrics_dir)
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    apps = [line for line in lines if line["path"] == "/api/apps"]
    assert len(apps) == 22 and all(line["status"] == 200 and line["route"] == "/api/apps" for line in apps)
    assert {"request_id", "method", "status", "duration_ms", "bytes_out", "client", "time"} <= set(apps[0])
    assert [line["request_id"] for line in apps].count("abc-123") == 1
    assert generated in [line["request_id"] for line in apps]
    assert len({line["request_id"] for line in apps}) == 22
    # The metrics token went out in every /metrics request: never into the log.
    assert secret not in log.read_text()
    assert not [line for line in lines if "authorization" in json.dumps(line).lower()]
    assert all(line["status"] == 200 for line in lines if line["path"] == "/metrics")


def test_access_log_lines_say_what_was_asked_and_answered(store: Store) -> None:
    lines: list[bytes] = []
    before = datetime.now(UTC) - timedelta(seconds=1)
    with TestClient(create_app(store, counts_interval=0, access_log=lines.append)) as client:
        client.get("/api/apps/demo/channels/stable/latest", params={"platform": "linux-x86_64", "current": "1.0.0"})
        client.get("/api/apps?%74oken=s3cret&a=b+c", headers={"User-Agent": "probe/1"})
        answered = client.get("/api/apps")
    after = datetime.now(UTC) + timedelta(seconds=1)
    assert all(line.endswith(b"\n") and line.count(b"\n") == 1 for line in lines)
    check, secret, plain = (json.loads(line) for line in lines)
    assert check["route"] == "/api/apps/{slug}/channels/{name}/latest" and check["status"] == 404
    assert check["query"] == "platform=linux-x86_64&current=1.0.0" and check["method"] == "GET"
    # Decoded before the names are judged: a percent-encoded credential is still redacted.
    assert secret["query"] == "token=[redacted]&a=b c" and secret["user_agent"] == "probe/1"
    assert b"s3cret" not in b"".join(lines)
    stamp = datetime.strptime(plain["time"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    assert before <= stamp <= after
    assert plain["request_id"] == answered.headers["x-request-id"] and len(plain["request_id"]) == 32
    assert len({line["request_id"] for line in (check, secret, plain)}) == 3
    assert plain["bytes_out"] == len(answered.content) and plain["duration_ms"] >= 0
