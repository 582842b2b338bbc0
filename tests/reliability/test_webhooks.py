"""Webhook deliveries from real distd processes to a receiver that verifies them with the Standard Webhooks
library: through outages, 500s and slow answers, through SIGKILLs of distd in the middle of deliveries, and
from two instances on one store. Every acknowledged change arrives at least once; a repeat carries the same
webhook-id and body; nothing arrives for a change that was not committed; two instances never repeat an
attempt."""

from __future__ import annotations

import hashlib
import json
import random
import signal
import threading
import time
from collections import defaultdict
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import text

from dist.persistence.store import StoreLocation
from tests.receiver import Receiver
from tests.reliability.conftest import Servers, Size, admin_secret, run_dist

ALLOW = "--webhooks-allow-private"
BLOB = b"webhook reliability"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    running = Receiver().start()
    try:
        yield running
    finally:
        running.stop()


def subscribe(location: StoreLocation, receiver: Receiver, url: str | None = None) -> None:
    done = run_dist(location, "webhook", "create", url or receiver.url, "--event", "release_published", "--json")
    assert done.returncode == 0, done.stderr
    receiver.secret = json.loads(done.stdout)["secret"]


class Publisher:
    """Publishes versions 1.0.N of `hooked` over HTTP and remembers the ones acknowledged with 201."""

    def __init__(self, secret: str) -> None:
        self.headers = {"Authorization": f"Bearer {secret}"}
        self.acknowledged: list[str] = []
        self.sha256 = hashlib.sha256(BLOB).hexdigest()
        self._next = 0
        self._lock = threading.Lock()

    def upload(self, url: str) -> None:
        response = httpx.post(f"{url}/api/upload", content=BLOB, headers=self.headers, timeout=30)
        assert response.status_code in (200, 201), response.text

    def publish(self, url: str) -> bool:
        with self._lock:
            version = f"1.0.{self._next}"
            self._next += 1
        body = {"version": version, "artifacts": [{"filename": "app.bin", "sha256": self.sha256}]}
        try:
            response = httpx.post(f"{url}/api/apps/hooked/releases", json=body, headers=self.headers, timeout=30)
        except httpx.TransportError:
            return False
        assert response.status_code == 201, response.text
        with self._lock:
            self.acknowledged.append(version)
        return True


def delivered_versions(receiver: Receiver) -> dict[str, set[str]]:
    """Each published version the receiver accepted, with the webhook-ids it came under."""
    ids: dict[str, set[str]] = defaultdict(set)
    for got in receiver.received:
        assert got.body["action"] == "release_published"
        ids[got.body["target"]].add(got.message_id)
    return ids


def wait_until_delivered(receiver: Receiver, versions: list[str], timeout: float) -> dict[str, set[str]]:
    deadline = time.monotonic() + timeout
    while True:
        ids = delivered_versions(receiver)
        missing = set(versions) - set(ids)
        if not missing:
            return ids
        assert time.monotonic() < deadline, f"never delivered: {sorted(missing)}"
        time.sleep(0.1)


def committed_versions(location: StoreLocation) -> set[str]:
    engine = location.engine()
    try:
        with engine.connect() as connection:
            return set(connection.execute(text("SELECT version FROM releases")).scalars())
    finally:
        engine.dispose()


def check_at_least_once(receiver: Receiver, location: StoreLocation, acknowledged: list[str]) -> dict[str, set[str]]:
    ids = wait_until_delivered(receiver, acknowledged, timeout=90)
    assert receiver.rejected == []
    # One message per change: a repeat (after a lost answer, a kill) carries the same webhook-id and body.
    assert all(len(found) == 1 for found in ids.values()), {v: i for v, i in ids.items() if len(i) > 1}
    bodies: dict[str, str] = {}
    for got in receiver.received:
        assert bodies.setdefault(got.message_id, json.dumps(got.body, sort_keys=True)) == json.dumps(
            got.body, sort_keys=True
        )
    # Nothing arrives for a change that was not committed.
    assert set(ids) <= committed_versions(location)
    return ids


def test_outages_500s_and_slow_answers_delay_deliveries_but_lose_none(
    location: StoreLocation, servers: Servers, receiver: Receiver, size: Size
) -> None:
    subscribe(location, receiver)
    server = servers.start(ALLOW)
    publisher = Publisher(admin_secret(location))
    publisher.upload(server.url)
    rounds = size.pick(1, 5)
    for _ in range(rounds):
        receiver.status = 500
        for _ in range(size.pick(5, 20)):
            publisher.publish(server.url)
        time.sleep(1.5)
        port = receiver.port
        receiver.stop()
        for _ in range(size.pick(5, 20)):
            publisher.publish(server.url)
        time.sleep(2)
        receiver.status, receiver.delay = 204, 1.5
        receiver.start(port)
        for _ in range(size.pick(5, 20)):
            publisher.publish(server.url)
        wait_until_delivered(receiver, publisher.acknowledged, timeout=60)
        receiver.delay = 0
    ids = check_at_least_once(receiver, location, publisher.acknowledged)
    assert len(ids) == len(publisher.acknowledged) == rounds * size.pick(15, 60)
    deliveries = json.loads(run_dist(location, "webhook", "deliveries", "--limit", "10000", "--json").stdout)
    retried = [d for d in deliveries["deliveries"] if d["attempts"] > 1]
    assert retried and all(d["state"] == "delivered" for d in deliveries["deliveries"])
    print(f"\nwebhooks: {len(ids)} changes delivered through 500s, an outage and slow answers; {len(retried)} retried")


def test_distd_killed_during_deliveries_loses_none(
    location: StoreLocation, servers: Servers, receiver: Receiver, size: Size
) -> None:
    rng = random.Random(16)
    kills = size.pick(4, 50)
    subscribe(location, receiver)
    publisher = Publisher(admin_secret(location))
    # Slow enough that attempts are in flight when the kill comes.
    receiver.delay = 0.05
    for kill in range(kills):
        server = servers.start(ALLOW)
        if kill == 0:
            publisher.upload(server.url)
        stop = threading.Event()

        def write(url: str = server.url, stop: threading.Event = stop) -> None:
            while not stop.is_set() and publisher.publish(url):
                time.sleep(rng.uniform(0, 0.02))

        writer = threading.Thread(target=write)
        writer.start()
        time.sleep(rng.uniform(0.3, 1.5))
        process = servers.processes[-1]
        process.send_signal(signal.SIGKILL)
        process.wait()
        stop.set()
        writer.join(60)
    # Deliveries leased by a killed instance wait for their lease to run out; a last instance sends them.
    servers.start(ALLOW)
    ids = check_at_least_once(receiver, location, publisher.acknowledged)
    repeats = len(receiver.received) - len(ids)
    print(f"\nwebhooks: distd killed {kills} times; {len(ids)} changes delivered, {repeats} repeated after a kill")


def test_two_instances_make_each_attempt_once(
    location: StoreLocation, servers: Servers, receiver: Receiver, size: Size
) -> None:
    subscribe(location, receiver)
    first, second = servers.start(ALLOW), servers.start(ALLOW)
    publisher = Publisher(admin_secret(location))
    publisher.upload(first.url)
    writers = [
        threading.Thread(target=lambda url=url: [publisher.publish(url) for _ in range(size.pick(40, 300))])
        for url in (first.url, second.url)
    ]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(120)
    ids = check_at_least_once(receiver, location, publisher.acknowledged)
    # A receiver that always answers 204 at once: every message arrives exactly once.
    time.sleep(1)
    assert len(receiver.received) == receiver.attempts == len(ids) == len(publisher.acknowledged)
    engine = location.engine()
    try:
        with engine.connect() as connection:
            owners = connection.execute(text("SELECT count(*), max(attempts) FROM webhook_deliveries")).one()
    finally:
        engine.dispose()
    assert tuple(owners) == (len(ids), 1)


def test_a_private_address_is_refused_without_the_flag(
    location: StoreLocation, servers: Servers, receiver: Receiver
) -> None:
    subscribe(location, receiver, url=receiver.url.replace("127.0.0.1", "localhost"))
    server = servers.start()
    publisher = Publisher(admin_secret(location))
    publisher.upload(server.url)
    assert publisher.publish(server.url)
    deadline = time.monotonic() + 30
    while True:
        done = run_dist(location, "webhook", "deliveries", "--json")
        [delivery] = json.loads(done.stdout)["deliveries"]
        if delivery["last_error"]:
            break
        assert time.monotonic() < deadline
        time.sleep(0.2)
    assert delivery["state"] == "pending" and delivery["last_status"] is None
    assert delivery["last_error"].startswith("refused: localhost resolves to ")
    assert "loopback address; distd --webhooks-allow-private allows it" in delivery["last_error"]
    assert receiver.attempts == 0
