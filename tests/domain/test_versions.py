"""SemVer 2.0.0 parsing and precedence, checked against a plain reading of semver.org's grammar and rules."""

from __future__ import annotations

import functools
import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dist.domain.errors import DistError
from dist.domain.values import MAX_VERSION_LENGTH, Version, parse_version

IDENTIFIER_CHARS = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-"


def _numeric(part: str) -> bool:
    return part != "" and all(c in "0123456789" for c in part)


def _identifier(part: str) -> bool:
    return part != "" and all(c in IDENTIFIER_CHARS for c in part)


def reference_parse(text: str) -> tuple[list[int], list[str]] | None:
    """semver.org's BNF read literally: the core and the pre-release identifiers, or None when invalid."""
    rest, plus, build = text.partition("+")
    if plus and not all(_identifier(p) for p in build.split(".")):
        return None
    core, dash, pre = rest.partition("-")
    numbers = core.split(".")
    if len(numbers) != 3 or not all(_numeric(n) and (n == "0" or n[0] != "0") for n in numbers):
        return None
    identifiers = pre.split(".") if dash else []
    for part in identifiers:
        if not _identifier(part) or (_numeric(part) and part != "0" and part[0] == "0"):
            return None
    return [int(n) for n in numbers], identifiers


def reference_compare(a: str, b: str) -> int:
    """semver.org §11, step by step."""
    parsed_a, parsed_b = reference_parse(a), reference_parse(b)
    assert parsed_a is not None and parsed_b is not None
    (core_a, pre_a), (core_b, pre_b) = parsed_a, parsed_b
    if core_a != core_b:
        return -1 if core_a < core_b else 1
    if not pre_a or not pre_b:
        return (not pre_a) - (not pre_b)
    for x, y in zip(pre_a, pre_b, strict=False):
        if x == y:
            continue
        if _numeric(x) and _numeric(y):
            return -1 if int(x) < int(y) else 1
        if _numeric(x) != _numeric(y):
            return -1 if _numeric(x) else 1
        return -1 if x < y else 1
    return (len(pre_a) > len(pre_b)) - (len(pre_a) < len(pre_b))


numbers = st.one_of(st.integers(0, 3), st.integers(0, 10**12)).map(str)
alnum_identifiers = st.text(IDENTIFIER_CHARS, min_size=1, max_size=6).filter(lambda s: not _numeric(s))
pre_identifiers = st.one_of(numbers, alnum_identifiers, st.sampled_from(["alpha", "beta", "rc", "a", "b", "0a", "-"]))
build_identifiers = st.text(IDENTIFIER_CHARS, min_size=1, max_size=5)


@st.composite
def versions(draw: st.DrawFn) -> str:
    text = ".".join(draw(numbers) for _ in range(3))
    pre = draw(st.lists(pre_identifiers, max_size=4))
    if pre:
        text += "-" + ".".join(pre)
    build = draw(st.lists(build_identifiers, max_size=3))
    if build:
        text += "+" + ".".join(build)
    return text


# The characters that matter to the grammar, plus a non-ASCII digit, a superscript, a space and NUL.
NOISE = "019.+-Z\u0661\u00b2 \x00"
noise = st.text(NOISE, min_size=0, max_size=16)


@st.composite
def near_versions(draw: st.DrawFn) -> str:
    """A valid version with one character inserted, replaced or removed: mostly just off the grammar."""
    text = draw(versions())
    at = draw(st.integers(0, len(text)))
    edit = draw(st.sampled_from(["insert", "replace", "remove"]))
    if edit == "insert":
        return text[:at] + draw(st.sampled_from(NOISE)) + text[at:]
    if edit == "replace":
        return text[:at] + draw(st.sampled_from(NOISE)) + text[at + 1 :]
    return text[:at] + text[at + 1 :]


def _accepts(text: str) -> bool:
    try:
        parse_version(text)
    except DistError as refused:
        assert refused.code == "release.invalid_version"
        return False
    return True


@settings(max_examples=500)
@given(st.one_of(versions(), near_versions(), noise, noise.map(lambda s: "1.0.0" + s)))
def test_validity_matches_the_grammar(text: str) -> None:
    expected = reference_parse(text) is not None and len(text) <= MAX_VERSION_LENGTH
    assert _accepts(text) is expected


@given(versions())
def test_a_valid_version_reads_back_as_written(text: str) -> None:
    if len(text) <= MAX_VERSION_LENGTH:
        assert str(Version.parse(text)) == text


@pytest.mark.parametrize(
    "text",
    ["1", "1.0", "1.0.0.0", "01.0.0", "1.01.0", "1.0.00", "1.0.0-01", "1.0.0-", "1.0.0+", "1.0.0-a..b",
     "1.0.0+a..b", " 1.0.0", "1.0.0 ", "1.0.0\n", "v1.0.0", "1.0.0-a_b", "1.0.0+a/b", "-1.0.0", "1.0.0-\u00e9",
     "1\u0661.0.0", "1.0.0-1\u0661", "", "1.0.0-" + "a" * 130],
)  # fmt: skip
def test_invalid_versions_are_refused(text: str) -> None:
    with pytest.raises(DistError) as refused:
        Version.parse(text)
    assert refused.value.code == "release.invalid_version"


@pytest.mark.parametrize(
    "text", ["0.0.0", "1.0.0-0a", "1.0.0+001", "1.0.0-x-y-z.--", "1.0.0-alpha+001", "10.20.30-rc.1+build.5.ab"]
)
def test_valid_versions_are_accepted(text: str) -> None:
    assert str(Version.parse(text)) == text


def test_the_example_of_semver_org_is_in_order() -> None:
    chain = [
        "1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta", "1.0.0-beta.2", "1.0.0-beta.11",
        "1.0.0-rc.1", "1.0.0", "2.0.0", "2.1.0", "2.1.1", "10.0.0",
    ]  # fmt: skip
    parsed = [Version.parse(v) for v in chain]
    assert all(a < b for a, b in itertools.pairwise(parsed))
    assert sorted(reversed(parsed)) == parsed


def test_build_metadata_does_not_change_precedence() -> None:
    assert Version.parse("1.0.0+a") == Version.parse("1.0.0+b") == Version.parse("1.0.0")
    assert not Version.parse("1.0.0+zzz") < Version.parse("1.0.0")


@given(versions(), versions())
def test_precedence_matches_the_reference(a: str, b: str) -> None:
    va, vb = Version.parse(a), Version.parse(b)
    expected = reference_compare(a, b)
    assert (va < vb, va == vb, va > vb) == (expected < 0, expected == 0, expected > 0)
    assert (va <= vb) == (expected <= 0) and (va >= vb) == (expected >= 0)
    assert (hash(va) == hash(vb)) or expected != 0


@given(versions(), versions(), versions())
def test_precedence_is_a_total_order(a: str, b: str, c: str) -> None:
    va, vb, vc = Version.parse(a), Version.parse(b), Version.parse(c)
    assert [va < vb, va == vb, vb < va].count(True) == 1
    if va <= vb and vb <= vc:
        assert va <= vc
    if va <= vb and vb <= va:
        assert va == vb


@given(st.lists(versions(), max_size=12))
def test_sorting_matches_the_reference(texts: list[str]) -> None:
    by_reference = sorted(texts, key=functools.cmp_to_key(reference_compare))
    by_version = sorted(texts, key=Version.parse)
    # Equal precedence (build metadata) may tie in either order; compare the precedence sequence.
    assert [reference_compare(x, y) for x, y in zip(by_version, by_reference, strict=True)] == [0] * len(texts)
