"""`dist serve` options: sizes for --max-upload, and a usage error for a bad one."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from dist.cli.serve import parse_size


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("1048576", 1048576),
        ("512MiB", 512 * 1024**2),
        ("1G", 1024**3),
        ("1g", 1024**3),
        ("64k", 64 * 1024),
        ("500MB", 500 * 1000**2),
        ("2 GiB", 2 * 1024**3),
    ],
)
def test_sizes(text: str, size: int) -> None:
    assert parse_size(text) == size


@pytest.mark.parametrize("text", ["", "0", "-1", "1.5G", "12X", "MiB", "\uff11G"])
def test_bad_sizes(text: str) -> None:
    with pytest.raises(ValueError):
        parse_size(text)


def test_a_bad_size_is_a_usage_error(tmp_path: Path) -> None:
    dist = Path(sys.executable).parent / "dist"
    done = subprocess.run(
        [str(dist), "--store", str(tmp_path / "s"), "serve", "--max-upload", "lots"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 2
    assert "lots" in done.stderr


@pytest.mark.parametrize("url", ["updates.example.com", "ftp://x.example", "https://x.example/?a=1", "https://x y/"])
def test_a_bad_public_url_is_a_usage_error(tmp_path: Path, url: str) -> None:
    dist = Path(sys.executable).parent / "dist"
    for args, env in ((["--public-url", url], {}), ([], {"DIST_PUBLIC_URL": url})):
        done = subprocess.run(
            [str(dist), "--store", str(tmp_path / "s"), "serve", *args],
            capture_output=True,
            text=True,
            timeout=30,
            env={**os.environ, **env},
        )
        assert done.returncode == 2, done.stderr
        assert "public URL" in done.stderr and "Traceback" not in done.stderr
