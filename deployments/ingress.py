"""Ingress deployment: the FastAPI app (REST + WebSocket), built on each replica at start-up."""

from __future__ import annotations

import asyncio
import logging
import os
from typing import Any

from fastapi import FastAPI
from ray import serve
from ray.serve.handle import DeploymentHandle

from app.main import create_app
from core.languages import LanguageRouter
from deployments.collector import tune_collector
from deployments.hub_shards import shard_clients, start_hub_shards
from deployments.metrics import install_ray_metrics_sink
from deployments.run import (
    FORWARDFOR_WRAPPER,
    HAPROXY_BINARY_ENV,
    HAPROXY_ENV,
    is_forwardfor_wrapper,
)
from observability.logging_context import install_log_record_factory
from processor_api.backend import JobRequest, ServedModel
from processor_api.live_replies import LiveRedirect, LiveRefusal, LiveReply, LiveSessionState
from processor_api.voices import VoiceReply, VoiceSample
from rooms.hub import HubClient
from rooms.shards import ShardedHub
from settings.config import Settings, get_settings

logger = logging.getLogger(__name__)
READINESS_TIMEOUT_S = 2.0


class ServeBackend:
    """The web layer's view of the model deployments, through Serve deployment handles."""

    def __init__(
        self,
        models: dict[str, DeploymentHandle],
        processor: DeploymentHandle,
        router: LanguageRouter,
        served: list[ServedModel] | None = None,
    ) -> None:
        self._models = models
        self._processor = processor
        self._router = router
        self._hub_start: asyncio.Task[None] | None = None
        self._served = list(served or [])
        # session id → the Processor replica holding it, from the session's replies: live
        # calls name it so SessionOwnerRouter delivers them there (deployments/session_router.py).
        self._owners: dict[str, str] = {}

    def served_models(self) -> list[ServedModel]:
        return list(self._served)

    def languages(self) -> LanguageRouter:
        return self._router

    async def submit_job(self, job: JobRequest) -> None:
        await self._processor.submit.remote(job)

    async def live_open(self, meeting_id: str, session_id: str | None) -> LiveReply:
        owner = self._owners.get(session_id or "")
        result: LiveReply | LiveRedirect = await self._processor.live_open.remote(
            meeting_id, session_id, owner=owner
        )
        if isinstance(result, LiveRedirect):  # another replica holds the session: ask it
            result = await self._processor.live_open.remote(
                meeting_id, session_id, owner=result.owner
            )
        if isinstance(result, LiveRedirect):  # it moved again meanwhile: the client retries
            return LiveRefusal("owner_busy", "The session is moving; reconnect")
        return self._remember_owner(result)

    async def live_feed(self, session_id: str, pcm: bytes) -> LiveReply:
        owner = self._owners.get(session_id)
        result: LiveReply = await self._processor.live_feed.remote(session_id, pcm, owner=owner)
        return self._remember_owner(result)

    async def live_detach(self, session_id: str) -> None:
        owner = self._owners.pop(session_id, None)  # a reconnect may reach another Ingress
        await self._processor.live_detach.remote(session_id, owner=owner)

    async def live_stop(self, session_id: str) -> LiveReply:
        owner = self._owners.pop(session_id, None)
        result: LiveReply = await self._processor.live_stop.remote(session_id, owner=owner)
        return result

    def _remember_owner(self, reply: LiveReply) -> LiveReply:
        """Note the session's owner for its next calls (``public()`` never sends it out)."""
        if isinstance(reply, LiveSessionState) and reply.owner:
            self._owners[reply.session_id] = reply.owner
        return reply

    async def embed_voice(self, sample: VoiceSample) -> VoiceReply:
        reply: VoiceReply = await self._processor.embed_voice.remote(sample)
        return reply

    async def regenerate_summary(self, meeting_id: str) -> None:
        # Returns when the summary is published; the route runs it in the background and
        # holds the meeting's "summary running" lease until then.
        await self._processor.regenerate_summary.remote(meeting_id)

    async def readiness(self) -> dict[str, bool]:
        names = list(self._models)
        results = await asyncio.gather(*(self._probe(self._models[n]) for n in names))
        return dict(zip(names, results, strict=True))

    def make_hub(self, database_url: str) -> HubClient:
        """The router over every hub shard (MEETING_HUB_SHARDS), as the Processor uses; the
        shards' actors start now, in the background, rather than on the first socket."""
        clients = shard_clients(database_url, get_settings().hub_shards)
        self._hub_start = asyncio.get_running_loop().create_task(start_hub_shards(clients))
        self._hub_start.add_done_callback(_log_hub_start)
        return ShardedHub(clients)

    @staticmethod
    async def _probe(handle: DeploymentHandle) -> bool:
        # A replica that is still loading its model queues the call; the timeout turns that
        # into "not ready" instead of a hung probe.
        async def call() -> Any:
            return await handle.is_ready.remote()

        try:
            return bool(await asyncio.wait_for(call(), READINESS_TIMEOUT_S))
        except Exception:  # any failure to answer means not ready
            return False


def _log_hub_start(task: asyncio.Task[None]) -> None:
    # A failed start is not fatal: each shard's client creates its actor on first use.
    if not task.cancelled() and (error := task.exception()) is not None:
        logger.warning("hub shards did not start ahead of use: %r", error)


def haproxy_address_warning(settings: Settings) -> str | None:
    """Behind Serve's HAProxy every request reaches the replica from HAProxy's address, so
    per-address limits (login throttle, pending sockets) would count all clients as one
    unless HAProxy adds X-Forwarded-For (``deployments/haproxy_forwardfor.sh``) and the
    Ingress trusts HAProxy's addresses for it."""
    if os.environ.get(HAPROXY_ENV) != "1":
        return None
    if not is_forwardfor_wrapper(os.environ.get(HAPROXY_BINARY_ENV, "")):
        return (
            f"HAProxy ingress without {FORWARDFOR_WRAPPER.name}: Ray's HAProxy adds no "
            "X-Forwarded-For, so per-address limits see HAProxy's address for every client; "
            f"set {HAPROXY_BINARY_ENV} to it (docs/operations.md, HAProxy ingress)"
        )
    if not settings.trusted_proxy_networks:
        return (
            "HAProxy ingress with MEETING_TRUSTED_PROXIES empty: per-address limits see "
            "HAProxy's address for every client; list the nodes' addresses there "
            "(docs/operations.md, HAProxy ingress)"
        )
    return None


# Open WebSockets count against max_ongoing_requests, so it is far above Serve's default of 5.
@serve.deployment(max_ongoing_requests=2000)
@serve.ingress()
class Ingress:
    def __init__(
        self,
        transcribers: dict[str, DeploymentHandle],
        diarizer: DeploymentHandle,
        summarizer: DeploymentHandle,
        processor: DeploymentHandle,
        router: LanguageRouter,
        served_models: list[ServedModel] | None = None,
    ) -> None:
        tune_collector()
        install_log_record_factory()
        install_ray_metrics_sink()
        if warning := haproxy_address_warning(get_settings()):
            logger.warning(warning)
        self._backend = ServeBackend(
            {
                **transcribers,
                "Diarizer": diarizer,
                "Summarizer": summarizer,
                "Processor": processor,
            },
            processor,
            router,
            served_models,
        )

    def __serve_build_asgi_app__(self) -> FastAPI:
        return create_app(get_settings(), self._backend)
