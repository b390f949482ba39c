"""Property-based tests (Hypothesis) for the streaming multipart upload parser: any body, cut
into any chunks, ends in a stored file within the bound or a clean refusal with nothing left."""

from __future__ import annotations

import asyncio
import itertools
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from python_multipart.exceptions import MultipartParseError

from app.uploads import UploadError, receive_audio_upload

MAX_BYTES = 256
HEADS = st.sampled_from([b"RIFF", b"OggS", b"\xff\xfb", b"%PDF", b""])


def body(head: bytes, payload: bytes, extra_parts: int) -> bytes:
    parts = [b'--b\r\nContent-Disposition: form-data; name="note"\r\n\r\nhi\r\n'] * extra_parts
    parts.append(
        b'--b\r\nContent-Disposition: form-data; name="file"; filename="a"\r\n\r\n'
        + head
        + payload
        + b"\r\n"
    )
    return b"".join(parts) + b"--b--\r\n"


async def chunked(data: bytes, cuts: list[int]) -> AsyncIterator[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts} | {0, len(data)})
    for start, end in itertools.pairwise(points):
        yield data[start:end]


def receive(data: bytes, cuts: list[int], destination: Path) -> int:
    content_type = "multipart/form-data; boundary=b"
    return asyncio.run(
        receive_audio_upload(content_type, chunked(data, cuts), destination, MAX_BYTES)
    )


@settings(max_examples=200, deadline=None)
@given(
    head=HEADS,
    payload=st.binary(max_size=400),
    extra_parts=st.integers(min_value=0, max_value=3),
    cuts=st.lists(st.integers(min_value=0, max_value=2000), max_size=8),
    garble=st.none() | st.integers(min_value=0, max_value=2000),
)
def test_any_body_is_stored_within_the_bound_or_refused_cleanly(
    head: bytes, payload: bytes, extra_parts: int, cuts: list[int], garble: int | None
) -> None:
    data = bytearray(body(head, payload, extra_parts))
    if garble is not None:
        data[garble % len(data)] ^= 0x5A  # one damaged byte anywhere
    with tempfile.TemporaryDirectory() as folder:
        destination = Path(folder) / "upload"
        try:
            size = receive(bytes(data), cuts, destination)
        except (UploadError, MultipartParseError) as e:
            assert not destination.exists()  # nothing half-written is left behind
            if isinstance(e, UploadError):
                assert e.status in {400, 413} and e.detail
            return
        assert 0 < size <= MAX_BYTES
        assert destination.stat().st_size == size
