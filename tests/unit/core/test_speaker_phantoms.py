"""No phantom speakers: short turns join a known voice unless they clearly match no one.

The synthetic tests pin the logic; the slow test runs real GE2E embeddings (resemblyzer's
encoder) of one-word Festival turns, the case that invented ``SPEAKER_03`` for "Perfect.".
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from core.speakers import MinorSpeakers, SpeakerRegistry, speech_by_label
from core.types import DiarizationResult, Segment, SpeakerTurn

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


# Minor speakers, judged once the meeting is over (MinorSpeakers): the similarities below are
# the measured ones (docs/benchmarks.md "Background noise").
MINOR = MinorSpeakers(min_speech_s=2.5, minor_s=8.0, fold_above=0.88)


def registry_of(*voices: tuple[list[float], float]) -> SpeakerRegistry:
    """A registry whose speakers SPEAKER_00.. have these centroids, each linked as a voice of
    its own (no linking, no short turns: the end of the meeting is what is tested)."""
    registry = SpeakerRegistry(threshold=0.999, short_turn_s=0.0, novel_below=0.5)
    for i, (embedding, seconds) in enumerate(voices):
        assert registry.link({f"v{i}": embedding}, {f"v{i}": seconds}) == {
            f"v{i}": f"SPEAKER_{i:02d}"
        }
    return registry


def with_similarity(base: list[float], similarity: float) -> list[float]:
    """A unit vector at ``similarity`` to the unit vector ``base`` (in base's plane with E3)."""
    b = np.asarray(base) / np.linalg.norm(base)
    other = np.asarray(E3) - (np.asarray(E3) @ b) * b
    other /= np.linalg.norm(other)
    return (similarity * b + np.sqrt(1 - similarity**2) * other).tolist()


def test_a_voice_split_off_in_noise_joins_the_speaker_it_resembles() -> None:
    # standup3 at 10 dB pink noise: one 3.3-s line opened a fourth speaker 0.912 like alice.
    alice, bob = [1.0, 0.0, 0.0], [0.6, 0.8, 0.0]
    registry = registry_of((alice, 29.4), (bob, 36.3), (with_similarity(alice, 0.912), 3.5))
    speech = {"SPEAKER_00": 29.1, "SPEAKER_01": 36.3, "SPEAKER_02": 3.3}
    assert registry.reattribute(speech, MINOR) == {"SPEAKER_02": "SPEAKER_00"}
    assert registry.labels == ["SPEAKER_00", "SPEAKER_01"]


def test_a_guest_who_speaks_once_stays() -> None:
    # guest4: marco's single 4.6-s line, at most 0.845 like alice (at 5 dB pink noise).
    alice = [1.0, 0.0, 0.0]
    registry = registry_of(
        (alice, 10.8), ([0.0, 1.0, 0.0], 6.6), (with_similarity(alice, 0.845), 5.0)
    )
    speech = {"SPEAKER_00": 10.5, "SPEAKER_01": 6.4, "SPEAKER_02": 4.6}
    assert registry.reattribute(speech, MINOR) == {}
    assert registry.speaker_count == 3


def test_a_speaker_with_too_little_speech_joins_the_closest_unless_it_matches_no_one() -> None:
    alice, bob = [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]
    fragment = with_similarity(bob, 0.75)  # short2 at 5 dB white noise: 1.1 s, 0.754 like bob
    registry = registry_of((alice, 5.3), (bob, 4.8), (fragment, 1.6), ([0.0, 0.0, 1.0], 1.0))
    speech = {"SPEAKER_00": 5.1, "SPEAKER_01": 4.9, "SPEAKER_02": 1.1, "SPEAKER_03": 0.9}
    assert registry.reattribute(speech, MINOR) == {"SPEAKER_02": "SPEAKER_01"}
    assert registry.labels == ["SPEAKER_00", "SPEAKER_01", "SPEAKER_03"]  # E3 is like no one
    # Live, standup3 at 10 dB pink noise: the first window's two lines (2.1 s) opened a speaker
    # 0.829 like the voice that then spoke for 39 s.
    registry = registry_of((with_similarity(alice, 0.829), 1.5), (alice, 39.5), (bob, 32.1))
    speech = {"SPEAKER_00": 2.1, "SPEAKER_01": 38.5, "SPEAKER_02": 30.6}
    assert registry.reattribute(speech, MINOR) == {"SPEAKER_00": "SPEAKER_01"}


def test_big_speakers_and_named_ones_are_never_folded() -> None:
    # Heavy noise pulls distinct voices together; with 10 s of speech each, both stay.
    alice = [1.0, 0.0, 0.0]
    registry = registry_of((alice, 40.0), (with_similarity(alice, 0.93), 10.0))
    assert registry.reattribute({"SPEAKER_00": 40.0, "SPEAKER_01": 10.0}, MINOR) == {}
    registry = registry_of((alice, 40.0), (with_similarity(alice, 0.95), 3.0))
    speech = {"SPEAKER_00": 40.0, "SPEAKER_01": 1.0}
    assert registry.reattribute(speech, MINOR, keep={"SPEAKER_01"}) == {}
    assert registry.reattribute(speech, MINOR) == {"SPEAKER_01": "SPEAKER_00"}


def test_a_folded_speaker_is_never_the_target_of_a_smaller_one() -> None:
    # Largest first: B (5 s) joins A; C (1 s), closest to B, then joins A, not the folded B.
    a = [1.0, 0.0, 0.0]
    b = with_similarity(a, 0.9)
    registry = registry_of((a, 30.0), (b, 5.0), (with_similarity(b, 0.99), 1.0))
    speech = {"SPEAKER_00": 30.0, "SPEAKER_01": 5.0, "SPEAKER_02": 1.0}
    assert registry.reattribute(speech, MINOR) == {
        "SPEAKER_01": "SPEAKER_00",
        "SPEAKER_02": "SPEAKER_00",
    }


def test_a_short_meeting_of_short_speakers_keeps_them_all() -> None:
    # Nobody has 2.5 seconds: no one is a fragment of anyone.
    registry = registry_of(([1.0, 0.0, 0.0], 1.2), ([0.8, 0.6, 0.0], 0.9))
    assert registry.reattribute({"SPEAKER_00": 1.2, "SPEAKER_01": 0.9}, MINOR) == {}
    assert registry.reattribute() == {}  # without speech: only provisional speakers fold


def test_speech_by_label_sums_each_label_lines() -> None:
    lines = [
        Segment("a", "SPEAKER_00", "x", 0.0, 2.5, 0),
        Segment("b", "SPEAKER_01", "y", 3.0, 4.0, 0),
        Segment("c", "SPEAKER_00", "z", 5.0, 5.5, 1),
    ]
    assert speech_by_label(lines) == {"SPEAKER_00": 3.0, "SPEAKER_01": 1.0}
