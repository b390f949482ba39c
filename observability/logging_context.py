"""Meeting and job ids on every log record, from contextvars (for `app` and `deployments`).

``bind_log_context(meeting_id=..., job_id=...)`` sets the ids for the current task; asyncio
tasks created inside inherit them. Two ways to put them on records:

- ``install_log_record_factory()`` adds ``meeting_id``/``job_id`` attributes to every record
  created while they are set. Ray Serve's JSON log encoding (``logging_config.encoding: JSON``)
  writes every non-standard record attribute, so they appear as JSON fields with no handler
  changes.
- ``LogContextFilter`` always sets both (``-`` when unset) for text formats such as
  ``TEXT_FORMAT``.

Only these two ids are ever added: the context cannot carry tokens, passwords or user input.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

CONTEXT_FIELDS = ("meeting_id", "job_id")
UNSET = "-"
TEXT_FORMAT = (
    "%(asctime)s %(levelname)s %(name)s [meeting=%(meeting_id)s job=%(job_id)s] %(message)s"
)

_meeting_id: ContextVar[str | None] = ContextVar("meeting_id", default=None)
_job_id: ContextVar[str | None] = ContextVar("job_id", default=None)
_installed_factory: Callable[..., logging.LogRecord] | None = None


def current_log_context() -> dict[str, str]:
    """The ids bound in this context, without unset ones."""
    values = {"meeting_id": _meeting_id.get(), "job_id": _job_id.get()}
    return {key: value for key, value in values.items() if value is not None}


@contextmanager
def bind_log_context(meeting_id: str | None = None, job_id: str | None = None) -> Iterator[None]:
    """Bind the ids for the duration of the block; ``None`` keeps the outer value."""
    tokens = []
    if meeting_id is not None:
        tokens.append((_meeting_id, _meeting_id.set(meeting_id)))
    if job_id is not None:
        tokens.append((_job_id, _job_id.set(job_id)))
    try:
        yield
    finally:
        for var, token in reversed(tokens):
            var.reset(token)


class LogContextFilter(logging.Filter):
    """Adds ``meeting_id`` and ``job_id`` (``-`` when unset) so text formats can name them."""

    def filter(self, record: logging.LogRecord) -> bool:
        context = current_log_context()
        for field in CONTEXT_FIELDS:
            if not hasattr(record, field):
                setattr(record, field, context.get(field, UNSET))
        return True


def install_log_record_factory() -> None:
    """Make every record in this process carry the bound ids (idempotent).

    A record factory, not a filter: filters attach to one handler or logger, and Serve installs
    its own handlers on its loggers; the factory covers records from every logger.
    """
    global _installed_factory
    current = logging.getLogRecordFactory()
    if _installed_factory is not None and current is _installed_factory:
        return

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = current(*args, **kwargs)
        for field, value in current_log_context().items():
            setattr(record, field, value)
        return record

    logging.setLogRecordFactory(factory)
    _installed_factory = factory
