"""Webhook rules and the Standard Webhooks message, checked with the specification's own library."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from standardwebhooks.webhooks import Webhook as Verifier
from standardwebhooks.webhooks import WebhookVerificationError

from dist.domain.entities import AuditEvent, Webhook
from dist.domain.enums import AuditAction
from dist.domain.errors import Invalid
from dist.domain.render import render_audit_event
from dist.domain.webhook_message import headers, new_message_id, payload, signature
from dist.domain.webhooks import (
    MAX_RETRIES,
    forbidden_address,
    new_webhook_secret,
    parse_events,
    parse_webhook_url,
    retry_delay,
    subscribes,
)

EVENT = AuditEvent(
    at=datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC),
    actor="token:3",
    action=AuditAction.RELEASE_PUBLISHED,
    app="demo",
    target="1.0.0",
    detail={"version": "1.0.0", "notes": "ünïcode"},
    id=42,
)


def test_a_signed_message_verifies_with_the_standard_webhooks_library() -> None:
    secret = new_webhook_secret()
    body = payload(EVENT)
    sent = headers(secret, "msg_1", int(time.time()), body)
    assert Verifier(secret).verify(body.encode(), sent) == render_audit_event(EVENT)
    assert sent["content-type"] == "application/json"


def test_a_changed_body_or_another_secret_fails_verification() -> None:
    secret = new_webhook_secret()
    body = payload(EVENT)
    sent = headers(secret, "msg_1", int(time.time()), body)
    with pytest.raises(WebhookVerificationError):
        Verifier(secret).verify(body.replace("1.0.0", "6.6.6").encode(), sent)
    with pytest.raises(WebhookVerificationError):
        Verifier(new_webhook_secret()).verify(body.encode(), sent)


@given(st.text(min_size=1, max_size=40), st.integers(0, 2**33), st.text(max_size=200))
def test_the_signature_is_the_one_the_specification_computes(message_id: str, at: int, body: str) -> None:
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    expected = Verifier(secret).sign(message_id, datetime.fromtimestamp(at, UTC), body)
    assert signature(secret, message_id, at, body) == expected


def test_secrets_and_message_ids_are_fresh_and_shaped_as_the_specification_says() -> None:
    secrets = {new_webhook_secret() for _ in range(50)}
    assert len(secrets) == 50
    assert all(s.startswith("whsec_") and len(s) == 6 + 44 for s in secrets)
    ids = {new_message_id() for _ in range(50)}
    assert len(ids) == 50 and all(i.startswith("msg_") for i in ids)


def test_the_payload_is_the_audit_events_rendering() -> None:
    assert json.loads(payload(EVENT)) == render_audit_event(EVENT)


@pytest.mark.parametrize(
    "url",
    ["https://example.com/hooks/dist", "http://10.0.0.5:8080/x?y=1", "https://xn--bcher-kva.de", "http://a.b?c=@d"],
)
def test_webhook_urls_accepted(url: str) -> None:
    assert parse_webhook_url(url) == url


@pytest.mark.parametrize(
    "url",
    [
        "",
        "example.com/hook",
        "ftp://example.com/",
        "file:///etc/passwd",
        "https://user:pass@example.com/",
        "https://example.com/#frag",
        "https:///nohost",
        "https://example.com:99999/",
        "https://exa mple.com/",
        "https://example.com/\x00",
        "https://example.com/" + "a" * 2100,
        "HTTPS://example.com/",
        "https://bücher.de/",
        "https://[2001:db8::1]/h",
        "https://example.com:0/",
        "https://-example.com/",
        "https://example.com/ä",
    ],
)
def test_webhook_urls_refused(url: str) -> None:
    with pytest.raises(Invalid) as refused:
        parse_webhook_url(url)
    assert refused.value.code == "webhook.invalid_url"


def test_events_default_to_all_and_must_be_audit_actions() -> None:
    assert parse_events([]) == ["*"]
    assert parse_events(["release_published", "channel_promoted", "release_published"]) == [
        "release_published",
        "channel_promoted",
    ]
    assert parse_events(["release_yanked", "*"]) == ["*"]
    with pytest.raises(Invalid) as refused:
        parse_events(["release_published", "release_exploded"])
    assert refused.value.code == "webhook.unknown_event"


def test_an_endpoint_is_told_of_its_events_of_its_app() -> None:
    now = datetime.now(UTC)
    everything = Webhook("https://a.example/", ["*"], None, now)
    yanks_of_demo = Webhook("https://b.example/", ["release_yanked"], "demo", now)
    assert subscribes(everything, AuditAction.TOKEN_CREATED, None)
    assert subscribes(yanks_of_demo, AuditAction.RELEASE_YANKED, "demo")
    assert not subscribes(yanks_of_demo, AuditAction.RELEASE_YANKED, "other")
    assert not subscribes(yanks_of_demo, AuditAction.RELEASE_PUBLISHED, "demo")
    assert not subscribes(yanks_of_demo, AuditAction.TOKEN_CREATED, None)


def test_retries_back_off_exponentially_with_jitter_and_end_after_about_a_day() -> None:
    nominal = [retry_delay(n, 0.5) for n in range(1, MAX_RETRIES + 1)]
    assert all(d is not None for d in nominal)
    waits = [d for d in nominal if d is not None]
    assert waits[:4] == [timedelta(seconds=s) for s in (1, 2, 4, 8)]
    assert waits == sorted(waits)
    assert timedelta(hours=20) <= sum(waits, timedelta()) <= timedelta(hours=26)
    assert retry_delay(MAX_RETRIES + 1, 0.5) is None
    low, high = retry_delay(5, 0.0), retry_delay(5, 0.999999)
    assert low is not None and high is not None
    assert low == timedelta(seconds=8) and timedelta(seconds=23.9) < high < timedelta(seconds=24)


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("::ffff:127.0.0.1", "loopback"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("192.168.1.1", "private"),
        ("100.64.0.1", "private"),
        ("fd00::1", "private"),
        ("169.254.169.254", "link-local"),
        ("fe80::1", "link-local"),
        ("224.0.0.1", "multicast"),
        ("0.0.0.0", "unspecified"),
        ("240.0.0.1", "reserved"),
    ],
)
def test_addresses_inside_the_network_are_forbidden(address: str, kind: str) -> None:
    reason = forbidden_address(address)
    assert reason is not None and kind in reason


@pytest.mark.parametrize("address", ["93.184.216.34", "1.1.1.1", "2606:4700:4700::1111"])
def test_public_addresses_are_allowed(address: str) -> None:
    assert forbidden_address(address) is None
