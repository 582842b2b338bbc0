"""A killed import leaves db.json either still there or fully imported; the next load finishes the job."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from dist.domain.errors import DistError
from dist.persistence.legacy.loader import document_counts
from dist.persistence.store import StoreLocation, open_store
from tests.legacy.generate import generate
from tests.legacy.helpers import DIST, database_counts_of, database_leftovers, dist, read_document
from tests.legacy.stores import write_fixture


def test_import_interrupted_before_the_rename_is_finished_on_the_next_load(location: StoreLocation) -> None:
    write_fixture("typical", location.root)
    open_store(location).close()
    imported = location.root / "db.json.imported"
    # As if the process died between the commit and the rename.
    imported.rename(location.root / "db.json")

    open_store(location).close()

    assert not (location.root / "db.json").exists()
    assert database_counts_of(location) == document_counts(imported)


def test_db_json_beside_a_database_with_other_records_is_refused(location: StoreLocation) -> None:
    write_fixture("typical", location.root)
    open_store(location).close()
    write_fixture("pre-tokens", location.root)
    before = database_counts_of(location)

    with pytest.raises(DistError) as refused:
        open_store(location).close()

    assert refused.value.code == "legacy.conflict"
    assert (location.root / "db.json").exists()
    assert database_counts_of(location) == before


def test_a_store_that_imported_cleanly_ignores_a_later_import_file(location: StoreLocation) -> None:
    write_fixture("minimal", location.root)

    assert dist(location, "app", "list", "--json").json()["apps"][0]["slug"] == "hello"
    assert dist(location, "app", "list", "--json").json()["apps"][0]["slug"] == "hello"

    assert read_document(location.root / "db.json.imported")["apps"][0]["slug"] == "hello"


def test_a_temporary_database_left_by_a_killed_import_does_not_matter(location: StoreLocation) -> None:
    write_fixture("minimal", location.root)
    (location.root / "tmp").mkdir()
    (location.root / "tmp" / "import-killed.db").write_bytes(b"half a database")

    open_store(location).close()

    assert database_counts_of(location)["artifacts"] == 1
    assert not (location.root / "db.json").exists()


@pytest.mark.slow
def test_sigkill_at_any_moment_leaves_db_json_or_the_whole_import(tmp_path: Path) -> None:
    source = tmp_path / "generated"
    generate(source, releases=1500, apps=5)
    expected = document_counts(source / "db.json")
    started = time.monotonic()
    subprocess.run([str(DIST), "--store", str(copy_store(source, tmp_path / "whole")), "app", "list"], check=True)
    whole = time.monotonic() - started
    # Kills spread over the end of a command's life, where the import runs, whatever the machine's speed.
    for number, fraction in enumerate((0.6, 0.85, 0.97)):
        root = copy_store(source, tmp_path / f"killed-{number}")
        process = subprocess.Popen([str(DIST), "--store", str(root), "app", "list"], stdout=subprocess.DEVNULL)
        time.sleep(whole * fraction)
        process.send_signal(signal.SIGKILL)
        process.wait()
        location = StoreLocation(root)
        if (root / "db.json").exists():
            assert not (root / "db.json.imported").exists()
            assert database_leftovers(root) == []
        else:
            assert database_counts_of(location) == expected
        open_store(location).close()
        assert database_counts_of(location) == expected
        assert not (root / "db.json").exists()


def copy_store(source: Path, target: Path) -> Path:
    """db.json copied; the blobs linked, which is all an import reads of them."""
    target.mkdir()
    (target / "db.json").write_bytes((source / "db.json").read_bytes())
    for blob in (source / "objects").glob("*/*"):
        (target / "objects" / blob.parent.name).mkdir(parents=True, exist_ok=True)
        os.link(blob, target / "objects" / blob.parent.name / blob.name)
    return target
