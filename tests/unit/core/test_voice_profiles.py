"""Matching meeting speakers to enrolled voices: threshold, margin, one name per person."""

from __future__ import annotations

from core.types import DiarizationResult, SpeakerTurn
from core.voice_profiles import VoiceProfileVector, dominant_voice, match_profiles

DANA = VoiceProfileVector("p1", "Dana", [1.0, 0.0, 0.0])
LEE = VoiceProfileVector("p2", "Lee", [0.0, 1.0, 0.0])


def test_clear_matches_are_named_and_unknown_voices_stay_anonymous() -> None:
    centroids = {
        "SPEAKER_00": [0.95, 0.1, 0.0],
        "SPEAKER_01": [0.1, 0.97, 0.0],
        "SPEAKER_02": [0.0, 0.0, 1.0],
    }
    matches = match_profiles(centroids, [DANA, LEE], threshold=0.9, margin=0.05)
    assert {label: m.name for label, m in matches.items()} == {
        "SPEAKER_00": "Dana",
        "SPEAKER_01": "Lee",
    }
    assert 0.9 < matches["SPEAKER_00"].confidence <= 1.0


def test_below_threshold_or_within_margin_is_not_named() -> None:
    between = {"SPEAKER_00": [1.0, 0.95, 0.0]}  # as close to Dana as to Lee
    assert match_profiles(between, [DANA, LEE], threshold=0.5, margin=0.05) == {}
    far = {"SPEAKER_00": [0.6, 0.0, 0.8]}
    assert match_profiles(far, [DANA, LEE], threshold=0.9, margin=0.0) == {}


def test_one_person_names_one_speaker_and_duplicates_do_not_block_the_margin() -> None:
    dana_again = VoiceProfileVector("p3", "dana", [0.99, 0.05, 0.0])
    centroids = {"SPEAKER_00": [1.0, 0.02, 0.0], "SPEAKER_01": [0.98, 0.1, 0.0]}
    matches = match_profiles(centroids, [DANA, dana_again, LEE], threshold=0.9, margin=0.05)
    assert list(matches) == ["SPEAKER_00"]


def test_profiles_of_another_dimension_are_ignored() -> None:
    other = VoiceProfileVector("p9", "Other", [1.0, 0.0])
    assert match_profiles({"SPEAKER_00": [1.0, 0.0, 0.0]}, [other], 0.5, 0.0) == {}


def test_dominant_voice_of_a_sample() -> None:
    result = DiarizationResult(
        turns=[SpeakerTurn(0.0, 4.0, "S0"), SpeakerTurn(4.0, 4.5, "S1")],
        embeddings={"S0": [3.0, 4.0], "S1": [1.0, 0.0]},
    )
    assert dominant_voice(result) == ([0.6, 0.8], 4.0)
    assert dominant_voice(DiarizationResult(turns=[], embeddings={})) is None
