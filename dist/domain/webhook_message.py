"""A webhook message as the Standard Webhooks specification has it: the body is the audit event's JSON
rendering, and three headers let the receiver check where it came from and when it was sent.

    webhook-id         the message id, the same on every attempt (receivers deduplicate on it)
    webhook-timestamp  the attempt's Unix time in seconds
    webhook-signature  `v1,` + base64 of HMAC-SHA256(key, "{id}.{timestamp}.{body}")
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets

from dist.domain.entities import AuditEvent
from dist.domain.render import render_audit_event
from dist.domain.webhooks import secret_key

MESSAGE_ID_PREFIX = "msg_"


def new_message_id() -> str:
    return MESSAGE_ID_PREFIX + secrets.token_hex(16)


def payload(event: AuditEvent) -> str:
    """The body of every delivery of `event`, fixed once so that each attempt sends the same bytes."""
    return json.dumps(render_audit_event(event), ensure_ascii=False, separators=(",", ":"))


def signature(secret: str, message_id: str, timestamp: int, body: str) -> str:
    signed = f"{message_id}.{timestamp}.{body}".encode()
    digest = hmac.new(secret_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def headers(secret: str, message_id: str, timestamp: int, body: str) -> dict[str, str]:
    """The headers of one attempt to send `body`, signed with the endpoint's secret."""
    return {
        "content-type": "application/json",
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature(secret, message_id, timestamp, body),
    }
