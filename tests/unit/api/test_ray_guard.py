"""The repository-wide guard: a unit test that starts Ray fails instead of starting it."""

from __future__ import annotations

import pytest


def test_ray_init_fails_the_unit_test() -> None:
    import ray

    with pytest.raises(pytest.fail.Exception, match="unit tests must not start Ray"):
        ray.init()
    assert not ray.is_initialized()
