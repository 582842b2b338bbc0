"""What the filesystem refuses ends in one `error:` line and exit 1, never a traceback, and leaves the store as
it was: a blob missing at export, a disk that fills during an upload, a store path that is a file."""

from __future__ import annotations

import hashlib
import resource
import signal
import subprocess
from pathlib import Path

from dist.domain.errors import storage_failure
from tests.cli.conftest import DIST, Dist, Result, snapshot


def test_export_with_a_blob_missing_names_it_and_leaves_no_partial_export(dist: Dist, tmp_path: Path) -> None:
    kept, lost = dist.cwd / "kept.bin", dist.cwd / "lost.bin"
    kept.write_bytes(b"still here")
    lost.write_bytes(b"deleted by hand")
    assert dist("publish", "demo", "1.0.0", str(kept), str(lost)).code == 0
    sha = hashlib.sha256(b"deleted by hand").hexdigest()
    (dist.location.root / "objects" / sha[:2] / sha).unlink()

    result = dist("store", "export", str(tmp_path / "backup"))

    result.refused("object.missing")
    assert sha in result.err
    assert not (tmp_path / "backup").exists()
    empty = tmp_path / "empty"
    empty.mkdir()
    dist("store", "export", str(empty)).refused("object.missing")
    assert list(empty.iterdir()) == []


def _file_size_limit(limit: int) -> None:
    # As a full disk does, the kernel refuses writes past the limit (EFBIG) instead of killing the process.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))


def test_a_disk_that_fills_during_an_upload_is_one_error_line_and_nothing_kept(dist: Dist) -> None:
    big = dist.cwd / "big.bin"
    big.write_bytes(b"x" * (3 * 1024 * 1024))
    assert dist("init").code == 0
    before = snapshot(dist.location)
    command = [str(DIST), *dist.global_options(), "publish", "demo", "1.0.0", str(big)]
    done = subprocess.run(
        command, cwd=dist.cwd, capture_output=True, text=True, timeout=120, preexec_fn=lambda: _file_size_limit(2**20)
    )

    Result(done.returncode, done.stdout, done.stderr).refused("store.disk_full")
    assert snapshot(dist.location) == before
    assert list((dist.location.root / "tmp").iterdir()) == []


def test_a_store_path_that_is_a_file_is_one_error_line(dist: Dist, tmp_path: Path) -> None:
    afile = tmp_path / "not-a-store"
    afile.write_text("hello")
    result = dist.raw("--store", str(afile), "app", "list")
    result.refused("store.not_a_directory")
    assert str(afile) in result.err


def test_storage_failures_say_what_and_where() -> None:
    refusal = storage_failure(PermissionError(13, "Permission denied", "/srv/store/objects"))
    assert (refusal.code, refusal.message) == ("store.permission_denied", "permission denied: /srv/store/objects")
    full = storage_failure(OSError(28, "No space left on device"))
    assert (full.code, full.kind) == ("store.disk_full", "storage_full")
    assert storage_failure(OSError(5, "Input/output error", "x")).message == "Input/output error: x"
