"""Yes/no switches written as text (query parameters, environment variables)."""

from __future__ import annotations

TRUE_VALUES = frozenset({"1", "true", "yes", "on"})


def is_true(value: str | None) -> bool:
    return value is not None and value.strip().lower() in TRUE_VALUES
