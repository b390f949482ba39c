"""Login limits (issue #15 item 5): failures not successes, a delay not a lock, per-address
limits that a client cannot dodge with ``X-Forwarded-For``, one limit across replicas."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from app.client_address import forwarded_client
from app.main import create_app
from app.ratelimit import BackoffPolicy, WindowPolicy
from persistence import Database, User
from persistence.limits import BucketState
from settings.config import Settings
from settings.networks import parse_networks
from tests.unit.api.conftest import PASSWORD
from tests.unit.rooms.live_server import LiveServer

PROXY = "10.0.0.2"  # the load balancer every request arrives from
ALICE = "alice@example.com"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


# ---- policies (pure) ---------------------------------------------------------------------


def test_window_policy_counts_to_the_limit_then_reports_the_wait() -> None:
    policy = WindowPolicy(limit=2, window_s=60)
    state = BucketState()
    for t in (100.0, 110.0):
        taken = policy.take(state, t)
        assert isinstance(taken, BucketState)
        state = taken
    assert policy.take(state, 130.0) == pytest.approx(30.0)  # the window began at t=100
    assert isinstance(policy.take(state, 160.0), BucketState)  # a new window


def test_backoff_policy_doubles_the_delay_up_to_the_cap() -> None:
    policy = BackoffPolicy(free=2, base_s=1, max_delay_s=8, forget_s=900)
    assert [policy.delay_after(n) for n in range(1, 8)] == [0, 1, 2, 4, 8, 8, 8]
    state = BucketState()
    for _ in range(2):
        taken = policy.take(state, 0.0)
        assert isinstance(taken, BucketState)
        state = taken
    assert policy.take(state, 0.5) == pytest.approx(0.5)  # the second failure set 1 s
    third = policy.take(state, 1.0)
    assert third == BucketState(3, 1.0, 3.0)  # the third sets 2 s
    assert policy.take(third, 2.0) == pytest.approx(1.0)
    assert policy.take(third, 902.0) == BucketState(1, 902.0, 902.0)  # idle: forgotten


# ---- trusted proxies (pure) --------------------------------------------------------------


def test_forwarded_for_is_honoured_only_from_a_trusted_peer() -> None:
    trusted = parse_networks(f"{PROXY}, 10.1.0.0/16")
    assert forwarded_client("198.51.100.7", ["203.0.113.9"], trusted) == "198.51.100.7"
    assert forwarded_client(PROXY, ["203.0.113.9"], trusted) == "203.0.113.9"
    # The client wrote the left part; the proxies appended the right part.
    assert forwarded_client(PROXY, ["1.2.3.4, 203.0.113.9, 10.1.2.3"], trusted) == "203.0.113.9"
    assert forwarded_client(PROXY, [], trusted) == PROXY
    assert forwarded_client(PROXY, ["not-an-ip"], trusted) == "unknown"
    assert forwarded_client(PROXY, ["203.0.113.9"], ()) == PROXY


def test_bad_trusted_proxy_setting_fails_at_start(tmp_path: Any) -> None:
    with pytest.raises(ValueError, match=r"not an IP address or CIDR: 'lb\.internal'"):
        Settings(environment="test", data_dir=tmp_path, trusted_proxies="10.0.0.0/8, lb.internal")


# ---- the routes --------------------------------------------------------------------------


@pytest.fixture
def strict_settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={
            "login_rate_limit": 3,
            "login_rate_window_s": 60.0,
            "login_backoff_free_failures": 2,
            "login_backoff_base_s": 10.0,
            "login_backoff_max_s": 60.0,
            "trusted_proxies": PROXY,
        }
    )


@pytest.fixture
def strict_app(strict_settings: Settings) -> FastAPI:
    return create_app(strict_settings)


@pytest.fixture
def clock(strict_app: FastAPI) -> FakeClock:
    fake = FakeClock()
    strict_app.state.login_guard.limiter.clock = fake
    return fake


@pytest.fixture
def lb(strict_app: FastAPI) -> Iterator[TestClient]:
    """A client behind the trusted load balancer."""
    with TestClient(strict_app, client=(PROXY, 40000)) as client:
        yield client


def login(client: TestClient, email: str, password: str, address: str) -> httpx.Response:
    return client.post(
        "/api/auth/login",
        json={"email": email, "password": password},
        headers={"X-Forwarded-For": address},
    )


def register(client: TestClient, email: str, address: str = "192.0.2.1") -> None:
    r = client.post(
        "/api/auth/register",
        json={"email": email, "password": PASSWORD},
        headers={"X-Forwarded-For": address},
    )
    assert r.status_code == 201, r.text


def test_attacker_cannot_lock_the_owner_out(lb: TestClient, clock: FakeClock) -> None:
    register(lb, ALICE)
    assert login(lb, ALICE, PASSWORD, "198.51.100.7").status_code == 200  # her usual address
    attacker = [login(lb, ALICE, f"guess-{i}", "203.0.113.9").status_code for i in range(3)]
    assert attacker == [401, 401, 429]  # two free failures, then the account must wait
    r = login(lb, ALICE, "guess-x", "203.0.113.77")  # a second attacker address: same wait
    assert r.status_code == 429
    assert 1 <= int(r.headers["Retry-After"]) <= 10
    # The owner, from the address she logged in from before, is not made to wait.
    assert login(lb, ALICE, PASSWORD, "198.51.100.7").status_code == 200


def test_the_account_is_slowed_down_never_locked(lb: TestClient, clock: FakeClock) -> None:
    register(lb, ALICE)
    statuses, waits = [], []
    for i in range(6):  # a patient attacker who waits out every delay
        r = login(lb, ALICE, f"guess-{i}", f"203.0.113.{i}")
        if r.status_code == 429:
            waits.append(int(r.headers["Retry-After"]))
            clock.now += waits[-1]
            r = login(lb, ALICE, f"guess-{i}", f"203.0.113.{i}")
        statuses.append(r.status_code)
    assert statuses == [401] * 6  # every guess is answered, only later
    assert waits == [10, 20, 40, 60]  # doubling from login_backoff_base_s, capped at max
    r = login(lb, ALICE, PASSWORD, "192.0.2.50")  # a new address, right password
    assert r.status_code == 429
    assert int(r.headers["Retry-After"]) <= 60  # bounded by login_backoff_max_s
    clock.now += int(r.headers["Retry-After"])
    assert login(lb, ALICE, PASSWORD, "192.0.2.50").status_code == 200


def test_a_success_resets_the_account_counter(lb: TestClient, clock: FakeClock) -> None:
    register(lb, ALICE)
    address = "198.51.100.8"
    assert login(lb, ALICE, "typo-one", address).status_code == 401
    assert login(lb, ALICE, PASSWORD, address).status_code == 200
    # Two more failures are free again (without the reset the second would be refused).
    assert [login(lb, ALICE, f"typo-{i}", "192.0.2.9").status_code for i in range(2)] == [401, 401]


def test_successful_logins_do_not_count_against_the_address(
    lb: TestClient, clock: FakeClock
) -> None:
    register(lb, ALICE)
    statuses = [login(lb, ALICE, PASSWORD, "198.51.100.7").status_code for _ in range(10)]
    assert statuses == [200] * 10  # the limit is 3 per window: only failures count


def test_address_failures_are_limited_across_accounts(lb: TestClient, clock: FakeClock) -> None:
    for i in range(4):
        register(lb, f"u{i}@example.com", address=f"192.0.2.{i}")
    spray = [
        login(lb, f"u{i}@example.com", "wrong-pw", "203.0.113.5").status_code for i in range(3)
    ]
    assert spray == [401, 401, 401]
    r = login(lb, "u3@example.com", PASSWORD, "203.0.113.5")
    assert r.status_code == 429  # the address used its 3 failures
    assert 1 <= int(r.headers["Retry-After"]) <= 60
    assert login(lb, "u3@example.com", PASSWORD, "203.0.113.6").status_code == 200
    clock.now += 61
    assert login(lb, "u3@example.com", PASSWORD, "203.0.113.5").status_code == 200


def test_forged_forwarded_for_from_an_untrusted_peer_is_ignored(
    strict_app: FastAPI, clock: FakeClock
) -> None:
    with TestClient(strict_app, client=("203.0.113.5", 40000)) as direct:
        for i in range(2):
            register(direct, f"u{i}@example.com")
        statuses = [
            login(direct, f"u{i % 2}@example.com", "wrong-pw", f"198.51.100.{i}").status_code
            for i in range(4)
        ]
    assert statuses == [401, 401, 401, 429]  # the rotating header changed nothing


def test_register_flood_gets_429_and_creates_no_account(lb: TestClient, clock: FakeClock) -> None:
    for i in range(3):
        register(lb, f"u{i}@example.com", address="203.0.113.5")
    r = lb.post(
        "/api/auth/register",
        json={"email": "u3@example.com", "password": PASSWORD},
        headers={"X-Forwarded-For": "203.0.113.5"},
    )
    assert r.status_code == 429
    assert "Retry-After" in r.headers
    db: Database = lb.app.state.db  # type: ignore[attr-defined]
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(User)) == 3


def test_concurrent_guesses_cannot_exceed_the_limit(lb: TestClient, clock: FakeClock) -> None:
    register(lb, ALICE)
    statuses: list[int] = []

    def guess(i: int) -> None:
        statuses.append(login(lb, ALICE, f"guess-{i}", "203.0.113.9").status_code)

    threads = [threading.Thread(target=guess, args=(i,)) for i in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses.count(401) <= 3  # whatever the interleaving, at most the limit is checked
    assert statuses.count(401) + statuses.count(429) == 12


# ---- one limit across replicas -----------------------------------------------------------


def test_two_replicas_on_one_database_enforce_one_limit(strict_settings: Settings) -> None:
    """Two real uvicorn servers sharing the database: failures on either count once."""
    settings = strict_settings.model_copy(
        update={"trusted_proxies": "127.0.0.1", "login_backoff_free_failures": 100}
    )
    servers = [LiveServer(create_app(settings)).start() for _ in range(2)]
    try:
        with httpx.Client() as client:
            r = client.post(
                f"{servers[0].http_url}/api/auth/register",
                json={"email": ALICE, "password": PASSWORD},
            )
            assert r.status_code == 201
            statuses = [
                client.post(
                    f"{servers[i % 2].http_url}/api/auth/login",
                    json={"email": ALICE, "password": f"guess-{i}"},
                    headers={"X-Forwarded-For": "203.0.113.9"},
                ).status_code
                for i in range(6)
            ]
            assert statuses == [401, 401, 401, 429, 429, 429]  # 3 in all, not 3 per replica
            ok = client.post(
                f"{servers[1].http_url}/api/auth/login",
                json={"email": ALICE, "password": PASSWORD},
                headers={"X-Forwarded-For": "198.51.100.7"},
            )
            assert ok.status_code == 200
    finally:
        for server in servers:
            server.stop()
