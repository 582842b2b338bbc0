"""The rules of webhooks: what an endpoint may be, which events it is told of, when a failed delivery is
tried again, and which network addresses a delivery may reach."""

from __future__ import annotations

import base64
import ipaddress
import re
import secrets
from collections.abc import Iterable
from datetime import timedelta
from urllib.parse import urlsplit

from dist.domain.entities import Webhook
from dist.domain.enums import AuditAction
from dist.domain.errors import Invalid
from dist.domain.values import MAX_ID, is_storable_text

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32
ALL_EVENTS = "*"
MAX_URL_LENGTH = 2048
# What an endpoint's URL may be: http(s), a host name or IPv4 address (IPv6 literals are not taken: give the
# endpoint a name), a port from 1 to 65535, then a path and query of printable ASCII without a fragment.
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_PORT = r"(?:[1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])"
WEBHOOK_URL_RE = re.compile(rf"https?://{_LABEL}(?:\.{_LABEL})*(?::{_PORT})?(?:[/?][\x21\x22\x24-\x7e]*)?")
DEFAULT_DELIVERIES_LIMIT = 100
MAX_DELIVERIES_LIMIT = 10_000
# Retries wait 1 s, 2 s, 4 s … doubling up to 3 h, each stretched or shrunk by up to half at random so that
# endpoints coming back from an outage are not hit by every instance's backlog at the same moment. After
# the first attempt and MAX_RETRIES retries (about 22 hours of nominal waits) a delivery is `failed`.
FIRST_RETRY = timedelta(seconds=1)
LONGEST_RETRY = timedelta(hours=3)
MAX_RETRIES = 20
JITTER = 0.5


def new_webhook_secret() -> str:
    """A signing secret as the Standard Webhooks libraries take it: `whsec_` and base64 of 32 random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii")


def secret_key(secret: str) -> bytes:
    """The HMAC key a `whsec_` secret stands for."""
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX))


def parse_webhook_secret(secret: str) -> str:
    """A signing secret as Standard Webhooks gives it: `whsec_` and base64 of 24 to 64 bytes."""
    try:
        key = secret_key(secret) if isinstance(secret, str) and secret.startswith(SECRET_PREFIX) else b""
    except ValueError:
        key = b""
    if not 24 <= len(key) <= 64:
        raise Invalid("webhook.invalid_secret", f"a webhook secret is {SECRET_PREFIX} and base64 of 24 to 64 bytes")
    return secret


def parse_webhook_url(url: str) -> str:
    """An absolute http(s) URL with a host and no credentials or fragment; `webhook.invalid_url` otherwise."""
    if not isinstance(url, str) or not 1 <= len(url) <= MAX_URL_LENGTH or not is_storable_text(url):
        raise Invalid(
            "webhook.invalid_url", f"a webhook URL is an http or https URL of at most {MAX_URL_LENGTH} characters"
        )
    if any(c.isspace() or ord(c) < 0x20 for c in url):
        raise Invalid("webhook.invalid_url", "a webhook URL has no spaces or control characters")
    try:
        parts = urlsplit(url)
    except ValueError as error:
        raise Invalid("webhook.invalid_url", f"{url!r} is not a URL: {error}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Invalid("webhook.invalid_url", f"{url!r} is not an http:// or https:// URL with a host")
    if parts.username is not None or parts.password is not None:
        # The URL is listed; a password in it would be shown to every admin and kept in the audit log.
        raise Invalid("webhook.invalid_url", "a webhook URL carries no user name or password")
    if parts.fragment or url.endswith("#"):
        raise Invalid("webhook.invalid_url", "a webhook URL has no #fragment")
    if WEBHOOK_URL_RE.fullmatch(url) is None:
        raise Invalid(
            "webhook.invalid_url",
            f"{url!r} is not a URL dist calls: http(s), lowercase scheme, a host name or IPv4 address, a port "
            "from 1 to 65535, and a path of printable ASCII (percent-encode the rest)",
        )
    return url


def parse_event(event: str) -> str:
    """An audit action, or `*` for all of them; `webhook.unknown_event` otherwise."""
    known = {action.value for action in AuditAction}
    if event != ALL_EVENTS and event not in known:
        raise Invalid("webhook.unknown_event", f"{event!r} is not an event; use * or one of {', '.join(sorted(known))}")
    return event


def parse_events(events: Iterable[str]) -> list[str]:
    """The audit actions an endpoint wants, in the order given, without repeats; none given means all (`*`)."""
    chosen: list[str] = []
    for event in events:
        if parse_event(event) not in chosen:
            chosen.append(event)
    if ALL_EVENTS in chosen or not chosen:
        return [ALL_EVENTS]
    return chosen


def parse_webhook_id(value: int | str) -> int:
    return _parse_id(value, "webhook.invalid_id", "a webhook id")


def parse_delivery_id(value: int | str) -> int:
    return _parse_id(value, "webhook.invalid_delivery_id", "a delivery id")


def parse_deliveries_limit(value: int | str) -> int:
    number = _whole_number(value)
    if number is None or not 1 <= number <= MAX_DELIVERIES_LIMIT:
        raise Invalid("webhook.invalid_limit", f"limit must be a whole number between 1 and {MAX_DELIVERIES_LIMIT}")
    return number


def _parse_id(value: int | str, code: str, what: str) -> int:
    number = _whole_number(value)
    if number is None or not 1 <= number <= MAX_ID:
        raise Invalid(code, f"{value!r} is not {what} (a whole number from 1)")
    return number


def _whole_number(value: object) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 18:
        return int(value)
    return None


def subscribes(webhook: Webhook, action: AuditAction, app: str | None) -> bool:
    """Whether the endpoint is told of an event with this action about this app."""
    if webhook.app is not None and webhook.app != app:
        return False
    return ALL_EVENTS in webhook.events or action.value in webhook.events


def retry_delay(attempts: int, draw: float) -> timedelta | None:
    """How long to wait after the `attempts`-th attempt failed, with `draw` uniform in [0, 1) for the jitter;
    None when the delivery is given up."""
    if attempts > MAX_RETRIES:
        return None
    nominal = min(FIRST_RETRY * (1 << (attempts - 1)), LONGEST_RETRY)
    return nominal * (1 - JITTER + 2 * JITTER * draw)


def forbidden_address(address: str) -> str | None:
    """Why an outbound request must not reach this IP address (loopback, private, link-local, multicast,
    reserved or unspecified), or None when it is a public one."""
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    checks = (
        ("loopback", ip.is_loopback),
        ("link-local", ip.is_link_local),
        ("multicast", ip.is_multicast),
        ("unspecified", ip.is_unspecified),
        ("reserved", ip.is_reserved),
        ("private", ip.is_private or not ip.is_global),
    )
    return next((f"{address} is a {name} address" for name, found in checks if found), None)
