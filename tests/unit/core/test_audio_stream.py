from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.audio_stream import SampleBuffer, fixed_chunks


@given(
    sizes=st.lists(st.integers(min_value=0, max_value=700), max_size=20),
    size=st.integers(min_value=1, max_value=600),
)
def test_fixed_chunks_keep_every_sample_in_order(sizes: list[int], size: int) -> None:
    total = sum(sizes)
    stream = np.arange(total, dtype=np.float32)
    offsets = np.cumsum([0, *sizes])
    arrays = [stream[a:b] for a, b in itertools.pairwise(offsets)]
    chunks = list(fixed_chunks(arrays, size))
    assert all(c.size == size for c in chunks[:-1])
    assert not chunks or 0 < chunks[-1].size <= size
    joined = np.concatenate(chunks) if chunks else np.zeros(0, np.float32)
    np.testing.assert_array_equal(joined, stream)


def test_fixed_chunks_do_not_alias_their_input() -> None:
    frame = np.ones(10, dtype=np.float32)
    chunk = next(fixed_chunks([frame], 10))
    frame[:] = 0  # a codec may reuse its frame buffer
    assert chunk.sum() == 10


def test_fixed_chunks_refuse_a_nonpositive_size() -> None:
    with pytest.raises(ValueError, match="positive"):
        list(fixed_chunks([np.ones(3, np.float32)], 0))


def test_buffer_takes_across_chunks_and_forgets_whole_chunks() -> None:
    buffer = SampleBuffer()
    stream = np.arange(30, dtype=np.float32)
    for part in (stream[:10], stream[10:20], stream[20:]):
        buffer.append(part)
    np.testing.assert_array_equal(buffer.take(5, 25), stream[5:25])
    buffer.forget_before(19)  # the chunk [10, 20) still holds sample 19
    assert (buffer.start, buffer.end, buffer.held) == (10, 30, 20)
    np.testing.assert_array_equal(buffer.take(19, 30), stream[19:])
    with pytest.raises(ValueError, match="not in"):
        buffer.take(5, 12)
    buffer.forget_before(30)
    assert buffer.held == 0


def _wav(seconds: float, rate: int = 22_050) -> bytes:
    import io
    import wave

    t = np.arange(round(seconds * rate)) / rate
    pcm = (0.3 * np.sin(2 * np.pi * 440.0 * t) * 32767).astype("<i2").tobytes()
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm)
    return buffer.getvalue()


def test_reader_streams_what_decode_audio_returns_and_declares_the_length() -> None:
    from core.audio import AudioReader, decode_audio

    data = _wav(3.0)
    reader = AudioReader(data)
    assert reader.declared_s is None  # nothing is read before iteration
    frames = list(reader)
    assert len(frames) > 1 and reader.declared_s == pytest.approx(3.0, abs=0.01)
    np.testing.assert_array_equal(np.concatenate(frames), decode_audio(data))
    assert reader.samples == sum(f.size for f in frames)
    chunks = list(fixed_chunks(AudioReader(data), 16_000))
    assert [c.size for c in chunks] == [16_000, 16_000, 16_000]
