"""Accounts: register, log in (JSON or OAuth2 form), and who am I."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi.security import OAuth2PasswordRequestForm
from sqlalchemy.orm import Session

from app.api.deps import CurrentUser, LimiterDep, SessionDep, SettingsDep, unauthorized
from app.config import Settings
from app.db import (
    EmailTakenError,
    create_user,
    get_user_by_email,
    normalize_email,
    update_password_hash,
)
from app.ratelimit import RateLimited, SlidingWindowLimiter
from app.schemas import Token, UserLogin, UserPublic, UserRegister
from app.security import (
    create_access_token,
    hash_password,
    password_needs_rehash,
    verify_password,
)

logger = logging.getLogger(__name__)

router = APIRouter(prefix="/auth", tags=["auth"])

BAD_CREDENTIALS = "Incorrect email or password"


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def enforce_attempt_limit(limiter: SlidingWindowLimiter, request: Request, email: str) -> None:
    """Count an attempt per client IP and per account; 429 (changing nothing) when over."""
    try:
        limiter.hit([f"ip:{client_ip(request)}", f"account:{normalize_email(email)}"])
    except RateLimited as e:
        logger.warning("auth attempts rate-limited (%s)", e.key.split(":", 1)[0])
        raise HTTPException(
            status_code=status.HTTP_429_TOO_MANY_REQUESTS,
            detail=f"Too many attempts; try again in {e.retry_after_s} seconds",
            headers={"Retry-After": str(e.retry_after_s)},
        ) from e


@router.post("/register", status_code=status.HTTP_201_CREATED)
def register_user(
    body: UserRegister, request: Request, session: SessionDep, limiter: LimiterDep
) -> UserPublic:
    enforce_attempt_limit(limiter, request, body.email)
    name = body.name or body.email.split("@", 1)[0]
    try:
        user = create_user(
            session, email=body.email, name=name, password_hash=hash_password(body.password)
        )
        session.commit()
    except EmailTakenError as e:
        raise HTTPException(
            status_code=status.HTTP_409_CONFLICT, detail="An account with this email exists"
        ) from e
    logger.info("registered user %s", user.id)
    return UserPublic.model_validate(user)


def authenticate(session: Session, settings: Settings, email: str, password: str) -> Token:
    """A token for valid credentials; 401 otherwise (same answer for unknown email)."""
    user = get_user_by_email(session, email)
    if not verify_password(password, user.password_hash if user else None) or user is None:
        logger.info("failed login attempt")
        raise unauthorized(BAD_CREDENTIALS)
    if password_needs_rehash(user.password_hash):
        update_password_hash(session, user.id, hash_password(password))
        session.commit()
    logger.info("user %s logged in", user.id)
    return Token(
        access_token=create_access_token(user.id, settings),
        expires_in=settings.access_token_ttl_s,
    )


@router.post("/login")
def login_user(
    body: UserLogin,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    limiter: LimiterDep,
) -> Token:
    enforce_attempt_limit(limiter, request, body.email)
    return authenticate(session, settings, body.email, body.password)


@router.post("/token")
def login_for_access_token(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    limiter: LimiterDep,
) -> Token:
    """The OAuth2 password flow (``username`` is the email), for /docs "Authorize"."""
    enforce_attempt_limit(limiter, request, form.username)
    return authenticate(session, settings, form.username, form.password)


@router.get("/me")
def read_me(user: CurrentUser) -> UserPublic:
    return UserPublic.model_validate(user)
