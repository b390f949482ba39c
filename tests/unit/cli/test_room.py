"""RoomWatcher against a scripted WebSocket server: resume with last_seq, drop duplicates,
stop at the job's terminal status, and give up at once on fatal close codes."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from websockets.asyncio.server import ServerConnection, serve

from meetingserve_cli.config import Credentials
from meetingserve_cli.errors import CliError, ExitCode
from meetingserve_cli.room import RoomWatcher, WatchOptions

FAST = WatchOptions(ping_interval_s=5, stale_after_s=5, reconnect_for_s=10, backoff_cap_s=0.05)


def segment(seq: int) -> dict[str, Any]:
    return {"type": "transcript", "seq": seq, "segment": {"id": f"s{seq}", "text": "x"}}


def status(seq: int, job: str, state: str = "completed") -> dict[str, Any]:
    return {"type": "status", "seq": seq, "status": state, "details": {"job_id": job}}


Script = Callable[[ServerConnection, int], Any]


@pytest.fixture
async def room() -> AsyncIterator[tuple[list[str], list[Script], str]]:
    """``(requested paths, per-connection scripts, base URL)``."""
    paths: list[str] = []
    scripts: list[Script] = []

    async def handler(ws: ServerConnection) -> None:
        assert ws.request is not None
        paths.append(ws.request.path)
        await scripts[len(paths) - 1](ws, len(paths))

    async with serve(handler, "127.0.0.1", 0, subprotocols=["bearer"]) as server:  # type: ignore[list-item]
        port = next(iter(server.sockets)).getsockname()[1]
        yield paths, scripts, f"http://127.0.0.1:{port}"


async def send_all(ws: ServerConnection, *events: dict[str, Any]) -> None:
    await ws.send(json.dumps({"type": "connected", "last_seq": 0}))
    for event in events:
        await ws.send(json.dumps(event))


async def test_resumes_after_a_drop_and_hands_on_each_event_once(
    room: tuple[list[str], list[Script], str],
) -> None:
    paths, scripts, base = room

    async def first(ws: ServerConnection, _n: int) -> None:
        await send_all(ws, segment(3), segment(4))
        await ws.close(1011, "replica died")

    async def second(ws: ServerConnection, _n: int) -> None:
        # A replay may repeat what was already seen; an earlier job's status is not ours.
        await send_all(ws, segment(4), status(5, "other-job"), segment(6), status(7, "job"))
        await ws.wait_closed()

    scripts += [first, second]
    seen: list[dict[str, Any]] = []
    notices: list[str] = []
    watcher = RoomWatcher(Credentials(base, "tok"), "m1", 2, seen.append, notices.append, FAST)
    outcome = await watcher.until_done("job")
    assert paths == ["/ws/meeting/m1?last_seq=2", "/ws/meeting/m1?last_seq=4"]
    assert [e["seq"] for e in seen] == [3, 4, 5, 6, 7]
    assert (outcome.status, outcome.last_seq) == ("completed", 7)
    assert any("reconnecting from seq 4" in n for n in notices)


@pytest.mark.parametrize(("code", "exit_code"), [(4401, ExitCode.AUTH), (4404, ExitCode.NOT_FOUND)])
async def test_fatal_close_codes_end_the_watch(
    room: tuple[list[str], list[Script], str], code: int, exit_code: ExitCode
) -> None:
    paths, scripts, base = room

    async def refuse(ws: ServerConnection, _n: int) -> None:
        await ws.close(code, "no")

    scripts.append(refuse)
    watcher = RoomWatcher(Credentials(base, "tok"), "m1", 0, print, print, FAST)
    with pytest.raises(CliError) as e:
        await watcher.until_done("job")
    assert e.value.code == exit_code
    assert len(paths) == 1


async def test_failed_job_is_reported_with_its_message(
    room: tuple[list[str], list[Script], str],
) -> None:
    _, scripts, base = room

    async def fail(ws: ServerConnection, _n: int) -> None:
        event = status(1, "job", "failed")
        event["details"]["message"] = "No speech was found in the audio"
        await send_all(ws, event)
        await ws.wait_closed()

    scripts.append(fail)
    watcher = RoomWatcher(Credentials(base, "tok"), "m1", 0, print, print, FAST)
    outcome = await watcher.until_done("job")
    assert (outcome.status, outcome.message) == ("failed", "No speech was found in the audio")
