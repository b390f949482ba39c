"""Process settings, read once from the environment (prefix ``MEETING_``)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

Environment = Literal["development", "test", "production"]

REPO_ROOT = Path(__file__).resolve().parent.parent
PLACEHOLDER_SECRETS = frozenset({"", "changeme", "change-me", "secret", "please-change"})


class Settings(BaseSettings):
    """Every process-level knob. Deployment knobs (replicas, models) live in the Serve config."""

    model_config = SettingsConfigDict(env_prefix="MEETING_", env_file=None, extra="ignore")

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
    ws_auth_timeout_s: float = Field(default=10.0, gt=0)
    ws_keepalive_s: float = Field(default=20.0, gt=0)
    login_rate_limit: int = Field(default=10, gt=0, description="attempts per window")
    login_rate_window_s: float = Field(default=60.0, gt=0)
    web_dist_dir: Path = REPO_ROOT / "web" / "dist"
    model_cache_dir: Path | None = Field(
        default=None, description="Where split packaged models are reassembled; data_dir/models."
    )

    @model_validator(mode="after")
    def _refuse_placeholder_secret(self) -> Settings:
        if self.environment != "production" or self.jwt_algorithm == "RS256":
            return self
        if self.jwt_secret is None or self.jwt_secret.strip().lower() in PLACEHOLDER_SECRETS:
            raise ValueError(
                "MEETING_JWT_SECRET must be set to a real secret (32+ random bytes) when "
                "MEETING_ENVIRONMENT=production; generate one with `openssl rand -hex 32`."
            )
        return self

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'meetings.db'}"

    @property
    def resolved_model_cache_dir(self) -> Path:
        return self.model_cache_dir or self.data_dir / "models"

    @property
    def uploads_dir(self) -> Path:
        return self.data_dir / "uploads"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings singleton (tests build their own ``Settings``)."""
    return Settings()
