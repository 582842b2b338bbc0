"""`alembic upgrade head` on a legacy store creates the schema and imports db.json, as docs/legacy.md says."""

from __future__ import annotations

from pathlib import Path

import pytest

from dist.persistence.legacy.loader import document_counts
from dist.persistence.store import StoreLocation
from tests.conftest import PG_URL, REPO_ROOT, create_pg_database, drop_pg_database
from tests.legacy.helpers import ALEMBIC, database_counts_of, database_leftovers, run
from tests.legacy.stores import write_fixture


def test_alembic_upgrade_imports_an_embedded_legacy_store(tmp_path: Path) -> None:
    root = write_fixture("typical", tmp_path / "store")

    result = run([str(ALEMBIC), "-x", f"store={root}", "upgrade", "head"], cwd=REPO_ROOT)

    assert result.code == 0, result.err
    assert not (root / "db.json").exists()
    assert database_counts_of(StoreLocation(root)) == document_counts(root / "db.json.imported")


def test_alembic_upgrade_of_a_broken_legacy_store_fails_and_writes_nothing(tmp_path: Path) -> None:
    root = write_fixture("broken/dangling-release", tmp_path / "store")

    result = run([str(ALEMBIC), "-x", f"store={root}", "upgrade", "head"], cwd=REPO_ROOT)

    assert result.code != 0
    assert "channel 3" in result.err
    assert (root / "db.json").exists()
    assert database_leftovers(root) == []


@pytest.mark.skipif(PG_URL is None, reason="needs DIST_TEST_DATABASE_URL")
def test_alembic_upgrade_with_a_database_url_imports_the_store(tmp_path: Path) -> None:
    root = write_fixture("pre-tokens", tmp_path / "store")
    url = create_pg_database()
    try:
        result = run(
            [str(ALEMBIC), "-x", f"store={root}", "upgrade", "head"], cwd=REPO_ROOT, env={"DIST_DATABASE_URL": url}
        )

        assert result.code == 0, result.err
        assert not (root / "db.json").exists()
        assert database_leftovers(root) == []
        assert database_counts_of(StoreLocation(root, url)) == document_counts(root / "db.json.imported")
    finally:
        drop_pg_database(url)
