"""Update check during a staged rollout: requests/s with a client id per request, vs the same check on a channel
without a rollout, vs the bare JSON endpoint.

The store holds one app with two releases on two channels: `staged`, where the newer one rolls out to 50% of
clients, and `plain`, which serves it to everyone. wrk sends every request with a client id of its own
(`&client=c<n>`, by a Lua script), as a fleet of devices does: the read cache keeps the staged channel's two
answers (in the share and out of it) and places each new client by its bucket, and keeps the plain channel's one
answer for every client. A second pair of figures repeats one client id. distd and the bare endpoint
(bench/bare_app.py) run one worker on the server core.

Targets (issue 14): the check with a client id during a rollout >= 0.9 of the same check on a channel without
one, and >= 0.5 of the bare endpoint.

    python -m bench.rollouts [--quick] [--connections 32] [--duration 8] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import httpx

from bench.common import Figure, Gap, at_least, bare, create_token, dist, distd, log, main_for, publish_blob
from bench.loadgen import Load, wrk_median

NAME = "rollouts"
PLATFORM = "linux-x86_64"
# Each request names a client of its own: the counter runs per wrk thread, and one thread is used.
CLIENT_SCRIPT = """
counter = 0
request = function()
  counter = counter + 1
  return wrk.format(nil, wrk.path .. "&client=c" .. counter)
end
"""


def prepare(store: Path, client: httpx.Client, token: str) -> tuple[str, str]:
    """Two releases, `plain` serving the newer to all and `staged` rolling it out to half: the two check URLs."""
    headers = {"Authorization": f"Bearer {token}"}
    for version in ("1.0.0", "2.0.0"):
        digest = publish_blob(client, token, os.urandom(4096))
        artifact = {"filename": f"demo-{version}.tar.gz", "sha256": digest, "platform": PLATFORM}
        done = client.post(
            "/api/apps/demo/releases", json={"version": version, "artifacts": [artifact]}, headers=headers
        )
        if done.status_code != 201:
            raise Gap(f"publish answered {done.status_code}: {done.text[:200]}")
    moves = [
        ("plain", {"version": "2.0.0"}),
        ("staged", {"version": "1.0.0"}),
        ("staged", {"version": "2.0.0", "rollout": {"percent": 50}}),
    ]
    for channel, body in moves:
        done = client.post(f"/api/apps/demo/channels/{channel}/promote", json=body, headers=headers)
        if done.status_code != 200:
            raise Gap(f"promote answered {done.status_code}: {done.text[:200]}")
    query = f"/latest?platform={PLATFORM}&current=0.0.1"
    return f"/api/apps/demo/channels/staged{query}", f"/api/apps/demo/channels/plain{query}"


def run(args: argparse.Namespace, work: Path) -> list[Figure]:
    store = work / "store"
    dist(store, "init")
    token = create_token(store)
    script = work / "clients.lua"
    script.write_text(CLIENT_SCRIPT)
    with distd(store, work) as server, bare(work, work / "bare-out") as reference:
        with httpx.Client(base_url=server.base, timeout=60) as client:
            staged, plain = prepare(store, client, token)
            seen = {client.get(f"{staged}&client=c{n}").json()["release"]["version"] for n in range(200)}
            if seen != {"1.0.0", "2.0.0"}:
                raise Gap(f"the staged channel answered {sorted(seen)} to 200 clients, not both releases")
        load = {"connections": args.connections, "duration": args.duration, "repeat": args.repeat}
        bare_load = wrk_median(reference.base + "/json", **load)
        staged_load = wrk_median(server.base + staged, script=script, **load)
        plain_load = wrk_median(server.base + plain, script=script, **load)
        staged_hit = wrk_median(f"{server.base}{staged}&client=one", **load)
        plain_hit = wrk_median(f"{server.base}{plain}&client=one", **load)
    log(f"rollouts: bare {bare_load}, staged {staged_load}, plain {plain_load}, hits {staged_hit} {plain_hit}")
    conn = f"{args.connections} conn"

    def figure(metric: str, dist_load: Load, reference_load: Load, target: float, note: str) -> Figure:
        return Figure(
            NAME,
            f"{metric}, {conn}",
            f"{dist_load.requests_per_second:,.0f} req/s",
            f"{reference_load.requests_per_second:,.0f} req/s",
            *at_least(dist_load.requests_per_second / reference_load.requests_per_second, target),
            f"p99 {dist_load.p99_ms:.1f} ms vs {reference_load.p99_ms:.1f} ms; {note}",
        )

    return [
        figure("check, a client id each, rollout vs none", staged_load, plain_load, 0.9, "a new client per request"),
        figure(
            "check, a client id each, rollout vs bare JSON", staged_load, bare_load, 0.5, "a new client per request"
        ),
        figure("check, one client id, rollout vs none", staged_hit, plain_hit, 0.9, "the same client each time"),
        figure("check, one client id, rollout vs bare JSON", staged_hit, bare_load, 0.5, "the same client each time"),
    ]


def main() -> None:
    main_for(NAME, run, __doc__ or "")


if __name__ == "__main__":
    main()
