"""After a scenario that creates, uses, misuses and revokes tokens over HTTP and the CLI, no secret is found in
the database files, a PostgreSQL dump, the server log or any CLI output, except in the one output of the
`token create` that made it."""

from __future__ import annotations

import json
import subprocess

import httpx
from sqlalchemy.engine import make_url

from dist.persistence.store import StoreLocation
from tests.reliability.conftest import Outputs, Servers, run_dist


def create(location: StoreLocation, *args: str, as_json: bool = True) -> tuple[str, str]:
    """(secret, the output that showed it) of a new token."""
    done = run_dist(location, "token", "create", *args, *(["--json"] if as_json else []))
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    if as_json:
        return json.loads(done.stdout)["secret"], done.stdout
    secret = next(word for word in done.stdout.split() if word.startswith("dist_"))
    return secret, done.stdout


def database_text(location: StoreLocation) -> bytes:
    if location.database_url is None:
        files = [location.db_path, location.db_path.with_name("dist.db-wal")]
        return b"".join(path.read_bytes() for path in files if path.exists())
    url = make_url(location.database_url)
    dump = subprocess.run(
        [
            "pg_dump",
            "-h",
            url.host or "127.0.0.1",
            "-p",
            str(url.port or 5432),
            "-U",
            url.username or "postgres",
            url.database or "",
        ],
        capture_output=True,
        check=True,
        timeout=60,
    )
    return dump.stdout


def test_no_secret_leaks_anywhere(location: StoreLocation, servers: Servers, outputs: Outputs) -> None:
    server = servers.start()
    admin, admin_shown = create(location, "--name", "admin", "--scope", "publish", "--scope", "admin")
    ci, ci_shown = create(location, "--name", "ci", "--scope", "publish", "--app", "demo", as_json=False)
    beta, beta_shown = create(location, "--name", "beta", "--scope", "publish", "--app", "demo", "--channel", "beta")
    doomed, doomed_shown = create(location, "--name", "doomed", "--scope", "publish")
    shown = {admin: admin_shown, ci: ci_shown, beta: beta_shown, doomed: doomed_shown}
    assert all(output.count(secret) == 1 for secret, output in shown.items())

    def bearer(secret: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {secret}"}

    with httpx.Client(base_url=server.url, timeout=30) as http:
        sha = http.post("/api/upload", content=b"secret scenario", headers=bearer(ci)).json()["sha256"]
        body = {"version": "1.0.0", "channel": "stable", "artifacts": [{"filename": "a.bin", "sha256": sha}]}
        assert http.post("/api/apps/demo/releases", json=body, headers=bearer(ci)).status_code == 201
        promote = http.post("/api/apps/demo/channels/beta/promote", json={"from": "stable"}, headers=bearer(beta))
        assert promote.status_code == 200
        # Refusals of every kind, each with a real secret in hand.
        assert http.post("/api/apps/other/releases", json=body, headers=bearer(ci)).status_code == 403
        assert http.post("/api/apps/demo/channels/stable/rollback", json={}, headers=bearer(beta)).status_code == 403
        assert http.post("/api/apps/demo/releases/1.0.0/yank", headers=bearer(ci)).status_code == 403
        assert http.post("/api/apps/demo/releases", content=b"{", headers=bearer(admin)).status_code == 400
        wrong = ci[:-1] + ("0" if ci[-1] != "0" else "1")
        assert http.post("/api/upload", content=b"x", headers=bearer(wrong)).status_code == 401
        assert http.post("/api/upload", content=b"x", headers={"Authorization": ci}).status_code == 401
        # A secret sent where it does not belong: in the query string and as a path segment.
        assert http.get(f"/api/apps/{ci}", params={"token": beta}).status_code in (404, 422)

    token_ids = json.loads(run_dist(location, "token", "list", "--json", outputs=outputs).stdout)["tokens"]
    doomed_id = next(t["id"] for t in token_ids if t["name"] == "doomed")
    assert run_dist(location, "token", "revoke", str(doomed_id), outputs=outputs).returncode == 0
    with httpx.Client(base_url=server.url, timeout=30) as http:
        assert http.post("/api/upload", content=b"x", headers=bearer(doomed)).status_code == 403
    for args in (["token", "list"], ["audit"], ["audit", "--json"], ["release", "list", "demo", "--json"]):
        done = run_dist(location, *args, outputs=outputs)
        assert done.returncode == 0, done.stderr
    servers.stop_all()

    # The query string and path above are the client's own doing: the access log records paths, so those two
    # secrets are checked in the log without that one request line.
    log = "\n".join(line for line in outputs.all().splitlines() if f"/api/apps/{ci}" not in line)
    stored = database_text(location)
    for secret in shown:
        for needle in (secret, secret.removeprefix("dist_")):
            assert needle not in log
            assert needle.encode() not in stored
