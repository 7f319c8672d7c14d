"""The client's IP address, by one rule for the whole project.

Which address: the peer address, or X-Forwarded-For believed only as far as
REST_FRAMEWORK["NUM_PROXIES"] says (DRF's `get_ident`; 0 proxies by default, so a client cannot
choose its address by sending the header). An IPv4-mapped IPv6 address is its IPv4 address.
Anything that does not parse as an address is no address (None).

Two uses, two functions:
- `address(request)`: the address itself, shown to people (the sessions page) and recorded;
- `counting_key(request)`: what abuse controls count under (login lockout, throttles). An IPv6
  client is counted per /64, since a subscriber or a LAN is given a whole /64: counting single
  addresses would let one client try from 2**64 of them. IPv4 addresses count one by one.
"""

import ipaddress

from rest_framework.throttling import BaseThrottle

IPV6_PREFIX = 64


def _parsed(request):
    try:
        parsed = ipaddress.ip_address(BaseThrottle().get_ident(request) or "")
    except ValueError:
        return None
    if parsed.version == 6 and parsed.ipv4_mapped:
        return parsed.ipv4_mapped
    return parsed


def address(request):
    """The client's IP address as a string, or None."""
    parsed = _parsed(request)
    return str(parsed) if parsed else None


def counting_key(request):
    """The address abuse controls count this client under: its IPv4 address, or its IPv6 /64
    network's address; None when there is no address."""
    parsed = _parsed(request)
    if parsed is None:
        return None
    if parsed.version == 6:
        return str(ipaddress.ip_network(f"{parsed}/{IPV6_PREFIX}", strict=False).network_address)
    return str(parsed)
