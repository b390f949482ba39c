"""Serve request router for the Processor: a call that names its owner replica goes there.

A live session lives in the memory of the Processor replica that opened it, so every call for
it (``live_feed``, ``live_stop``, ...) must reach that replica. The Ingress passes the owner it
learnt from the session's replies as the ``owner`` keyword; this router, which runs in the
caller (the Ingress replica), sends the call to that replica when it is among the running
ones, and otherwise (no owner named, or the owner died) routes like Serve's default
power-of-two-choices router. A call that lands on another replica while naming an owner tells
that replica the owner is unreachable (``Processor.live_open`` then takes the session over).
"""

from __future__ import annotations

from ray.serve._private.request_router.common import PendingRequest
from ray.serve._private.request_router.pow_2_router import PowerOfTwoChoicesRequestRouter
from ray.serve._private.request_router.replica_wrapper import RunningReplica

OWNER_KWARG = "owner"


class SessionOwnerRouter(PowerOfTwoChoicesRequestRouter):
    async def choose_replicas(
        self,
        candidate_replicas: list[RunningReplica],
        pending_request: PendingRequest | None = None,
    ) -> list[list[RunningReplica]]:
        owner = pending_request.kwargs.get(OWNER_KWARG) if pending_request is not None else None
        if owner:
            for replica in candidate_replicas:
                if replica.replica_id.to_full_id_str() == owner:
                    return [[replica]]
        return await super().choose_replicas(candidate_replicas, pending_request)
