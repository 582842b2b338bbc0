"""An import is all or nothing: every defect of docs/legacy.md is refused whole, naming the record and the reason."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest

from dist.domain.errors import DistError
from dist.persistence.legacy.loader import database_counts
from dist.persistence.store import StoreLocation, open_store
from tests.legacy.helpers import database_leftovers, dist_process, read_document
from tests.legacy.stores import BROKEN, write_fixture

# What each broken fixture store must be refused for: words the message must hold (record, member, reason).
BROKEN_NAMES = {
    "bad-enum": ["release 3", '"status"', "deleted"],
    "broken-json": ["db.json is not valid JSON", "line"],
    "cross-app-channel": ["channel 3", '"release_id"', "is 2", "of app 2"],
    "dangling-release": ["channel 3", '"release_id"', "99999", "no release"],
    "duplicate-slug": ["app 3", '"slug"', "desk", "app 2"],
    "missing-blob": ["artifact 9", '"sha256"', "missing"],
}


def assert_nothing_written(location: StoreLocation) -> None:
    assert (location.root / "db.json").exists()
    assert not (location.root / "db.json.imported").exists()
    assert database_leftovers(location.root) == []
    assert not list((location.root / "tmp").glob("import-*"))
    if not location.embedded:
        engine = location.engine()
        try:
            with engine.connect() as connection:
                assert not any(database_counts(connection).values())
        finally:
            engine.dispose()


def refusal(location: StoreLocation) -> DistError:
    with pytest.raises(DistError) as refused:
        open_store(location).close()
    assert refused.value.code == "legacy.invalid"
    return refused.value


def test_every_broken_fixture_is_known() -> None:
    assert sorted(BROKEN_NAMES) == sorted(BROKEN)


@pytest.mark.parametrize("fixture", sorted(BROKEN))
def test_broken_fixture_is_refused_whole(fixture: str, location: StoreLocation) -> None:
    write_fixture(f"broken/{fixture}", location.root)

    error = refusal(location)

    for words in BROKEN_NAMES[fixture]:
        assert words in error.message
    assert_nothing_written(location)


def test_a_command_on_a_broken_store_exits_1_and_names_the_record(location: StoreLocation) -> None:
    write_fixture("broken/missing-blob", location.root)

    result = dist_process(location, "app", "list")

    assert result.code == 1
    assert result.out == ""
    assert result.err.startswith("error: legacy.invalid: artifact 9: ")
    assert_nothing_written(location)


Mutation = Callable[[dict[str, Any]], None]


def _set(member: str, index: int, key: str, value: Any) -> Mutation:
    def mutate(document: dict[str, Any]) -> None:
        document[member][index][key] = value

    return mutate


def _drop(member: str, index: int, key: str) -> Mutation:
    def mutate(document: dict[str, Any]) -> None:
        del document[member][index][key]

    return mutate


def _duplicate(member: str, index: int, **changes: Any) -> Mutation:
    def mutate(document: dict[str, Any]) -> None:
        twin = {**document[member][index], **changes}
        document[member].append(twin)

    return mutate


def _history(index: int, key: str, value: Any) -> Mutation:
    def mutate(document: dict[str, Any]) -> None:
        document["channels"][1]["history"][index][key] = value

    return mutate


def _whole(member: str, value: Any) -> Mutation:
    def mutate(document: dict[str, Any]) -> None:
        document[member] = value

    return mutate


# (mutation of the pre-tokens store, words the refusal must hold). In that store the first app is 2, the first
# release 1, the first artifact 1, and the second channel 2, with a history of two entries ending on release 4.
DEFECTS: dict[str, tuple[Mutation, list[str]]] = {
    "member of the wrong type": (_whole("releases", {"id": 1}), ['"releases"', "not an array"]),
    "record not an object": (_whole("apps", [1]), ["app #1", "not an object"]),
    "id not an integer": (_set("releases", 0, "id", "1"), ["release #1", '"id"', "not an integer"]),
    "id used twice": (_duplicate("artifacts", 0, filename="other.bin"), ["artifact 1", "id is used twice"]),
    "missing required member": (_drop("releases", 0, "created_by"), ["release 1", '"created_by"', "missing"]),
    "duplicate version": (_duplicate("releases", 0, id=9001), ["release 9001", '"version"', "release 1"]),
    "duplicate filename": (_duplicate("artifacts", 0, id=9001), ["artifact 9001", '"filename"', "artifact 1"]),
    "duplicate channel name": (
        _duplicate("channels", 1, id=9001, history=[], release_id=None),
        ["channel 9001", '"name"'],
    ),
    "dangling app": (_set("releases", 0, "app_id", 4242), ["release 1", '"app_id"', "4242"]),
    "dangling artifact release": (_set("artifacts", 0, "release_id", 4242), ["artifact 1", '"release_id"', "4242"]),
    "dangling history release": (_history(0, "release_id", 4242), ["channel 2", "history[1].release_id", "4242"]),
    "history out of step": (_set("channels", 1, "release_id", 3), ["channel 2", '"release_id"', "release 4"]),
    "bad history kind": (_history(0, "kind", "demote"), ["channel 2", "history[1].kind", "demote"]),
    "malformed slug": (_set("apps", 0, "slug", "Not A Slug"), ["app 2", '"slug"']),
    "malformed channel name": (_set("channels", 1, "name", "-beta"), ["channel 2", '"name"']),
    "malformed version": (_set("releases", 0, "version", "1.0"), ["release 1", '"version"', "SemVer"]),
    "malformed platform": (_set("artifacts", 0, "platform", "Linux x86"), ["artifact 1", '"platform"']),
    "malformed sha256": (_set("artifacts", 0, "sha256", "ABC"), ["artifact 1", '"sha256"']),
    "malformed filename": (_set("artifacts", 0, "filename", "../etc"), ["artifact 1", '"filename"']),
    "malformed timestamp": (_set("apps", 0, "created_at", "yesterday"), ["app 2", '"created_at"', "RFC 3339"]),
    "timestamp without zone": (_set("apps", 0, "created_at", "2024-01-01T00:00:00"), ["app 2", '"created_at"']),
    "size differs from blob": (_set("artifacts", 0, "size", 123456), ["artifact 1", '"size"', "123456"]),
    "bad audit action": (_set("audit", 0, "action", "app_deleted"), ["audit event 1", '"action"', "app_deleted"]),
    "negative size": (_set("artifacts", 0, "size", -1), ["artifact 1", '"size"']),
    "NUL in notes": (_set("releases", 0, "notes", "a\x00b"), ["release 1", '"notes"', "NUL"]),
}


@pytest.mark.parametrize("defect", sorted(DEFECTS))
def test_defect_is_refused_naming_the_record(defect: str, location: StoreLocation) -> None:
    write_fixture("pre-tokens", location.root)
    document = read_document(location.root / "db.json")
    mutate, words = DEFECTS[defect]
    mutate(document)
    (location.root / "db.json").write_text(json.dumps(document), encoding="utf-8")

    error = refusal(location)

    for word in words:
        assert word in error.message, error.message
    assert_nothing_written(location)


def test_token_defects_are_refused(location: StoreLocation) -> None:
    write_fixture("typical", location.root)
    document = read_document(location.root / "db.json")
    first = copy.deepcopy(document["tokens"][0])
    document["tokens"].append({**first, "id": 9001})
    (location.root / "db.json").write_text(json.dumps(document), encoding="utf-8")

    error = refusal(location)

    assert "token 9001" in error.message and '"token_hash"' in error.message
    assert_nothing_written(location)


def test_unknown_members_are_ignored(location: StoreLocation, caplog: pytest.LogCaptureFixture) -> None:
    write_fixture("minimal", location.root)
    document = read_document(location.root / "db.json")
    document["plugins"] = [{"id": 1}]
    (location.root / "db.json").write_text(json.dumps(document), encoding="utf-8")

    open_store(location).close()

    assert (location.root / "db.json.imported").exists()
    assert any('"plugins"' in record.getMessage() for record in caplog.records)


WEBHOOK = {
    "id": 1,
    "url": "https://hooks.example/dist",
    "events": ["release_published"],
    "app": None,
    "secret": "whsec_" + "A" * 43 + "=",
    "created_at": "2024-03-04T09:30:00Z",
}
WEBHOOK_DEFECTS: dict[str, tuple[dict[str, Any], list[str]]] = {
    "bad url": ({"url": "ftp://hooks.example/"}, ["webhook 1", '"url"']),
    "unknown event": ({"events": ["release_exploded"]}, ["webhook 1", '"events"', "release_exploded"]),
    "bad secret": ({"secret": "hunter2"}, ["webhook 1", '"secret"', "whsec_"]),
    "bad app": ({"app": "Not A Slug"}, ["webhook 1", '"app"']),
}


@pytest.mark.parametrize("defect", sorted(WEBHOOK_DEFECTS))
def test_webhook_defects_are_refused(defect: str, location: StoreLocation) -> None:
    """Exports carry webhooks (a member newer than the legacy format); a bad one is refused like any record."""
    write_fixture("minimal", location.root)
    document = read_document(location.root / "db.json")
    changes, words = WEBHOOK_DEFECTS[defect]
    document["webhooks"] = [{**WEBHOOK, **changes}]
    (location.root / "db.json").write_text(json.dumps(document), encoding="utf-8")

    error = refusal(location)

    for word in words:
        assert word in error.message, error.message
    assert_nothing_written(location)
