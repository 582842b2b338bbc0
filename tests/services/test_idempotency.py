"""Keyed publishes racing: two requests with one key at once publish once and both get the same answer."""

from __future__ import annotations

from collections.abc import Callable

from dist.domain.entities import KeptAnswer, Release
from dist.persistence.store import Store
from dist.services import releases
from dist.services.idempotency import request_key
from dist.services.releases import ArtifactSpec
from tests.services.conftest import ACTOR, row_counts
from tests.services.test_concurrency import race


def _answer(release: Release) -> KeptAnswer:
    return KeptAnswer(201, f"{release.app} {release.version} {release.id}".encode())


def test_two_publishes_with_one_key_at_once_publish_once(store: Store) -> None:
    sha = store.objects.put_stream([b"bytes"]).sha256
    answers: list[KeptAnswer] = []

    def publish(version: str) -> Callable[[], object]:
        key = request_key(actor=ACTOR, key=f"key-{version}", method="POST", path="/p", body=version.encode())

        def run() -> None:
            answers.append(
                releases.publish_once(
                    store.uow(),
                    key=key,
                    respond=_answer,
                    app="demo",
                    version=version,
                    artifacts=[ArtifactSpec("a.bin", sha)],
                    actor=ACTOR,
                )
            )

        return run

    # A few rounds, since which of the two gets there first (and how) is up to the scheduler.
    for version in ("1.0.0", "1.0.1", "1.0.2"):
        assert race(publish(version), publish(version)) == []
    counts = row_counts(store)
    assert counts["releases"] == 3
    # One app_created and one release_published per round's single publish.
    assert counts["audit_events"] == 1 + 3
    assert len(answers) == 6 and answers[0::2] == answers[1::2]
    assert [a.body.split()[1] for a in answers[0::2]] == [b"1.0.0", b"1.0.1", b"1.0.2"]
