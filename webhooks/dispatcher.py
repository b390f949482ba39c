"""The delivery loop: claim due outbox rows, POST each signed payload, record the outcome.

It runs inside the Processor (one asyncio task), but nothing depends on that: several loops
on one database never send a row concurrently (leases), and a loop that dies mid-send leaves
a lease that expires, after which another loop (or its own restart) sends the row again.
Delivery is therefore at least once; receivers deduplicate on the event id header.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
import uuid

import httpx

from persistence import Database
from settings.config import Settings
from webhooks.outbox import ClaimedDelivery, claim_due, record_attempt
from webhooks.schedule import RetryPolicy
from webhooks.signing import (
    DELIVERY_ATTEMPT_HEADER,
    EVENT_ID_HEADER,
    EVENT_TYPE_HEADER,
    SIGNATURE_HEADER,
    sign,
)
from webhooks.ssrf import BlockedUrlError, IPNetwork, parse_networks, resolve_target

logger = logging.getLogger(__name__)
BATCH = 20
USER_AGENT = "meetingserve-webhooks/1"


def encode_body(payload: dict[str, object]) -> bytes:
    """The exact bytes that are signed and sent (the same on every retry)."""
    return json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()


def policy_from(settings: Settings) -> RetryPolicy:
    return RetryPolicy(
        base_s=settings.webhook_retry_base_s,
        max_interval_s=settings.webhook_retry_max_interval_s,
        window_s=settings.webhook_retry_window_s,
    )


class WebhookDispatcher:
    def __init__(
        self,
        db: Database,
        settings: Settings,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._db = db
        self._policy = policy_from(settings)
        self._allowed: list[IPNetwork] = parse_networks(settings.webhook_allowed_networks)
        self._timeout_s = settings.webhook_timeout_s
        self._poll_s = settings.webhook_poll_interval_s
        self._lease_s = max(settings.webhook_lease_s, settings.webhook_timeout_s + 5)
        self.owner = f"{socket.gethostname()[:30]}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        # trust_env=False: an HTTP(S)_PROXY variable must not route callbacks around the guard.
        self._client = httpx.AsyncClient(
            timeout=self._timeout_s, follow_redirects=False, trust_env=False, transport=transport
        )
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Run the loop as a task of the current event loop (idempotent)."""
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self.run_forever())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await self._client.aclose()

    async def run_forever(self) -> None:
        logger.info("webhook delivery loop %s started", self.owner)
        while True:
            try:
                sent = await self.deliver_due()
            except Exception:
                logger.exception("webhook delivery round failed; retrying")
                sent = 0
            if sent < BATCH:  # a full batch means more are due: go again at once
                await asyncio.sleep(self._poll_s)

    async def deliver_due(self) -> int:
        """One round: claim what is due and send it; returns how many were attempted."""
        claimed = await asyncio.to_thread(self._claim)
        await asyncio.gather(*(self._deliver(d) for d in claimed))
        return len(claimed)

    def _claim(self) -> list[ClaimedDelivery]:
        with self._db.session() as session:
            return claim_due(session, self.owner, self._lease_s, BATCH)

    async def _deliver(self, delivery: ClaimedDelivery) -> None:
        status_code, error = await self.send(delivery)
        kept = await asyncio.to_thread(self._record, delivery, status_code, error)
        if not kept:
            logger.warning("webhook delivery %d: lease lost before recording", delivery.id)
        elif error is not None:
            logger.info(
                "webhook delivery %d (%s) attempt %d failed: %s",
                delivery.id,
                delivery.event_type,
                delivery.attempts + 1,
                error,
            )

    def _record(
        self, delivery: ClaimedDelivery, status_code: int | None, error: str | None
    ) -> bool:
        with self._db.session() as session:
            return record_attempt(session, delivery, self.owner, self._policy, status_code, error)

    async def send(self, delivery: ClaimedDelivery) -> tuple[int | None, str | None]:
        """POST once; ``(status code, error)`` with error None on a 2xx answer."""
        try:
            target = await resolve_target(delivery.url, self._allowed)
        except BlockedUrlError as e:
            return None, f"blocked: {e.reason}"
        body = encode_body(delivery.payload)
        headers = {
            "Host": target.host_header,
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            SIGNATURE_HEADER: sign(delivery.secret, body),
            EVENT_ID_HEADER: delivery.event_id,
            EVENT_TYPE_HEADER: delivery.event_type,
            DELIVERY_ATTEMPT_HEADER: str(delivery.attempts + 1),
        }
        # The request goes to the checked address; TLS still verifies the certificate
        # against the host name (SNI), so pinning costs https nothing.
        extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
        request = self._client.build_request(
            "POST", target.pinned_url(), content=body, headers=headers, extensions=extensions
        )
        try:
            response = await self._client.send(request, stream=True)
            await response.aclose()  # the body is never read: a receiver cannot flood us
        except httpx.HTTPError as e:
            return None, f"{type(e).__name__}: {e}"[:200]
        if 200 <= response.status_code < 300:
            return response.status_code, None
        return response.status_code, f"HTTP {response.status_code}"
