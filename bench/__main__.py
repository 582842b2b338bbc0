"""Run every benchmark and print one table: `python -m bench [--quick] [--only upload,reads] [sizes…]`.

Each benchmark also runs alone: `python -m bench.upload`, `bench.download`, `bench.reads`, `bench.scale`,
`bench.import_legacy`, `bench.migrate`, `bench.remote`, `bench.feeds`, `bench.webhooks`, `bench.objects`,
`bench.rollouts`, `bench.pages`, with the same options.
"""

from __future__ import annotations

import platform
import sys
import time

from bench import (
    download,
    feeds,
    import_legacy,
    migrate,
    objects,
    pages,
    reads,
    remote,
    rollouts,
    scale,
    upload,
    webhooks,
)
from bench.common import CLIENT_CPU, SERVER_CPU, Figure, log, parser, run_one, settle, table

BENCHES = {
    "upload": upload.run,
    "download": download.run,
    "reads": reads.run,
    "feeds": feeds.run,
    "rollouts": rollouts.run,
    "scale": scale.run,
    "import": import_legacy.run,
    "migrate": migrate.run,
    "remote": remote.run,
    "webhooks": webhooks.run,
    "objects": objects.run,
    "pages": pages.run,
}


def main() -> int:
    p = parser(__doc__ or "")
    p.add_argument("--only", default=",".join(BENCHES), help=f"comma-separated subset of {', '.join(BENCHES)}")
    args = settle(p.parse_args())
    chosen = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = [name for name in chosen if name not in BENCHES]
    if unknown:
        p.error(f"unknown benchmark(s): {', '.join(unknown)}")
    figures: list[Figure] = []
    started = time.monotonic()
    for name in chosen:
        log(f"running {name}")
        figures += run_one(name, BENCHES[name], args)
    pinning = f"server core {SERVER_CPU}, client core {CLIENT_CPU}" if SERVER_CPU is not None else "no pinning"
    print(
        f"dist benchmarks ({'quick' if args.quick else 'full size'}; {platform.machine()}, {pinning}; "
        f"{time.monotonic() - started:.0f}s)"
    )
    print(table(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
