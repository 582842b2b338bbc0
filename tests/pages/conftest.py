"""Fixtures of the download page tests: a store with an app whose notes are hostile Markdown."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from starlette.testclient import TestClient

from dist.domain.counts import Tally
from dist.http.app import create_app
from dist.persistence.store import Store
from dist.services import counts, releases
from dist.services.releases import ArtifactSpec

# Every trick a publisher (or a stolen publish token) could try in release notes.
HOSTILE_NOTES = """# What's new

* **Faster** start-up, see [the docs](https://example.com/docs).
* <script>window.hacked = 1</script>
* <img src=x onerror="window.hacked = 2">
* [click me](javascript:window.hacked=3)
* <a href="javascript:window.hacked=4">raw link</a>
* <svg onload="window.hacked=5"></svg>
* <iframe src="javascript:window.hacked=6"></iframe>
* <style>body { display: none }</style>
* ![pixel](javascript:window.hacked=7)
* [data](data:text/html;base64,PHNjcmlwdD53aW5kb3cuaGFja2VkPTg8L3NjcmlwdD4=)
* <details open ontoggle="window.hacked=9">x</details>

```
<script>window.hacked = 10</script>
```
"""
PLATFORMS = ["linux-x86_64", "windows-x86_64", "darwin-universal", "linux-aarch64", "any"]
WINDOWS_UA = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36"
)
MAC_UA = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 "
    "Safari/605.1.15"
)
LINUX_UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36"
PHONE_UA = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148"
)
FILES = {
    "linux-x86_64": "demo-linux-x86_64.tar.gz",
    "windows-x86_64": "Demo Setup.exe",
    "darwin-universal": "Demo.dmg",
    "linux-aarch64": "demo-linux-aarch64.tar.gz",
    "any": "demo.jar",
}


def fill(store: Store, *, versions: int = 3) -> None:
    """demo: `versions` releases 1.0.0, 1.1.0, … each with a file per platform; the newest on stable, the one
    before on beta with hostile notes, the first yanked."""
    uow = store.uow
    for n in range(versions):
        version = f"1.{n}.0"
        specs = []
        for platform, name in FILES.items():
            sha = store.objects.put_stream([f"{version} {platform}".encode()]).sha256
            specs.append(ArtifactSpec(name, sha, platform=platform))
        notes = HOSTILE_NOTES if n == versions - 2 else f"Release {version}: *small* fixes."
        releases.publish(uow(), app="demo", version=version, artifacts=specs, notes=notes, actor="t")
    from dist.services import channels

    channels.promote(uow(), app="demo", channel="stable", version=f"1.{versions - 1}.0", actor="t")
    channels.promote(uow(), app="demo", channel="beta", version=f"1.{versions - 2}.0", actor="t")
    releases.yank(uow(), app="demo", version="1.0.0", actor="t")
    # Update checks of the last days, which the app page draws: clients moving from 1.0.0 to the newest.
    tally = Tally()
    today = store.clock().date()
    for days_ago in range(5):
        day = today - timedelta(days=days_ago)
        tally.checks["demo", "stable", "1.0.0", day] += 1 + days_ago
        tally.checks["demo", "stable", f"1.{versions - 1}.0", day] += 5 - days_ago
        tally.checks["demo", "beta", f"1.{versions - 2}.0", day] += 2
    counts.record(uow(), tally)


@pytest.fixture
def filled(store: Store) -> Store:
    fill(store)
    return store


@pytest.fixture
def pages(filled: Store) -> Iterator[TestClient]:
    with TestClient(create_app(filled, counts_interval=0)) as client:
        yield client
