"""Which limits logins, registrations and add-member lookups count against.

See docs/security.md ("Accounts, sessions and access").

Login: failures per client address (a fixed window), and per account a growing delay after a
few failures. An address that has logged in to the account before ("known") has its own
account bucket, so an attacker elsewhere hammering the account cannot make the owner wait.
A success refunds the address's event and forgets the account's failures.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.ratelimit import BackoffPolicy, Policy, SharedLimiter, WindowPolicy
from persistence.limits import BucketState, bucket_key, change_bucket, read_bucket
from settings.config import Settings


@dataclass(frozen=True, slots=True)
class LoginAttempt:
    """The buckets one login attempt took; hand it back to ``succeeded``."""

    email: str
    address: str
    buckets: list[tuple[str, Policy]]


class LoginGuard:
    def __init__(self, settings: Settings, limiter: SharedLimiter) -> None:
        self.limiter = limiter
        self.address_failures = WindowPolicy(
            settings.login_rate_limit, settings.login_rate_window_s
        )
        self.account_backoff = BackoffPolicy(
            settings.login_backoff_free_failures,
            settings.login_backoff_base_s,
            settings.login_backoff_max_s,
            settings.login_backoff_forget_s,
        )
        self.registrations = WindowPolicy(settings.login_rate_limit, settings.login_rate_window_s)
        self.member_lookups = WindowPolicy(
            settings.member_lookup_limit, settings.member_lookup_window_s
        )
        self.summaries = WindowPolicy(settings.summary_rate_limit, settings.summary_rate_window_s)
        self.known_ttl_s = settings.known_address_ttl_s
        self.summary_lease_s = settings.summary_lease_s

    # ---- login -------------------------------------------------------------------------

    def begin_login(self, email: str, address: str) -> LoginAttempt:
        """Count the attempt as a failure up front; ``RateLimited`` when it must wait."""
        account = f"account:{email}"
        if self._is_known(email, address):
            account = f"account-known:{email}|{address}"
        # The backoff bucket goes last: a refusal refunds what was taken before it, and
        # refunding a backoff bucket would forget its failures.
        buckets: list[tuple[str, Policy]] = [
            (f"ip:{address}", self.address_failures),
            (account, self.account_backoff),
        ]
        self.limiter.take_all(buckets)
        return LoginAttempt(email, address, buckets)

    def succeeded(self, attempt: LoginAttempt) -> None:
        for name, policy in attempt.buckets:
            self.limiter.refund(name, policy)
        self._remember(attempt.email, attempt.address)

    def _known_key(self, email: str, address: str) -> str:
        return bucket_key(f"known:{email}|{address}")

    def _is_known(self, email: str, address: str) -> bool:
        with self.limiter.db.session() as session:
            state = read_bucket(session, self._known_key(email, address))
        return state.count > 0 and self.limiter.clock() < state.window_start + self.known_ttl_s

    def _remember(self, email: str, address: str) -> None:
        now = self.limiter.clock()
        with self.limiter.db.session() as session:
            change_bucket(
                session, self._known_key(email, address), lambda _s: BucketState(1, now, 0.0)
            )

    # ---- other counted actions ---------------------------------------------------------

    def register(self, address: str) -> None:
        """Every registration counts (successful ones too: each creates an account)."""
        self.limiter.take(f"register:{address}", self.registrations)

    def member_lookup_missed(self, user_id: str) -> None:
        """Count an add-member lookup of an unknown email; ``RateLimited`` past the limit."""
        self.limiter.take(f"lookup:{user_id}", self.member_lookups)

    def check_member_lookups(self, user_id: str) -> None:
        """Refuse before looking anything up when the caller has no misses left."""
        self.limiter.check(f"lookup:{user_id}", self.member_lookups)

    def summary_requested(self, user_id: str, meeting_id: str) -> None:
        """Count a regeneration per user and per meeting; ``RateLimited`` past either."""
        self.limiter.take_all(
            [(f"summary-user:{user_id}", self.summaries), (f"summary:{meeting_id}", self.summaries)]
        )

    def claim_summary_run(self, meeting_id: str) -> int | None:
        """None when this request may run the meeting's summary; else seconds to wait."""
        return self.limiter.claim_lease(f"summary-running:{meeting_id}", self.summary_lease_s)

    def summary_run_done(self, meeting_id: str) -> None:
        self.limiter.release_lease(f"summary-running:{meeting_id}")
