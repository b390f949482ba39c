from __future__ import annotations

import numpy as np
import pytest

from core.extractive import (
    EMPTY_SUMMARY,
    Embedder,
    build_extractive_summary,
    extract_topics,
    find_decisions,
    pagerank,
    rank_sentences,
)
from core.types import ActionItem, Segment

SENTENCES = ["s0", "s1", "s2", "s3"]
# s1 sits between s0 and s2; s3 is unrelated to everything.
EMBEDDINGS = np.array(
    [[1.0, 0.1, 0.0], [1.0, 0.0, 0.0], [1.0, -0.1, 0.0], [0.0, 0.0, 1.0]], dtype=np.float32
)


def test_most_central_sentence_first() -> None:
    assert rank_sentences(SENTENCES, EMBEDDINGS, k=1) == [1]


def test_output_keeps_original_order() -> None:
    # s0 and s2 tie after s1; the earlier one wins and the result is in transcript order.
    assert rank_sentences(SENTENCES, EMBEDDINGS, k=2, redundancy=1.0) == [0, 1]


def test_near_duplicates_are_skipped() -> None:
    # s0 and s2 are 0.995-similar to s1, above the default redundancy of 0.95.
    assert rank_sentences(SENTENCES, EMBEDDINGS, k=2) == [1, 3]


def test_k_larger_than_input_and_empty() -> None:
    assert rank_sentences(SENTENCES, EMBEDDINGS, k=10, redundancy=1.0) == [0, 1, 2, 3]
    assert rank_sentences([], np.zeros((0, 3)), k=3) == []
    assert rank_sentences(SENTENCES, EMBEDDINGS, k=0) == []


def test_embedding_count_must_match() -> None:
    with pytest.raises(ValueError, match="3 embeddings for 4 sentences"):
        rank_sentences(SENTENCES, EMBEDDINGS[:3], k=1)


def test_pagerank_of_symmetric_graph_is_uniform() -> None:
    weights = np.ones((3, 3)) - np.eye(3)
    np.testing.assert_allclose(pagerank(weights), [1 / 3] * 3)
    np.testing.assert_allclose(pagerank(np.zeros((2, 2))), [0.5, 0.5])


def test_pagerank_favours_the_hub() -> None:
    star = np.array([[0, 1, 1, 1], [1, 0, 0, 0], [1, 0, 0, 0], [1, 0, 0, 0]], dtype=float)
    scores = pagerank(star)
    assert scores.sum() == pytest.approx(1.0)
    assert scores[0] > scores[1] == pytest.approx(scores[2])


def test_decisions_and_topics() -> None:
    sentences = [
        "We decided to ship the release on Monday.",
        "The release needs a changelog.",
        "Let's go with the blue design for the release.",
        "The design team liked it.",
    ]
    assert find_decisions(sentences) == [sentences[0], sentences[2]]
    assert extract_topics(sentences) == ["release", "design"]


def _bag_of_words(vocabulary: list[str]) -> Embedder:
    def embed(texts: list[str]) -> np.ndarray:
        return np.array(
            [[text.lower().count(word) for word in vocabulary] for text in texts], dtype=float
        )

    return embed


def test_build_extractive_summary() -> None:
    segments = [
        Segment("w0-0", "SPEAKER_00", "The budget review is due soon. Yes.", 0.0, 4.0, 0),
        Segment("w0-1", "SPEAKER_01", "The budget numbers look good this quarter.", 4.5, 7.0, 0),
        Segment(
            "w0-2", "SPEAKER_00", "Bob, can you send the budget to finance by Friday?", 8, 11, 0
        ),
        Segment("w0-3", "SPEAKER_01", "My cat likes the garden very much.", 12.0, 14.0, 0),
    ]
    embed = _bag_of_words(["budget", "review", "numbers", "send", "cat", "garden"])
    result = build_extractive_summary(segments, embed, k=2)
    # "Yes." is too short to be a candidate; the cat sentence shares no words with the rest.
    assert result.summary == (
        "The budget review is due soon. The budget numbers look good this quarter."
    )
    assert result.action_items == [ActionItem("send the budget to finance", "Bob", "Friday")]
    assert result.topics == ["budget"]
    assert result.decisions == []
    assert result.engine == "extractive"


def test_a_chinese_summary_is_whole_sentences_joined_without_spaces() -> None:
    segments = [
        Segment("w0-0", "SPEAKER_00", "预算审查快到了。预算数字很好。", 0.0, 4.0, 0),
        Segment("w0-1", "SPEAKER_01", "我的猫喜欢花园。", 4.5, 7.0, 0),
    ]

    def one_hot(texts: list[str]) -> np.ndarray:  # three sentences, nothing alike
        assert len(texts) == 3  # the first segment's two sentences are candidates of their own
        return np.eye(3)

    result = build_extractive_summary(segments, one_hot, k=3, language="zh")
    assert result.summary == "预算审查快到了。预算数字很好。我的猫喜欢花园。"


def test_empty_meeting_summary() -> None:
    def never(texts: list[str]) -> np.ndarray:
        raise AssertionError("no text to embed")

    result = build_extractive_summary([], never)
    assert result.summary == EMPTY_SUMMARY
    assert result.action_items == []
