"""The decode benchmark's pieces: encodings users upload, and timing readers in turn."""

from __future__ import annotations

from types import ModuleType

import numpy as np

from benchmarks.decode import ENCODINGS, encode, measure, module_at
from benchmarks.tables import decode_section
from core import audio


def test_every_encoding_decodes_to_the_same_length() -> None:
    pcm = (0.3 * np.sin(np.arange(16_000) / 16_000 * 2 * np.pi * 220) * 32767).astype(np.int16)
    for _name, container, codec, rate, layout in ENCODINGS:
        decoded = audio.decode_audio(encode(pcm, 16_000, container, codec, rate, layout))
        assert abs(decoded.size - pcm.size) < 800, (container, codec)  # codec padding only


def test_readers_are_timed_in_turn_and_scaled_to_a_minute() -> None:
    calls: list[str] = []
    one, two = ModuleType("one"), ModuleType("two")

    def clock(module: ModuleType, data: bytes) -> float:
        calls.append(module.__name__)
        return 0.01 if module is one else 0.02

    got = measure(b"", 30.0, {"current": one, "rev": two}, repeats=3, clock=clock)
    assert calls == ["one", "two"] * 4  # a warm call each, then alternated
    assert got == {"current": 20.0, "rev": 40.0}  # ms per minute of audio


def test_a_commits_reader_loads_beside_the_current_one() -> None:
    old = module_at("HEAD")
    assert old is not audio and hasattr(old, "AudioReader")


def test_the_report_table() -> None:
    row = {"encoding": "wav-16k-mono", "bytes": 10, "cpu_ms_per_audio_min": {"current": 5.0,
           "abc": 6.0}, "current_over_against": 0.83}  # fmt: skip
    text = decode_section({"suite": "decode-against-abc", "rows": [row]})
    assert "| wav-16k-mono | 10 | 5.000 | 6.000 | 0.830 |" in text
    assert decode_section({"suite": "sqlite-writers", "rows": [row]}) == ""
