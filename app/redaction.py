"""Keep access tokens out of log records written by the servers under the app.

The seed's ``?token=<jwt>`` puts the token in the request line, which uvicorn logs at INFO
(``"WebSocket /ws/meeting/x?token=..." [accepted]``), and at DEBUG the websockets library logs
request lines, headers (``Sec-WebSocket-Protocol: bearer, <jwt>``) and frames (the first-message
``auth``). A filter on those loggers rewrites such records before any handler sees them.
"""

from __future__ import annotations

import logging
import re

# Loggers that log raw handshakes or frames. A logger's filters apply to the records it creates,
# so each emitting logger is listed (a filter on a parent would not see them).
SERVER_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access", "websockets.server")
REDACTED = "[redacted]"
# A JWT (possibly cut short by a library's truncated frame repr) or a ``token=`` query value.
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]*){0,2}")
_QUERY_TOKEN = re.compile(r"(token=)[^&\s\"']+")
_API_KEY = re.compile(r"msk_[0-9a-f]+_[A-Za-z0-9_-]+")  # app/apikeys.py


def redact_tokens(text: str) -> str:
    """``text`` with every JWT- or API-key-looking string and ``token=`` value replaced."""
    text = _API_KEY.sub(REDACTED, _JWT.sub(REDACTED, text))
    return _QUERY_TOKEN.sub(r"\1" + REDACTED, text)


class TokenRedactionFilter(logging.Filter):
    """Rewrites a record's message when it contains a token; never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact_tokens(message)
        if cleaned != message:
            record.msg = cleaned
            record.args = None
        return True


def install_token_redaction(logger_names: tuple[str, ...] = SERVER_LOGGERS) -> None:
    """Attach the filter to each named logger once (safe to call repeatedly)."""
    for name in logger_names:
        target = logging.getLogger(name)
        if not any(isinstance(f, TokenRedactionFilter) for f in target.filters):
            target.addFilter(TokenRedactionFilter())
