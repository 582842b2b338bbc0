"""schemathesis against a live distd, from its own /api/openapi.json, every route, with an admin token: no 500,
no answer outside the document, no hang."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from dist.persistence.store import StoreLocation
from tests.reliability.conftest import Outputs, Servers, Size, admin_secret
from tests.support import BIN, Server

# Refusals of schema-valid requests that no schema can rule out: a blob that was never uploaded, a body that
# does not hash to the X-Content-SHA256 the client sent, a token expiry that is already past, a public key whose
# text has the shape of one but does not decode to a key, a signature that does not verify, a ramp that does not
# rise to 100 or an interval over a year, and an If-Match naming another version than the channel serves now.
ALLOWED_REJECTIONS = (
    '"object.missing"',
    '"upload.digest_mismatch"',
    '"token.invalid_expiry"',
    '"app.invalid_public_key"',
    '"artifact.bad_signature"',
    '"rollout.invalid_ramp"',
    '"rollout.invalid_interval"',
    '"channel.precondition_failed"',
)


@pytest.fixture
def fuzzed(tmp_path: Path) -> Iterator[tuple[Server, str, Outputs]]:
    location = StoreLocation(tmp_path / "store")
    outputs = Outputs()
    running = Servers(location, tmp_path, outputs)
    try:
        server = running.start("--max-upload", "1MiB")
        secret = admin_secret(location)
        # Something to find: an app with a release on a channel.
        auth = {"Authorization": f"Bearer {secret}"}
        with httpx.Client(base_url=server.url, headers=auth) as http:
            sha = http.post("/api/upload", content=b"fuzzed").json()["sha256"]
            body = {"version": "1.0.0", "channel": "stable", "artifacts": [{"filename": "a.bin", "sha256": sha}]}
            assert http.post("/api/apps/demo/releases", json=body).status_code == 201
        yield server, secret, outputs
    finally:
        running.stop_all()


def failures(report: str) -> list[str]:
    """The failure reports of a schemathesis run, less the allowed rejections."""
    found = []
    for block in re.split(r"\n_{3,} ", report.split("=== SUMMARY ===")[0])[1:]:
        operation = block.split(" _", 1)[0]
        for case in re.split(r"\n\d+\. Test Case ID", block)[1:]:
            if "Schema-valid request rejected" in case and any(code in case for code in ALLOWED_REJECTIONS):
                continue
            # A body over the 1 MiB JSON limit is refused with 413 before it is parsed: a rejection, which
            # schemathesis does not count as one.
            if "Schema-violating request accepted" in case and "[413] Content Too Large" in case:
                continue
            found.append(f"{operation}: {case.strip()[:2000]}")
    return found


def test_schemathesis_finds_nothing(fuzzed: tuple[Server, str, Outputs], size: Size, tmp_path: Path) -> None:
    server, secret, outputs = fuzzed
    examples = size.pick(15, 300)
    command = [
        str(BIN / "st"),
        "run",
        f"{server.url}/api/openapi.json",
        "--header",
        f"Authorization: Bearer {secret}",
        "--checks",
        "all",
        "--max-examples",
        str(examples),
        "--request-timeout",
        "10",
        # One worker: schemathesis's own generation is not thread-safe on Python 3.11 (it fails with runtime
        # errors of its own with two).
        "--workers",
        "1",
        "--no-color",
        # Revoking a token would revoke the fuzzer's own (ids start at 1) and leave every write untested; the
        # route's refusals are tested in tests/http/test_admin.py.
        "--exclude-path",
        "/api/tokens/{id}/revoke",
        "--continue-on-failure",
    ]
    if not size.stress:
        command += ["--seed", "6"]
    # Run in the test's directory: schemathesis keeps a cache of its own where it runs.
    done = subprocess.run(command, capture_output=True, text=True, timeout=size.pick(240, 3000), cwd=tmp_path)
    report = done.stdout + done.stderr
    generated = re.search(r"(\d+) generated", report)
    assert generated is not None, report[-3000:]
    print(f"\nschemathesis: {generated.group(1)} test cases generated (--max-examples {examples})")
    assert failures(report) == [], "\n\n".join(failures(report))
    # Errors are requests that got no answer (a hang, a dropped connection) or runs that broke.
    assert "Errors" not in report.split("=== SUMMARY ===")[-1], report[-6000:]
    log = outputs.all()
    assert "Traceback" not in log and re.search(r'HTTP/1\.1" 5[0-9][0-9]', log) is None
