"""Generated legacy stores survive import then export unchanged (after the documented defaults)."""

from __future__ import annotations

import hashlib
import itertools
import json
import shutil
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dist.domain.render import timestamp
from dist.persistence.store import StoreLocation, open_store
from dist.services import store as maintenance
from tests.legacy.helpers import read_document, with_defaults

EPOCH = datetime(2020, 1, 1, tzinfo=UTC)
slugs = st.from_regex(r"[a-z0-9](?:[a-z0-9-]{0,10}[a-z0-9])?", fullmatch=True)
channel_names = st.from_regex(r"[a-z0-9](?:[a-z0-9._-]{0,8}[a-z0-9])?", fullmatch=True)
versions = st.builds(
    lambda a, b, c, pre: f"{a}.{b}.{c}" + (f"-{pre}" if pre else ""),
    st.integers(0, 20),
    st.integers(0, 20),
    st.integers(0, 20),
    st.sampled_from(["", "beta.1", "rc.2", "alpha"]),
)
texts = st.text(st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"), max_size=40)
short_texts = st.text(st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"), min_size=1, max_size=20)
filenames = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._ -]{0,20}", fullmatch=True)
platforms = st.sampled_from(["linux-x86_64", "darwin-aarch64", "windows-x86_64", "any"])
stamps = st.builds(
    lambda seconds, micros: timestamp(EPOCH + timedelta(seconds=seconds, microseconds=micros)),
    st.integers(0, 10**8),
    st.sampled_from([0, 0, 250_000, 999_000, 123_456]),
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**40), 2**40) | texts,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3),
    max_leaves=6,
)


def maybe(record: dict[str, Any], key: str, value: Any, present: bool) -> None:
    if present:
        record[key] = value


@st.composite
def legacy_documents(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, bytes]]:
    """A valid db.json and the blobs it names."""
    # Increasing, with gaps, as deletions leave them; unique across kinds, so unique within each.
    ids = itertools.accumulate(draw(st.lists(st.integers(1, 1000), min_size=50, max_size=50)))
    blobs: dict[str, bytes] = {}
    document: dict[str, Any] = {m: [] for m in ("apps", "channels", "releases", "artifacts", "tokens", "audit")}
    for slug in draw(st.lists(slugs, min_size=0, max_size=3, unique=True)):
        app: dict[str, Any] = {"id": next(ids), "slug": slug, "created_at": draw(stamps)}
        maybe(app, "name", draw(texts), draw(st.booleans()))
        document["apps"].append(app)
        releases = []
        for version in draw(st.lists(versions, max_size=3, unique=True)):
            release: dict[str, Any] = {"id": next(ids), "app_id": app["id"], "version": version}
            release.update(created_at=draw(stamps), created_by=draw(st.sampled_from(["cli:alice", "token:3"])))
            maybe(release, "notes", draw(texts), draw(st.booleans()))
            maybe(release, "status", draw(st.sampled_from(["published", "yanked"])), draw(st.booleans()))
            document["releases"].append(release)
            releases.append(release["id"])
            for filename in draw(st.lists(filenames, min_size=1, max_size=2, unique=True)):
                data = draw(st.binary(max_size=16))
                sha256 = hashlib.sha256(data).hexdigest()
                blobs[sha256] = data
                artifact = {"id": next(ids), "release_id": release["id"], "filename": filename, "sha256": sha256}
                artifact["size"] = len(data)
                maybe(artifact, "platform", draw(platforms), draw(st.booleans()))
                maybe(artifact, "content_type", "application/gzip", draw(st.booleans()))
                document["artifacts"].append(artifact)
        for name in draw(st.lists(channel_names, max_size=2, unique=True)) if releases else []:
            history = [
                {"kind": kind, "release_id": draw(st.sampled_from(releases)), "at": draw(stamps), "actor": "cli:bob"}
                for kind in draw(st.lists(st.sampled_from(["promote", "rollback"]), max_size=3))
            ]
            serving = history[-1]["release_id"] if history else draw(st.none() | st.sampled_from(releases))
            channel = {"id": next(ids), "app_id": app["id"], "name": name, "release_id": serving}
            channel["created_at"] = draw(stamps)
            maybe(channel, "history", history, bool(history) or draw(st.booleans()))
            document["channels"].append(channel)
    for _ in range(draw(st.integers(0, 2))):
        document["tokens"].append(
            {
                "id": next(ids),
                "name": draw(short_texts),
                "token_hash": hashlib.sha256(draw(st.binary(min_size=8, max_size=8))).hexdigest(),
                "scopes": draw(st.lists(st.sampled_from(["publish", "admin"]), min_size=1, max_size=2)),
                "app": draw(st.none() | slugs),
                "channel": draw(st.none() | channel_names),
                "created_at": draw(stamps),
                "expires_at": draw(st.none() | stamps),
                "revoked_at": draw(st.none() | stamps),
                "last_used_at": draw(st.none() | stamps),
            }
        )
    for _ in range(draw(st.integers(0, 3))):
        event: dict[str, Any] = {"id": next(ids), "at": draw(stamps), "actor": "cli:alice"}
        event.update(action=draw(st.sampled_from(["app_created", "token_revoked"])), app=draw(st.none() | slugs))
        event["target"] = draw(st.none() | short_texts)
        maybe(event, "detail", draw(st.dictionaries(texts, json_values, max_size=3)), draw(st.booleans()))
        document["audit"].append(event)
    # Tokens are unique by hash; the generator may repeat one.
    unique = {t["token_hash"]: t for t in document["tokens"]}
    document["tokens"] = [t for t in document["tokens"] if unique[t["token_hash"]] is t]
    for member in draw(st.lists(st.sampled_from(sorted(document)), unique=True, max_size=2)):
        if not document[member] and member not in ("apps", "releases"):
            del document[member]
    return document, blobs


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty embedded store at head, copied for each example (building a schema takes longer than a test)."""
    root = tmp_path_factory.mktemp("template") / "store"
    open_store(StoreLocation(root)).close()
    return root / "dist.db"


def write_store(root: Path, document: dict[str, Any], blobs: dict[str, bytes]) -> None:
    root.mkdir(parents=True)
    for sha256, data in blobs.items():
        (root / "objects" / sha256[:2]).mkdir(parents=True, exist_ok=True)
        (root / "objects" / sha256[:2] / sha256).write_bytes(data)
    (root / "db.json").write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")


def scratch() -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as directory:
        yield Path(directory)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(legacy_documents())
def test_import_then_export_gives_back_the_document(
    template: Path, generated: tuple[dict[str, Any], dict[str, bytes]]
) -> None:
    document, blobs = generated
    for work in scratch():
        source = work / "legacy"
        write_store(source, document, blobs)
        (work / "store").mkdir()
        shutil.copy(template, work / "store" / "dist.db")
        store = open_store(StoreLocation(work / "store"))
        try:
            maintenance.import_legacy(store.uow(), source)
            maintenance.export(store.uow(), work / "exported")
        finally:
            store.close()

        assert read_document(work / "exported" / "db.json") == with_defaults(document)
        for sha256, data in blobs.items():
            assert (work / "exported" / "objects" / sha256[:2] / sha256).read_bytes() == data
