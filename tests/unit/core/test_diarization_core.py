"""Model-free parts of the embedded diarizer."""

from __future__ import annotations

import numpy as np

from core.diarization import (
    Slice,
    absorb_small_clusters,
    labels_to_turns,
    slice_regions,
    speaker_centroids,
    without_lead,
)
from core.types import DiarizationResult, SpeakerTurn


def test_slices_cover_each_region_and_never_bridge_silence() -> None:
    slices = slice_regions([(0.0, 1.0), (2.0, 5.0)], slice_s=1.5, hop_s=1.0)
    assert slices == [
        (0, Slice(0.0, 1.0)),
        (1, Slice(2.0, 3.5)),
        (1, Slice(3.0, 4.5)),
        (1, Slice(3.5, 5.0)),
    ]


def test_labels_become_turns_split_between_slice_centres() -> None:
    regions = [(0.0, 1.0), (2.0, 5.0)]
    slices = slice_regions(regions, slice_s=1.5, hop_s=1.0)
    turns = labels_to_turns(regions, slices, [0, 0, 1, 1])
    assert turns == [
        SpeakerTurn(0.0, 1.0, "S0"),
        SpeakerTurn(2.0, 3.25, "S0"),  # midway between centres 2.75 and 3.75
        SpeakerTurn(3.25, 5.0, "S1"),
    ]


def test_small_clusters_join_the_nearest_big_one() -> None:
    embeddings = np.array([[1, 0], [1, 0.1], [0, 1], [0.1, 1], [0.9, 0.2]], dtype=float)
    embeddings /= np.linalg.norm(embeddings, axis=1, keepdims=True)
    labels = absorb_small_clusters(embeddings, np.array([0, 0, 1, 1, 2]), min_share=0.3)
    assert labels.tolist() == [0, 0, 1, 1, 0]


def test_a_small_cluster_unlike_every_big_one_stays_apart() -> None:
    embeddings = np.array(
        [[1, 0, 0], [1, 0.1, 0], [0, 1, 0], [0.1, 1, 0], [0.9, 0.2, 0], [0.5, 0.1, 0.85]],
        dtype=float,
    )
    embeddings /= np.linalg.norm(embeddings, axis=1, keepdims=True)
    labels = absorb_small_clusters(
        embeddings, np.array([0, 0, 1, 1, 2, 3]), min_share=0.3, min_similarity=0.62
    )
    # The stray near cluster 0 (0.98) joins it; the one at 0.50 from it keeps a label of its own.
    assert labels.tolist() == [0, 0, 1, 1, 0, 2]


def test_centroids_are_unit_vectors_per_label() -> None:
    embeddings = np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 1.0]])
    centroids = speaker_centroids(embeddings, np.array([0, 1, 1]))
    assert centroids == {"S0": [1.0, 0.0], "S1": [0.0, 1.0]}


def test_without_lead_keeps_the_windows_turns_in_window_time() -> None:
    result = DiarizationResult(
        [SpeakerTurn(0.5, 3.0, "A"), SpeakerTurn(3.5, 7.0, "B"), SpeakerTurn(7.5, 9.0, "A")],
        {"A": [1.0, 0.0], "B": [0.0, 1.0]},
        "embedded:ge2e",
    )
    window = without_lead(result, lead_s=4.0, duration_s=5.0)
    assert window.turns == [SpeakerTurn(0.0, 3.0, "B"), SpeakerTurn(3.5, 5.0, "A")]
    assert window.embeddings == result.embeddings and window.backend == "embedded:ge2e"
    alone = without_lead(result, lead_s=7.2, duration_s=1.0)
    assert alone.turns == [SpeakerTurn(0.3, 1.0, "A")]
    assert set(alone.embeddings) == {"A"}  # B spoke only in the lead
