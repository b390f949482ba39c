"""Summarizer deployment: extractive engine (MiniLM centrality + commitment patterns) on CPU."""

from __future__ import annotations

import asyncio
import logging

import numpy as np
from ray import serve

from core.extractive import build_extractive_summary
from core.types import Segment, SummaryResult
from deployments.options import SummarizerArgs
from deployments.packaged import resolve_model

logger = logging.getLogger(__name__)


@serve.deployment(ray_actor_options={"num_cpus": 0.25}, max_ongoing_requests=16)
class Summarizer:
    def __init__(self, args: SummarizerArgs) -> None:
        import torch
        from sentence_transformers import SentenceTransformer

        torch.set_num_threads(1)
        self._args = args
        self._encoder = SentenceTransformer(resolve_model(args.embedding_model), device="cpu")
        logger.info("Summarizer loaded (%s engine)", args.engine)

    def is_ready(self) -> bool:
        return True

    async def summarize(self, segments: list[Segment]) -> SummaryResult:
        return await asyncio.to_thread(
            build_extractive_summary, segments, self._embed, self._args.key_sentences
        )

    def _embed(self, sentences: list[str]) -> np.ndarray:
        vectors = self._encoder.encode(sentences, normalize_embeddings=True, batch_size=32)
        return np.asarray(vectors, dtype=np.float32)
