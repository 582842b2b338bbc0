"""One attempt at a delivery: resolve the endpoint's host, refuse addresses inside the network unless told
otherwise, and POST the signed body to the very address that was checked (so that a second DNS answer cannot
point the request elsewhere). Redirects are not followed; the whole attempt has ATTEMPT_TIMEOUT seconds."""

from __future__ import annotations

import asyncio
import socket
import time

import httpx

from dist.domain import webhook_message
from dist.domain.entities import Attempt
from dist.domain.webhooks import forbidden_address
from dist.services.outbox import Outcome

ATTEMPT_TIMEOUT = 10.0
USER_AGENT = "dist-webhooks"
ALLOW_PRIVATE_FLAG = "--webhooks-allow-private"


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
            reason = forbidden_address(address)
            if reason is not None:
                where = reason if host == address else f"{host} resolves to {address}, and {reason}"
                raise Refused(f"refused: {where}; distd {ALLOW_PRIVATE_FLAG} allows it")
    return addresses[0]


async def send(client: httpx.AsyncClient, attempt: Attempt, *, allow_private: bool) -> Outcome:
    """Make one attempt and say how it went; never raises for anything the network or the receiver does."""
    try:
        async with asyncio.timeout(ATTEMPT_TIMEOUT):
            return await _post(client, attempt, allow_private=allow_private)
    except TimeoutError:
        return Outcome(error=f"no answer within {ATTEMPT_TIMEOUT:g} s")
    except Refused as refused:
        return Outcome(error=str(refused))
    except httpx.HTTPError as error:
        return Outcome(error=f"{type(error).__name__}: {error}" if str(error) else type(error).__name__)
    except OSError as error:
        return Outcome(error=f"{type(error).__name__}: {error}")


async def _post(client: httpx.AsyncClient, attempt: Attempt, *, allow_private: bool) -> Outcome:
    url = httpx.URL(attempt.url)
    host = url.raw_host.decode("ascii")
    port = url.port or (443 if url.scheme == "https" else 80)
    address = await resolve(host, port, allow_private=allow_private)
    headers = webhook_message.headers(attempt.secret, attempt.message_id, int(time.time()), attempt.payload)
    headers["host"] = url.netloc.decode("ascii")
    headers["user-agent"] = USER_AGENT
    # TLS still names (SNI) and verifies the certificate of the host, not the address.
    extensions = {"sni_hostname": host} if url.scheme == "https" else {}
    request = client.build_request(
        "POST", url.copy_with(host=address), content=attempt.payload.encode(), headers=headers, extensions=extensions
    )
    response = await client.send(request, stream=True)
    # The receiver's body is not needed: only its status says whether the delivery arrived.
    await response.aclose()
    if response.is_success:
        return Outcome(status=response.status_code)
    if response.is_redirect:
        return Outcome(
            status=response.status_code,
            error=f"HTTP {response.status_code}: redirects are not followed (to {response.headers.get('location')})",
        )
    return Outcome(status=response.status_code, error=f"HTTP {response.status_code}")
