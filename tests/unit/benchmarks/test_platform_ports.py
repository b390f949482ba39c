"""Listening ports for test and benchmark servers stay out of the kernel's ephemeral range."""

from __future__ import annotations

import socket

import pytest

from benchmarks.platform import LISTEN_PORTS, free_port


def test_free_port_is_bindable_and_outside_the_ephemeral_range() -> None:
    port = free_port()
    assert port in LISTEN_PORTS
    with socket.socket() as s:
        s.bind(("127.0.0.1", port))


def test_free_port_skips_ports_in_use(monkeypatch: pytest.MonkeyPatch) -> None:
    free = free_port()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        busy = taken.getsockname()[1]
        taken.listen()
        monkeypatch.setattr("benchmarks.platform.random.sample", lambda _ports, _k: [busy, free])
        assert free_port() == free


def test_free_port_says_when_the_range_is_full(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        busy = taken.getsockname()[1]
        taken.listen()
        monkeypatch.setattr("benchmarks.platform.random.sample", lambda _ports, _k: [busy])
        with pytest.raises(RuntimeError, match="no free port"):
            free_port()
