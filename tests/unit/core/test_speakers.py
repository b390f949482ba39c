from __future__ import annotations

import json

import numpy as np
import pytest

from core.speakers import EmbeddingDimensionError, SpeakerRegistry, relabel
from core.types import DiarizationResult, SpeakerTurn

E1, E2, E3 = [1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]


def test_labels_stay_stable_across_windows() -> None:
    registry = SpeakerRegistry(threshold=0.75)
    assert registry.link({"A": E1, "B": E2}) == {"A": "SPEAKER_00", "B": "SPEAKER_01"}
    # Next window: the diarizer's local labels are swapped and the voices are a bit off.
    assert registry.link({"X": [0.1, 1.0, 0.0], "Y": [2.0, 0.1, 0.0]}) == {
        "X": "SPEAKER_01",
        "Y": "SPEAKER_00",
    }
    assert registry.link({"P": E3}) == {"P": "SPEAKER_02"}
    assert registry.labels == ["SPEAKER_00", "SPEAKER_01", "SPEAKER_02"]


def test_two_voices_in_one_window_never_share_a_label() -> None:
    registry = SpeakerRegistry(threshold=0.75)
    registry.link({"A": E1, "B": E2})
    # Both resemble SPEAKER_00; the closer one takes it, the other becomes a new speaker.
    mapping = registry.link({"C": [1.0, 0.3, 0.0], "D": [1.0, 0.1, 0.0]})
    assert mapping == {"C": "SPEAKER_02", "D": "SPEAKER_00"}


def test_below_threshold_makes_new_speaker() -> None:
    registry = SpeakerRegistry(threshold=0.9)
    registry.link({"A": E1})
    # cos = 0.8 < 0.9
    assert registry.link({"B": [0.8, 0.6, 0.0]}) == {"B": "SPEAKER_01"}


def test_centroid_update_weighted_by_duration() -> None:
    registry = SpeakerRegistry(threshold=0.5)
    registry.link({"A": [1.0, 0.0]}, durations={"A": 3.0})
    registry.link({"B": [1.0, 1.0]}, durations={"B": 1.0})
    speaker = registry.to_state()["speakers"][0]
    half = np.sqrt(0.5)
    np.testing.assert_allclose(speaker["centroid"], [(3 + half) / 4, half / 4])
    assert speaker["weight"] == 4.0


def test_state_round_trip_continues_identically() -> None:
    original = SpeakerRegistry(threshold=0.8)
    original.link({"A": E1, "B": E2}, {"A": 2.0, "B": 5.0})
    restored = SpeakerRegistry.from_state(json.loads(json.dumps(original.to_state())))
    assert restored.to_state() == original.to_state()
    window = {"A": [0.0, 0.9, 0.1], "B": E3, "C": [1.0, 0.05, 0.0]}
    assert restored.link(window) == original.link(window)
    assert restored.link(window) == {"A": "SPEAKER_01", "B": "SPEAKER_02", "C": "SPEAKER_00"}


def test_link_diarization_labels_speakers_without_embedding() -> None:
    registry = SpeakerRegistry(threshold=0.75)
    result = DiarizationResult(
        turns=[
            SpeakerTurn(0.0, 5.0, "spk1"),
            SpeakerTurn(5.0, 7.0, "spk0"),
            SpeakerTurn(7.0, 9.0, "spk2"),
        ],
        embeddings={"spk0": E1, "spk1": E2},
    )
    assert registry.link_diarization(result) == {
        "spk0": "SPEAKER_00",
        "spk1": "SPEAKER_01",
        "spk2": "SPEAKER_02",
    }
    weights = [s["weight"] for s in registry.to_state()["speakers"]]
    assert weights == [2.0, 5.0]  # durations from the turns; spk2 has no centroid


def test_zero_embedding_is_ignored() -> None:
    registry = SpeakerRegistry()
    assert registry.link({"A": [0.0, 0.0]}) == {}
    assert registry.labels == []


def test_dimension_mismatch_is_an_error() -> None:
    registry = SpeakerRegistry()
    registry.link({"A": E1})
    with pytest.raises(EmbeddingDimensionError) as info:
        registry.link({"B": [1.0, 0.0]})
    assert (info.value.label, info.value.expected, info.value.got) == ("B", 3, 2)


def test_relabel_maps_known_labels_and_keeps_others() -> None:
    turns = [SpeakerTurn(0.0, 1.0, "A"), SpeakerTurn(1.0, 2.0, "Z")]
    assert relabel(turns, {"A": "SPEAKER_03"}) == [
        SpeakerTurn(0.0, 1.0, "SPEAKER_03"),
        SpeakerTurn(1.0, 2.0, "Z"),
    ]
