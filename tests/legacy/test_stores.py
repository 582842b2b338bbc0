"""The fixture stores hold what their description promises, and the generator writes the same bytes for the same
arguments, stores that import whole."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from dist.domain.enums import Scope
from dist.domain.errors import DistError
from dist.persistence.legacy.loader import document_counts
from dist.persistence.store import StoreLocation, open_store
from dist.services import tokens
from tests.conftest import REPO_ROOT
from tests.legacy.builder import MEMBERS
from tests.legacy.generate import generate
from tests.legacy.helpers import database_counts_of, read_document
from tests.legacy.stores import secret, write_fixture


def files_of(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_minimal_leaves_out_every_optional_member(tmp_path: Path) -> None:
    document = read_document(write_fixture("minimal", tmp_path) / "db.json")

    assert sorted(document) == ["apps", "artifacts", "releases"]
    assert "name" not in document["apps"][0]
    assert not {"notes", "status"} & set(document["releases"][0])
    assert not {"platform", "content_type"} & set(document["artifacts"][0])


def test_pre_tokens_has_no_tokens_member_and_shares_bytes(tmp_path: Path) -> None:
    document = read_document(write_fixture("pre-tokens", tmp_path) / "db.json")

    assert "tokens" not in document and "audit" in document
    kinds = [entry["kind"] for channel in document["channels"] for entry in channel.get("history", [])]
    assert "rollback" in kinds and "promote" in kinds
    assert any("history" not in channel for channel in document["channels"])
    releases_of = {}
    for artifact in document["artifacts"]:
        releases_of.setdefault(artifact["sha256"], set()).add(artifact["release_id"])
    assert any(len(releases) > 1 for releases in releases_of.values())


def test_typical_has_every_member_and_every_case(tmp_path: Path) -> None:
    document = read_document(write_fixture("typical", tmp_path) / "db.json")

    assert sorted(document) == sorted(MEMBERS)
    assert len(document["apps"]) == 3
    releases = document["releases"]
    assert {r["status"] for r in releases} == {"published", "yanked"}
    assert any("-" in r["version"] for r in releases)
    assert any(len(r["notes"]) == 2000 for r in releases)
    assert any(not r["notes"].isascii() for r in releases)
    stamps = [r["created_at"] for r in releases] + [e["at"] for e in document["audit"]]
    assert any(re.search(r"\.\d{3}Z$", stamp) for stamp in stamps)
    for member in ("apps", "channels", "releases", "artifacts", "tokens"):
        ids = [record["id"] for record in document[member]]
        assert ids == sorted(ids) and ids[-1] > len(ids), member
    assert any(e["kind"] == "rollback" for c in document["channels"] for e in c["history"])
    assert any("detail" not in event for event in document["audit"])
    tokens = {token["name"]: token for token in document["tokens"]}
    assert tokens["ci-active"]["revoked_at"] is None and tokens["ci-active"]["last_used_at"]
    assert tokens["admin-expired"]["last_used_at"] < tokens["admin-expired"]["expires_at"] < stamps[-1]
    assert tokens["ci-revoked"]["revoked_at"] and tokens["atlas-beta"]["channel"] == "beta"
    assert tokens["future-app"]["app"] not in {app["slug"] for app in document["apps"]}


def test_typical_tokens_keep_their_secrets_and_states_through_the_import(tmp_path: Path) -> None:
    store = open_store(StoreLocation(write_fixture("typical", tmp_path / "store")))
    try:
        active = tokens.authenticate(store.uow(), secret=secret("ci-active"), scope=Scope.PUBLISH)
        for refused in ("admin-expired", "ci-revoked"):
            with pytest.raises(DistError):
                tokens.authenticate(store.uow(), secret=secret(refused), scope=Scope.ADMIN)
    finally:
        store.close()

    assert active.name == "ci-active"


def test_the_same_arguments_write_the_same_bytes(tmp_path: Path) -> None:
    first = generate(tmp_path / "one", apps=3, releases=120, tokens=9, seed=5)
    generate(tmp_path / "two", apps=3, releases=120, tokens=9, seed=5)
    generate(tmp_path / "other", apps=3, releases=120, tokens=9, seed=6)

    assert files_of(tmp_path / "one") == files_of(tmp_path / "two")
    assert files_of(tmp_path / "one") != files_of(tmp_path / "other")
    assert [len(first[member]) for member in ("apps", "releases", "artifacts", "tokens")] == [3, 120, 240, 9]


def test_a_generated_store_imports_whole(tmp_path: Path) -> None:
    document = generate(tmp_path / "store", apps=8, releases=300, artifacts_per_release=3, tokens=12, seed=11)
    kinds = {entry["kind"] for channel in document["channels"] for entry in channel.get("history", [])}
    assert kinds == {"promote", "rollback"}
    assert {r.get("status") for r in document["releases"]} == {None, "published", "yanked"}

    open_store(StoreLocation(tmp_path / "store")).close()

    imported = tmp_path / "store" / "db.json.imported"
    assert database_counts_of(StoreLocation(tmp_path / "store")) == document_counts(imported)


def test_the_generator_runs_from_the_command_line_without_a_tokens_member(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "tests.legacy.generate", str(tmp_path / "old"), "--releases", "7"]
    completed = subprocess.run(
        [*command, "--no-tokens-member"], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    )

    counts = dict(word.split("=") for word in completed.stdout.split())
    assert sorted(counts) == ["apps", "artifacts", "audit", "channels", "releases"]
    assert (counts["apps"], counts["releases"], counts["artifacts"]) == ("3", "7", "14")
    assert "tokens" not in read_document(tmp_path / "old" / "db.json")
