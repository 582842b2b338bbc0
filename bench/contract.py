"""How the HTTP contract's library was chosen: msgspec against pydantic v2 (and the stdlib json the routes used
before) on the three things the API does most, timed in one run on this machine.

- decode and validate a publish body (three artifacts, every field constrained by the domain's rules);
- encode a page of 50 releases (three artifacts each), the release list's answer;
- encode the update check's answer (a release and one artifact);
- import the library in a fresh interpreter (the remote CLI pays it at every start).

    python -m bench.contract [--rounds 2000]

pydantic is not a dependency of dist; this script uses it when it is installed (the test extra brings it in
through schemathesis) and says so otherwise.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any

import msgspec

SHA = "ab" * 32
SLUG_PATTERN = r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$"
VERSION_PATTERN = r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$"
PLATFORM_PATTERN = r"^[a-z0-9_]+(?:-[a-z0-9_]+)*$"
SHA_PATTERN = r"^[0-9a-f]{64}$"
FILENAME_PATTERN = r"^(?!\.\.?$)[^/\\\x00-\x1f\x7f]+$"

PUBLISH_BODY = json.dumps(
    {
        "version": "1.4.0-beta.2",
        "notes": "Fixes the crash on start-up.\n" * 20,
        "channel": "beta",
        "artifacts": [
            {"filename": f"demo-1.4.0-{p}.tar.gz", "sha256": SHA, "platform": p, "content_type": "application/gzip"}
            for p in ("linux-x86_64", "darwin-aarch64", "windows-x86_64")
        ],
    }
).encode()


def _artifact(version: str, platform: str) -> dict[str, Any]:
    filename = f"demo-{version}-{platform}.tar.gz"
    return {
        "filename": filename,
        "platform": platform,
        "sha256": SHA,
        "size": 48_213_114,
        "content_type": "application/gzip",
        "url": f"/api/apps/demo/releases/{version}/artifacts/{filename}",
    }


def _release(n: int) -> dict[str, Any]:
    version = f"1.{n}.0"
    return {
        "app": "demo",
        "version": version,
        "notes": "Fixes the crash on start-up.",
        "status": "published",
        "created_at": "2026-11-30T12:00:00.123Z",
        "created_by": "token:7",
        "artifacts": [_artifact(version, p) for p in ("linux-x86_64", "darwin-aarch64", "windows-x86_64")],
    }


PAGE = {"releases": [_release(n) for n in range(50)], "next_cursor": "12345"}
CHECK = {"release": _release(1), "artifact": _artifact("1.1.0", "linux-x86_64")}


# --- msgspec -----------------------------------------------------------------------------------------------------


class MsArtifactSpec(msgspec.Struct, forbid_unknown_fields=True):
    filename: Annotated[str, msgspec.Meta(pattern=FILENAME_PATTERN, min_length=1, max_length=255)]
    sha256: Annotated[str, msgspec.Meta(pattern=SHA_PATTERN)]
    platform: Annotated[str, msgspec.Meta(pattern=PLATFORM_PATTERN, max_length=64)] = "any"
    content_type: Annotated[str, msgspec.Meta(max_length=255)] = "application/octet-stream"


class MsPublish(msgspec.Struct, forbid_unknown_fields=True):
    version: Annotated[str, msgspec.Meta(pattern=VERSION_PATTERN, max_length=128)]
    artifacts: Annotated[list[MsArtifactSpec], msgspec.Meta(min_length=1, max_length=100)]
    notes: Annotated[str, msgspec.Meta(max_length=100_000)] = ""
    channel: Annotated[str, msgspec.Meta(pattern=SLUG_PATTERN)] | None = None


class MsArtifact(msgspec.Struct):
    filename: str
    platform: str
    sha256: str
    size: int
    content_type: str
    url: str


class MsRelease(msgspec.Struct):
    app: str
    version: str
    notes: str
    status: str
    created_at: datetime
    created_by: str
    artifacts: list[MsArtifact]


class MsPage(msgspec.Struct):
    releases: list[MsRelease]
    next_cursor: str | None


class MsCheck(msgspec.Struct):
    release: MsRelease
    artifact: MsArtifact


def _when(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def _ms_release(data: dict[str, Any]) -> MsRelease:
    return MsRelease(
        **{**data, "created_at": _when(data["created_at"]), "artifacts": [MsArtifact(**a) for a in data["artifacts"]]}
    )


# --- timing ------------------------------------------------------------------------------------------------------


def per_call_us(fn: Callable[[], object], rounds: int) -> float:
    """The median of five runs of `rounds` calls, in microseconds per call."""
    runs = []
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(rounds):
            fn()
        runs.append((time.perf_counter() - start) / rounds * 1e6)
    return statistics.median(runs)


def import_ms(code: str) -> float:
    """Milliseconds a fresh interpreter takes to import a library and declare one type with it, less a bare
    interpreter's start (median of 5): pydantic defers most of its import to the first model."""

    def run(code: str) -> float:
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True)
        return (time.perf_counter() - start) * 1000

    bare = statistics.median(run("pass") for _ in range(5))
    return statistics.median(run(code) for _ in range(5)) - bare


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=2000)
    rounds = parser.parse_args().rounds

    page_structs = MsPage([_ms_release(r) for r in PAGE["releases"]], PAGE["next_cursor"])
    check_struct = MsCheck(_ms_release(CHECK["release"]), MsArtifact(**CHECK["artifact"]))
    decoder = msgspec.json.Decoder(MsPublish)
    encoder = msgspec.json.Encoder()
    rows: list[tuple[str, str, float]] = [
        (
            "decode+validate publish body",
            "stdlib json (no validation)",
            per_call_us(lambda: json.loads(PUBLISH_BODY), rounds),
        ),
        ("decode+validate publish body", "msgspec", per_call_us(lambda: decoder.decode(PUBLISH_BODY), rounds)),
        ("encode page of 50 releases", "stdlib json, dicts", per_call_us(lambda: json.dumps(PAGE).encode(), rounds)),
        ("encode page of 50 releases", "msgspec, dicts", per_call_us(lambda: encoder.encode(PAGE), rounds)),
        ("encode page of 50 releases", "msgspec, Structs", per_call_us(lambda: encoder.encode(page_structs), rounds)),
        ("encode update check", "stdlib json, dicts", per_call_us(lambda: json.dumps(CHECK).encode(), rounds)),
        ("encode update check", "msgspec, dicts", per_call_us(lambda: encoder.encode(CHECK), rounds)),
        ("encode update check", "msgspec, Structs", per_call_us(lambda: encoder.encode(check_struct), rounds)),
    ]
    imports = [("msgspec", import_ms("import msgspec\nclass A(msgspec.Struct):\n  a: int"))]
    try:
        from bench import contract_pydantic
    except ImportError:
        print("pydantic is not installed: its rows are left out (pip install pydantic)")
    else:
        rows += contract_pydantic.rows(PUBLISH_BODY, PAGE, CHECK, per_call_us, rounds)
        imports.append(("pydantic", import_ms("import pydantic\nclass A(pydantic.BaseModel):\n  a: int")))
    rows.sort(key=lambda row: row[0])
    width = max(len(row[1]) for row in rows)
    current = ""
    for what, how, us in rows:
        if what != current:
            print(f"\n{what}")
            current = what
        print(f"  {how:<{width}}  {us:9.1f} µs")
    print("\nimport and declare one type, in a fresh interpreter")
    for module, ms in imports:
        print(f"  {module:<{width}}  {ms:9.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
