"""Password hashing: correct answers, and never more than two Argon2id hashes at once."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from app import security
from app.security import MAX_CONCURRENT_HASHES, hash_password, verify_password


def test_verify_accepts_the_password_and_refuses_others() -> None:
    stored = hash_password("correct horse battery staple")
    assert verify_password("correct horse battery staple", stored)
    assert not verify_password("wrong", stored)
    assert not verify_password("anything", None)  # unknown account: same cost, never True


class CountingHasher:
    """Stands in for argon2's hasher and records how many calls overlap."""

    def __init__(self) -> None:
        self.running = 0
        self.most = 0
        self.lock = threading.Lock()

    def _work(self) -> None:
        with self.lock:
            self.running += 1
            self.most = max(self.most, self.running)
        time.sleep(0.02)
        with self.lock:
            self.running -= 1

    def hash(self, password: str) -> str:
        self._work()
        return "h"

    def verify(self, password_hash: str, password: str) -> bool:
        self._work()
        return True


def test_concurrent_logins_hash_two_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    hasher = CountingHasher()
    monkeypatch.setattr(security, "_hasher", hasher)
    calls: list[Any] = [(verify_password, ("guess", "h"))] * 30 + [(hash_password, ("pw",))] * 10
    with ThreadPoolExecutor(max_workers=40) as pool:
        list(pool.map(lambda call: call[0](*call[1]), calls))
    assert hasher.most == MAX_CONCURRENT_HASHES
