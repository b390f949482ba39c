"""The Ingress warns at start-up when Serve's HAProxy hides every client's address."""

from __future__ import annotations

from pathlib import Path

import pytest

from deployments.ingress import haproxy_address_warning
from deployments.run import HAPROXY_ENV
from settings.config import Settings


def settings(tmp_path: Path, trusted: str = "") -> Settings:
    return Settings(environment="test", data_dir=tmp_path, trusted_proxies=trusted)


def test_haproxy_without_trusted_proxies_is_warned(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(HAPROXY_ENV, "1")
    warning = haproxy_address_warning(settings(tmp_path))
    assert warning is not None and "MEETING_TRUSTED_PROXIES" in warning
    assert haproxy_address_warning(settings(tmp_path, "10.0.0.0/8")) is None


def test_the_serve_proxy_passes_client_addresses_so_no_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(HAPROXY_ENV, raising=False)
    assert haproxy_address_warning(settings(tmp_path)) is None
