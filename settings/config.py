"""Process settings, read once from the environment (prefix ``MEETING_``)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from settings.networks import IPNetwork, parse_networks
from settings.secret_strength import secret_too_short, secret_weakness

Environment = Literal["development", "test", "production"]

REPO_ROOT = Path(__file__).resolve().parent.parent
PLACEHOLDER_SECRETS = frozenset({"", "changeme", "change-me", "secret", "please-change"})


class Settings(BaseSettings):
    """Every process-level knob. Deployment knobs (replicas, models) live in the Serve config."""

    model_config = SettingsConfigDict(
        env_prefix="MEETING_", env_file=None, extra="ignore", hide_input_in_errors=True
    )

    environment: Environment = "development"
    data_dir: Path = REPO_ROOT / "var"
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; defaults to a SQLite file in data_dir."
    )
    jwt_secret: str | None = Field(default=None, repr=False)
    jwt_algorithm: Literal["HS256", "RS256"] = "HS256"
    jwt_private_key_file: Path | None = None
    jwt_public_key_file: Path | None = None
    jwt_issuer: str = "meetingserve"
    jwt_audience: str = "meetingserve-api"
    access_token_ttl_s: int = Field(default=8 * 3600, gt=0)
    max_upload_bytes: int = Field(default=1024**3, gt=0)
    max_json_body_bytes: int = Field(default=64 * 1024, gt=0)
    ws_max_message_bytes: int = Field(default=64 * 1024, gt=0)
    ws_max_connections_per_user: int = Field(default=20, gt=0)
    ws_send_queue_size: int = Field(default=1000, gt=0)
    intake_threads: int = Field(
        default=1, gt=0, le=64, description="threads per Ingress replica for upload intake steps"
    )
    ws_auth_timeout_s: float = Field(default=10.0, gt=0)
    ws_keepalive_s: float = Field(default=20.0, gt=0)
    login_rate_limit: int = Field(
        default=10, gt=0, description="failed logins (and registrations) per address per window"
    )
    login_rate_window_s: float = Field(default=60.0, gt=0)
    web_dist_dir: Path = REPO_ROOT / "web" / "dist"
    # Input bounds and per-user caps (docs/security.md lists each with what it protects).
    max_audio_duration_s: float = Field(default=6 * 3600.0, gt=0)
    db_pool_size: int = Field(default=10, gt=0)
    db_max_overflow: int = Field(default=30, ge=0)
    ws_start_timeout_s: float = Field(default=10.0, gt=0)
    ws_idle_timeout_s: float = Field(default=60.0, gt=0)
    ws_max_pending_auth_per_address: int = Field(default=10, gt=0)
    max_concurrent_jobs_per_user: int = Field(default=3, gt=0)
    max_live_sessions_per_user: int = Field(default=2, gt=0)
    max_stored_audio_bytes_per_user: int = Field(default=20 * 1024**3, gt=0)
    max_meetings_per_user: int = Field(default=1000, gt=0)
    max_members_per_meeting: int = Field(default=1000, gt=0)
    # ---- accounts, sessions and access (docs/security.md) ----
    trusted_proxies: str = Field(
        default="", description="comma-separated addresses/CIDRs whose X-Forwarded-For counts"
    )
    login_backoff_free_failures: int = Field(default=5, ge=0)
    login_backoff_base_s: float = Field(default=1.0, gt=0)
    login_backoff_max_s: float = Field(default=60.0, gt=0)
    login_backoff_forget_s: float = Field(default=900.0, gt=0)
    known_address_ttl_s: float = Field(default=30 * 86400.0, gt=0)
    member_lookup_limit: int = Field(default=20, gt=0, description="add-member misses per window")
    member_lookup_window_s: float = Field(default=3600.0, gt=0)
    summary_rate_limit: int = Field(default=5, gt=0, description="regenerations per window")
    summary_rate_window_s: float = Field(default=3600.0, gt=0)
    summary_lease_s: float = Field(default=600.0, gt=0)
    ws_access_recheck_s: float = Field(default=15.0, gt=0)
    # API keys (app/apikeys.py): requests per key per window; a key may set a lower limit.
    api_key_rate_limit: int = Field(default=600, gt=0, description="requests per window")
    api_key_rate_window_s: float = Field(default=60.0, gt=0)
    api_key_usage_flush_s: float = Field(default=30.0, ge=0)
    max_api_keys_per_user: int = Field(default=50, gt=0)
    # Webhooks (webhooks): outbound callbacks for completed / failed / summary events.
    webhook_allowed_networks: list[str] = Field(
        default_factory=list,
        description="CIDRs webhooks may reach although not public (e.g. 127.0.0.0/8 in tests)",
    )
    webhook_timeout_s: float = Field(default=10.0, gt=0)
    webhook_retry_base_s: float = Field(default=30.0, gt=0)
    webhook_retry_max_interval_s: float = Field(default=1800.0, gt=0)
    webhook_retry_window_s: float = Field(default=24 * 3600.0, gt=0)
    webhook_poll_interval_s: float = Field(default=2.0, gt=0)
    webhook_lease_s: float = Field(default=60.0, gt=0)
    webhook_max_per_user: int = Field(default=20, gt=0)
    model_cache_dir: Path | None = Field(
        default=None, description="Where split packaged models are reassembled; data_dir/models."
    )
    # Hub shards (rooms/shards.py): meetings hash over this many MeetingHub actors. Every
    # process of a cluster must see the same value (set it where Ray starts, or in the
    # profile's application runtime_env); change it only with the whole cluster restarted.
    hub_shards: int = Field(default=1, ge=1, le=64)

    @model_validator(mode="after")
    def _refuse_placeholder_secret(self) -> Settings:
        if self.environment != "production" or self.jwt_algorithm == "RS256":
            return self
        if self.jwt_secret is None or self.jwt_secret.strip().lower() in PLACEHOLDER_SECRETS:
            raise ValueError(
                "MEETING_JWT_SECRET must be set to a real secret (32+ random bytes) when "
                "MEETING_ENVIRONMENT=production; generate one with `openssl rand -hex 32`."
            )
        weakness = secret_weakness(self.jwt_secret)
        if weakness:
            raise ValueError(weakness)
        return self

    @model_validator(mode="after")
    def _refuse_short_secret(self) -> Settings:
        """A short HS256 secret fails at start-up in every environment (not at each login)."""
        if self.jwt_algorithm == "HS256" and self.jwt_secret:
            short = secret_too_short(self.jwt_secret)
            if short:
                raise ValueError(short)
        return self

    @model_validator(mode="after")
    def _check_trusted_proxies(self) -> Settings:
        parse_networks(self.trusted_proxies)  # ValueError names the bad entry
        return self

    @property
    def trusted_proxy_networks(self) -> tuple[IPNetwork, ...]:
        return parse_networks(self.trusted_proxies)

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'meetings.db'}"

    @property
    def resolved_model_cache_dir(self) -> Path:
        return self.model_cache_dir or self.data_dir / "models"

    @property
    def uploads_dir(self) -> Path:
        return self.data_dir / "uploads"


def db_pool(settings: Settings) -> dict[str, int]:
    """The SQLAlchemy pool arguments a process's ``Database`` is built with."""
    return {"pool_size": settings.db_pool_size, "max_overflow": settings.db_max_overflow}


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings singleton (tests build their own ``Settings``)."""
    return Settings()
