"""Windows planned while decoding: the whole-file plan's windows and audio, in bounded memory."""

from __future__ import annotations

import contextvars
import threading
import wave
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

import core.audio
from core.audio import AudioDecodeError, decode_audio
from core.audio_formats import DecodeLimits
from core.types import SAMPLE_RATE
from core.windowing import WindowOptions, plan_windows
from deployments.vad import speech_regions
from deployments.window_source import PlannedWindow, WindowSource
from scripts.synth_meeting import ensure_meeting

SHORT = WindowOptions(target_s=8.0, min_s=3.0, max_s=12.0)  # many windows from a short file


def write_wav(path: Path, samples: np.ndarray) -> Path:
    pcm = (np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes()
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(SAMPLE_RATE)
        w.writeframes(pcm)
    return path


def planned(
    path: Path, options: WindowOptions, chunk: int, limit_s: float = 3600.0
) -> list[PlannedWindow]:
    source = WindowSource(path, options, DecodeLimits(max_duration_s=limit_s), chunk)
    return list(source)


def assert_whole_file_plan(path: Path, options: WindowOptions, chunk: int) -> list[PlannedWindow]:
    audio = decode_audio(path)
    expected = plan_windows(speech_regions(audio), audio.size / SAMPLE_RATE, options)
    got = planned(path, options, chunk)
    assert [p.window for p in got] == expected
    np.testing.assert_array_equal(np.concatenate([p.audio for p in got]), audio)
    for p in got:
        np.testing.assert_array_equal(p.audio, audio[p.window.sample_slice(SAMPLE_RATE)])
        # Each window with speech carries its own VAD frames, as the models would score them.
        assert (p.speech is None) == p.before_speech
        if p.speech is not None:
            assert p.speech.regions() == speech_regions(p.audio)
            assert p.speech.regions(min_silence_ms=200) == speech_regions(p.audio, 200)
    return got


@pytest.mark.parametrize("name", ["standup3", "planning2", "short2"])
@pytest.mark.parametrize("chunk", [4096, 160 * 512, 16_000 * 7 + 1])
def test_corpus_windows_equal_the_whole_file_plan(name: str, chunk: int) -> None:
    path = ensure_meeting(name, install=True).audio_path
    for options in (WindowOptions(), SHORT):
        windows = assert_whole_file_plan(path, options, chunk)
        assert not any(p.before_speech for p in windows)


def test_a_file_shorter_than_one_window_is_one_window(tmp_path: Path) -> None:
    audio = ensure_meeting("short2", install=True).load_audio()[: SAMPLE_RATE * 9]
    windows = assert_whole_file_plan(write_wav(tmp_path / "9s.wav", audio), WindowOptions(), 4096)
    assert len(windows) == 1 and windows[0].window.end == pytest.approx(9.0, abs=1e-3)


def test_leading_silence_windows_are_marked_and_the_rest_match(tmp_path: Path) -> None:
    speech = ensure_meeting("planning2", install=True).load_audio()
    quiet = np.random.default_rng(1).normal(0, 3e-4, SAMPLE_RATE * 100).astype(np.float32)
    path = write_wav(tmp_path / "late-start.wav", np.concatenate([quiet, speech]))
    windows = assert_whole_file_plan(path, WindowOptions(), 160 * 512)
    first_speech = speech_regions(decode_audio(path))[0][0]
    flags = [p.before_speech for p in windows]
    assert flags == [p.window.end <= first_speech for p in windows]
    assert flags[0] and not flags[-1]


def test_silence_only_file_has_windows_but_no_speech(tmp_path: Path) -> None:
    quiet = np.random.default_rng(2).normal(0, 3e-4, SAMPLE_RATE * 70).astype(np.float32)
    source = WindowSource(write_wav(tmp_path / "quiet.wav", quiet), WindowOptions(), DecodeLimits())
    windows = list(source)
    assert windows and all(p.before_speech for p in windows)
    assert not source.speech_found and source.windows_total == len(windows)


def test_memory_holds_the_lookahead_not_the_file(tmp_path: Path) -> None:
    audio = ensure_meeting("standup3", install=True).load_audio()
    long = np.tile(audio, 6)  # ~13 minutes
    path = write_wav(tmp_path / "long.wav", long)
    source = WindowSource(path, WindowOptions(), DecodeLimits(), chunk_samples=160 * 512)
    first = next(iter(source))
    assert first.window.index == 0
    # Window 0 came out after about max_s + min_s seconds of audio, not the whole file.
    assert source.planner.start < 60.0 and source.duration_s is None
    rest = list(source)
    assert source.duration_s == pytest.approx(long.size / SAMPLE_RATE)
    assert len(rest) + 1 == source.windows_total > 20
    bound = (45.0 + 10.0) * SAMPLE_RATE + 2 * 160 * 512
    assert source.peak_held_samples <= bound


def test_window_speech_off_sends_no_frames(tmp_path: Path) -> None:
    path = ensure_meeting("short2", install=True).audio_path
    source = WindowSource(path, SHORT, DecodeLimits(), window_speech=False)
    windows = list(source)
    assert windows and all(p.speech is None for p in windows)


def test_the_same_file_always_gives_the_same_windows(tmp_path: Path) -> None:
    path = ensure_meeting("standup3", install=True).audio_path
    runs = [[p.window for p in planned(path, SHORT, chunk)] for chunk in (2048, 3000, 90_000)]
    assert runs[0] == runs[1] == runs[2]


def test_declared_too_long_fails_before_any_window(tmp_path: Path) -> None:
    path = ensure_meeting("short2", install=True).audio_path
    source = WindowSource(path, SHORT, DecodeLimits(max_duration_s=5.0))
    with pytest.raises(AudioDecodeError) as info:
        next(iter(source))
    assert info.value.code == "audio_too_long"


def test_a_container_that_hides_its_length_fails_once_decoding_passes_the_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As if the packets declared no duration: only the decoded output can show the length.
    monkeypatch.setattr(core.audio, "_check_packet_duration", lambda _c, _l: None)
    audio = ensure_meeting("standup3", install=True).load_audio()
    path = write_wav(tmp_path / "liar.wav", audio)
    source = WindowSource(path, SHORT, DecodeLimits(max_duration_s=60.0))
    got: list[PlannedWindow] = []
    with pytest.raises(AudioDecodeError) as info:
        got.extend(source)
    assert info.value.code == "audio_too_long"
    assert got and got[-1].window.end <= 60.0  # windows before the limit came out first


def test_truncated_and_empty_files_fail_at_the_first_window(tmp_path: Path) -> None:
    cut = tmp_path / "cut.flac"
    cut.write_bytes(b"fLaC\x00\x00\x00\x22\x10\x00\x10\x00")
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    for path, code in ((cut, "truncated_audio"), (empty, "empty_audio")):
        with pytest.raises(AudioDecodeError) as info:
            next(iter(WindowSource(path, SHORT, DecodeLimits())))
        assert info.value.code == code


async def test_steps_run_in_the_given_executor_with_the_callers_context(tmp_path: Path) -> None:
    """The Processor's audio executor runs the steps; the job's log fields go with them."""
    job = contextvars.ContextVar[str]("job")
    path = write_wav(tmp_path / "tone.wav", np.zeros(SAMPLE_RATE, dtype=np.float32))

    class Seen(WindowSource):
        def _plan(self):  # type: ignore[no-untyped-def, override]
            yield job.get("none"), threading.current_thread().name

    job.set("job-1")
    with ThreadPoolExecutor(1, "upload-audio") as executor:
        source = Seen(path, SHORT, DecodeLimits(), executor=executor)
        context, thread = await source.next_window()  # type: ignore[misc]
    assert context == "job-1"
    assert thread.startswith("upload-audio")
