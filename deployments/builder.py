"""Typed application builder for every Serve profile (``deployments.builder:build_app``).

No ``from __future__ import annotations`` here: Serve reads the parameter annotation at run time
to validate the YAML ``args:`` into ``AppArgs``.
"""

from ray.serve import Application, Deployment

from deployments.diarizer import Diarizer
from deployments.ingress import Ingress
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
    transcriber = as_deployment(Transcriber).bind(args.transcriber)
    diarizer = as_deployment(Diarizer).bind(args.diarizer)
    summarizer = as_deployment(Summarizer).bind(args.summarizer)
    processor = as_deployment(Processor).bind(transcriber, diarizer, summarizer, args.processor)
    return as_deployment(Ingress).bind(
        transcriber=transcriber,
        diarizer=diarizer,
        summarizer=summarizer,
        processor=processor,
    )
