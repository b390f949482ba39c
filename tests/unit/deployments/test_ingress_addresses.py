"""Serve's HAProxy passes client addresses through ``deployments/haproxy_forwardfor.sh``, and
the Ingress warns at start-up when a set-up would hide them."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from deployments.ingress import haproxy_address_warning
from deployments.run import (
    FORWARDFOR_WRAPPER,
    HAPROXY_BINARY_ENV,
    HAPROXY_ENV,
    REAL_HAPROXY_ENV,
    TRUSTED_PROXIES_ENV,
    ingress_env,
)
from settings.config import Settings


def settings(tmp_path: Path, trusted: str = "") -> Settings:
    return Settings(environment="test", data_dir=tmp_path, trusted_proxies=trusted)


def test_haproxy_without_trusted_proxies_is_warned(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(HAPROXY_ENV, "1")
    monkeypatch.setenv(HAPROXY_BINARY_ENV, str(FORWARDFOR_WRAPPER))
    warning = haproxy_address_warning(settings(tmp_path))
    assert warning is not None and "MEETING_TRUSTED_PROXIES" in warning
    assert haproxy_address_warning(settings(tmp_path, "10.0.0.0/8")) is None


def test_the_wrapper_in_another_copy_of_the_repository_is_not_warned(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The driver names its own checkout; a replica runs from Ray's copy of it."""
    monkeypatch.setenv(HAPROXY_ENV, "1")
    monkeypatch.setenv(HAPROXY_BINARY_ENV, f"/srv/checkout/deployments/{FORWARDFOR_WRAPPER.name}")
    assert haproxy_address_warning(settings(tmp_path, "10.0.0.0/8")) is None


def test_haproxy_without_the_forwarding_wrapper_is_warned(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(HAPROXY_ENV, "1")
    monkeypatch.delenv(HAPROXY_BINARY_ENV, raising=False)
    warning = haproxy_address_warning(settings(tmp_path, "10.0.0.0/8"))
    assert warning is not None and FORWARDFOR_WRAPPER.name in warning


def test_the_haproxy_environment_runs_the_wrapper_and_trusts_loopback(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(TRUSTED_PROXIES_ENV, raising=False)
    monkeypatch.setenv(HAPROXY_BINARY_ENV, "/opt/haproxy/bin/haproxy")  # an operator's own
    env = ingress_env(direct_ingress=False, haproxy=True)
    assert env[HAPROXY_BINARY_ENV] == str(FORWARDFOR_WRAPPER)
    assert env[REAL_HAPROXY_ENV] == "/opt/haproxy/bin/haproxy"
    assert env[TRUSTED_PROXIES_ENV] == "127.0.0.1/32,::1/128"
    # Asked again (the benchmark sets the environment, then starts): never the wrapper itself.
    monkeypatch.setenv(HAPROXY_BINARY_ENV, str(FORWARDFOR_WRAPPER))
    monkeypatch.setenv(REAL_HAPROXY_ENV, "/opt/haproxy/bin/haproxy")
    monkeypatch.setenv(TRUSTED_PROXIES_ENV, "10.0.0.0/8")
    again = ingress_env(direct_ingress=False, haproxy=True)
    assert (again[REAL_HAPROXY_ENV], again[TRUSTED_PROXIES_ENV]) == (
        "/opt/haproxy/bin/haproxy",
        "10.0.0.0/8",
    )


def test_the_wrapper_adds_forwardfor_once_and_runs_the_real_binary(tmp_path: Path) -> None:
    config = tmp_path / "haproxy.cfg"
    config.write_text("global\n    maxconn 10\ndefaults\n    mode http\nfrontend f\n")
    fake = tmp_path / "haproxy"
    fake.write_text('#!/bin/sh\necho "ran: $*"\n')
    fake.chmod(0o755)
    env = {"MEETING_HAPROXY_BINARY": str(fake), "PATH": "/usr/bin:/bin"}
    for _ in range(2):  # a reload runs it again on the same file
        ran = subprocess.run(
            [str(FORWARDFOR_WRAPPER), "-db", "-f", str(config), "-sf", "12"],
            env=env, capture_output=True, text=True, check=True,
        )  # fmt: skip
        assert ran.stdout.strip() == f"ran: -db -f {config} -sf 12"
    assert config.read_text().splitlines()[2:5] == [
        "defaults",
        "    option forwardfor",
        "    mode http",
    ]


def test_the_serve_proxy_passes_client_addresses_so_no_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(HAPROXY_ENV, raising=False)
    assert haproxy_address_warning(settings(tmp_path)) is None


def test_without_a_named_binary_the_wrapper_finds_haproxy_on_the_path(tmp_path: Path) -> None:
    config = tmp_path / "haproxy.cfg"
    config.write_text("defaults\n    mode http\n")
    for name, script in (("haproxy", 'echo "ran: $*"'), ("python3", "exit 1")):  # no wheel
        (tmp_path / name).write_text(f"#!/bin/sh\n{script}\n")
        (tmp_path / name).chmod(0o755)
    env = {"PATH": f"{tmp_path}:/usr/bin:/bin"}
    ran = subprocess.run(
        [str(FORWARDFOR_WRAPPER), "-f", str(config)],
        env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert ran.stdout.strip() == f"ran: -f {config}"
