"""The SSRF guard: internal addresses refused unless allowed; the request is pinned."""

from __future__ import annotations

import ipaddress

import pytest

from webhooks.ssrf import (
    BlockedUrlError,
    check_target,
    check_url_syntax,
    is_allowed_address,
    parse_networks,
)


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",  # cloud metadata
        "100.64.0.1",  # carrier-grade NAT
        "0.0.0.0",
        "224.0.0.1",
        "::1",
        "fd00::1",
        "fe80::1",
        "::ffff:127.0.0.1",
        "::ffff:169.254.169.254",
    ],
)
def test_internal_addresses_are_refused(address: str) -> None:
    assert not is_allowed_address(ipaddress.ip_address(address), [])


@pytest.mark.parametrize("address", ["93.184.216.34", "8.8.8.8", "2606:4700::1111"])
def test_public_addresses_are_allowed(address: str) -> None:
    assert is_allowed_address(ipaddress.ip_address(address), [])


def test_operator_allowed_network_opens_only_that_network() -> None:
    allowed = parse_networks(["127.0.0.0/8", " "])
    assert is_allowed_address(ipaddress.ip_address("127.0.0.1"), allowed)
    assert is_allowed_address(ipaddress.ip_address("::ffff:127.0.0.1"), allowed)
    assert not is_allowed_address(ipaddress.ip_address("10.0.0.1"), allowed)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("ftp://example.com/x", "only http and https"),
        ("file:///etc/passwd", "only http and https"),
        ("http:///nohost", "no host"),
        ("https://user:pw@example.com/", "credentials"),
        ("http://example.com:99999/", "not a valid URL"),
        ("https://example.com/" + "a" * 2100, "longer than"),
    ],
)
def test_bad_urls_are_refused(url: str, reason: str) -> None:
    with pytest.raises(BlockedUrlError, match=reason):
        check_url_syntax(url)


def test_name_resolving_to_loopback_is_refused() -> None:
    # "localhost" resolves locally (no network needed) to 127.0.0.1 and/or ::1.
    with pytest.raises(BlockedUrlError, match="non-public address"):
        check_target("http://localhost:8080/hook", [])


def test_allowed_target_is_pinned_to_the_checked_address() -> None:
    allowed = parse_networks(["127.0.0.0/8", "::1/128"])
    target = check_target("http://localhost:8080/hook?x=1", allowed)
    assert target.host_header == "localhost:8080"
    assert target.pinned_url() in {
        "http://127.0.0.1:8080/hook?x=1",
        "http://[::1]:8080/hook?x=1",
    }


def test_literal_ip_urls_are_checked_without_dns() -> None:
    with pytest.raises(BlockedUrlError):
        check_target("http://169.254.169.254/latest/meta-data/", [])
    with pytest.raises(BlockedUrlError):
        check_target("http://[::1]/", [])
    target = check_target("https://93.184.216.34/hook", [])
    assert target.pinned_url() == "https://93.184.216.34:443/hook"
    assert target.host_header == "93.184.216.34"


def test_unresolvable_host_is_refused() -> None:
    with pytest.raises(BlockedUrlError, match="cannot resolve"):
        check_target("https://no-such-host.invalid/hook", [])
