"""Accounts: register, log in (JSON or OAuth2 form), log out, and who am I."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, Response, status
from fastapi.security import OAuth2PasswordRequestForm
from sqlalchemy.orm import Session

from app.api.deps import (
    CurrentUser,
    GuardDep,
    SessionDep,
    SettingsDep,
    rate_limited,
    unauthorized,
)
from app.client_address import client_address
from app.login_guard import LoginGuard
from app.ratelimit import RateLimited
from app.schemas import Token, UserLogin, UserPublic, UserRegister
from app.security import (
    create_access_token,
    hash_password,
    password_needs_rehash,
    verify_password,
)
from app.sockets.access import recheck_access_soon
from persistence import (
    EmailTakenError,
    create_user,
    get_user_by_email,
    normalize_email,
    update_password_hash,
)
from persistence.limits import revoke_tokens, token_version
from settings.config import Settings

logger = logging.getLogger(__name__)

router = APIRouter(prefix="/auth", tags=["auth"])

BAD_CREDENTIALS = "Incorrect email or password"


@router.post("/register", status_code=status.HTTP_201_CREATED)
def register_user(
    body: UserRegister,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    guard: GuardDep,
) -> UserPublic:
    try:
        guard.register(client_address(request, settings.trusted_proxy_networks))
    except RateLimited as e:
        logger.warning("registrations rate-limited for an address")
        raise rate_limited(e) from e
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
    version = token_version(session, user.id)
    return Token(
        access_token=create_access_token(user.id, settings, version=version),
        expires_in=settings.access_token_ttl_s,
    )


def guarded_login(
    request: Request,
    session: Session,
    settings: Settings,
    guard: LoginGuard,
    email: str,
    password: str,
) -> Token:
    """Authenticate under the login limits: 429 (uncounted) when the attempt must wait, a
    counted failure on 401, and a success that refunds and forgets (app/login_guard.py)."""
    address = client_address(request, settings.trusted_proxy_networks)
    try:
        attempt = guard.begin_login(normalize_email(email), address)
    except RateLimited as e:
        logger.warning("login attempts rate-limited (%s)", e.key.split(":", 1)[0])
        raise rate_limited(e) from e
    token = authenticate(session, settings, email, password)  # a 401 leaves the failure counted
    guard.succeeded(attempt)
    return token


@router.post("/login")
def login_user(
    body: UserLogin,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    guard: GuardDep,
) -> Token:
    return guarded_login(request, session, settings, guard, body.email, body.password)


@router.post("/token")
def login_for_access_token(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    guard: GuardDep,
) -> Token:
    """The OAuth2 password flow (``username`` is the email), for /docs "Authorize"."""
    return guarded_login(request, session, settings, guard, form.username, form.password)


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
def logout_user(request: Request, user: CurrentUser, session: SessionDep) -> Response:
    """Revoke every token of the caller (all devices): requests answer 401 at once, open
    sockets close with 4401 within ``MEETING_WS_ACCESS_RECHECK_S``."""
    revoke_tokens(session, user.id)
    session.commit()
    recheck_access_soon(request.app.state)
    logger.info("user %s logged out (tokens revoked)", user.id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/me")
def read_me(user: CurrentUser) -> UserPublic:
    return UserPublic.model_validate(user)
