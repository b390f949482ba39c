"""The abuse run's verdict on password guessing (benchmarks.abuse.lockout_problems)."""

from __future__ import annotations

from typing import Any

from benchmarks.abuse import OWNER_LOGIN_MAX_S, lockout_problems


def result(guesses: dict[str, int], owner: dict[str, Any]) -> dict[str, Any]:
    return {"attacks": {"lockout_attempts": guesses}, "victim": {"login_after_guessing": owner}}


def test_slowed_guessing_and_a_prompt_owner_login_pass() -> None:
    ok = result({"guess:401": 5, "guess:429": 195}, {"status": 200, "seconds": 0.2})
    assert lockout_problems(ok) == []


def test_a_successful_guess_or_no_slowdown_fails() -> None:
    cracked = result({"guess:401": 199, "guess:200": 1}, {"status": 200, "seconds": 0.2})
    never_slowed = result({"guess:401": 200}, {"status": 200, "seconds": 0.2})
    assert lockout_problems(cracked) and lockout_problems(never_slowed)


def test_an_owner_locked_out_or_kept_waiting_fails() -> None:
    guesses = {"guess:401": 5, "guess:429": 195}
    locked = result(guesses, {"status": 429, "seconds": 0.1})
    waited = result(guesses, {"status": 200, "seconds": OWNER_LOGIN_MAX_S + 1})
    assert lockout_problems(locked) and lockout_problems(waited)
