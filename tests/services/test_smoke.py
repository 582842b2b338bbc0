from __future__ import annotations

import pytest

from dist.domain.errors import DistError
from dist.persistence.store import Store
from dist.services import channels, releases
from dist.services.releases import ArtifactSpec


def test_publish_promote_rollback(store: Store, tmp_path) -> None:
    blob = store.objects.put_stream([b"payload"])
    spec = [ArtifactSpec("app.tar.gz", blob.sha256, "linux-x86_64")]
    releases.publish(store.uow(), app="demo", version="1.0.0", artifacts=spec, channel="beta", actor="cli:t")
    releases.publish(store.uow(), app="demo", version="1.1.0", artifacts=spec, channel="beta", actor="cli:t")
    channel = channels.rollback(store.uow(), app="demo", channel="beta", actor="cli:t")
    assert channel.release == "1.0.0"
    with pytest.raises(DistError) as refused:
        channels.rollback(store.uow(), app="demo", channel="beta", actor="cli:t")
    assert refused.value.code == "channel.nothing_to_roll_back"
