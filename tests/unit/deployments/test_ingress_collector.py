"""The collector setting of the Ingress and Serve's proxy: fewer young collections, the older
ratios unchanged; the proxy's hook also turns WebSocket compression off."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest
import uvicorn

from deployments.collector import YOUNG_THRESHOLD, tune_collector
from deployments.proxy_tuning import tune_proxy


@pytest.fixture
def restored_thresholds() -> Iterator[None]:
    before = gc.get_threshold()
    gc.set_threshold(700, 10, 10)  # Python's defaults, whatever the test process had
    yield
    gc.set_threshold(*before)


@pytest.mark.usefixtures("restored_thresholds")
def test_the_ingress_collects_its_young_generation_ten_times_less_often() -> None:
    tune_collector()
    assert gc.get_threshold() == (YOUNG_THRESHOLD, 10, 10)


@pytest.mark.usefixtures("restored_thresholds")
def test_serves_proxy_hook_tunes_the_collector_and_adds_no_middleware(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("MEETING_WS_COMPRESSION", raising=False)
    monkeypatch.setattr(uvicorn, "Config", uvicorn.Config)  # restored after the hook swaps it
    try:
        assert tune_proxy() == []
        assert gc.get_threshold() == (YOUNG_THRESHOLD, 10, 10)
        assert gc.get_freeze_count() > 0
        assert not uvicorn.Config(lambda: None).ws_per_message_deflate
    finally:
        gc.unfreeze()
