"""The contract (dist/http/contract.py) and the one rendering (dist/domain/render.py) describe the same shapes,
and a request outside the contract is refused with 422 naming its field."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import msgspec
from hypothesis import given
from hypothesis import strategies as st
from starlette.testclient import TestClient

from dist.domain.entities import App, Artifact, AuditEvent, Channel, ChannelEvent, Release, Token
from dist.domain.enums import AuditAction, ChannelEventKind, ReleaseStatus, Scope
from dist.domain.render import (
    render_app,
    render_artifact,
    render_audit_event,
    render_channel,
    render_channel_event,
    render_release,
    render_token,
)
from dist.http import contract
from tests.http.conftest import assert_error, publish, sha256

moments = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC))
maybe_moments = st.none() | moments
texts = st.text(max_size=20)
names = st.from_regex(r"[a-z0-9]{1,10}", fullmatch=True)
artifacts = st.builds(
    Artifact, filename=names, platform=names, sha256=st.just("a" * 64), size=st.integers(0, 2**40), content_type=texts
)
releases = st.builds(
    Release,
    app=names,
    version=st.just("1.0.0-rc.1+b"),
    notes=texts,
    status=st.sampled_from(ReleaseStatus),
    created_at=moments,
    created_by=texts,
    artifacts=st.lists(artifacts, max_size=3),
)
channels = st.builds(Channel, app=names, name=names, release=st.none() | names, created_at=moments, updated_at=moments)
tokens = st.builds(
    Token,
    name=texts,
    scopes=st.lists(st.sampled_from(Scope), min_size=1, max_size=2, unique=True),
    app=st.none() | names,
    channel=st.none() | names,
    created_at=moments,
    expires_at=maybe_moments,
    revoked_at=maybe_moments,
    last_used_at=maybe_moments,
    id=st.integers(1, 2**31 - 1),
)
audit_events = st.builds(
    AuditEvent,
    at=moments,
    actor=texts,
    action=st.sampled_from(AuditAction),
    app=st.none() | names,
    target=st.none() | texts,
    detail=st.dictionaries(names, st.none() | texts | st.integers(-(2**53), 2**53)),
    id=st.integers(1, 2**31 - 1),
)


def same_shape(rendered: Any, built: Any, where: str = "$") -> None:
    """Every object has the same keys at every depth, and lists the same lengths."""
    if isinstance(rendered, dict):
        assert isinstance(built, dict) and set(rendered) == set(built), (where, set(rendered) ^ set(built))
        for key, value in rendered.items():
            same_shape(value, built[key], f"{where}.{key}")
    elif isinstance(rendered, list):
        assert isinstance(built, list) and len(rendered) == len(built), where
        for i, (a, b) in enumerate(zip(rendered, built, strict=True)):
            same_shape(a, b, f"{where}[{i}]")


def conforms(rendered: dict[str, Any], kind: type[Any]) -> None:
    """`rendered`, sent as JSON, decodes into `kind` (every field there, of its type) and nothing is left over;
    the timestamps read back as the same instants."""
    wire = contract.encode(rendered)
    decoded = msgspec.json.decode(wire, type=kind)
    same_shape(msgspec.json.decode(wire), msgspec.to_builtins(decoded))
    assert msgspec.json.decode(contract.encode(decoded), type=kind) == decoded


@given(releases)
def test_release_rendering_is_the_contract(release: Release) -> None:
    conforms(render_release(release), contract.Release)
    if release.artifacts:
        artifact = render_artifact(release.app, release.version, release.artifacts[0])
        conforms({"release": render_release(release), "artifact": artifact}, contract.UpdateCheck)
    conforms({"releases": [render_release(release)], "next_cursor": None}, contract.ReleaseList)


@given(channels, releases, st.booleans())
def test_app_and_channel_renderings_are_the_contract(channel: Channel, release: Release, serving: bool) -> None:
    app = App(slug=channel.app, name=channel.app.upper(), created_at=channel.created_at)
    conforms(render_app(app), contract.App)
    conforms({"apps": [render_app(app)]}, contract.AppList)
    conforms({**render_app(app), "channels": [render_channel(channel)]}, contract.AppWithChannels)
    conforms(render_channel(channel), contract.Channel)
    current = render_release(release) if serving else None
    conforms({**render_channel(channel), "current_release": current}, contract.ChannelWithRelease)
    event = ChannelEvent(kind=ChannelEventKind.PROMOTE, version="1.0.0", actor="cli:me", at=channel.updated_at)
    conforms({"events": [render_channel_event(event)]}, contract.ChannelHistory)


@given(tokens, moments, audit_events)
def test_token_and_audit_renderings_are_the_contract(token: Token, now: datetime, event: AuditEvent) -> None:
    conforms(render_token(token, now), contract.Token)
    conforms({"tokens": [render_token(token, now)]}, contract.TokenList)
    conforms({**render_token(token, now), "secret": "dist_" + "0" * 64}, contract.NewToken)
    conforms({"events": [render_audit_event(event)]}, contract.AuditLog)


def test_a_shape_that_drifts_is_caught() -> None:
    release = Release("demo", "1.0.0", "", ReleaseStatus.PUBLISHED, datetime.now(UTC), "cli:me")
    rendered = render_release(release)
    for drifted in ({**rendered, "extra": 1}, {k: v for k, v in rendered.items() if k != "notes"}):
        try:
            conforms(drifted, contract.Release)
        except (AssertionError, msgspec.ValidationError):
            continue
        raise AssertionError(f"{sorted(drifted)} passed as a Release")


def _error(response: Any, status: int, code: str, field: str) -> str:
    assert_error(response, status, code)
    detail = response.json()["error"]
    assert detail["field"] == field, detail
    message: str = detail["message"]
    # The generic refusals name the field in their message; a domain rule's keeps the rule's own message.
    assert message.startswith(f"{field}: ") == code.startswith("request."), message
    return message


def test_refusals_name_the_field(client: TestClient, publisher: dict[str, str]) -> None:
    publish(client, publisher, "1.0.0", {"a.bin": (b"1", "any")})
    good = {"filename": "a.bin", "sha256": sha256(b"1")}

    def post(body: object) -> Any:
        return client.post("/api/apps/demo/releases", json=body, headers=publisher)

    bad_sha = {"version": "2.0.0", "artifacts": [good, {**good, "filename": "b.bin", "sha256": "XYZ"}]}
    assert "'XYZ' is not a sha256 digest" in _error(post(bad_sha), 422, "object.invalid_sha256", "artifacts[1].sha256")
    unknown = {"version": "2.0.0", "artifacts": [{**good, "signature": "x"}]}
    _error(post(unknown), 422, "request.unknown_field", "artifacts[0].signature")
    _error(
        post({"version": "2.0.0", "artifacts": [{**good, "size": 1}]}),
        422,
        "request.unknown_field",
        "artifacts[0].size",
    )
    _error(
        post({"version": "2.0.0", "artifacts": [{"sha256": good["sha256"]}]}),
        422,
        "request.missing_field",
        "artifacts[0].filename",
    )
    _error(
        post({"version": "2.0.0", "artifacts": [{**good, "platform": 7}]}),
        422,
        "request.invalid_field",
        "artifacts[0].platform",
    )
    _error(
        post({"version": "2.0.0", "artifacts": [{**good, "platform": "Linux"}]}),
        422,
        "artifact.invalid_platform",
        "artifacts[0].platform",
    )
    _error(post({"version": "2.0.0", "channel": None, "artifacts": [good]}), 422, "request.invalid_field", "channel")
    _error(post({"version": "2.0.0", "channel": "-x-", "artifacts": [good]}), 422, "channel.invalid_name", "channel")
    _error(
        post({"version": "2.0.0", "notes": "n" * 100_001, "artifacts": [good]}), 422, "release.notes_too_long", "notes"
    )
    too_many = {"version": "2.0.0", "artifacts": [{**good, "filename": f"{i}.bin"} for i in range(101)]}
    _error(post(too_many), 422, "release.too_many_artifacts", "artifacts")
    promote = client.post(
        "/api/apps/demo/channels/beta/promote", json={"version": "1.0.0", "to": "x"}, headers=publisher
    )
    _error(promote, 422, "request.unknown_field", "to")
    listing = client.get("/api/apps/demo/releases", params={"limit": "9999"})
    _error(listing, 422, "release.invalid_limit", "limit")
    # Nothing was written by any of these.
    assert [r["version"] for r in client.get("/api/apps/demo/releases").json()["releases"]] == ["1.0.0"]
    # The rule's reading of query text: leading zeros and an empty cursor are fine.
    assert client.get("/api/apps/demo/releases", params={"limit": "007", "cursor": ""}).status_code == 200
