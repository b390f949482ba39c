"""The Transcriber class itself (no Serve) with the packaged multilingual base model: language
detection, and a batch mixing tasks and languages decoded per group and returned in order."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from core.types import SAMPLE_RATE
from deployments.options import TranscriberArgs
from deployments.transcriber import Request, Transcriber
from scripts.synth_meeting import ensure_meeting

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Any:
    import os

    os.environ["MEETING_MODEL_CACHE_DIR"] = str(tmp_path_factory.mktemp("models"))
    from settings.config import get_settings

    get_settings.cache_clear()
    deployment: Any = Transcriber
    try:
        return deployment.func_or_class(
            TranscriberArgs(model="packaged:base", language=None, cpu_threads=2)
        )
    finally:
        del os.environ["MEETING_MODEL_CACHE_DIR"]
        get_settings.cache_clear()


def test_detects_italian_and_translates_in_one_mixed_batch(base: Any, tmp_path: Path) -> None:
    import asyncio

    italian = ensure_meeting("italian2", install=True)
    first_turn = italian.load_audio()[: int(4.6 * SAMPLE_RATE)]  # "Buongiorno Marco. ..."
    code, probability = asyncio.run(base.detect_language(first_turn))
    assert code == "it" and probability > 0.5
    silence = first_turn * 0.0
    results = base._run_batch(
        [
            Request(first_turn, "it", "translate"),
            Request(silence, "it", "transcribe"),
            Request(first_turn, "it", "transcribe"),
        ]
    )
    english, nothing, original = (r.text.lower() for r in results)
    assert "morning" in english and results[0].language == "en"
    assert nothing == ""
    assert "buongiorno" in original.replace(" ", "") and results[2].language == "it"


def test_detection_hears_speech_only_and_survives_silence(base: Any) -> None:
    import asyncio

    import numpy as np

    from deployments.transcriber import speech_only

    silence = np.zeros(SAMPLE_RATE * 2, dtype=np.float32)
    assert speech_only(silence) is silence
    code, probability = asyncio.run(base.detect_language(silence))
    assert isinstance(code, str) and 0 <= probability <= 1
