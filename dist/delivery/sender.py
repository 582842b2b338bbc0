"""One attempt at a delivery: resolve the endpoint's host, refuse addresses inside the network unless told
otherwise, and POST the signed body to the very address that was checked, so that a second DNS answer cannot
point the request elsewhere. Redirects are not followed; the whole attempt has ATTEMPT_TIMEOUT seconds.

It speaks httpcore, httpx's own transport: importing httpx would load its command line's modules (rich,
click, pygments) into every serving process."""

from __future__ import annotations

import asyncio
import socket
import time
from urllib.parse import urlsplit

import httpcore

from dist.domain import webhook_message
from dist.domain.entities import Attempt
from dist.domain.webhooks import forbidden_address
from dist.services.outbox import Outcome

ATTEMPT_TIMEOUT = 10.0
USER_AGENT = "dist-webhooks"
ALLOW_PRIVATE_FLAG = "--webhooks-allow-private"
DEFAULT_PORTS = {"http": 80, "https": 443}
NETWORK_ERRORS = (
    OSError,
    httpcore.NetworkError,
    httpcore.ProtocolError,
    httpcore.TimeoutException,
    httpcore.UnsupportedProtocol,
)


class Refused(Exception):
    """The endpoint may not be reached from here; the message says why."""


async def resolve(host: str, port: int, *, allow_private: bool) -> str:
    """The address to connect to for `host`. Every address the name resolves to must be public unless
    `allow_private`: a name with one private address among public ones is refused too."""
    loop = asyncio.get_running_loop()
    try:
        found = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as error:
        raise Refused(f"cannot resolve {host}: {error.strerror}") from None
    addresses = list(dict.fromkeys(str(info[4][0]) for info in found))
    if not addresses:
        raise Refused(f"{host} resolves to no address")
    if not allow_private:
        for address in addresses:
            try:
                reason = forbidden_address(address)
            except ValueError:
                reason = f"{address} is not an IP address"
            if reason is not None:
                where = reason if host == address else f"{host} resolves to {address}, and {reason}"
                raise Refused(f"refused: {where}; distd {ALLOW_PRIVATE_FLAG} allows it")
    return addresses[0]


async def send(pool: httpcore.AsyncConnectionPool, attempt: Attempt, *, allow_private: bool) -> Outcome:
    """Make one attempt and say how it went; never raises for anything the network or the receiver does."""
    try:
        async with asyncio.timeout(ATTEMPT_TIMEOUT):
            return await _post(pool, attempt, allow_private=allow_private)
    except TimeoutError:
        return Outcome(error=f"no answer within {ATTEMPT_TIMEOUT:g} s")
    except Refused as refused:
        return Outcome(error=str(refused))
    except NETWORK_ERRORS as error:
        return Outcome(error=f"{type(error).__name__}: {error}" if str(error) else type(error).__name__)


async def _post(pool: httpcore.AsyncConnectionPool, attempt: Attempt, *, allow_private: bool) -> Outcome:
    url = urlsplit(attempt.url)
    assert url.hostname is not None
    host = url.hostname.encode("idna").decode("ascii") if not url.hostname.isascii() else url.hostname
    port = url.port or DEFAULT_PORTS[url.scheme]
    address = await resolve(host, port, allow_private=allow_private)
    signed = webhook_message.headers(attempt.secret, attempt.message_id, int(time.time()), attempt.payload)
    body = attempt.payload.encode()
    netloc = f"[{host}]" if ":" in host else host
    headers = [
        ("host", netloc if url.port is None else f"{netloc}:{url.port}"),
        ("user-agent", USER_AGENT),
        ("content-length", str(len(body))),
        *signed.items(),
    ]
    target = (url.path or "/") + (f"?{url.query}" if url.query else "")
    extensions: dict[str, object] = {"timeout": dict.fromkeys(("connect", "read", "write", "pool"), ATTEMPT_TIMEOUT)}
    if url.scheme == "https":
        # TLS still names (SNI) and verifies the certificate of the host, not of the address connected to.
        extensions["sni_hostname"] = host
    destination = httpcore.URL(scheme=url.scheme.encode(), host=address.encode(), port=port, target=target.encode())
    async with pool.stream("POST", destination, headers=headers, content=body, extensions=extensions) as response:
        # The receiver's body is not read: only its status says whether the delivery arrived.
        status = response.status
        location = dict((k.lower(), v) for k, v in response.headers).get(b"location", b"").decode("latin-1")
    if 200 <= status < 300:
        return Outcome(status=status)
    if 300 <= status < 400:
        return Outcome(status=status, error=f"HTTP {status}: redirects are not followed (to {location or '?'})")
    return Outcome(status=status, error=f"HTTP {status}")
