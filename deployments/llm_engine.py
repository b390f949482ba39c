"""The Summarizer's ``vllm`` engine: map-reduce summaries from one shared vLLM ``AsyncLLM``.

Every chunk of every meeting is an independent request to the one engine, so concurrent
meetings (and the chunks of one long meeting) are batched by vLLM's continuous batching.
Output is constrained to ``summary_schema(max_tokens)`` (structured outputs), validated on arrival,
and each generation is bounded by ``generation_timeout_s``: a failure always surfaces as a
``SummarizationError``, never as a hung job. vLLM is imported only in ``start`` (inside the
replica), so this module imports without it.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any, Protocol

from core.extractive import EMPTY_SUMMARY
from core.llm_prompts import (
    ENGINE_NAME,
    InvalidSummaryOutputError,
    PromptBudget,
    PromptTooLongError,
    SummarizationError,
    build_map_prompt,
    build_reduce_prompt,
    chunk_turns,
    merge_summaries,
    parse_summary,
    render_turns,
    summary_schema,
)
from core.types import Segment, SummaryResult
from deployments.options import SummarizerArgs

logger = logging.getLogger(__name__)

ParamsFactory = Callable[[int], Any]  # attempt number -> vllm.SamplingParams


class AsyncLLMLike(Protocol):
    """The slice of ``vllm.v1.engine.async_llm.AsyncLLM`` used here (fakes in tests)."""

    @property
    def errored(self) -> bool: ...

    def generate(
        self, prompt: Any, sampling_params: Any, request_id: str
    ) -> AsyncIterator[Any]: ...

    def shutdown(self) -> None: ...


def engine_kwargs(args: SummarizerArgs) -> dict[str, Any]:
    """``AsyncEngineArgs`` keywords from the profile (tested without vLLM)."""
    kwargs: dict[str, Any] = {
        "model": args.model,
        "max_model_len": args.max_model_len,
        "gpu_memory_utilization": args.gpu_memory_utilization,
        "dtype": args.dtype,
        "enforce_eager": args.enforce_eager,
        "max_num_seqs": args.max_num_seqs,
        "seed": args.seed,
        "disable_log_stats": True,
    }
    if args.kv_cache_memory_gib is not None:
        # Explicit KV-cache size: replaces VLLM_CPU_KVCACHE_SPACE on CPU, and on a shared GPU
        # keeps vLLM from sizing the cache off a memory profile that other replicas disturb.
        kwargs["kv_cache_memory_bytes"] = int(args.kv_cache_memory_gib * 2**30)
    return kwargs


class LlmSummaryEngine:
    def __init__(
        self,
        args: SummarizerArgs,
        llm: AsyncLLMLike,
        tokenizer: Any,  # a Hugging Face tokenizer (vLLM's wrapper in production)
        make_params: ParamsFactory,
    ) -> None:
        self._args = args
        self._llm = llm
        self._tokenizer = tokenizer
        self._make_params = make_params
        self._chat = bool(getattr(tokenizer, "chat_template", None))
        # the longest instruction a prompt can carry (a language sentence with a long name)
        overhead = len(self._encode(build_map_prompt("", part=99, parts=99, language="ht")))
        self.budget = PromptBudget(args.max_model_len, args.max_tokens, overhead)
        logger.info(
            "vllm summarizer: %d transcript tokens per chunk (%d context, %d output, chat=%s)",
            self.budget.transcript_tokens,
            args.max_model_len,
            args.max_tokens,
            self._chat,
        )

    @classmethod
    def start(cls, args: SummarizerArgs) -> LlmSummaryEngine:
        """Load the model into an ``AsyncLLM`` (blocks for the load: tens of seconds)."""
        from vllm.config import StructuredOutputsConfig
        from vllm.engine.arg_utils import AsyncEngineArgs
        from vllm.sampling_params import SamplingParams, StructuredOutputsParams
        from vllm.v1.engine.async_llm import AsyncLLM

        # Compact JSON only: with whitespace allowed, a small model pads with newlines until
        # max_tokens and the JSON is cut off. vLLM reads this flag from the engine config only
        # (the per-request one is ignored), and only the xgrammar/guidance backends support it.
        compact = StructuredOutputsConfig(backend="xgrammar", disable_any_whitespace=True)
        engine_args = AsyncEngineArgs(**engine_kwargs(args), structured_outputs_config=compact)
        started = time.monotonic()
        llm = AsyncLLM.from_engine_args(engine_args)
        logger.info("vllm loaded %s in %.1fs", args.model, time.monotonic() - started)
        schema = summary_schema(args.max_tokens)

        def make_params(attempt: int) -> Any:
            # Greedy first; a retry samples, since greedy would repeat the same bad output.
            # Fresh params per request: vLLM writes its backend choice into them.
            return SamplingParams(
                max_tokens=args.max_tokens,
                temperature=0.0 if attempt == 0 else 0.7,
                seed=args.seed + attempt,
                structured_outputs=StructuredOutputsParams(json=schema),
            )

        return cls(args, llm, llm.get_tokenizer(), make_params)

    def is_ready(self) -> bool:
        return not self._llm.errored

    def shutdown(self) -> None:
        self._llm.shutdown()

    async def summarize(
        self, segments: Sequence[Segment], language: str | None = None
    ) -> SummaryResult:
        """Map each transcript chunk to a partial summary, then reduce them to one; the prompt
        names the meeting's language so the summary stays in it."""
        result = await self._summarize_language(segments, language)
        result.language = language
        return result

    async def _summarize_language(
        self, segments: Sequence[Segment], language: str | None
    ) -> SummaryResult:
        turns = render_turns(segments)
        if not turns:
            return SummaryResult(summary=EMPTY_SUMMARY, engine=ENGINE_NAME)
        chunks = await asyncio.to_thread(
            chunk_turns, turns, self.budget.transcript_tokens, self._count
        )
        n = len(chunks)
        partials = await asyncio.gather(
            *(
                self._summarize_prompt(build_map_prompt(c, i, n, language))
                for i, c in enumerate(chunks, 1)
            )
        )
        if n == 1:
            return partials[0]
        return await self._reduce(partials, language)

    async def _reduce(
        self, partials: Sequence[SummaryResult], language: str | None = None
    ) -> SummaryResult:
        """One call over the partial JSONs; a deterministic merge when that cannot work."""
        prompt = build_reduce_prompt(partials, language)
        try:
            return await self._summarize_prompt(prompt)
        except PromptTooLongError:
            logger.info("reduce prompt over budget: merging %d partials", len(partials))
        except SummarizationError as e:
            if self._llm.errored:
                raise
            logger.warning("reduce failed (%s): merging %d partials", e.reason, len(partials))
        return merge_summaries(partials)

    async def _summarize_prompt(self, prompt: str) -> SummaryResult:
        ids = self._encode(prompt)
        if len(ids) > self.budget.prompt_tokens:
            raise PromptTooLongError(len(ids), self.budget.prompt_tokens)
        problem = ""
        for attempt in range(self._args.max_attempts):
            text, finish_reason = await self._generate(ids, attempt)
            try:
                return parse_summary(text)
            except InvalidSummaryOutputError as e:
                cut = " after hitting max_tokens" if finish_reason == "length" else ""
                problem = f"{e.problem}{cut}"
                logger.warning("attempt %d gave unusable output: %s", attempt + 1, problem)
        raise SummarizationError(
            f"the language model gave no valid summary in {self._args.max_attempts} "
            f"attempts ({problem}); raise max_tokens or use a larger model"
        )

    async def _generate(self, prompt_ids: list[int], attempt: int) -> tuple[str, str | None]:
        request_id = f"summary-{uuid.uuid4().hex}"
        timeout = self._args.generation_timeout_s
        try:
            # Cancelling the generator on timeout makes vLLM abort the request.
            return await asyncio.wait_for(self._collect(prompt_ids, attempt, request_id), timeout)
        except TimeoutError as e:
            raise SummarizationError(
                f"the language model did not answer within {timeout:g}s; "
                "raise generation_timeout_s or give the summarizer more compute"
            ) from e
        except Exception as e:
            logger.exception("vllm request %s failed", request_id)
            raise SummarizationError(f"the language model failed: {type(e).__name__}: {e}") from e

    async def _collect(
        self, prompt_ids: list[int], attempt: int, request_id: str
    ) -> tuple[str, str | None]:
        """The final text and vLLM's finish reason ("stop", "length", ...)."""
        final: Any = None
        prompt = {"prompt_token_ids": prompt_ids}
        async for output in self._llm.generate(prompt, self._make_params(attempt), request_id):
            final = output
        if final is None or not final.outputs:
            raise RuntimeError("the engine returned no output")
        output = final.outputs[0]
        return str(output.text), getattr(output, "finish_reason", None)

    def _count(self, text: str) -> int:
        return len(self._tokenizer.encode(text, add_special_tokens=False))

    def _encode(self, prompt: str) -> list[int]:
        """Token ids of the full prompt, through the chat template for instruct models."""
        if self._chat:
            text = self._tokenizer.apply_chat_template(
                [{"role": "user", "content": prompt}], tokenize=False, add_generation_prompt=True
            )
            return list(self._tokenizer.encode(str(text), add_special_tokens=False))
        return list(self._tokenizer.encode(prompt, add_special_tokens=True))
