"""The Summarizer's ``vllm`` engine against a fake engine: failures at the edge and the
map-reduce control flow (no Ray, no model; the real engine runs in
``tests/integration/test_vllm_summarizer.py``)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import pytest

from core.llm_prompts import PromptTooLongError, SummarizationError, render_turns
from core.types import ActionItem, SummaryResult
from deployments.llm_engine import LlmSummaryEngine, engine_kwargs
from deployments.options import SummarizerArgs
from tests.scripted_meeting import meeting


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
