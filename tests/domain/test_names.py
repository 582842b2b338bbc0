"""The name rules of docs/concepts.md: slugs, channel names, platforms, file names and digests."""

from __future__ import annotations

import re
import string
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dist.domain.errors import DistError
from dist.domain.values import (
    parse_channel_name,
    parse_content_type,
    parse_filename,
    parse_platform,
    parse_sha256,
    parse_slug,
)

PATH_LIKE = ["../x", "..", ".", "a/b", "a\\b", "%2e%2e", "%2e%2e%2fetc", "a\x00b", "", " a", "a ", "A", "a\n"]


def _accepted(parse: Callable[[str], str], value: str, code: str) -> bool:
    try:
        assert parse(value) == value
    except DistError as refused:
        assert refused.code == code
        assert refused.kind == "invalid"
        return False
    return True


def _slug_model(value: str) -> bool:
    inner = set(string.ascii_lowercase + string.digits + "-")
    ends = set(string.ascii_lowercase + string.digits)
    return 1 <= len(value) <= 64 and value[0] in ends and value[-1] in ends and set(value) <= inner


def _channel_model(value: str) -> bool:
    inner = set(string.ascii_lowercase + string.digits + "._-")
    ends = set(string.ascii_lowercase + string.digits)
    return 1 <= len(value) <= 32 and value[0] in ends and value[-1] in ends and set(value) <= inner


def _platform_model(value: str) -> bool:
    words = value.split("-")
    return len(value) <= 64 and all(w and set(w) <= set(string.ascii_lowercase + string.digits + "_") for w in words)


name_text = st.text(string.ascii_lowercase[:4] + "09-._/%\\ A\x00\u00e9\u0661", max_size=70)


@given(st.one_of(name_text, st.text(max_size=70)))
def test_slugs_follow_the_rule(value: str) -> None:
    assert _accepted(parse_slug, value, "app.invalid_slug") is _slug_model(value)


@given(st.one_of(name_text, st.text(max_size=40)))
def test_channel_names_follow_the_rule(value: str) -> None:
    assert _accepted(parse_channel_name, value, "channel.invalid_name") is _channel_model(value)


@given(st.one_of(name_text, st.text(max_size=70)))
def test_platforms_follow_the_rule(value: str) -> None:
    assert _accepted(parse_platform, value, "artifact.invalid_platform") is _platform_model(value)


@pytest.mark.parametrize("value", [*PATH_LIKE, "a" * 65, "-a", "a-", "a_b", "a.b"])
def test_path_like_and_overlong_slugs_are_refused(value: str) -> None:
    assert not _accepted(parse_slug, value, "app.invalid_slug")


@pytest.mark.parametrize("value", [*PATH_LIKE, "a" * 33, ".a", "a.", "_a"])
def test_path_like_and_overlong_channel_names_are_refused(value: str) -> None:
    assert not _accepted(parse_channel_name, value, "channel.invalid_name")


@pytest.mark.parametrize("value", [*PATH_LIKE, "a" * 65, "-linux", "linux-", "linux--x86", "Linux-x86_64"])
def test_path_like_and_overlong_platforms_are_refused(value: str) -> None:
    assert not _accepted(parse_platform, value, "artifact.invalid_platform")


@pytest.mark.parametrize("value", ["a", "demo", "my-app-2", "0", "a" * 64])
def test_good_slugs(value: str) -> None:
    assert parse_slug(value) == value


@pytest.mark.parametrize("value", ["stable", "beta", "1.x", "release_candidate", "a-b.c_d", "b" * 32])
def test_good_channel_names(value: str) -> None:
    assert parse_channel_name(value) == value


@pytest.mark.parametrize("value", ["any", "linux-x86_64", "darwin-aarch64", "windows-x86_64", "_", "a" * 64])
def test_good_platforms(value: str) -> None:
    assert parse_platform(value) == value


@pytest.mark.parametrize(
    "value",
    [
        *[
            "",
            ".",
            "..",
            "../x",
            "a/b",
            "a\\b",
            "a\x00",
            "a\nb",
            "a\x7fb",
            "\x1b[31m",
            "a" * 256,
            "a\u0085b",
            "a\ud800",
        ],
        # Escapes of what a file name may not hold: a path once some layer decodes them.
        *["%2e%2e", "%2E%2e", "a%2fb", "a%5Cb", "a%00", "%252e%252e"],
    ],
)
def test_bad_filenames_are_refused(value: str) -> None:
    assert not _accepted(parse_filename, value, "artifact.invalid_filename")


@pytest.mark.parametrize("value", ["app.tar.gz", "...", ".hidden", "100%", "a%20b", "x" * 255, "caf\u00e9 setup.exe"])
def test_good_filenames(value: str) -> None:
    assert parse_filename(value) == value


@given(st.text(max_size=300))
def test_filenames_follow_the_rule(value: str) -> None:
    expected = (
        1 <= len(value) <= 255
        and value not in (".", "..")
        and not any(c in "/\\" or c == "\x7f" or c < " " or "\x80" <= c <= "\x9f" for c in value)
        and not any("\ud800" <= c <= "\udfff" for c in value)
    )
    assert _accepted(parse_filename, value, "artifact.invalid_filename") is expected


@given(st.text("0123456789abcdefABCDEF g", min_size=60, max_size=68))
def test_sha256_is_64_lowercase_hex_digits(value: str) -> None:
    expected = re.fullmatch(r"[0-9a-f]{64}", value) is not None
    assert _accepted(parse_sha256, value, "object.invalid_sha256") is expected


@pytest.mark.parametrize(
    "value", ["text/plain\n;a", "text/plain;\r\nX-Evil: 1", "text/plain\u2028;a", "text", "a/b/c", "", "x" * 300]
)
def test_content_types_that_would_not_make_a_header_are_refused(value: str) -> None:
    assert not _accepted(parse_content_type, value, "artifact.invalid_content_type")


@pytest.mark.parametrize(
    "value", ["application/octet-stream", "application/vnd.debian.binary-package", "text/plain; charset=utf-8"]
)
def test_good_content_types(value: str) -> None:
    assert parse_content_type(value) == value
