"""Typed application builder used by every Serve profile (``import_path: deployments.builder:build_app``).

No ``from __future__ import annotations`` here: Serve reads the parameter annotation at run time
to validate the YAML ``args:`` into ``AppArgs``.
"""

from ray.serve import Application

from deployments.diarizer import Diarizer
from deployments.ingress import Ingress
from deployments.options import AppArgs
from deployments.summarizer import Summarizer
from deployments.transcriber import Transcriber


def build_app(args: AppArgs) -> Application:
    """Wire the model deployments behind the Ingress; Serve YAML supplies per-deployment options."""
    return Ingress.bind(
        transcriber=Transcriber.bind(args.transcriber),
        diarizer=Diarizer.bind(args.diarizer),
        summarizer=Summarizer.bind(args.summarizer),
    )
