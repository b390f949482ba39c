"""Typed application builder for every Serve profile (``deployments.builder:build_app``).

No ``from __future__ import annotations`` here: Serve reads the parameter annotation at run time
to validate the YAML ``args:`` into ``AppArgs``.
"""

from typing import Any

from ray.serve import Application, Deployment

from deployments.diarizer import Diarizer
from deployments.ingress import Ingress
from deployments.instant_models import InstantDiarizer, InstantSummarizer, InstantTranscriber
from deployments.options import AppArgs
from deployments.processor import Processor
from deployments.summarizer import Summarizer
from deployments.transcriber import Transcriber


def as_deployment(decorated: object) -> Deployment:
    """``@serve.deployment`` classes are ``Deployment`` objects; say so to the type checker."""
    assert isinstance(decorated, Deployment)
    return decorated


def build_app(args: AppArgs) -> Application:
    """Wire the model deployments behind the Ingress; Serve YAML supplies per-deployment options."""
    return compose_app(args, {})


def compose_app(args: AppArgs, options: dict[str, dict[str, Any]]) -> Application:
    """``build_app`` with per-deployment options given in code (what Serve YAML's
    ``deployments:`` section does), for ``serve.run`` in tests and scripts."""

    def deployment(decorated: object) -> Deployment:
        d = as_deployment(decorated)
        return d.options(**options[d.name]) if d.name in options else d

    if args.profile == "load":
        transcriber = deployment(InstantTranscriber).bind(args.instant)
        diarizer = deployment(InstantDiarizer).bind(args.instant)
        summarizer = deployment(InstantSummarizer).bind(args.instant)
    else:
        transcriber = deployment(Transcriber).bind(args.transcriber)
        diarizer = deployment(Diarizer).bind(args.diarizer)
        summarizer = deployment(Summarizer).bind(args.summarizer)
    processor = deployment(Processor).bind(transcriber, diarizer, summarizer, args.processor)
    return deployment(Ingress).bind(
        transcriber=transcriber,
        diarizer=diarizer,
        summarizer=summarizer,
        processor=processor,
    )
