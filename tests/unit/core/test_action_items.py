from __future__ import annotations

import pytest

from core.action_items import (
    addressed_name,
    extract_action_item,
    find_action_items,
    split_sentences,
)
from core.types import ActionItem, Segment


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        (
            "Alice, can you send the build to QA by Friday?",
            ActionItem("send the build to QA", "Alice", "Friday"),
        ),
        ("I'll update the docs tomorrow.", ActionItem("update the docs", "SPK", "tomorrow")),
        (
            "We need to finalize the budget by end of week.",
            ActionItem("finalize the budget", "SPK", "end of week"),
        ),
        (
            "Action item: Carol to review the contract by March 3rd.",
            ActionItem("review the contract", "Carol", "March 3rd"),
        ),
        ("Could you please check the logs, Bob?", ActionItem("check the logs", "Bob", None)),
        (
            "Let's schedule a follow-up next week.",
            ActionItem("schedule a follow-up", "SPK", "next week"),
        ),
        (
            "Okay, Bob, I will send it to you on monday.",
            ActionItem("send it to you", "SPK", "Monday"),
        ),
        (
            "So, please send me the slides before the 3rd of april.",
            ActionItem("send me the slides", "NEXT", "3rd of April"),
        ),
        ("Please review the PR by eod.", ActionItem("review the PR", "NEXT", "EOD")),
        (
            "Bob, we should ship the fix this Thursday.",
            ActionItem("ship the fix", "Bob", "this Thursday"),
        ),
        (
            "Sure. I will send it by Thursday afternoon.",
            ActionItem("send it", "SPK", "Thursday afternoon"),
        ),
        (
            "I'm going to draft the plan by the end of the month.",
            ActionItem("draft the plan", "SPK", "end of the month"),
        ),
    ],
)
def test_extracts_task_owner_and_due(sentence: str, expected: ActionItem) -> None:
    assert extract_action_item(sentence, "SPK", "NEXT") == expected


@pytest.mark.parametrize(
    "sentence",
    [
        "The weather is nice.",
        "Can you hear me?",
        "I'll be honest with you.",
        "Let's start.",
        "Let's begin with updates.",
        "Okay everyone, let's get started with the quarterly review.",
        "Let's kick things off.",
        "We will see how it goes.",
        "Yesterday I finished the code review.",
    ],
)
def test_ignores_sentences_without_a_task(sentence: str) -> None:
    assert extract_action_item(sentence, "SPK", "NEXT") is None


def test_addressed_name() -> None:
    assert addressed_name("Bob, can you do it?") == "Bob"
    assert addressed_name("Okay, Bob, can you do it?") == "Bob"
    assert addressed_name("Can you do it, Dana?") == "Dana"
    assert addressed_name("Thanks, everyone.") is None
    assert addressed_name("So, can you do it?") is None
    assert addressed_name("Mark, can you do it?", {"bob"}) is None


def test_find_action_items_over_segments() -> None:
    segments = [
        Segment("w0-0", "SPEAKER_00", "Welcome. Please send the notes by Friday.", 0.0, 3.0, 0),
        Segment("w0-1", "SPEAKER_01", "Sure. I'll also book the room tomorrow.", 3.5, 6.0, 0),
        Segment("w0-2", "SPEAKER_00", "Please send the notes by Friday.", 6.5, 8.0, 0),
        Segment("w0-3", "SPEAKER_00", "Dana, can you review the draft?", 8.5, 9.0, 0),
    ]
    assert find_action_items(segments) == [
        # The unnamed request goes to the next speaker, who answers it.
        ActionItem("send the notes", "SPEAKER_01", "Friday"),
        ActionItem("book the room", "SPEAKER_01", "tomorrow"),
        # Repeated later by the same speaker with nobody answering: a new (owner-less) item.
        ActionItem("send the notes", None, "Friday"),
        ActionItem("review the draft", "Dana", None),
    ]


def test_an_answer_pointing_back_is_the_request_it_answers() -> None:
    segments = [
        Segment("w0-0", "SPEAKER_00", "Dana, can you send the budget by Thursday?", 0.0, 3.0, 0),
        Segment("w0-1", "SPEAKER_01", "Sure. I will send it by Friday morning.", 3.5, 6.0, 0),
        Segment("w0-2", "SPEAKER_00", "Can you review the PR?", 6.5, 8.0, 0),
        Segment("w0-3", "SPEAKER_02", "Yes, I'll do that tomorrow.", 8.5, 9.0, 0),
        # Not an answer to a request: a commitment of its own, however vague.
        Segment("w0-4", "SPEAKER_02", "And I'll send it to you tonight.", 9.5, 11.0, 0),
    ]
    assert find_action_items(segments) == [
        ActionItem("send the budget", "Dana", "Friday morning"),
        ActionItem("review the PR", "SPEAKER_02", "tomorrow"),
        ActionItem("send it to you", "SPEAKER_02", "tonight"),
    ]


def test_known_names_limit_addressing() -> None:
    segments = [Segment("w0-0", "SPEAKER_00", "Mark, can you close the ticket?", 0.0, 1.0, 0)]
    assert find_action_items(segments, known_names=["Mark"])[0].owner == "Mark"
    assert find_action_items(segments, known_names=["Bob"])[0].owner is None


def test_split_sentences() -> None:
    assert split_sentences("  Hi there.  How are you?\nFine!  ok ") == [
        "Hi there.",
        "How are you?",
        "Fine!",
        "ok",
    ]


def test_chinese_and_japanese_sentences_end_without_a_space() -> None:
    bang, query = "\uff01", "\uff1f"  # full-width ! and ?
    assert split_sentences(f"今天天气好。我们开会吧{bang}好吗{query} 是的。") == [
        "今天天气好。",
        f"我们开会吧{bang}",
        f"好吗{query}",
        "是的。",
    ]
    assert split_sentences("会議を始めます。よろしく") == ["会議を始めます。", "よろしく"]
