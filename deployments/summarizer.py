"""Summarizer deployment: one interface, two engines chosen by ``SummarizerArgs.engine``.

``extractive`` (CPU default): MiniLM centrality + commitment patterns (core/extractive.py).
``vllm``: a language model in vLLM's AsyncLLM with JSON-schema output (deployments/llm_engine.py).
Engine failures raise ``core.llm_prompts.SummarizationError``; the caller publishes an ``error``.
"""

from __future__ import annotations

import asyncio
import logging

import numpy as np
from ray import serve

from core.extractive import build_extractive_summary
from core.llm_prompts import SummarizationError
from core.types import Segment, SummaryResult
from deployments.cpu_priority import lower_process_priority
from deployments.llm_engine import LlmSummaryEngine
from deployments.options import SummarizerArgs
from deployments.packaged import resolve_model

logger = logging.getLogger(__name__)


@serve.deployment(max_ongoing_requests=16)
class Summarizer:
    def __init__(self, args: SummarizerArgs) -> None:
        self._args = args
        self._llm: LlmSummaryEngine | None = None
        if args.engine == "vllm":
            self._llm = LlmSummaryEngine.start(args)
        else:
            self._load_encoder()
        lower_process_priority(args.cpu_nice)  # vLLM's engine process too
        logger.info("Summarizer loaded (%s engine)", args.engine)

    def _load_encoder(self) -> None:
        import torch
        from sentence_transformers import SentenceTransformer

        torch.set_num_threads(1)
        self._encoder = SentenceTransformer(resolve_model(self._args.embedding_model), device="cpu")
        self._embed(["A first sentence, so the first summary does not pay for torch's set-up."])

    def is_ready(self) -> bool:
        return self._llm is None or self._llm.is_ready()

    def check_health(self) -> None:
        """Serve's periodic probe: a dead vLLM engine gets the replica restarted."""
        if not self.is_ready():
            raise SummarizationError("the vLLM engine is dead; the replica will be restarted")

    async def summarize(
        self, segments: list[Segment], language: str | None = None
    ) -> SummaryResult:
        """``language``: the meeting's (None: unknown, treated as English)."""
        if self._llm is not None:
            return await self._llm.summarize(segments, language)
        return await asyncio.to_thread(
            build_extractive_summary, segments, self._embed, self._args.key_sentences, language
        )

    def _embed(self, sentences: list[str]) -> np.ndarray:
        vectors = self._encoder.encode(sentences, normalize_embeddings=True, batch_size=32)
        return np.asarray(vectors, dtype=np.float32)

    def __del__(self) -> None:
        # Serve calls __del__ on replica shutdown: stop vLLM's engine-core process with it.
        llm = getattr(self, "_llm", None)
        if llm is not None:
            llm.shutdown()
