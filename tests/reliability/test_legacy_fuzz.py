"""Hypothesis mutates a real legacy store's db.json (values of any JSON type, path-like names, missing,
duplicated and dropped records) and loads it: each document is imported whole or refused whole with a
legacy.* error naming the record, never another exception, and nothing is written outside the store."""

from __future__ import annotations

import copy
import json
import re
import shutil
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import inspect, text

from dist.domain.errors import DistError
from dist.persistence.store import StoreLocation, open_store, upgrade_to_head
from tests.legacy.stores import write_fixture
from tests.reliability.conftest import Size

MEMBERS = ["apps", "channels", "releases", "artifacts", "tokens", "audit"]
RECORD = re.compile(r"^(app|channel|release|artifact|token|audit event) |^db\.json")
PATH_LIKE = ["../x", "a/../../b", "..", ".", "/etc/passwd", "%2e%2e%2f", "x\x00y", "\\..\\w", "é" * 300, "x" * 300, ""]
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=40)
    | st.sampled_from(PATH_LIKE)
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=4,
)


def mutate(document: dict[str, Any], data: st.DataObject) -> dict[str, Any]:
    mutated = copy.deepcopy(document)
    for _ in range(data.draw(st.integers(1, 3), label="mutations")):
        member = data.draw(st.sampled_from(MEMBERS), label="member")
        records = mutated.setdefault(member, [])
        if not records:
            continue
        index = data.draw(st.integers(0, len(records) - 1), label="index")
        kind = data.draw(st.sampled_from(["set", "set", "set", "delete", "duplicate", "drop", "replace"]), label="kind")
        record = records[index]
        if kind == "duplicate":
            records.append(copy.deepcopy(record))
        elif kind == "drop":
            records.pop(index)
        elif kind == "replace":
            records[index] = data.draw(VALUES, label="record")
        elif isinstance(record, dict) and record:
            key = data.draw(st.sampled_from(sorted(record)), label="key")
            if kind == "delete":
                del record[key]
            else:
                record[key] = data.draw(VALUES, label="value")
    return mutated


def _counts(location: StoreLocation) -> dict[str, int]:
    engine = location.engine()
    try:
        with engine.connect() as connection:
            return {
                table: int(connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())
                for table in ("apps", "channels", "releases", "artifacts", "tokens")
            }
    finally:
        engine.dispose()


def _wipe(location: StoreLocation) -> None:
    engine = location.engine()
    try:
        with engine.begin() as connection:
            tables = [t for t in inspect(connection).get_table_names() if t != "alembic_version"]
            connection.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
    finally:
        engine.dispose()


def test_mutated_legacy_documents_are_imported_or_refused_whole(
    database_url: str | None, tmp_path: Path, size: Size
) -> None:
    source = write_fixture("typical", tmp_path / "typical")
    document = json.loads((source / "db.json").read_text())
    outside = tmp_path / "outside"
    outside.mkdir()
    tried: list[str] = []

    @settings(
        max_examples=size.pick(60 if database_url is None else 40, 2000),
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        database=None,
    )
    @given(data=st.data())
    def load(data: st.DataObject) -> None:
        mutated = mutate(document, data)
        root = outside / "store"
        shutil.rmtree(root, ignore_errors=True)
        shutil.copytree(source, root)
        (root / "db.json").write_text(json.dumps(mutated))
        location = StoreLocation(root, database_url)
        if database_url is not None:
            engine = location.engine()
            upgrade_to_head(engine)
            engine.dispose()
            _wipe(location)
        try:
            open_store(location).close()
        except DistError as error:
            tried.append("refused")
            assert error.code.startswith("legacy."), error
            assert RECORD.match(error.message), error.message
            assert (root / "db.json").exists()
            assert not (root / "dist.db").exists()
            if database_url is not None:
                assert set(_counts(location).values()) == {0}
        else:
            tried.append("imported")
            assert not (root / "db.json").exists() and (root / "db.json.imported").exists()
            counts = _counts(location)
            for member in ("apps", "releases", "artifacts", "tokens"):
                assert counts[member] == len(mutated.get(member, [])), member
        # The store is the only place anything was written.
        assert sorted(p.name for p in outside.iterdir()) == ["store"]

    load()
    print(
        f"\nlegacy fuzz: {len(tried)} mutated documents, {tried.count('imported')} imported, "
        f"{tried.count('refused')} refused"
    )
    assert "refused" in tried
