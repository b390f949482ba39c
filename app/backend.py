"""What the web layer needs from the model side, as a protocol.

The Ingress deployment implements it with Serve deployment handles; unit tests pass a small
in-process implementation. Keeping the web layer behind this seam is what lets ``app/`` run
(and be tested) without Ray or torch.
"""

from __future__ import annotations

from typing import Protocol


class Backend(Protocol):
    async def readiness(self) -> dict[str, bool]:
        """Each model deployment's name mapped to whether its model is loaded."""
        ...


class StaticBackend:
    """A backend whose readiness is fixed; for tests and for running the web layer alone."""

    def __init__(self, ready: dict[str, bool] | None = None) -> None:
        self._ready = dict(ready or {})

    async def readiness(self) -> dict[str, bool]:
        return dict(self._ready)
