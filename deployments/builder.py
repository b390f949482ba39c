"""Typed application builder for every Serve profile (``deployments.builder:build_app``).

No ``from __future__ import annotations`` here: Serve reads the parameter annotation at run time
to validate the YAML ``args:`` into ``AppArgs``.
"""

from typing import Any

from ray.serve import Application, Deployment

from deployments.diarizer import Diarizer
from deployments.ingress import Ingress
from deployments.instant_models import InstantDiarizer, InstantSummarizer, InstantTranscriber
from deployments.options import MULTILINGUAL_TRANSCRIBER, AppArgs, language_router
from deployments.packaged import PACKAGED_PREFIX
from deployments.processor import Processor
from deployments.profiles import profile_resources
from deployments.summarizer import Summarizer
from deployments.transcriber import Transcriber
from processor_api.backend import ServedModel


def as_deployment(decorated: object) -> Deployment:
    """``@serve.deployment`` classes are ``Deployment`` objects; say so to the type checker."""
    assert isinstance(decorated, Deployment)
    return decorated


def build_app(args: AppArgs) -> Application:
    """Wire the model deployments behind the Ingress; Serve YAML supplies per-deployment options."""
    return compose_app(args, {})


def compose_app(args: AppArgs, options: dict[str, dict[str, Any]]) -> Application:
    """``build_app`` with per-deployment options given in code (what Serve YAML's
    ``deployments:`` section does), for ``serve.run`` in tests and scripts.

    Every deployment starts from its resource numbers in the profile's YAML (the only place
    they are written); ``options``, then a Serve config's ``deployments:``, apply on top.
    """
    resources = profile_resources(args.profile)

    def deployment(decorated: object, name: str | None = None) -> Deployment:
        d = as_deployment(decorated)
        if name is not None:
            d = d.options(name=name)
        if d.name in resources:  # keeps what code set beside them (e.g. a runtime_env)
            d = d.options(ray_actor_options={**(d.ray_actor_options or {}), **resources[d.name]})
        return d.options(**options[d.name]) if d.name in options else d

    if args.profile == "load":
        # Stand-ins under the model deployments' names; one English Transcriber route.
        args = args.model_copy(update={"multilingual": None})
        transcribers = {"Transcriber": deployment(InstantTranscriber).bind(args.instant)}
        diarizer = deployment(InstantDiarizer).bind(args.instant)
        summarizer = deployment(InstantSummarizer).bind(args.instant)
    else:
        transcribers = {"Transcriber": deployment(Transcriber).bind(args.transcriber)}
        if args.multilingual is not None:
            # The same class as a second deployment: one deployment per model (its own
            # replicas, batching and resources in the Serve YAML under this name).
            transcribers[MULTILINGUAL_TRANSCRIBER] = deployment(
                Transcriber, MULTILINGUAL_TRANSCRIBER
            ).bind(args.multilingual)
        diarizer = deployment(Diarizer).bind(args.diarizer)
        summarizer = deployment(Summarizer).bind(args.summarizer)
    router = language_router(args)
    processor = deployment(Processor).bind(
        transcribers, diarizer, summarizer, args.processor, router
    )
    return deployment(Ingress).bind(
        transcribers=transcribers,
        diarizer=diarizer,
        summarizer=summarizer,
        processor=processor,
        served_models=served_models(args),
        router=router,
    )


def served_models(args: AppArgs) -> list[ServedModel]:
    """What ``GET /v1/models`` lists: each transcriber's model, named without its path."""
    transcribers = [args.transcriber, *([args.multilingual] if args.multilingual else [])]
    return [
        ServedModel(
            id=t.model.removeprefix(PACKAGED_PREFIX).rstrip("/").rsplit("/", 1)[-1],
            language=t.language,
        )
        for t in transcribers
    ]
