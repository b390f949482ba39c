"""Streaming multipart upload to disk with a hard size bound.

FastAPI's ``UploadFile`` spools the whole body before the route runs, so a size limit checked
there comes after the disk is already full. This parser writes the ``file`` part straight to its
destination as the body arrives and stops at the limit. What counts as audio is decided by
``core.audio_formats`` (one table for this sniff and the decoder).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

from python_multipart.multipart import MultipartParser, parse_options_header

from core.audio_formats import SIGNATURE_BYTES, SUPPORTED_FORMATS_TEXT, looks_like_audio

# The upload needs one ``file`` part; the other parts are small text fields (e.g. the /v1
# parameters). One bound on parts covers both: it is also the bound on text fields.
MAX_PARTS = 16


class UploadError(Exception):
    """A rejected upload; ``status`` is the HTTP status to answer with."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


MAX_FORM_FIELD_BYTES = 4096


@dataclass
class ReceivedUpload:
    """What ``receive_audio_form`` read: the file's size and name, and the text fields."""

    size: int
    filename: str | None = None
    fields: dict[str, list[str]] = field(default_factory=dict)

    def first(self, name: str) -> str | None:
        values = self.fields.get(name)
        return values[0] if values else None


class _FilePartWriter:
    """Multipart callbacks that copy the ``file`` field into ``destination`` and keep small
    text fields (bounded in number and size) for callers that take parameters."""

    def __init__(self, destination: Path, max_bytes: int) -> None:
        self.destination = destination
        self.max_bytes = max_bytes
        self.written = 0
        self.head = b""
        self.found = False
        self.filename: str | None = None
        self.fields: dict[str, list[str]] = {}
        self._field_name: str | None = None
        self._field_value = bytearray()
        self.parts = 0
        self._header_field = b""
        self._headers: dict[bytes, bytes] = {}
        self._in_file = False
        self._out = destination.open("wb")

    def callbacks(self) -> dict[str, object]:
        return {
            "on_part_begin": self._part_begin,
            "on_header_field": self._header_field_data,
            "on_header_value": self._header_value_data,
            "on_headers_finished": self._headers_finished,
            "on_part_data": self._part_data,
            "on_part_end": self._part_end,
        }

    def close(self) -> None:
        self._out.close()

    def _part_begin(self) -> None:
        self.parts += 1
        if self.parts > MAX_PARTS:  # thousands of tiny parts only cost parser time
            raise UploadError(400, f"Too many form parts (send at most {MAX_PARTS})")
        self._headers = {}
        self._header_field = b""

    def _header_field_data(self, data: bytes, start: int, end: int) -> None:
        self._header_field = data[start:end].lower()
        self._headers[self._header_field] = b""

    def _header_value_data(self, data: bytes, start: int, end: int) -> None:
        self._headers[self._header_field] += data[start:end]

    def _headers_finished(self) -> None:
        _, options = parse_options_header(self._headers.get(b"content-disposition", b""))
        name = options.get(b"name")
        self._in_file = name == b"file" and not self.found
        if self._in_file and options.get(b"filename"):
            self.filename = options[b"filename"].decode("utf-8", "replace")[:200]
        self._field_name = None
        if name is not None and name != b"file" and b"filename" not in options:
            self._field_name = name.decode("utf-8", "replace")
            self._field_value = bytearray()

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        if self._field_name is not None:
            self._field_value += data[start:end]
            if len(self._field_value) > MAX_FORM_FIELD_BYTES:
                raise UploadError(400, f"Form field {self._field_name!r} is too long")
            return
        if not self._in_file:
            return
        chunk = data[start:end]
        self.written += len(chunk)
        if self.written > self.max_bytes:
            raise UploadError(413, f"Audio file too large (limit {self.max_bytes} bytes)")
        if len(self.head) < SIGNATURE_BYTES:
            self.head += chunk[: SIGNATURE_BYTES - len(self.head)]
        self._out.write(chunk)

    def _part_end(self) -> None:
        if self._field_name is not None:
            value = self._field_value.decode("utf-8", "replace")
            self.fields.setdefault(self._field_name, []).append(value)
            self._field_name = None
        if self._in_file:
            self.found = True
            self._in_file = False


async def receive_audio_upload(
    content_type: str, body: AsyncIterator[bytes], destination: Path, max_bytes: int
) -> int:
    """Write the multipart ``file`` field to ``destination``; returns its size in bytes.

    Raises ``UploadError`` (400 malformed/empty/not audio, 413 too large) and removes the
    partial file on any failure.
    """
    received = await receive_audio_form(content_type, body, destination, max_bytes)
    return received.size


async def receive_audio_form(
    content_type: str, body: AsyncIterator[bytes], destination: Path, max_bytes: int
) -> ReceivedUpload:
    """``receive_audio_upload`` that also returns the file name and the other text fields."""
    mime, options = parse_options_header(content_type)
    boundary = options.get(b"boundary")
    if mime != b"multipart/form-data" or not boundary:
        raise UploadError(400, "Send the audio as multipart/form-data with a 'file' field")
    destination.parent.mkdir(parents=True, exist_ok=True)
    writer = _FilePartWriter(destination, max_bytes)
    try:
        parser = MultipartParser(boundary, writer.callbacks())  # type: ignore[arg-type]
        async for chunk in body:
            parser.write(chunk)
        parser.finalize()
        _check_received(writer)
    except BaseException:
        writer.close()
        with contextlib.suppress(FileNotFoundError):
            os.remove(destination)
        raise
    writer.close()
    return ReceivedUpload(writer.written, writer.filename, writer.fields)


def _check_received(writer: _FilePartWriter) -> None:
    if not writer.found:
        raise UploadError(400, "No 'file' field in the upload")
    if writer.written == 0:
        raise UploadError(400, "The uploaded file is empty")
    if not looks_like_audio(writer.head):
        raise UploadError(
            400, f"The uploaded file is not a supported audio format ({SUPPORTED_FORMATS_TEXT})"
        )
