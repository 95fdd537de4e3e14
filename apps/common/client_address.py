"""The address of the client behind a request, on every role: the one place that reads REMOTE_ADDR and
X-Forwarded-For.

X-Forwarded-For is believed only when the direct peer is a configured proxy (TRUSTED_PROXIES: addresses or
networks; none by default). It is then walked from the right, each proxy having appended the address it saw,
skipping entries that are themselves trusted proxies; the first one that is not is the client. Entries left of
it were written by the client and are never used, so a browser cannot pick its own address (and its own
rate-limit bucket) by sending the header.
"""

from functools import cache
from ipaddress import IPv4Address, IPv6Address, ip_address, ip_network

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

FORWARDED_FOR = "HTTP_X_FORWARDED_FOR"


@cache
def _networks(configured: tuple[str, ...]) -> tuple:
    try:
        return tuple(ip_network(entry, strict=False) for entry in configured)
    except ValueError as exc:
        raise ImproperlyConfigured(f"TRUSTED_PROXIES must list IP addresses or networks: {exc}") from None


def trusted_proxy_networks() -> tuple:
    return _networks(tuple(getattr(settings, "TRUSTED_PROXIES", ())))


def _parse(value: str) -> IPv4Address | IPv6Address | None:
    value = value.strip()
    if value.startswith("[") and "]" in value:  # [v6]:port
        value = value[1:value.index("]")]
    elif value.count(":") == 1:  # v4:port
        value = value.split(":", 1)[0]
    try:
        address = ip_address(value)
    except ValueError:
        return None
    mapped = getattr(address, "ipv4_mapped", None)
    return mapped or address


def _trusted(address, networks) -> bool:
    return any(address.version == network.version and address in network for network in networks)


def client_address_from(remote_addr: str, forwarded_for: str = "") -> str:
    """The client's address given the socket's peer and the X-Forwarded-For header's value ("" if unknown)."""
    peer = _parse(remote_addr or "")
    if peer is None:
        return ""
    networks = trusted_proxy_networks()
    if not networks or not _trusted(peer, networks):
        return str(peer)
    client = peer
    for entry in reversed(forwarded_for.split(",")):
        if not entry.strip():
            continue
        address = _parse(entry)
        if address is None:  # garbage where a proxy would have written an address: stop at the last good hop
            break
        client = address
        if not _trusted(address, networks):
            break
    return str(client)


def client_address(request) -> str:
    """The client address of a Django (or DRF) request."""
    meta = request.META
    return client_address_from(meta.get("REMOTE_ADDR", ""), meta.get(FORWARDED_FOR, ""))
