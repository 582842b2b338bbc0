"""Download: a large and a small blob from `GET /api/objects/{sha256}` vs nginx serving the same files.

nginx comes from the system's packages and is started by this script on a loopback port with a config written
to the temporary directory (no system config, not a daemon), serving the store's objects/ directory: the same
files on the same disk. Both servers run one worker on the server core; wrk runs on the other.

Target (issue 7): the large blob at >= 0.5 of nginx's bytes/s. The optional X-Accel-Redirect mode (distd
answers, nginx sends the bytes; target >= 0.9 of plain nginx) is measured with `dist serve --accel-redirect`
behind a second nginx that proxies to it, against plain nginx again in the same run.

    python -m bench.download [--quick] [--large-blob 64MiB] [--small-blob 4KiB] [--duration 8] [--repeat 3]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx

from bench.common import (
    SERVER_CPU,
    Figure,
    Gap,
    Server,
    at_least,
    create_token,
    distd,
    free_port,
    human_bytes,
    log,
    main_for,
    need_tool,
    publish_blob,
    started,
    wait_http,
)
from bench.loadgen import wrk_median

NAME = "download"
# Few connections for the large blob (a bandwidth test), as many as the read benchmark for the small one.
LARGE_CONNECTIONS = 4
SMALL_CONNECTIONS = 32

NGINX_CONF = """\
{user}
worker_processes 1;
daemon off;
master_process on;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 1000000;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    default_type application/octet-stream;
    {upstream}
    server {{
        listen 127.0.0.1:{port};
        root {root};
        {locations}
    }}
}}
"""
# Plain nginx: the store's objects/ served as static files.
STATIC_LOCATIONS = """
        location /objects/ {
            etag on;
            add_header Cache-Control "public, max-age=31536000, immutable";
        }
"""
# nginx in front of distd in its X-Accel-Redirect mode: the snippet of README's deployment section.
ACCEL_PREFIX = "/_dist_objects/"
ACCEL_UPSTREAM = "upstream distd { server 127.0.0.1:%d; keepalive 32; }"
ACCEL_LOCATIONS = """
        location / {
            proxy_pass http://distd;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
        }
        location /_dist_objects/ {
            internal;
            alias %s/objects/;
            # distd's strong ETag (the sha256) instead of nginx's own; Cache-Control and Content-Disposition
            # come through from distd's answer.
            etag off;
            add_header ETag $upstream_http_etag;
        }
"""


@contextlib.contextmanager
def nginx(
    root: Path, work: Path, *, name: str = "nginx", upstream: str = "", locations: str = STATIC_LOCATIONS
) -> Iterator[Server]:
    """nginx in the foreground on a free loopback port, serving `root`, stopped when the block ends."""
    # Debian puts nginx in /usr/sbin, which a non-root PATH may lack.
    binary = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else need_tool("nginx"))
    tmp = work / name
    tmp.mkdir(exist_ok=True)
    port = free_port()
    # Run as root, nginx would hand its worker to `nobody`, who cannot enter a private temporary directory.
    user = "user root;" if os.geteuid() == 0 else ""
    conf = tmp / "nginx.conf"
    conf.write_text(NGINX_CONF.format(user=user, tmp=tmp, port=port, root=root, upstream=upstream, locations=locations))
    check = subprocess.run([binary, "-t", "-p", str(tmp), "-c", str(conf)], capture_output=True, text=True)
    if check.returncode != 0:
        raise Gap(f"nginx refused its config: {check.stderr[-300:]}")
    logfile = tmp / "stdout.log"
    with started([binary, "-p", str(tmp), "-c", str(conf)], logfile, cpu=SERVER_CPU) as process:
        base = f"http://127.0.0.1:{port}"
        wait_http(base + "/", process, logfile)
        yield Server(base, process, logfile)


def run(args: argparse.Namespace, work: Path) -> list[Figure]:
    need_tool("wrk")
    store = work / "store"
    token = create_token(store)
    blobs = {"large": os.urandom(args.large_blob), "small": os.urandom(args.small_blob)}
    figures = []
    with distd(store, work) as server, nginx(store, work) as reference:
        with httpx.Client(base_url=server.base, timeout=300) as client:
            digests = {kind: publish_blob(client, token, data) for kind, data in blobs.items()}
            for kind, digest in digests.items():
                response = client.get(f"/api/objects/{digest}")
                if response.status_code != 200 or response.content != blobs[kind]:
                    raise Gap(f"GET /api/objects/{{sha256}} answered {response.status_code} for the {kind} blob")
        for kind, digest in digests.items():
            length = len(blobs[kind])
            connections = LARGE_CONNECTIONS if kind == "large" else SMALL_CONNECTIONS
            ours = wrk_median(
                f"{server.base}/api/objects/{digest}",
                connections=connections,
                duration=args.duration,
                repeat=args.repeat,
            )
            theirs = wrk_median(
                f"{reference.base}/objects/{digest[:2]}/{digest}",
                connections=connections,
                duration=args.duration,
                repeat=args.repeat,
            )
            log(
                f"download {kind}: distd {ours.requests_per_second:,.0f} req/s, "
                f"nginx {theirs.requests_per_second:,.0f} req/s"
            )
            label = f"GET /api/objects {_size_label(length)}, {connections} conn"
            ratio = ours.requests_per_second / theirs.requests_per_second
            if kind == "large":
                ratio = ours.bytes_per_second / theirs.bytes_per_second
                value, ref = human_bytes(ours.bytes_per_second), human_bytes(theirs.bytes_per_second)
                figures.append(Figure(NAME, f"{label} vs nginx", value, ref, *at_least(ratio, 0.5)))
            else:
                figures.append(
                    Figure(
                        NAME,
                        f"{label} vs nginx",
                        f"{ours.requests_per_second:,.0f} req/s",
                        f"{theirs.requests_per_second:,.0f} req/s",
                        ratio,
                        "-",
                        None,
                        f"p99 {ours.p99_ms:.1f} ms vs nginx {theirs.p99_ms:.1f} ms; no target in issue 7",
                    )
                )
        figures.append(_accel_figure(args, store, work, reference, digests["large"], len(blobs["large"])))
    return figures


def _accel_figure(
    args: argparse.Namespace, store: Path, work: Path, reference: Server, digest: str, length: int
) -> Figure:
    """The large blob through nginx in front of `dist serve --accel-redirect`, vs plain nginx."""
    with distd(store, work, "--accel-redirect", ACCEL_PREFIX) as accel:
        port = int(accel.base.rsplit(":", 1)[1])
        upstream = ACCEL_UPSTREAM % port
        with nginx(store, work, name="nginx-accel", upstream=upstream, locations=ACCEL_LOCATIONS % store) as front:
            with httpx.Client(base_url=front.base, timeout=300) as client:
                response = client.get(f"/api/objects/{digest}")
                if response.status_code != 200 or len(response.content) != length:
                    raise Gap(f"nginx in front of distd answered {response.status_code} for the large blob")
                if response.headers.get("etag") != f'"{digest}"':
                    raise Gap(f"the X-Accel-Redirect answer lost distd's ETag: {response.headers.get('etag')}")
            load = {"connections": LARGE_CONNECTIONS, "duration": args.duration, "repeat": args.repeat}
            ours = wrk_median(f"{front.base}/api/objects/{digest}", **load)
            theirs = wrk_median(f"{reference.base}/objects/{digest[:2]}/{digest}", **load)
    log(f"download accel: {human_bytes(ours.bytes_per_second)}, nginx {human_bytes(theirs.bytes_per_second)}")
    return Figure(
        NAME,
        f"X-Accel-Redirect {_size_label(length)}, {LARGE_CONNECTIONS} conn vs plain nginx",
        human_bytes(ours.bytes_per_second),
        human_bytes(theirs.bytes_per_second),
        *at_least(ours.bytes_per_second / theirs.bytes_per_second, 0.9),
    )


def _size_label(length: int) -> str:
    return f"{length // (1024 * 1024)} MiB" if length >= 1024 * 1024 else f"{length // 1024} KiB"


def main() -> None:
    main_for(NAME, run, __doc__ or "")


if __name__ == "__main__":
    main()
