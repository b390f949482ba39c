"""Repository-wide test fixtures."""

from __future__ import annotations

from pathlib import Path
from typing import Any, NoReturn

import pytest

UNIT_TESTS_DIR = Path(__file__).resolve().parent / "unit"


@pytest.fixture(autouse=True)
def forbid_ray_in_unit_tests(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Unit tests run without Ray: starting it from one fails that test loudly.

    Ray start-up costs seconds and leaves processes behind; anything that needs it belongs in
    tests/integration, which shares one cluster for the session.
    """
    if UNIT_TESTS_DIR not in Path(request.node.path).resolve().parents:
        return
    import ray
    import ray._private.worker

    def refuse_ray_init(*_args: Any, **_kwargs: Any) -> NoReturn:
        pytest.fail(
            "a unit test called ray.init(); unit tests must not start Ray. Use a fake "
            "backend/handle here or move the test to tests/integration.",
            pytrace=True,
        )

    monkeypatch.setattr(ray, "init", refuse_ray_init)
    monkeypatch.setattr(ray._private.worker, "init", refuse_ray_init)


def cuda_devices() -> int:
    """CUDA devices CTranslate2 (the Transcriber's runtime) can use; 0 on CPU-only machines."""
    import ctranslate2

    return int(ctranslate2.get_cuda_device_count())


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    gpu_items = [item for item in items if item.get_closest_marker("gpu")]
    if gpu_items and cuda_devices() == 0:
        skip = pytest.mark.skip(reason="needs a CUDA device; none is visible on this machine")
        for item in gpu_items:
            item.add_marker(skip)
