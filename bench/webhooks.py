"""Webhooks: how soon a delivery leaves after its commit under load, and what subscribed endpoints cost a
publish.

- Delivery latency: two distd instances on one store, each with its delivery worker, take publishes at 50 a
  second (alternating between them) for a while; a receiver on loopback notes when each delivery arrives.
  Latency = arrival - the audit event's `at` (stamped inside the transaction, just before its commit, so
  the figure errs on the long side). Target: p99 <= 1 s.
- Publish cost: the same publishes to two stores served side by side, one with 5 endpoints subscribed to
  every event and one with none, alternating. Target: median with 5 / median with none <= 1.1.

    python -m bench.webhooks [--quick] [--duration 8]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

from bench.common import (
    DIST,
    PG_ADMIN_URL,
    REPO_ROOT,
    Figure,
    Gap,
    Server,
    at_most,
    create_token,
    dist,
    distd,
    free_port,
    log,
    main_for,
    median,
    publish_blob,
    publish_release,
    started,
    wait_http,
)

NAME = "webhooks"
RATE = 50.0
ENDPOINTS = 5
ALLOW = "--webhooks-allow-private"


class Receiver:
    """Notes the wall-clock arrival of each delivery, by the audit event's id; answers 204 at once."""

    def __init__(self) -> None:
        self.arrivals: dict[int, tuple[float, str]] = {}
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            # Keep-alive, as receivers behind nginx or uvicorn answer.
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                arrived = time.time()
                event = json.loads(self.rfile.read(int(self.headers["content-length"])))
                with receiver._lock:
                    receiver.arrivals.setdefault(event["id"], (arrived, event["at"]))
                self.send_response(204)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return None

        class Server(ThreadingHTTPServer):
            # socketserver's listen backlog is 5: a burst of connections beyond it has its SYNs dropped and
            # retried by TCP a second later, which would measure the receiver rather than dist.
            request_queue_size = 1024

        self.server = Server(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _epoch(rfc3339: str) -> float:
    return datetime.fromisoformat(rfc3339.replace("Z", "+00:00")).timestamp()


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


@contextlib.contextmanager
def postgresql() -> Iterator[str]:
    """A fresh PostgreSQL database at the schema's head; its URL. Dropped afterwards."""
    try:
        import psycopg

        admin = psycopg.connect(PG_ADMIN_URL, autocommit=True)
    except Exception as error:
        raise Gap(f"PostgreSQL is not reachable at {PG_ADMIN_URL}: {error}") from error
    name = f"dist_bench_webhooks_{os.getpid()}"
    with admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            url = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://") + f"/{name}"
            subprocess.run(
                [str(Path(sys.executable).parent / "alembic"), "upgrade", "head"],
                env={**os.environ, "DIST_DATABASE_URL": url},
                cwd=REPO_ROOT,
                check=True,
                capture_output=True,
                timeout=600,
            )
            yield url
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.contextmanager
def instance(store: Path, work: Path, database_url: str | None) -> Iterator[Server]:
    if database_url is None:
        with distd(store, work, ALLOW) as server:
            yield server
        return
    port = free_port()
    logfile = work / f"distd-{port}.log"
    command = [DIST, "--store", str(store), "--database-url", database_url, "serve", "--port", str(port), ALLOW]
    with started(command, logfile) as process:
        base = f"http://127.0.0.1:{port}"
        wait_http(base + "/healthz", process, logfile)
        yield Server(base, process, logfile)


def delivery_latency(args: argparse.Namespace, work: Path, receiver: Receiver, engine: str) -> list[Figure]:
    if engine == "SQLite":
        return _delivery_latency(args, work / "latency-sqlite", receiver, engine, None)
    with postgresql() as url:
        return _delivery_latency(args, work / "latency-postgresql", receiver, engine, url)


def _delivery_latency(
    args: argparse.Namespace, store: Path, receiver: Receiver, engine: str, url: str | None
) -> list[Figure]:
    work = store.parent
    created = json.loads(
        dist(store, "token", "create", "--name", "bench", "--scope", "admin", "--json", database_url=url)
    )
    token = str(created["secret"])
    dist(store, "webhook", "create", receiver.url, "--event", "release_published", database_url=url)
    seconds = max(args.duration, 5.0)
    with instance(store, work, url) as first, instance(store, work, url) as second:
        clients = [httpx.Client(base_url=s.base, timeout=60) for s in (first, second)]
        digest = publish_blob(clients[0], token, os.urandom(1024))
        total = int(RATE * seconds)
        started = time.monotonic()

        def publish(n: int) -> None:
            # Paced: the n-th publish starts at n / RATE seconds, whatever the previous ones took.
            delay = started + n / RATE - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            publish_release(clients[n % 2], token, "hooked", f"1.0.{n}", digest)

        with ThreadPoolExecutor(max_workers=16) as pool:
            list(pool.map(publish, range(total)))
        achieved = total / (time.monotonic() - started)
        deadline = time.monotonic() + 60
        while len(receiver.arrivals) < total and time.monotonic() < deadline:
            time.sleep(0.1)
        for client in clients:
            client.close()
    if len(receiver.arrivals) < total:
        raise Gap(f"only {len(receiver.arrivals)} of {total} deliveries arrived within a minute")
    latencies = [arrived - _epoch(at) for arrived, at in receiver.arrivals.values()]
    p50, p99 = percentile(latencies, 0.5), percentile(latencies, 0.99)
    log(f"webhooks: {total} publishes at {achieved:.0f}/s over two instances; p50 {p50 * 1000:.0f} ms")
    return [
        Figure(
            NAME,
            f"delivery after commit, p99 (2 instances on {engine}, 50 publishes/s)",
            f"{p99 * 1000:.0f} ms",
            "1000 ms",
            *at_most(p99, 1.0),
            f"{total} deliveries at {achieved:.1f} publishes/s; p50 {p50 * 1000:.0f} ms, "
            f"max {max(latencies) * 1000:.0f} ms",
        )
    ]


def publish_cost(args: argparse.Namespace, work: Path, receiver: Receiver) -> list[Figure]:
    plain, hooked = work / "plain", work / "hooked"
    tokens = {plain: create_token(plain), hooked: create_token(hooked)}
    for n in range(ENDPOINTS):
        dist(hooked, "webhook", "create", f"{receiver.url}/{n}")
    rounds = 40 if args.quick else 200
    times: dict[Path, list[float]] = {plain: [], hooked: []}
    with distd(plain, work, ALLOW) as plain_server, distd(hooked, work, ALLOW) as hooked_server:
        targets = []
        for store, server in ((plain, plain_server), (hooked, hooked_server)):
            client = httpx.Client(base_url=server.base, timeout=60)
            targets.append((store, client, publish_blob(client, tokens[store], os.urandom(1024))))
        for n in range(rounds):
            for store, client, digest in targets if n % 2 else reversed(targets):
                start = time.perf_counter()
                publish_release(client, tokens[store], "bench", f"2.0.{n}", digest)
                times[store].append(time.perf_counter() - start)
            # Room for the deliveries of the hooked store to go out between publishes, as in real use.
            time.sleep(0.02)
        for _, client, _ in targets:
            client.close()
    without, with_five = median(times[plain]) * 1000, median(times[hooked]) * 1000
    log(f"webhooks: publish {without:.2f} ms without endpoints, {with_five:.2f} ms with {ENDPOINTS}")
    return [
        Figure(
            NAME,
            f"publish with {ENDPOINTS} endpoints subscribed vs none",
            f"{with_five:.2f} ms",
            f"{without:.2f} ms",
            *at_most(with_five / without, 1.1),
            f"median of {rounds} publishes each, alternating between two stores",
        )
    ]


def run(args: argparse.Namespace, work: Path) -> list[Figure]:
    figures: list[Figure] = []
    for engine in ("PostgreSQL", "SQLite"):
        receiver = Receiver()
        try:
            figures += delivery_latency(args, work, receiver, engine)
        except Gap as gap:
            figures.append(
                Figure(
                    NAME,
                    f"delivery after commit, p99 (2 instances on {engine})",
                    "-",
                    "-",
                    None,
                    "<= 1",
                    None,
                    str(gap),
                )
            )
        finally:
            receiver.close()
    receiver = Receiver()
    try:
        figures += publish_cost(args, work, receiver)
    finally:
        receiver.close()
    return figures


def main() -> None:
    main_for(NAME, run, __doc__ or "")


if __name__ == "__main__":
    main()
