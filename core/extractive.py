"""Extractive meeting summary: the most central sentences, action items, decisions, topics.

The CPU profile's summarizer, and the fallback when no language model is loaded. Sentences are
ranked by PageRank over their cosine-similarity graph (TextRank with sentence embeddings): a
sentence that many others resemble states what the meeting was about. The embedding model is
passed in as a callable, so this module stays model-free.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence

import numpy as np

from core.action_items import find_action_items, split_sentences
from core.languages import ENGLISH, language_name
from core.types import Segment, SummaryResult
from core.word_pieces import join_texts

Embedder = Callable[[list[str]], np.ndarray]

EMPTY_SUMMARY = "No speech was transcribed in this meeting."
_MIN_WORDS = 4  # "Yes.", "Sounds good." carry no content for a summary
_DECISION = re.compile(
    r"\b(?:we (?:have )?(?:decided|agreed)|decision is|let's go with|we'll go with|"
    r"we will go with|agreed to|approved)\b",
    re.IGNORECASE,
)


def _split(words: str) -> list[str]:
    return words.split()


_WORD = re.compile(r"[A-Za-z][A-Za-z'-]+")
_STOPWORDS = frozenset(
    _split(
        """about above after again against all also am an and any are aren't as at be because been
    before being below between both but by can can't cannot could couldn't did didn't do does
    doesn't doing don't down during each few for from further get gets getting got had hadn't has
    hasn't have haven't having he he'd he'll he's her here here's hers herself him himself his how
    how's i i'd i'll i'm i've if in into is isn't it it's its itself just let let's like make me
    more most mustn't my myself need needs no nor not now of off on once only or other ought our
    ours ourselves out over own really right same say she she'd she'll she's should shouldn't so
    some such sure than that that's the their theirs them themselves then there there's these they
    they'd they'll they're they've think this those through thanks thank to too under until up
    very want was wasn't we we'd we'll we're we've well were weren't what what's when when's where
    where's which while who who's whom why why's will with won't would wouldn't yeah yes you you'd
    you'll you're you've your yours yourself yourselves okay ok going good great one two thing
    things know see look go can will still maybe also already everyone morning today tomorrow
    week next last first time lot much many monday tuesday wednesday thursday friday send update
    check"""
    )
)


def rank_sentences(
    sentences: Sequence[str],
    embeddings: np.ndarray,
    k: int,
    damping: float = 0.85,
    redundancy: float = 0.95,
) -> list[int]:
    """Indices of the ``k`` most central sentences, in their original order.

    A candidate whose cosine similarity to an already chosen sentence exceeds ``redundancy`` is
    skipped, so a line repeated through a meeting is picked once.
    """
    n = len(sentences)
    if embeddings.shape[0] != n:
        raise ValueError(f"Got {embeddings.shape[0]} embeddings for {n} sentences.")
    if n == 0 or k <= 0:
        return []
    unit = _unit_rows(np.asarray(embeddings, dtype=np.float64))
    similarity = np.clip(unit @ unit.T, 0.0, None)
    np.fill_diagonal(similarity, 0.0)
    scores = pagerank(similarity, damping)
    # Round so that float noise cannot reorder equal scores; ties go to the earlier sentence.
    order = np.argsort(-np.round(scores, 9), kind="stable")
    chosen: list[int] = []
    for index in order.tolist():
        if all(similarity[index, c] <= redundancy for c in chosen):
            chosen.append(index)
        if len(chosen) == k:
            break
    return sorted(chosen)


def pagerank(weights: np.ndarray, damping: float = 0.85, iterations: int = 100) -> np.ndarray:
    """PageRank of a weighted, undirected graph; isolated nodes link to every node."""
    n = weights.shape[0]
    out_degree = weights.sum(axis=1, keepdims=True)
    transition = np.where(out_degree > 0, weights / np.where(out_degree > 0, out_degree, 1), 1 / n)
    scores = np.full(n, 1.0 / n)
    for _ in range(iterations):
        updated = (1 - damping) / n + damping * (transition.T @ scores)
        if np.abs(updated - scores).sum() < 1e-12:
            return updated
        scores = updated
    return scores


def find_decisions(sentences: Sequence[str]) -> list[str]:
    """Sentences that state a decision ("we decided ...", "let's go with ...")."""
    return [s for s in sentences if _DECISION.search(s)]


def extract_topics(texts: Sequence[str], n: int = 5) -> list[str]:
    """The ``n`` most frequent content words (ties: first mentioned first)."""
    counts: Counter[str] = Counter()
    first_seen: dict[str, int] = {}
    for text in texts:
        for word in _WORD.findall(text.lower()):
            if len(word) >= 4 and word not in _STOPWORDS:
                counts[word] += 1
                first_seen.setdefault(word, len(first_seen))
    ranked = sorted(counts, key=lambda w: (-counts[w], first_seen[w]))
    return [w for w in ranked if counts[w] >= 2][:n]


def build_extractive_summary(
    segments: Sequence[Segment], embed: Embedder, k: int = 5, language: str | None = None
) -> SummaryResult:
    """Key sentences as the summary plus action items, decisions and topics.

    The action-item, decision and topic rules are English patterns and stopwords: for a meeting
    in another language they would find nothing or nonsense, so only the key sentences are
    given and ``language_note`` says why.
    """
    sentences = [s for seg in segments for s in split_sentences(seg.text)]
    if not sentences:
        return SummaryResult(summary=EMPTY_SUMMARY, engine="extractive", language=language)
    candidates = [s for s in sentences if len(s.split()) >= _MIN_WORDS] or sentences
    embeddings = np.asarray(embed(candidates))
    key = rank_sentences(candidates, embeddings, k)
    summary = join_texts([candidates[i] for i in key])
    if language not in (None, ENGLISH):
        return SummaryResult(
            summary=summary, engine="extractive", language=language, language_note=_note(language)
        )
    return SummaryResult(
        summary=summary,
        action_items=find_action_items(segments),
        decisions=find_decisions(sentences),
        topics=extract_topics(sentences),
        engine="extractive",
        language=language,
    )


def _note(language: str) -> str:
    return (
        f"The meeting is in {language_name(language)}; the extractive engine finds action "
        "items, decisions and topics with English rules only, so this summary gives key "
        "sentences only. Use the vLLM engine for a full summary in this language."
    )


def _unit_rows(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.where(norms > 0, norms, 1.0)
