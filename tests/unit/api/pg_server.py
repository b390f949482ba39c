"""The API tests' PostgreSQL: ``benchmarks/postgres_server.py``, failing the test (not erroring)
when the server binaries are missing."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks import postgres_server
from benchmarks.postgres_server import PostgresServer

__all__ = ["PostgresServer", "find_bindir"]


def find_bindir() -> Path:
    try:
        return postgres_server.find_bindir()
    except FileNotFoundError as e:
        pytest.fail(str(e), pytrace=False)
