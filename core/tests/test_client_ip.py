import pytest
from django.test import RequestFactory

from core import client_ip


def request_from(remote_addr, forwarded=None):
    extra = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded else {}
    return RequestFactory().get("/", REMOTE_ADDR=remote_addr, **extra)


@pytest.mark.parametrize(
    ("remote_addr", "address", "key"),
    [
        ("203.0.113.7", "203.0.113.7", "203.0.113.7"),
        ("2001:db8:1:2:aaaa:bbbb:cccc:dddd", "2001:db8:1:2:aaaa:bbbb:cccc:dddd", "2001:db8:1:2::"),
        ("2001:DB8:1:2::1", "2001:db8:1:2::1", "2001:db8:1:2::"),
        ("::ffff:198.51.100.9", "198.51.100.9", "198.51.100.9"),
        ("not-an-address", None, None),
        ("", None, None),
    ],
)
def test_address_and_counting_key(remote_addr, address, key):
    request = request_from(remote_addr)
    assert client_ip.address(request) == address
    assert client_ip.counting_key(request) == key


def test_two_addresses_of_one_ipv6_64_count_as_one_client():
    one = client_ip.counting_key(request_from("2001:db8:5:6::1"))
    other = client_ip.counting_key(request_from("2001:db8:5:6:ffff::9"))
    assert one == other != client_ip.counting_key(request_from("2001:db8:5:7::1"))


def test_x_forwarded_for_is_ignored_without_proxies():
    request = request_from("192.0.2.10", forwarded="198.51.100.1")
    assert client_ip.address(request) == "192.0.2.10"


def test_x_forwarded_for_is_believed_as_far_as_num_proxies_says(settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}  # DRF reloads on change
    request = request_from("192.0.2.10", forwarded="203.0.113.5, 198.51.100.1")
    assert client_ip.address(request) == "198.51.100.1"
