from __future__ import annotations

import json
import pickle
from typing import Any

import jsonschema
import pytest

from core.llm_prompts import (
    SUMMARY_SCHEMA,
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
    summary_to_dict,
)
from core.types import ActionItem, Segment, SummaryResult


def words(text: str) -> int:
    """Fake tokenizer: one token per whitespace-separated word."""
    return len(text.split())


def seg(speaker: str, text: str, start: float) -> Segment:
    return Segment(id=f"s{start}", speaker=speaker, text=text, start=start, end=start + 1, window=0)


GOOD = {
    "summary": " The team reviewed the release. ",
    "action_items": [
        {"text": "Send the report", "owner": "alice", "due": "Friday"},
        {"text": "send the report", "owner": "Alice", "due": None},
        {"text": "  ", "owner": None, "due": None},
        {"text": "Book the room", "owner": "", "due": None},
    ],
    "decisions": ["Ship v2", "ship v2", ""],
    "topics": ["release", "budget"],
}


def test_render_turns_joins_consecutive_segments_of_one_speaker() -> None:
    segments = [
        seg("alice", "Hello all.", 0.0),
        seg("alice", "Let's start.", 2.0),
        seg("bob", "  ", 3.0),
        seg("bob", "Sure.", 65.4),
        seg("alice", "Good.", 70.0),
    ]
    assert render_turns(segments) == [
        "[00:00] alice: Hello all. Let's start.",
        "[01:05] bob: Sure.",
        "[01:10] alice: Good.",
    ]


def test_chunks_break_only_between_turns_and_respect_the_budget() -> None:
    turns = ["a: one two", "b: three four five", "a: six", "b: seven eight nine ten"]
    # 3 + 4 = 7 tokens (+1 newline) = 8 fits; adding "a: six" (2 + 1) would make 11 > 10.
    chunks = chunk_turns(turns, budget=10, count=words)
    assert chunks == ["a: one two\nb: three four five", "a: six\nb: seven eight nine ten"]
    assert all(words(c) <= 10 for c in chunks)


def test_chunking_keeps_everything_in_order() -> None:
    turns = [f"s{i % 3}: " + "w " * (i % 5 + 1) for i in range(40)]
    chunks = chunk_turns(turns, budget=12, count=words)
    assert "\n".join(chunks).split("\n") == turns
    assert max(words(c) for c in chunks) <= 12


def test_an_overlong_turn_is_cut_at_words_with_the_speaker_prefix_repeated() -> None:
    turn = "[00:05] bob: " + " ".join(f"w{i}" for i in range(10))
    chunks = chunk_turns([turn], budget=6, count=words)
    assert chunks == [
        "[00:05] bob: w0 w1 w2 w3",
        "[00:05] bob: w4 w5 w6 w7",
        "[00:05] bob: w8 w9",
    ]


def test_a_piece_that_cannot_fit_raises_prompt_too_long() -> None:
    with pytest.raises(PromptTooLongError) as info:
        chunk_turns(["bob: x"], budget=2, count=lambda text: 50 if "x" in text else 1)
    assert (info.value.tokens, info.value.budget) == (50, 2)
    assert info.value.code == "summarizer_failed"
    assert isinstance(info.value, SummarizationError)


def test_no_room_for_transcript_raises() -> None:
    budget = PromptBudget(max_model_len=512, max_output_tokens=400, overhead_tokens=100)
    assert budget.prompt_tokens == 112
    assert budget.transcript_tokens == -20
    with pytest.raises(PromptTooLongError):
        chunk_turns(["a: b"], budget=budget.transcript_tokens, count=words)


def test_errors_survive_pickling_with_their_fields() -> None:
    err = pickle.loads(pickle.dumps(SummarizationError("engine died", code="x")))  # noqa: S301
    assert (err.reason, err.code, str(err)) == ("engine died", "x", "engine died")
    too_long = pickle.loads(pickle.dumps(PromptTooLongError(9, 3)))  # noqa: S301
    assert (too_long.tokens, too_long.budget, too_long.code) == (9, 3, "summarizer_failed")


def test_parse_good_output_normalises_and_dedupes() -> None:
    result = parse_summary(json.dumps(GOOD))
    assert result == SummaryResult(
        summary="The team reviewed the release.",
        action_items=[
            ActionItem("Send the report", "alice", "Friday"),
            ActionItem("Book the room", None, None),
        ],
        decisions=["Ship v2"],
        topics=["release", "budget"],
        engine="vllm",
    )
    jsonschema.validate(summary_to_dict(result), SUMMARY_SCHEMA)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ('{"summary": "x"', "not JSON"),
        ("[1, 2]", "top level must be an object"),
        ('{"summary": "x", "decisions": [], "topics": []}', "missing keys ['action_items']"),
        ('{"summary": 3, "action_items": [], "decisions": [], "topics": []}', "summary must"),
        ('{"summary": "", "action_items": {}, "decisions": [], "topics": []}', "action_items"),
        (
            '{"summary": "", "action_items": [{"owner": "a"}], "decisions": [], "topics": []}',
            "action_items[0] needs a string text",
        ),
        (
            '{"summary": "", "action_items": [{"text": "t", "due": 5}], '
            '"decisions": [], "topics": []}',
            "action_items[0].due must be a string or null",
        ),
        ('{"summary": "", "action_items": [], "decisions": [1], "topics": []}', "decisions"),
    ],
)
def test_parse_rejects_bad_output(text: str, problem: str) -> None:
    with pytest.raises(InvalidSummaryOutputError) as info:
        parse_summary(text)
    assert problem in info.value.problem


def test_schema_accepts_the_good_example_and_rejects_extra_keys() -> None:
    jsonschema.validate(GOOD, SUMMARY_SCHEMA)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**GOOD, "extra": 1}, SUMMARY_SCHEMA)


def test_merge_partials_in_meeting_order_without_duplicates() -> None:
    first = SummaryResult(
        summary="Budget was reviewed.",
        action_items=[ActionItem("Send the report", "alice", "Friday")],
        decisions=["Keep the budget"],
        topics=["budget"],
        engine="vllm",
    )
    second = SummaryResult(
        summary="Release was planned.",
        action_items=[
            ActionItem("send the report", "Alice", None),
            ActionItem("Tag the release", "bob", None),
        ],
        decisions=["Ship v2"],
        topics=["Budget", "release"],
        engine="vllm",
    )
    assert merge_summaries([first, second]) == SummaryResult(
        summary="Budget was reviewed. Release was planned.",
        action_items=[
            ActionItem("Send the report", "alice", "Friday"),
            ActionItem("Tag the release", "bob", None),
        ],
        decisions=["Keep the budget", "Ship v2"],
        topics=["budget", "release"],
        engine="vllm",
    )


def test_prompts_carry_the_transcript_and_the_partials() -> None:
    prompt = build_map_prompt("[00:00] alice: hi", part=2, parts=3)
    assert "Transcript (part 2 of 3 of the meeting):\n[00:00] alice: hi\n" in prompt
    assert prompt.endswith("JSON:\n")
    assert "part" not in build_map_prompt("x").split("Transcript")[1].split(":")[0]
    partial = SummaryResult(summary="s", topics=["t"], engine="vllm")
    reduce = build_reduce_prompt([partial, partial])
    assert 'Part 2: {"summary": "s", "action_items": [], "decisions": [], "topics": ["t"]}' in (
        reduce
    )


def maximal_answer(schema: dict[str, Any]) -> dict[str, Any]:
    """The longest document the capped schema allows (every string and list at its cap)."""
    props = schema["properties"]
    n = props["action_items"]["maxItems"]
    item_props = props["action_items"]["items"]["properties"]
    return {
        "summary": "x" * props["summary"]["maxLength"],
        "action_items": [{k: "x" * v["maxLength"] for k, v in item_props.items()}] * n,
        "decisions": ["x" * props["decisions"]["items"]["maxLength"]] * n,
        "topics": ["x" * props["topics"]["items"]["maxLength"]] * n,
    }


@pytest.mark.parametrize(("max_tokens", "content_chars"), [(256, 512), (1024, 2037), (4096, 7100)])
def test_capped_schema_content_fits_two_chars_per_output_token(
    max_tokens: int, content_chars: int
) -> None:
    schema = summary_schema(max_tokens)
    answer = maximal_answer(schema)
    jsonschema.validate(answer, schema)
    jsonschema.validate(answer, SUMMARY_SCHEMA)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**answer, "summary": answer["summary"] + "x"}, schema)
    strings = [answer["summary"], *answer["decisions"], *answer["topics"]]
    strings += [v for item in answer["action_items"] for v in item.values()]
    assert sum(len(v) for v in strings) == content_chars
    assert content_chars <= 2 * max_tokens


def test_capped_schema_sizes() -> None:
    props = summary_schema(256)["properties"]
    assert props["summary"]["maxLength"] == 128
    assert props["action_items"]["maxItems"] == 1
    assert props["action_items"]["items"]["properties"]["text"]["maxLength"] == 128
    assert props["action_items"]["items"]["properties"]["owner"]["maxLength"] == 32
    big = summary_schema(100_000)["properties"]
    assert (big["summary"]["maxLength"], big["topics"]["maxItems"]) == (1200, 10)
    assert "maxLength" not in SUMMARY_SCHEMA["properties"]["summary"]
