"""One bounded, outbound HTTP POST to an address checked at send time.

The URL's host is resolved when the request is sent, every address it resolves to is checked,
and the connection goes to the address that was checked (never a second lookup, which a
hostile DNS server could answer differently). Private, loopback, link-local, multicast,
reserved and unspecified addresses are refused unless `WEBHOOK_ALLOWED_NETWORKS` lists them.
The request has a connect and a read timeout, follows no redirect, and reads back at most
`WEBHOOK_RESPONSE_MAX_BYTES` of the answer within the read timeout.
"""

import ipaddress
import socket
import time
from dataclasses import dataclass
from functools import cache
from urllib.parse import urlsplit

import urllib3
from django.conf import settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class AddressRefused(Exception):
    """The target resolves only to addresses this server may not call."""


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes
    elapsed_ms: int


@cache
def _networks(setting: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(
        ipaddress.ip_network(item.strip(), strict=False)
        for item in setting.split(",")
        if item.strip()
    )


def allowed_networks() -> tuple:
    """`WEBHOOK_ALLOWED_NETWORKS` parsed (comma-separated addresses or CIDR networks)."""
    return _networks(settings.WEBHOOK_ALLOWED_NETWORKS)


def address_allowed(address: IPAddress) -> bool:
    """Public unicast addresses, and whatever `WEBHOOK_ALLOWED_NETWORKS` lists."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    if any(address in network for network in allowed_networks()):
        return True
    return address.is_global and not (address.is_multicast or address.is_reserved)


def address_resolve(host: str, port: int) -> IPAddress:
    """The first address `host` resolves to that may be called; `AddressRefused` if none."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as error:
        raise OSError(f"The name {host} does not resolve: {error}") from error
    addresses = [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos]
    for address in addresses:
        if address_allowed(address):
            return address
    raise AddressRefused(
        f"{host} resolves to {', '.join(sorted({str(a) for a in addresses}))}: private, "
        "loopback, link-local or reserved addresses are not called "
        "(WEBHOOK_ALLOWED_NETWORKS)."
    )


def post(*, url: str, body: bytes, headers: dict[str, str]) -> Answer:
    """POST `body` to `url` (http or https) through the checked address; the answer, its
    body cut at the size cap. Raises `AddressRefused`, or an `OSError`/urllib3 error when
    the name does not resolve, the connection fails or a timeout passes."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    https = parts.scheme == "https"
    port = parts.port or (443 if https else 80)
    address = address_resolve(host, port)
    timeout = urllib3.Timeout(
        connect=settings.WEBHOOK_CONNECT_TIMEOUT, read=settings.WEBHOOK_READ_TIMEOUT
    )
    pool: urllib3.HTTPConnectionPool
    if https:
        # TLS to the checked address, verified against the name in the URL.
        pool = urllib3.HTTPSConnectionPool(
            str(address),
            port,
            timeout=timeout,
            retries=False,
            maxsize=1,
            server_hostname=host,
            assert_hostname=host,
            cert_reqs="CERT_REQUIRED",
        )
    else:
        pool = urllib3.HTTPConnectionPool(
            str(address), port, timeout=timeout, retries=False, maxsize=1
        )
    default_port = 443 if https else 80
    host_header = host if ":" not in host else f"[{host}]"
    if port != default_port:
        host_header = f"{host_header}:{port}"
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    started = time.monotonic()
    with pool:
        response = pool.urlopen(
            "POST",
            target,
            body=body,
            headers={**headers, "Host": host_header},
            redirect=False,
            assert_same_host=False,
            preload_content=False,
        )
        try:
            answer_body = _read_capped(response, deadline=started + _read_budget())
        finally:
            response.release_conn()
    return Answer(
        status=response.status,
        body=answer_body,
        elapsed_ms=round((time.monotonic() - started) * 1000),
    )


def _read_budget() -> float:
    return settings.WEBHOOK_CONNECT_TIMEOUT + settings.WEBHOOK_READ_TIMEOUT


def _read_capped(response, *, deadline: float) -> bytes:
    """At most `WEBHOOK_RESPONSE_MAX_BYTES` of the body, read before `deadline` (a server
    trickling bytes stops being read there; what it sent so far is kept)."""
    cap = settings.WEBHOOK_RESPONSE_MAX_BYTES
    chunks, size = [], 0
    while size < cap and time.monotonic() < deadline:
        chunk = response.read(min(4096, cap - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)
