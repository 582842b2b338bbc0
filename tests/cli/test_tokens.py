"""Issue 3 through the CLI: the secret is shown once and stored only as its SHA-256; list and revoke."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

from sqlalchemy import text

from dist.domain.render import parse_timestamp
from dist.persistence.store import StoreLocation
from tests.cli.conftest import Dist, usage_failed

SECRET_RE = re.compile(r"dist_[0-9a-f]{64}")


def _stored_hashes(location: StoreLocation) -> list[str]:
    engine = location.engine()
    try:
        with engine.connect() as connection:
            return list(connection.execute(text("SELECT token_hash FROM tokens ORDER BY id")).scalars())
    finally:
        engine.dispose()


def test_create_list_revoke_on_a_brand_new_store(dist: Dist, location: StoreLocation, cli_actor: str) -> None:
    limits = ["--app", "demo", "--channel", "beta", "--expires-in", "2w"]
    scopes = ["--scope", "publish", "--scope", "admin"]
    created = dist("token", "create", "--name", "ci", *scopes, *limits, "--json").json()
    secret = created.pop("secret")
    assert SECRET_RE.fullmatch(secret)
    assert created["name"] == "ci" and created["scopes"] == ["publish", "admin"]
    assert (created["app"], created["channel"], created["status"]) == ("demo", "beta", "active")
    assert (created["revoked_at"], created["last_used_at"]) == (None, None)
    lifetime = parse_timestamp(created["expires_at"]) - parse_timestamp(created["created_at"])
    assert timedelta(weeks=2) - timedelta(seconds=30) < lifetime <= timedelta(weeks=2)

    digest = hashlib.sha256(secret.encode()).hexdigest()
    assert _stored_hashes(location) == [digest]
    if location.embedded:
        database = location.db_path.read_bytes()
        assert digest.encode() in database and secret.encode() not in database

    listed = dist("token", "list", "--json").json()
    assert listed == {"tokens": [created]}

    revoked = dist("token", "revoke", str(created["id"]), "--json").json()
    assert revoked["status"] == "revoked" and revoked["revoked_at"] is not None
    assert [t["status"] for t in dist("token", "list", "--json").json()["tokens"]] == ["revoked"]

    dist("token", "revoke", str(created["id"])).refused("token.already_revoked")
    dist("token", "revoke", "999").refused("token.not_found")

    events = dist("audit", "--json")
    assert [(e["action"], e["target"], e["actor"]) for e in events.json()["events"]] == [
        ("token_created", str(created["id"]), cli_actor),
        ("token_revoked", str(created["id"]), cli_actor),
    ]
    assert secret not in events.out and digest not in events.out
    assert secret not in dist("token", "list").out


def test_human_create_shows_the_secret_once_and_says_so(sqlite_dist: Dist) -> None:
    dist = sqlite_dist
    past = ["--expires-at", "2020-01-01T00:00:00Z"]
    dist("token", "create", "--name", "old", "--scope", "publish", *past).refused("token.invalid_expiry")
    expiry = ["--expires-at", "2099-01-01T00:00:00Z"]
    created = dist("token", "create", "--name", "release manager", "--scope", "publish", *expiry)
    assert created.code == 0, created.err
    secrets = SECRET_RE.findall(created.out)
    assert len(secrets) == 1
    assert "will not be shown again" in created.out
    listed = dist("token", "list", "--json").json()["tokens"]
    assert [(t["name"], t["expires_at"], t["status"]) for t in listed] == [
        ("release manager", "2099-01-01T00:00:00Z", "active")
    ]
    table = dist("token", "list").out
    assert "release manager" in table and "active" in table and secrets[0] not in table


def test_usage_errors_exit_2(sqlite_dist: Dist) -> None:
    create = ["token", "create", "--name", "x"]
    both = ["--expires-in", "1d", "--expires-at", "2099-01-01T00:00:00Z"]
    usage_failed(sqlite_dist(*create, "--scope", "publish", *both), "usage.conflicting_options")
    usage_failed(sqlite_dist(*create, "--scope", "publish", "--expires-in", "3y"), "token.invalid_duration")
    usage_failed(sqlite_dist(*create, "--scope", "publish", "--expires-at", "tomorrow"), "token.invalid_timestamp")
    usage_failed(sqlite_dist(*create, "--scope", "root"), "usage.invalid")
    usage_failed(sqlite_dist(*create), "usage.invalid")
    usage_failed(sqlite_dist("token", "revoke", "one"), "usage.invalid")
