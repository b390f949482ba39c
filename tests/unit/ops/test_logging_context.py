"""meeting_id/job_id on log records from contextvars, and nothing else."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator

import pytest

from observability.logging_context import (
    TEXT_FORMAT,
    LogContextFilter,
    bind_log_context,
    current_log_context,
    install_log_record_factory,
)


@pytest.fixture
def restore_factory() -> Iterator[None]:
    original = logging.getLogRecordFactory()
    yield
    logging.setLogRecordFactory(original)


def make_record(message: str = "hello") -> logging.LogRecord:
    return logging.getLogRecordFactory()("t", logging.INFO, __file__, 1, message, (), None)


def test_binding_nests_and_resets() -> None:
    assert current_log_context() == {}
    with bind_log_context(meeting_id="m1"):
        with bind_log_context(job_id="j1"):
            assert current_log_context() == {"meeting_id": "m1", "job_id": "j1"}
        with bind_log_context(meeting_id="m2"):
            assert current_log_context() == {"meeting_id": "m2"}
        assert current_log_context() == {"meeting_id": "m1"}
    assert current_log_context() == {}


async def test_tasks_inherit_the_context_of_their_creator() -> None:
    async def read() -> dict[str, str]:
        return current_log_context()

    with bind_log_context(meeting_id="m1", job_id="j1"):
        task = asyncio.create_task(read())
    assert await task == {"meeting_id": "m1", "job_id": "j1"}


def test_filter_fills_both_fields_for_text_formats() -> None:
    handler_filter = LogContextFilter()
    formatter = logging.Formatter(TEXT_FORMAT)
    plain = make_record()
    assert handler_filter.filter(plain)
    assert "[meeting=- job=-] hello" in formatter.format(plain)
    with bind_log_context(meeting_id="m1", job_id="j1"):
        bound = make_record()
        handler_filter.filter(bound)
    assert "[meeting=m1 job=j1] hello" in formatter.format(bound)


def test_record_factory_adds_only_bound_ids(restore_factory: None) -> None:
    install_log_record_factory()
    install_log_record_factory()  # idempotent: no double wrapping
    assert not hasattr(make_record(), "meeting_id")
    with bind_log_context(meeting_id="m1"):
        record = make_record()
    assert getattr(record, "meeting_id", None) == "m1"
    assert not hasattr(record, "job_id")


def test_logged_records_carry_the_ids(
    restore_factory: None, caplog: pytest.LogCaptureFixture
) -> None:
    install_log_record_factory()
    with caplog.at_level(logging.INFO), bind_log_context(meeting_id="m9", job_id="j9"):
        logging.getLogger("meetingserve.test").info("window %d done", 3)
    (record,) = [r for r in caplog.records if r.name == "meetingserve.test"]
    ids = (getattr(record, "meeting_id", None), getattr(record, "job_id", None))
    assert (*ids, record.getMessage()) == ("m9", "j9", "window 3 done")
