"""The Ingress's collector setting: fewer young collections, the older ratios unchanged."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from deployments.ingress import INGRESS_GC_YOUNG_THRESHOLD, tune_collector


@pytest.fixture
def restored_thresholds() -> Iterator[None]:
    before = gc.get_threshold()
    gc.set_threshold(700, 10, 10)  # Python's defaults, whatever the test process had
    yield
    gc.set_threshold(*before)


@pytest.mark.usefixtures("restored_thresholds")
def test_the_ingress_collects_its_young_generation_ten_times_less_often() -> None:
    tune_collector()
    assert gc.get_threshold() == (INGRESS_GC_YOUNG_THRESHOLD, 10, 10)
