"""One table decides what counts as audio (``core/audio_formats.py``): the Ingress's upload sniff
and the decoder's error wording agree on every signature in it, and on what is not audio.

The containers the two once disagreed on (AIFF, AMR, ADTS AAC) are named explicitly.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from app.uploads import UploadError, receive_audio_upload
from core.audio import AudioDecodeError, decode_audio
from core.audio_formats import AUDIO_SIGNATURES, SIGNATURE_BYTES, looks_like_audio

GARBAGE = bytes(range(7, 250, 3)) * 4  # no valid stream follows the signature
FRAME_SYNC = [b"\xff\xfb", b"\xff\xf1", b"\xff\xf9"]  # tagless mp3, ADTS AAC (MPEG-4, MPEG-2)
NOT_AUDIO = [b"%PDF-1.7", b"PK\x03\x04", b"\x89PNG\r\n\x1a\n", b"GIF89a", b"hello world"]


def head_of(offset: int, magic: bytes) -> bytes:
    return b"\x00" * offset + magic


AUDIO_HEADS = [head_of(o, m) for o, m in AUDIO_SIGNATURES] + FRAME_SYNC


async def one_chunk(data: bytes) -> AsyncIterator[bytes]:
    yield data


def upload(data: bytes, destination: Path) -> None:
    form = (
        b'--b\r\nContent-Disposition: form-data; name="file"; filename="a"\r\n\r\n'
        + data
        + b"\r\n--b--\r\n"
    )
    content_type = "multipart/form-data; boundary=b"
    asyncio.run(receive_audio_upload(content_type, one_chunk(form), destination, 1 << 20))


def test_the_named_containers_are_in_the_table() -> None:
    for head in (b"FORM\x00\x00\x00\x00AIFF", b"#!AMR\n", b"\xff\xf1\x50\x80"):
        assert looks_like_audio(head), head
    assert all(offset + len(magic) <= SIGNATURE_BYTES for offset, magic in AUDIO_SIGNATURES)


@pytest.mark.parametrize("head", AUDIO_HEADS, ids=repr)
def test_an_audio_signature_is_taken_by_the_upload_and_called_damaged_audio_by_the_decoder(
    head: bytes, tmp_path: Path
) -> None:
    upload(head + GARBAGE, tmp_path / "a.bin")  # accepted: no UploadError
    with pytest.raises(AudioDecodeError) as refused:
        decode_audio(head + GARBAGE)
    assert refused.value.code != "unsupported_audio", refused.value.reason


@pytest.mark.parametrize("head", NOT_AUDIO, ids=repr)
def test_anything_else_is_refused_by_both_with_the_same_format_list(
    head: bytes, tmp_path: Path
) -> None:
    with pytest.raises(UploadError) as upload_refused:
        upload(head + GARBAGE, tmp_path / "a.bin")
    with pytest.raises(AudioDecodeError) as decode_refused:
        decode_audio(head + GARBAGE)
    assert decode_refused.value.code == "unsupported_audio"
    upload_list = upload_refused.value.detail.split("(")[1].rstrip(")")
    assert upload_list in decode_refused.value.reason
