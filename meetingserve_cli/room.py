"""Following a meeting's room (``WS /ws/meeting/{id}``) until its job ends, across drops.

The one delivery rule (docs/protocol.md "Resume"): every durable event has a per-meeting
``seq``; reconnecting with ``?last_seq=<last seen>`` replays exactly what was missed. The
watcher keeps the last seq it handed on and drops anything at or below it, so each event
reaches ``on_event`` once however often the connection drops.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake

from meetingserve_cli.config import Credentials
from meetingserve_cli.errors import CliError, ExitCode

TERMINAL = frozenset({"completed", "failed"})
# Close codes after which reconnecting cannot help.
FATAL_CLOSES: dict[int, tuple[ExitCode, str]] = {
    4401: (ExitCode.AUTH, "the server refused the token (log in again)"),
    4404: (ExitCode.NOT_FOUND, "meeting not found"),
}
Event = dict[str, Any]


@dataclass(frozen=True)
class WatchOptions:
    ping_interval_s: float = 10.0
    stale_after_s: float = 25.0  # silence this long (pings unanswered): the link is dead
    reconnect_for_s: float = 180.0  # give up after this long without a working connection
    backoff_cap_s: float = 5.0


@dataclass
class Outcome:
    status: str
    message: str
    last_seq: int


def bearer(token: str) -> Any:
    """The token travels as a subprotocol, never in the URL (which proxies log)."""
    return ["bearer", token]


def room_url(credentials: Credentials, meeting_id: str, last_seq: int | None) -> str:
    url = f"{credentials.ws_base}/ws/meeting/{meeting_id}"
    return url if last_seq is None else f"{url}?last_seq={last_seq}"


def closed_fatally(error: ConnectionClosed) -> CliError | None:
    code = error.rcvd.code if error.rcvd is not None else None
    if code in FATAL_CLOSES:
        exit_code, message = FATAL_CLOSES[code]
        return CliError(f"Room: {message}", exit_code)
    return None


def is_terminal(event: Event, job_id: str | None) -> bool:
    if event.get("type") != "status" or event.get("status") not in TERMINAL:
        return False
    return job_id is None or (event.get("details") or {}).get("job_id") == job_id


async def current_last_seq(credentials: Credentials, meeting_id: str) -> int:
    """The meeting's latest seq (from the ``connected`` message), to follow only what's new."""
    try:
        async with connect(
            room_url(credentials, meeting_id, None),
            subprotocols=bearer(credentials.require_token()),
        ) as ws:
            connected = json.loads(await asyncio.wait_for(ws.recv(), 30))
    except ConnectionClosed as e:
        raise closed_fatally(e) or CliError(f"Room closed: {e}", ExitCode.SERVER) from e
    except (OSError, InvalidHandshake, TimeoutError) as e:
        raise CliError(f"Cannot open the meeting's room: {e}", ExitCode.SERVER) from e
    return int(connected.get("last_seq", 0))


class RoomWatcher:
    def __init__(
        self,
        credentials: Credentials,
        meeting_id: str,
        last_seq: int,
        on_event: Callable[[Event], None],
        notice: Callable[[str], None],
        options: WatchOptions | None = None,
    ) -> None:
        self._credentials = credentials
        self._meeting_id = meeting_id
        self.last_seq = last_seq
        self._on_event = on_event
        self._notice = notice
        self._options = options or WatchOptions()
        self.connections = 0
        self._outage_started: float | None = None
        self._failures = 0

    async def until_done(self, job_id: str | None) -> Outcome:
        """Hand on every new event until ``job_id``'s terminal status; reconnect on drops."""
        while True:
            try:
                outcome = await self._follow(job_id)
            except ConnectionClosed as e:
                fatal = closed_fatally(e)
                if fatal is not None:
                    raise fatal from e
                reason = f"connection closed ({e.rcvd.code if e.rcvd else 'no close frame'})"
            except (OSError, InvalidHandshake, TimeoutError) as e:
                reason = f"{type(e).__name__}: {e}" if str(e) else type(e).__name__
            else:
                if outcome is not None:
                    return outcome
                reason = "connection closed by the server"
            delay = self._next_delay()
            self._notice(
                f"Room connection lost ({reason}); reconnecting from seq {self.last_seq} "
                f"in {delay:.1f}s"
            )
            await asyncio.sleep(delay)

    def _next_delay(self) -> float:
        """Backoff for the next attempt; gives up after ``reconnect_for_s`` of outage."""
        now = time.monotonic()
        if self._outage_started is None:
            self._outage_started, self._failures = now, 0
        if now - self._outage_started > self._options.reconnect_for_s:
            raise CliError(
                f"Lost the connection to the room for over {self._options.reconnect_for_s:.0f}s",
                ExitCode.SERVER,
            )
        self._failures += 1
        return float(min(self._options.backoff_cap_s, 0.5 * 2 ** min(self._failures - 1, 6)))

    async def _follow(self, job_id: str | None) -> Outcome | None:
        url = room_url(self._credentials, self._meeting_id, self.last_seq)
        token = self._credentials.require_token()
        async with connect(url, subprotocols=bearer(token), max_size=None) as ws:
            pinger = asyncio.create_task(self._ping(ws))
            try:
                return await self._receive(ws, job_id)
            finally:
                pinger.cancel()

    async def _receive(self, ws: ClientConnection, job_id: str | None) -> Outcome | None:
        while True:
            raw = await asyncio.wait_for(ws.recv(), self._options.stale_after_s)
            event = json.loads(raw)
            if event.get("type") == "connected":
                self.connections += 1
                self._outage_started = None  # a working connection ends the outage
                if self.connections > 1:
                    self._notice(f"Reconnected; resuming after seq {self.last_seq}")
                continue
            seq = event.get("seq")
            if isinstance(seq, int):
                if seq <= self.last_seq:
                    continue  # already handed on before a reconnect
                self.last_seq = seq
            self._on_event(event)
            if is_terminal(event, job_id):
                details = event.get("details") or {}
                return Outcome(str(event["status"]), str(details.get("message", "")), seq or 0)

    async def _ping(self, ws: ClientConnection) -> None:
        """Application pings: the server answers each, so silence means a dead link even
        when a proxy keeps the TCP connection open."""
        with contextlib.suppress(ConnectionClosed):  # the receive loop reports the close
            while True:
                await asyncio.sleep(self._options.ping_interval_s)
                await ws.send(json.dumps({"type": "ping"}))
