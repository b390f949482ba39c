"""No phantom speakers: short turns join a known voice unless they clearly match no one.

The synthetic tests pin the logic; the slow test runs real GE2E embeddings (resemblyzer's
encoder) of one-word Festival turns, the case that invented ``SPEAKER_03`` for "Perfect.".
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from core.speakers import SpeakerRegistry
from core.types import DiarizationResult, SpeakerTurn

E1, E2, E3 = [1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]


def window(*voices: tuple[str, list[float] | None, float]) -> DiarizationResult:
    """Consecutive turns ``(local label, embedding or None, seconds)``."""
    turns, embeddings, t = [], {}, 0.0
    for label, embedding, seconds in voices:
        turns.append(SpeakerTurn(t, t + seconds, label))
        if embedding is not None:
            embeddings[label] = embedding
        t += seconds + 0.3
    return DiarizationResult(turns=turns, embeddings=embeddings)


def test_short_turn_below_threshold_joins_closest_speaker() -> None:
    registry = SpeakerRegistry(threshold=0.85)
    registry.link_diarization(window(("a", E1, 8.0), ("b", E2, 6.0)))
    # "Perfect." from the second voice: a noisy embedding (0.7 similar), under a second long.
    mapping = registry.link_diarization(window(("x", [0.5, 0.7, 0.5], 0.5)))
    assert mapping == {"x": "SPEAKER_01"}
    assert registry.speaker_count == 2


def test_short_split_of_a_new_voice_joins_it_in_the_same_window() -> None:
    # The first window: a 0.5 s fragment of the second voice clusters on its own (the phantom
    # seen on short2); with nobody known yet, it must still join the voice it resembles.
    registry = SpeakerRegistry(threshold=0.85)
    mapping = registry.link_diarization(
        window(("a", E1, 5.3), ("frag", [0.3, 0.75, 0.55], 0.5), ("b", E2, 4.8))
    )
    assert mapping == {"a": "SPEAKER_00", "b": "SPEAKER_01", "frag": "SPEAKER_01"}
    assert registry.speaker_count == 2


def test_short_turn_that_matches_no_one_is_a_new_speaker() -> None:
    registry = SpeakerRegistry(threshold=0.85, novel_below=0.5)
    registry.link_diarization(window(("a", E1, 8.0), ("b", E2, 6.0)))
    mapping = registry.link_diarization(window(("n", [0.1, 0.2, 0.97], 0.8)))
    assert mapping == {"n": "SPEAKER_02"}


def test_short_turn_does_not_move_the_centroid() -> None:
    registry = SpeakerRegistry(threshold=0.85)
    registry.link_diarization(window(("a", E1, 8.0), ("b", E2, 6.0)))
    before = registry.to_state()
    registry.link_diarization(window(("x", [0.5, 0.7, 0.5], 0.5)))
    assert registry.to_state() == before


def test_long_new_voice_still_opens_a_speaker() -> None:
    registry = SpeakerRegistry(threshold=0.85)
    registry.link_diarization(window(("a", E1, 8.0), ("b", E2, 6.0)))
    assert registry.link_diarization(window(("c", [0.5, 0.7, 0.5], 4.0))) == {"c": "SPEAKER_02"}


def test_short_voice_without_embedding_joins_its_neighbour() -> None:
    registry = SpeakerRegistry(threshold=0.85)
    registry.link_diarization(window(("a", E1, 8.0), ("b", E2, 6.0)))
    mapping = registry.link_diarization(window(("b", E2, 5.0), ("q", None, 0.4)))
    assert mapping == {"b": "SPEAKER_01", "q": "SPEAKER_01"}


def test_first_window_short_voices_still_count() -> None:
    # With no one known yet, a short voice has nobody to join: it is a speaker.
    registry = SpeakerRegistry(threshold=0.85)
    assert registry.link_diarization(window(("s", E3, 0.5))) == {"s": "SPEAKER_00"}


def test_memory_stays_bounded_over_hours() -> None:
    """Six hours of 30 s windows: state is one centroid per speaker, not per turn."""
    rng = np.random.default_rng(7)
    voices = np.eye(8)[:4]
    registry = SpeakerRegistry(threshold=0.85)
    for _ in range(720):
        picks = rng.choice(4, size=2, replace=False)
        noisy = {
            f"L{k}": (voices[p] + rng.normal(0, 0.05, 8)).tolist() for k, p in enumerate(picks)
        }
        registry.link(noisy, {label: 12.0 for label in noisy})
    state = registry.to_state()
    assert len(state["speakers"]) == 4
    assert all(len(s["centroid"]) == 8 for s in state["speakers"])


FESTIVAL = shutil.which("text2wave") is not None and shutil.which("sox") is not None


@pytest.mark.slow
@pytest.mark.skipif(not FESTIVAL, reason="needs Festival and sox: scripts/ensure_festival.sh")
def test_one_word_turns_with_real_ge2e_embeddings(tmp_path: Path) -> None:
    from resemblyzer import VoiceEncoder

    from scripts.synth_meeting import Line, _speak

    encoder = VoiceEncoder(device="cpu", verbose=False)
    long_text = "Good morning everyone, this is our weekly standup for the billing export."

    def embed(speaker: str, text: str) -> tuple[list[float], float]:
        audio = _speak(0, Line(speaker, text), tmp_path)
        return encoder.embed_utterance(audio).tolist(), audio.size / 16_000

    registry = SpeakerRegistry()
    first = {v: embed(v, long_text) for v in ("alice", "bob", "carol")}
    registry.link({v: e for v, (e, _) in first.items()}, {v: d for v, (_, d) in first.items()})
    assert registry.speaker_count == 3
    expected = {"alice": "SPEAKER_00", "bob": "SPEAKER_01", "carol": "SPEAKER_02"}
    for voice in ("alice", "bob", "carol"):
        for word in ("Yes.", "Perfect.", "Sure."):
            embedding, seconds = embed(voice, word)
            assert seconds < 1.5
            mapping = registry.link({"w": embedding}, {"w": seconds})
            assert mapping == {"w": expected[voice]}, (voice, word)
    assert registry.speaker_count == 3  # nine one-word turns, no phantom speaker


def test_first_short_turn_is_reattributed_once_its_speaker_is_known() -> None:
    # A live meeting opens with "Hi." alone in its window: nobody is known, so it opens a
    # provisional speaker; the long voices that follow are someone else and the same person.
    registry = SpeakerRegistry(threshold=0.85)
    assert registry.link_diarization(window(("hi", [0.8, 0.45, 0.4], 0.4))) == {"hi": "SPEAKER_00"}
    registry.link_diarization(window(("b", E2, 6.0)))
    registry.link_diarization(window(("a", E1, 7.0)))
    assert registry.labels == ["SPEAKER_00", "SPEAKER_01", "SPEAKER_02"]
    assert registry.reattribute() == {"SPEAKER_00": "SPEAKER_02"}  # closest: the first voice
    assert registry.labels == ["SPEAKER_01", "SPEAKER_02"]
    assert registry.reattribute() == {}


def test_provisional_speaker_confirmed_by_a_long_turn_stays() -> None:
    registry = SpeakerRegistry(threshold=0.85)
    registry.link_diarization(window(("s", E3, 0.5)))
    registry.link_diarization(window(("a", E1, 7.0), ("c", [0.0, 0.1, 1.0], 4.0)))
    assert registry.reattribute() == {}
    assert registry.speaker_count == 2
    restored = SpeakerRegistry.from_state(registry.to_state())
    assert restored.to_state() == registry.to_state()


def test_a_long_turn_confirms_the_speaker_a_short_one_opened() -> None:
    # Live: alice's "Good morning." is alone in its window and opens a provisional speaker;
    # her long turns then link to it. It must not be folded into bob, the closest other voice.
    registry = SpeakerRegistry(threshold=0.85, novel_below=0.5)
    assert registry.link_diarization(window(("hi", E1, 0.6))) == {"hi": "SPEAKER_00"}
    registry.link_diarization(window(("carol", E2, 5.0)))
    assert registry.link_diarization(window(("alice", E1, 6.0))) == {"alice": "SPEAKER_00"}
    assert registry.link_diarization(window(("bob", [0.6, 0.0, 0.8], 6.0))) == {"bob": "SPEAKER_02"}
    assert registry.reattribute() == {}
    assert registry.labels == ["SPEAKER_00", "SPEAKER_01", "SPEAKER_02"]


def test_short_speaker_that_matches_no_one_stays_after_the_meeting() -> None:
    registry = SpeakerRegistry(threshold=0.85, novel_below=0.5)
    registry.link_diarization(window(("a", E1, 8.0)))
    registry.link_diarization(window(("n", E3, 0.8)))
    assert registry.reattribute() == {}
    assert registry.speaker_count == 2
