"""The update feeds during a rollout: Squirrel buckets by client id as /latest does (the base without one),
electron-updater's channel file says stagingPercentage, Sparkle's item says phasedRolloutInterval over a moving
ramp; cached feeds follow the ramp's steps."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from email.utils import parsedate_to_datetime

from starlette.testclient import TestClient

from dist.domain.feeds.sparkle import NAMESPACE
from tests.conftest import Clock
from tests.http.conftest import publish

MAC = "/feeds/demo/squirrel/stable/darwin-aarch64/0.1.0"
LATEST = "/api/apps/demo/channels/stable/latest?platform=darwin-aarch64"
PROMOTE = "/api/apps/demo/channels/stable/promote"
CLIENTS = [f"mac-{i}" for i in range(300)]


def two_mac_releases(client: TestClient, headers: dict[str, str]) -> None:
    for version, channel in (("1.0.0", "stable"), ("2.0.0", None)):
        files = {f"Demo-{version}-mac.zip": (f"zip {version}".encode(), "darwin-aarch64")}
        publish(client, headers, version, files, channel=channel)


def squirrel_name(client: TestClient, client_id: str | None, *, header: bool = False) -> str:
    url, headers = MAC, {}
    if client_id is not None and header:
        headers = {"X-Dist-Client": client_id}
    elif client_id is not None:
        url += f"?client={client_id}"
    response = client.get(url, headers=headers)
    assert response.status_code == 200, response.text
    name: str = response.json()["name"]
    return name


def latest_version(client: TestClient, client_id: str) -> str:
    version: str = client.get(LATEST + f"&client={client_id}").json()["release"]["version"]
    return version


def test_squirrel_answers_what_the_update_check_answers(client: TestClient, publisher: dict[str, str]) -> None:
    two_mac_releases(client, publisher)
    assert client.post(PROMOTE, json={"version": "2.0.0", "rollout": {"percent": 40}}, headers=publisher).is_success
    answers = {c: squirrel_name(client, c) for c in CLIENTS}
    assert answers == {c: latest_version(client, c) for c in CLIENTS}
    assert set(answers.values()) == {"1.0.0", "2.0.0"}
    assert {c: squirrel_name(client, c, header=True) for c in CLIENTS[:50]} == {c: answers[c] for c in CLIENTS[:50]}
    assert squirrel_name(client, None) == "1.0.0"
    # A client on the base release is told 204 only when it runs the new one.
    member = next(c for c, v in answers.items() if v == "2.0.0")
    assert client.get(MAC.replace("0.1.0", "2.0.0") + f"?client={member}").status_code == 204


def test_electron_yml_carries_the_staging_percentage(
    client: TestClient, clock: Clock, publisher: dict[str, str]
) -> None:
    for version, channel in (("1.0.0", "stable"), ("2.0.0", None)):
        publish(
            client, publisher, version, {f"Demo-{version}.exe": (version.encode(), "windows-x86_64")}, channel=channel
        )
    body = {"version": "2.0.0", "rollout": {"ramp": [10, 50, 100], "every": "2h"}}
    assert client.post(PROMOTE, json=body, headers=publisher).is_success
    yml = client.get("/feeds/demo/electron/stable.yml").text
    assert yml.startswith('version: "2.0.0"\n')
    assert "stagingPercentage: 10\n" in yml
    clock.advance(hours=2)
    assert "stagingPercentage: 50\n" in client.get("/feeds/demo/electron/stable.yml").text
    clock.advance(hours=2)
    assert "stagingPercentage" not in client.get("/feeds/demo/electron/stable.yml").text


def test_sparkle_phases_span_the_ramp(client: TestClient, clock: Clock, publisher: dict[str, str]) -> None:
    two_mac_releases(client, publisher)
    clock.advance(hours=5)
    body = {"version": "2.0.0", "rollout": {"ramp": [5, 25, 50, 100], "every": "24h"}}
    assert client.post(PROMOTE, json=body, headers=publisher).is_success
    started = clock.now
    channel = ET.fromstring(client.get("/feeds/demo/sparkle/appcast.xml").content).find("channel")
    assert channel is not None
    (item,) = channel.findall("item")
    assert item.findtext("sparkle:version", namespaces={"sparkle": NAMESPACE}) == "2.0.0"
    # Three days from the first step to 100%: Sparkle's 7 groups, one every 3 days / 6 = 12 hours, from the start.
    interval = item.findtext("sparkle:phasedRolloutInterval", namespaces={"sparkle": NAMESPACE})
    assert interval == str(12 * 3600)
    pub_date = item.findtext("pubDate")
    assert pub_date is not None and parsedate_to_datetime(pub_date) == started.replace(microsecond=0)
    # Halted, Sparkle has no way to hold a share: without a client id it gets the base, as /latest answers.
    assert client.post("/api/apps/demo/channels/stable/rollout", json={"action": "halt"}, headers=publisher).is_success
    halted = ET.fromstring(client.get("/feeds/demo/sparkle/appcast.xml").content)
    assert [i.findtext("title") for i in halted.iter("item")] == ["1.0.0"]
    assert b"phasedRolloutInterval" not in client.get("/feeds/demo/sparkle/appcast.xml").content
    assert client.post(
        "/api/apps/demo/channels/stable/rollout", json={"action": "complete"}, headers=publisher
    ).is_success
    done = client.get("/feeds/demo/sparkle/appcast.xml").content
    assert b"<title>2.0.0</title>" in done and b"phasedRolloutInterval" not in done
