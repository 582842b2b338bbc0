"""The S3 object store against a real S3 server: the same promises as the directory store, and nothing under a
content address that does not hold the bytes of its digest."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest

from dist.domain.errors import Invalid, TooLarge, Unavailable
from dist.persistence import s3_requests
from dist.persistence.objects import open_objects
from dist.persistence.s3_objects import PART_SIZE, S3Objects
from tests.objects.seaweed import S3Server


@pytest.fixture
def objects(objects_url: str, tmp_path) -> S3Objects:  # type: ignore[no-untyped-def]
    opened = open_objects(objects_url, tmp_path)
    assert isinstance(opened, S3Objects)
    opened.check()
    return opened


def keys(server: S3Server, bucket: str) -> list[str]:
    """Every key in the bucket, as the S3 API lists them."""
    answer = s3_requests.request(server.settings(bucket), "GET", None, {"list-type": "2"})
    assert answer.status == 200
    import xml.etree.ElementTree as ET

    root = ET.fromstring(answer.body)
    return sorted(e.text or "" for e in root.iter() if e.tag.endswith("}Key") or e.tag == "Key")


def unfinished(server: S3Server, bucket: str) -> list[str]:
    return [u.key for u in s3_requests.multipart_uploads(server.settings(bucket), "")]


def test_blobs_are_kept_at_prefix_aa_sha256_once(objects: S3Objects, s3_server: S3Server, bucket: str) -> None:
    data = b"release bytes"
    sha = hashlib.sha256(data).hexdigest()
    first = objects.put_stream([data[:3], data[3:]])
    second = objects.put_stream([data])
    assert (first.sha256, first.created, second.created) == (sha, True, False)
    assert keys(s3_server, bucket) == [f"blobs/{sha[:2]}/{sha}"]
    assert objects.size(sha) == len(data) and b"".join(objects.chunks(sha)) == data
    assert objects.digests(sha).sha512 == hashlib.sha512(data).hexdigest()
    with objects.mapped(sha) as view:
        assert bytes(view) == data
    with objects.open(sha) as source:
        assert source.read() == data


def test_a_large_blob_goes_up_in_parts(objects: S3Objects, s3_server: S3Server, bucket: str) -> None:
    data = os.urandom(3 * PART_SIZE + 12345)
    sha = hashlib.sha256(data).hexdigest()
    stored = objects.put_stream(data[i : i + (1 << 20)] for i in range(0, len(data), 1 << 20))
    assert stored.sha256 == sha and stored.size == len(data)
    assert objects.hash_file(sha) == sha
    assert keys(s3_server, bucket) == [f"blobs/{sha[:2]}/{sha}"]
    assert unfinished(s3_server, bucket) == []


def test_an_upload_that_names_its_digest_goes_straight_to_its_address(
    objects: S3Objects, s3_server: S3Server, bucket: str
) -> None:
    for data in (b"small", os.urandom(2 * PART_SIZE + 1)):
        sha = hashlib.sha256(data).hexdigest()
        with objects.writer(expected_sha256=sha) as writer:
            writer.write(data)
            # Nothing is visible under the address before the digest is checked.
            assert objects.stat(sha) is None
            assert writer.commit().created
        assert objects.hash_file(sha) == sha
    assert unfinished(s3_server, bucket) == [] and not [k for k in keys(s3_server, bucket) if "/tmp/" in k]


def test_a_digest_mismatch_keeps_nothing(objects: S3Objects, s3_server: S3Server, bucket: str) -> None:
    data = os.urandom(2 * PART_SIZE)
    with pytest.raises(Invalid) as refused:
        objects.put_stream([data], expected_sha256="0" * 64)
    assert refused.value.code == "upload.digest_mismatch"
    assert keys(s3_server, bucket) == [] and unfinished(s3_server, bucket) == []


def test_an_upload_over_the_cap_or_cut_short_keeps_nothing(
    objects: S3Objects, s3_server: S3Server, bucket: str
) -> None:
    with pytest.raises(TooLarge):
        objects.put_stream([b"x" * PART_SIZE, b"y" * PART_SIZE, b"z"], max_size=2 * PART_SIZE)

    def cut_short() -> Iterator[bytes]:
        yield os.urandom(PART_SIZE + 1)
        yield os.urandom(PART_SIZE + 1)
        raise ConnectionResetError("the client went away")

    with pytest.raises(ConnectionResetError):
        objects.put_stream(cut_short())
    assert keys(s3_server, bucket) == [] and unfinished(s3_server, bucket) == []


def test_a_presigned_url_sends_the_blob(objects: S3Objects) -> None:
    stored = objects.put_stream([b"signed"])
    url = objects.presigned_url(stored.sha256, timedelta(minutes=1))
    assert url is not None
    assert httpx.get(url).content == b"signed"


@pytest.mark.parametrize(
    ("change", "code"),
    [("bucket", "objects.no_bucket"), ("secret", "objects.access_denied"), ("endpoint", "objects.unreachable")],
)
def test_a_store_that_cannot_be_used_is_refused_clearly(
    s3_server: S3Server, bucket: str, monkeypatch: pytest.MonkeyPatch, tmp_path, change: str, code: str
) -> None:  # type: ignore[no-untyped-def]
    url = f"s3://{bucket}/blobs"
    if change == "bucket":
        url = "s3://no-such-bucket-here/blobs"
    elif change == "secret":
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wrong")
    else:
        from tests.support import free_port

        monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{free_port()}")
    with pytest.raises(Unavailable) as refused:
        open_objects(url, tmp_path).check()
    assert refused.value.code == code
