"""What the web layer needs from the model side, as a protocol.

The Ingress deployment implements it with Serve deployment handles and the MeetingHub actor;
tests pass ``LocalBackend``. Keeping the web layer behind this seam is what lets ``app/`` run
(and be tested) without Ray or torch.
"""

from __future__ import annotations

from typing import Protocol

from app.rooms.hub import EventLog, HubClient


class Backend(Protocol):
    async def readiness(self) -> dict[str, bool]:
        """Each model deployment's name mapped to whether its model is loaded."""
        ...

    def make_hub(self, database_url: str) -> HubClient:
        """The hub this process publishes to and long-polls."""
        ...


class LocalBackend:
    """In-process backend: fixed readiness and an in-process event log (tests, web-only runs)."""

    def __init__(self, ready: dict[str, bool] | None = None) -> None:
        self._ready = dict(ready or {})
        self.hub: EventLog | None = None

    async def readiness(self) -> dict[str, bool]:
        return dict(self._ready)

    def make_hub(self, database_url: str) -> HubClient:
        if self.hub is None:
            self.hub = EventLog(database_url)
        return self.hub
