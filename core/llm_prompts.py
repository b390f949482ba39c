"""Model-free half of the LLM summarizer: prompts, token-budget chunking, parsing, merging.

Long meetings are summarised map-reduce: the speaker-attributed transcript is cut at speaker-turn
boundaries into chunks that fit the model's context (``PromptBudget``), each chunk yields a
partial ``SummaryResult`` (map), and the partials are combined by one more model call over their
JSON (reduce) or, when that output is unusable, by ``merge_summaries`` (deterministic). Token
counts come from a callable, so tests use a fake counter and the engine the model's tokenizer.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from core.languages import ENGLISH, language_name
from core.types import ActionItem, Segment, SummaryResult

TokenCounter = Callable[[str], int]

ENGINE_NAME = "vllm"
MAX_LIST_ITEMS = 10


def _string(max_length: int | None = None, nullable: bool = False) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": ["string", "null"] if nullable else "string"}
    if max_length is not None:
        schema["maxLength"] = max_length
    return schema


def _schema(caps: dict[str, int] | None = None) -> dict[str, Any]:
    cap = (caps or {}).get
    items_cap = {"maxItems": cap("items")} if caps else {}
    return {
        "type": "object",
        "properties": {
            "summary": _string(cap("summary")),
            "action_items": {
                "type": "array",
                **items_cap,
                "items": {
                    "type": "object",
                    "properties": {
                        "text": _string(cap("text")),
                        "owner": _string(cap("name"), nullable=True),
                        "due": _string(cap("name"), nullable=True),
                    },
                    "required": ["text", "owner", "due"],
                    "additionalProperties": False,
                },
            },
            "decisions": {"type": "array", **items_cap, "items": _string(cap("text"))},
            "topics": {"type": "array", **items_cap, "items": _string(cap("topic"))},
        },
        "required": ["summary", "action_items", "decisions", "topics"],
        "additionalProperties": False,
    }


# The wire shape of a summary; every ``summary_schema(n)`` is a tightened copy of it.
SUMMARY_SCHEMA: dict[str, Any] = _schema()


def _clamp(value: int, low: int, high: int) -> int:
    return max(low, min(high, value))


def summary_schema(max_output_tokens: int) -> dict[str, Any]:
    """``SUMMARY_SCHEMA`` with length caps sized so a maximal answer fits ``max_output_tokens``.

    Fed to vLLM's structured output, the caps close every string and list in time: without
    them a small model writes one string until the token limit and the JSON is cut off. Prose
    runs ~4 characters per token; the content gets 2 per token, leaving the rest for syntax.
    """
    chars = 2 * max_output_tokens
    n = _clamp(max_output_tokens // 192, 1, MAX_LIST_ITEMS)
    return _schema(
        {
            "summary": _clamp(chars // 4, 40, 1200),
            "items": n,
            "text": _clamp(chars // (4 * n), 16, 300),
            "name": _clamp(chars // (16 * n), 8, 60),
            "topic": _clamp(chars // (8 * n), 8, 80),
        }
    )


_INSTRUCTIONS = (
    "You are a meeting assistant. Read the meeting transcript below; each line is "
    "'[mm:ss] speaker: words'. Reply with one JSON object with the keys summary (a few "
    "sentences), action_items (each with text, owner = the speaker who committed or was asked, "
    "due = the deadline as said or null), decisions (list of strings) and topics (short "
    "noun phrases)."
)
_REDUCE_INSTRUCTIONS = (
    "You are a meeting assistant. Below are JSON summaries of consecutive parts of one "
    "meeting. Combine them into one JSON object with the same keys: summary (a few sentences "
    "covering the whole meeting), action_items (keep every distinct one with its owner and "
    "due), decisions and topics (no duplicates)."
)


class SummarizationError(RuntimeError):
    """The summary could not be produced; the caller turns it into an ``error`` event.

    ``reason`` says what went wrong in words a user can act on; ``code`` is the wire code.
    """

    def __init__(self, reason: str, code: str = "summarizer_failed") -> None:
        self.reason = reason
        self.code = code
        super().__init__(reason)

    def __reduce__(self) -> tuple[type[SummarizationError], tuple[str, str]]:
        # Crosses Ray process boundaries: rebuild from the fields, not from ``args``.
        return (type(self), (self.reason, self.code))


class PromptTooLongError(SummarizationError):
    def __init__(self, tokens: int, budget: int) -> None:
        self.tokens = tokens
        self.budget = budget
        super().__init__(
            f"a transcript piece needs {tokens} tokens but only {budget} fit in the model's "
            "context; raise max_model_len or lower max_tokens in the summarizer profile"
        )

    def __reduce__(self) -> tuple[type[PromptTooLongError], tuple[int, int]]:  # type: ignore[override]
        return (type(self), (self.tokens, self.budget))


class InvalidSummaryOutputError(ValueError):
    """The model's text is not a summary object; ``problem`` says which part is wrong."""

    def __init__(self, problem: str) -> None:
        self.problem = problem
        super().__init__(f"invalid summary output: {problem}")


@dataclass(frozen=True, slots=True)
class PromptBudget:
    """How many transcript tokens fit in one prompt.

    ``overhead_tokens`` is the prompt without any transcript (instructions and chat template);
    ``margin_tokens`` absorbs tokens that merge or split where pieces are joined.
    """

    max_model_len: int
    max_output_tokens: int
    overhead_tokens: int
    margin_tokens: int = 32

    @property
    def prompt_tokens(self) -> int:
        """Most tokens a whole prompt may have so the answer still fits in the context."""
        return self.max_model_len - self.max_output_tokens

    @property
    def transcript_tokens(self) -> int:
        return self.prompt_tokens - self.overhead_tokens - self.margin_tokens


def _clock(seconds: float) -> str:
    minutes, secs = divmod(int(max(seconds, 0.0)), 60)
    return f"{minutes:02d}:{secs:02d}"


def render_turns(segments: Sequence[Segment]) -> list[str]:
    """One line per speaker turn: consecutive segments of one speaker are joined."""
    turns: list[str] = []
    speaker: str | None = None
    start = 0.0
    words: list[str] = []
    for seg in segments:
        text = seg.text.strip()
        if not text:
            continue
        if seg.speaker != speaker and words:
            turns.append(f"[{_clock(start)}] {speaker}: {' '.join(words)}")
            words = []
        if not words:
            speaker, start = seg.speaker, seg.start
        words.append(text)
    if words:
        turns.append(f"[{_clock(start)}] {speaker}: {' '.join(words)}")
    return turns


def _split_turn(turn: str, budget: int, count: TokenCounter) -> list[str]:
    """Cut one over-long turn at word boundaries, repeating its ``[mm:ss] speaker:`` prefix."""
    prefix, _, body = turn.partition(": ")
    pieces: list[str] = []
    current: list[str] = []
    for word in body.split():
        candidate = f"{prefix}: {' '.join([*current, word])}"
        if current and count(candidate) > budget:
            pieces.append(f"{prefix}: {' '.join(current)}")
            current = []
        current.append(word)
    if current:
        pieces.append(f"{prefix}: {' '.join(current)}")
    for piece in pieces:
        if (tokens := count(piece)) > budget:
            raise PromptTooLongError(tokens, budget)
    return pieces


def chunk_turns(turns: Iterable[str], budget: int, count: TokenCounter) -> list[str]:
    """Pack turns greedily into newline-joined chunks of at most ``budget`` tokens.

    Chunks break only between speaker turns; a single turn longer than the budget is cut at
    word boundaries. Raises ``PromptTooLongError`` when even one word cannot fit.
    """
    if budget <= 0:
        raise PromptTooLongError(1, budget)
    chunks: list[str] = []
    current: list[str] = []
    used = 0
    for turn in turns:
        for piece in _split_turn(turn, budget, count) if count(turn) > budget else [turn]:
            cost = count(piece) + (1 if current else 0)  # +1 for the joining newline
            if current and used + cost > budget:
                chunks.append("\n".join(current))
                current, used = [], 0
                cost = count(piece)
            current.append(piece)
            used += cost
    if current:
        chunks.append("\n".join(current))
    return chunks


def language_instruction(language: str | None) -> str:
    """The sentence that keeps a non-English meeting's summary in its own language."""
    if language in (None, ENGLISH):
        return ""
    name = language_name(language or "")
    return (
        f"\nThe meeting is in {name}. Write the summary, action items, decisions and topics "
        f"in {name}."
    )


def build_map_prompt(
    transcript: str, part: int = 1, parts: int = 1, language: str | None = None
) -> str:
    """The instruction for one transcript chunk (``part`` of ``parts``, 1-based)."""
    where = f" (part {part} of {parts} of the meeting)" if parts > 1 else ""
    head = _INSTRUCTIONS + language_instruction(language)
    return f"{head}\n\nTranscript{where}:\n{transcript}\n\nJSON:\n"


def build_reduce_prompt(partials: Sequence[SummaryResult], language: str | None = None) -> str:
    lines = [
        f"Part {i}: {json.dumps(summary_to_dict(p), ensure_ascii=False)}"
        for i, p in enumerate(partials, start=1)
    ]
    head = _REDUCE_INSTRUCTIONS + language_instruction(language)
    return f"{head}\n\n" + "\n".join(lines) + "\n\nJSON:\n"


def summary_to_dict(result: SummaryResult) -> dict[str, Any]:
    """The schema's shape (no ``engine`` field)."""
    return {
        "summary": result.summary,
        "action_items": [
            {"text": a.text, "owner": a.owner, "due": a.due} for a in result.action_items
        ],
        "decisions": list(result.decisions),
        "topics": list(result.topics),
    }


def _optional_text(value: object, field: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidSummaryOutputError(f"{field} must be a string or null")
    return value.strip() or None


def _string_list(data: dict[str, Any], key: str) -> list[str]:
    value = data[key]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InvalidSummaryOutputError(f"{key} must be a list of strings")
    return _dedupe(v.strip() for v in value)


def _action_item(value: object, index: int) -> ActionItem | None:
    if not isinstance(value, dict) or not isinstance(value.get("text"), str):
        raise InvalidSummaryOutputError(f"action_items[{index}] needs a string text")
    text = value["text"].strip()
    if not text:
        return None  # an empty item carries nothing; drop it instead of failing the meeting
    owner = _optional_text(value.get("owner"), f"action_items[{index}].owner")
    due = _optional_text(value.get("due"), f"action_items[{index}].due")
    return ActionItem(text=text, owner=owner, due=due)


def parse_summary(text: str) -> SummaryResult:
    """Validate model output against ``SUMMARY_SCHEMA``'s shape into a ``SummaryResult``.

    Raises ``InvalidSummaryOutputError`` for non-JSON, a missing key or a wrong type. Strings
    are stripped, empty entries and exact duplicates dropped.
    """
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise InvalidSummaryOutputError(f"not JSON ({e.msg} at char {e.pos})") from e
    if not isinstance(data, dict):
        raise InvalidSummaryOutputError("top level must be an object")
    missing = [k for k in SUMMARY_SCHEMA["required"] if k not in data]
    if missing:
        raise InvalidSummaryOutputError(f"missing keys {missing}")
    if not isinstance(data["summary"], str):
        raise InvalidSummaryOutputError("summary must be a string")
    if not isinstance(data["action_items"], list):
        raise InvalidSummaryOutputError("action_items must be a list")
    items = [_action_item(v, i) for i, v in enumerate(data["action_items"])]
    return SummaryResult(
        summary=data["summary"].strip(),
        action_items=_dedupe_items(i for i in items if i is not None),
        decisions=_string_list(data, "decisions"),
        topics=_string_list(data, "topics"),
        engine=ENGINE_NAME,
    )


def _dedupe(values: Iterable[str]) -> list[str]:
    seen: set[str] = set()
    out = []
    for value in values:
        key = value.casefold()
        if value and key not in seen:
            seen.add(key)
            out.append(value)
    return out


def _dedupe_items(items: Iterable[ActionItem]) -> list[ActionItem]:
    seen: set[tuple[str, str]] = set()
    out = []
    for item in items:
        key = (item.text.casefold(), (item.owner or "").casefold())
        if key not in seen:
            seen.add(key)
            out.append(item)
    return out


def merge_summaries(partials: Sequence[SummaryResult]) -> SummaryResult:
    """Deterministic reduce: summaries joined in meeting order, lists concatenated, deduped."""
    summary = " ".join(p.summary for p in partials if p.summary)
    return SummaryResult(
        summary=summary,
        action_items=_dedupe_items(a for p in partials for a in p.action_items),
        decisions=_dedupe(d for p in partials for d in p.decisions),
        topics=_dedupe(t for p in partials for t in p.topics),
        engine=ENGINE_NAME,
    )
