"""Request and response bodies of the REST API (the wire contract in docs/protocol.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from email_validator import EmailNotValidError, validate_email
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from rooms.live_messages import LanguageCode, TranslationTarget

PASSWORD_MIN_LENGTH = 8
PASSWORD_MAX_LENGTH = 128


def normalize_email_address(value: str) -> str:
    """Syntax-checked, IDNA-normalised and lower-cased (no DNS lookups: works offline)."""
    try:
        result = validate_email(value, check_deliverability=False)
    except EmailNotValidError as e:
        raise ValueError(f"not a valid email address: {e}") from e
    return result.normalized.lower()


def check_password_strength(value: str) -> str:
    if not value.strip():
        raise ValueError("password must not be only whitespace")
    if len(set(value)) < 3:
        raise ValueError("password is too weak: use at least 3 different characters")
    return value


EmailAddress = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=320),
    AfterValidator(normalize_email_address),
]
NewPassword = Annotated[
    str,
    Field(min_length=PASSWORD_MIN_LENGTH, max_length=PASSWORD_MAX_LENGTH),
    AfterValidator(check_password_strength),
]
LoginPassword = Annotated[str, Field(min_length=1, max_length=PASSWORD_MAX_LENGTH)]
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class UserRegister(BaseModel):
    email: EmailAddress
    password: NewPassword
    name: Name | None = None


class UserLogin(BaseModel):
    email: EmailAddress
    password: LoginPassword


class UserPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    email: str
    name: str


class Token(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 (a scheme name, not a secret)
    expires_in: int


class MeetingCreate(BaseModel):
    title: Title
    # "auto" (detect from the first speech) or an ISO 639-1 code; None: the profile default
    language: LanguageCode | None = None
    translate_to: TranslationTarget | None = None  # English captions beside the original


class MeetingLanguageUpdate(BaseModel):
    """``PATCH /api/meetings/{id}``: correct the language or change captions. Omitted fields
    keep their value; ``reprocess`` re-runs the stored upload with the new settings."""

    language: LanguageCode | None = None
    translate_to: TranslationTarget | None = None
    reprocess: bool = False


class MeetingPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    title: str
    owner_id: str
    status: str
    created_at: datetime
    duration: float | None = None
    role: Literal["owner", "editor", "viewer"] | None = None
    language: str | None = None  # as asked: "auto", a code, or None (profile default)
    spoken_language: str | None = None  # detected or set by an editor
    language_probability: float | None = None  # the detector's, when detected
    translate_to: str | None = None


class MemberCreate(BaseModel):
    email: EmailAddress
    role: Literal["viewer", "editor"] = "viewer"


class MemberPublic(BaseModel):
    meeting_id: str
    user_id: str
    email: str
    role: Literal["owner", "editor", "viewer"]


class EventsPage(BaseModel):
    """Stored wire messages, each a dict with at least ``type``, ``seq`` and ``timestamp``."""

    events: list[dict[str, Any]]


class JobAccepted(BaseModel):
    job_id: str
    status: Literal["queued"] = "queued"


class TranscriptVersionPublic(BaseModel):
    """An earlier transcript, replaced by a later recording (``?version=N`` reads it)."""

    version: int
    segments: int
    archived_at: datetime
    has_summary: bool


class TranscriptVersions(BaseModel):
    current: int | None  # the current transcript's version; None when there is none
    versions: list[TranscriptVersionPublic]


WebhookEvent = Literal["completed", "failed", "summary"]
ALL_WEBHOOK_EVENTS: list[WebhookEvent] = ["completed", "failed", "summary"]
WebhookUrl = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2048)]


class WebhookCreate(BaseModel):
    url: WebhookUrl
    meeting_id: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = None
    events: list[WebhookEvent] = Field(
        default_factory=lambda: list(ALL_WEBHOOK_EVENTS), min_length=1, max_length=3
    )


class WebhookPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    url: str
    meeting_id: str | None
    events: list[str]
    created_at: datetime


class WebhookCreated(WebhookPublic):
    """Returned once, at creation: the only time the signing secret is shown."""

    secret: str


class WebhookDeliveryPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    event_id: str
    event_type: str
    meeting_id: str
    status: Literal["pending", "delivered", "failed"]
    attempts: int
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    last_attempt_at: datetime | None
    delivered_at: datetime | None
    next_attempt_at: datetime | None
