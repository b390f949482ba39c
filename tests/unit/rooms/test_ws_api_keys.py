"""API keys on the room socket, through the one socket-authentication path (real uvicorn)."""

from __future__ import annotations

import asyncio
import json

from websockets.asyncio.client import connect

from app.apikeys import generate_api_key
from app.main import create_app
from persistence import Database
from persistence.api_keys import create_api_key, revoke_api_key
from settings.config import Settings
from tests.unit.rooms.conftest import Member
from tests.unit.rooms.live_server import LiveServer
from tests.unit.rooms.test_ws import close_code, room_url


def issue_key(database_url: str, member: Member) -> tuple[str, str]:
    """(key id, plaintext key) for ``member``."""
    new = generate_api_key()
    db = Database(database_url)
    try:
        with db.session() as session:
            row = create_api_key(
                session,
                user_id=member.user_id,
                name="ws",
                prefix=new.prefix,
                secret_hash=new.secret_hash,
            )
            return row.id, new.plaintext
    finally:
        db.dispose()


def revoke(database_url: str, member: Member, key_id: str) -> None:
    db = Database(database_url)
    try:
        with db.session() as session:
            revoke_api_key(session, member.user_id, key_id)
    finally:
        db.dispose()


async def first_message(url: str, subprotocols: list[str] | None = None) -> dict[str, object]:
    async with connect(url, subprotocols=subprotocols) as ws:  # type: ignore[arg-type]
        message: dict[str, object] = json.loads(await asyncio.wait_for(ws.recv(), 5))
        return message


async def test_a_key_authenticates_in_every_socket_form_until_revoked(
    settings: Settings, database_url: str, alice: Member, bob: Member
) -> None:
    server = LiveServer(create_app(settings)).start()
    try:
        key_id, key = issue_key(database_url, alice)
        url = room_url(server, alice.meeting_id)
        assert (await first_message(f"{url}?token={key}"))["type"] == "connected"
        assert (await first_message(url, ["bearer", key]))["type"] == "connected"
        async with connect(url) as ws:
            await ws.send(json.dumps({"type": "auth", "token": key}))
            assert json.loads(await ws.recv())["type"] == "connected"
        _, bobs = issue_key(database_url, bob)
        assert await close_code(await connect(f"{url}?token={bobs}")) == 4404
        revoke(database_url, alice, key_id)
        assert await close_code(await connect(f"{url}?token={key}")) == 4401
    finally:
        server.stop()


async def test_a_key_over_its_rate_limit_is_closed_4429(
    settings: Settings, database_url: str, alice: Member
) -> None:
    server = LiveServer(create_app(settings.model_copy(update={"api_key_rate_limit": 1}))).start()
    try:
        _, key = issue_key(database_url, alice)
        url = f"{room_url(server, alice.meeting_id)}?token={key}"
        assert (await first_message(url))["type"] == "connected"
        assert await close_code(await connect(url)) == 4429
    finally:
        server.stop()
