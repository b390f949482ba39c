"""The proxy's WebSocket compression switch: off unless ``MEETING_WS_COMPRESSION`` is on, and
every uvicorn server built after the switch negotiates accordingly."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import uvicorn

from deployments.proxy_tuning import compression_wanted, set_websocket_compression


async def app(scope: object, receive: object, send: object) -> None:  # pragma: no cover
    raise AssertionError("never served")


@pytest.fixture(autouse=True)
def restored_config() -> Iterator[None]:
    original = uvicorn.Config
    yield
    uvicorn.Config = original  # type: ignore[misc]


@pytest.mark.parametrize(
    ("value", "wanted"),
    [(None, False), ("", False), ("0", False), ("off", False), ("1", True), (" On ", True)],
)
def test_compression_is_off_unless_asked_for(
    monkeypatch: pytest.MonkeyPatch, value: str | None, wanted: bool
) -> None:
    if value is None:
        monkeypatch.delenv("MEETING_WS_COMPRESSION", raising=False)
    else:
        monkeypatch.setenv("MEETING_WS_COMPRESSION", value)
    assert compression_wanted() is wanted


def test_servers_built_after_the_switch_follow_it() -> None:
    assert uvicorn.Config(app).ws_per_message_deflate  # uvicorn's own default
    set_websocket_compression(False)
    assert not uvicorn.Config(app).ws_per_message_deflate
    set_websocket_compression(True)
    assert uvicorn.Config(app).ws_per_message_deflate


def test_a_caller_that_sets_it_still_wins_and_switches_do_not_nest() -> None:
    original = uvicorn.Config
    set_websocket_compression(False)
    set_websocket_compression(False)
    assert uvicorn.Config.__mro__[1] is original  # one layer, however often it is called
    assert uvicorn.Config(app, ws_per_message_deflate=True).ws_per_message_deflate
