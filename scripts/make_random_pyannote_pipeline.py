"""Write a pyannote.audio 4.x speaker-diarization pipeline directory with random weights.

No pretrained pyannote weights are reachable here (gated hub), yet the platform must exercise
the real loading and inference code. This script writes the same layout as
``pyannote/speaker-diarization-community-1`` so ``Pipeline.from_pretrained(<dir>)`` runs offline:

    <dir>/config.yaml                     pipeline class, $model/... references, hyper-parameters
    <dir>/segmentation/pytorch_model.bin  PyanNet, powerset (3 speakers, at most 2 at once)
    <dir>/embedding/pytorch_model.bin     WeSpeaker ResNet34 (256-dim embeddings)
    <dir>/plda/xvec_transform.npz         mean1, mean2, lda (VBx x-vector transform)
    <dir>/plda/plda.npz                   mu, tr, psi (PLDA; loaded even before clustering)

Checkpoints are written the way pyannote's own WeSpeaker conversion script writes them
(``state_dict`` + ``Model.on_save_checkpoint``). Random weights give meaningless speakers:
use the directory to test structure, timing and label consistency, never accuracy.
Runs in the pyannote venv (it imports pyannote.audio):

    .venv-pyannote/bin/python scripts/make_random_pyannote_pipeline.py /tmp/pyannote-random
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

import numpy as np
import yaml

logger = logging.getLogger(__name__)

EMBEDDING_DIM = 256  # WeSpeaker ResNet34
LDA_DIM = 128  # PLDA.lda_dimension default
SEGMENTATION_CHUNK_S = 10.0  # community-1 segmentation window
# Favour "one speaker active" powerset classes over "nobody speaks" so that random weights
# still produce speech turns; without it the pipeline exits early on an empty diarization.
SPEECH_BIAS = 2.0


def pipeline_config(batch_size: int) -> dict[str, Any]:
    """config.yaml of community-1, with the installed pyannote.audio as the dependency."""
    from pyannote.audio import __version__

    return {
        "dependencies": {"pyannote.audio": __version__},
        "pipeline": {
            "name": "pyannote.audio.pipelines.SpeakerDiarization",
            "params": {
                "segmentation": "$model/segmentation",
                "segmentation_step": 0.1,
                "segmentation_batch_size": batch_size,
                "embedding": "$model/embedding",
                "embedding_batch_size": batch_size,
                "embedding_exclude_overlap": True,
                "plda": "$model/plda",
                "clustering": "VBxClustering",
            },
        },
        "params": {
            "segmentation": {"min_duration_off": 0.0},
            "clustering": {"threshold": 0.6, "Fa": 0.07, "Fb": 0.8},
        },
    }


def save_checkpoint(model: Any, path: Path) -> None:
    """Lightning checkpoint with pyannote's metadata, as pyannote's conversion script does."""
    import lightning
    import torch

    checkpoint: dict[str, Any] = {
        "state_dict": model.state_dict(),
        "hyper_parameters": dict(model.hparams),
        "pytorch-lightning_version": lightning.__version__,
    }
    model.on_save_checkpoint(checkpoint)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(checkpoint, path)


def write_segmentation(directory: Path) -> None:
    import torch
    from pyannote.audio.core.task import Problem, Resolution, Specifications
    from pyannote.audio.models.segmentation import PyanNet

    model = PyanNet()
    model.specifications = Specifications(
        problem=Problem.MONO_LABEL_CLASSIFICATION,
        resolution=Resolution.FRAME,
        duration=SEGMENTATION_CHUNK_S,
        warm_up=(0.0, 0.0),
        classes=["speaker#1", "speaker#2", "speaker#3"],
        powerset_max_classes=2,
        permutation_invariant=True,
    )
    model.setup()  # adds the task-dependent classifier, as loading will
    with torch.no_grad():
        model.classifier.bias[1:4] += SPEECH_BIAS  # powerset classes {0}, {1}, {2}
    save_checkpoint(model, directory / "segmentation" / "pytorch_model.bin")


def write_embedding(directory: Path) -> None:
    from pyannote.audio.core.task import Problem, Resolution, Specifications
    from pyannote.audio.models.embedding import WeSpeakerResNet34

    model = WeSpeakerResNet34()
    model.specifications = Specifications(
        problem=Problem.REPRESENTATION, resolution=Resolution.CHUNK, duration=5.0
    )
    save_checkpoint(model, directory / "embedding" / "pytorch_model.bin")


def write_plda(directory: Path, rng: np.random.Generator) -> None:
    """Well-conditioned random PLDA: VBx inverts ``tr`` and divides by ``psi``."""
    plda_dir = directory / "plda"
    plda_dir.mkdir(parents=True, exist_ok=True)
    lda, _ = np.linalg.qr(rng.normal(size=(EMBEDDING_DIM, LDA_DIM)))  # orthonormal columns
    np.savez(
        plda_dir / "xvec_transform.npz",
        mean1=rng.normal(0, 0.01, EMBEDDING_DIM),
        mean2=rng.normal(0, 0.01, LDA_DIM),
        lda=lda,
    )
    tr, _ = np.linalg.qr(rng.normal(size=(LDA_DIM, LDA_DIM)))
    psi = np.sort(rng.uniform(0.5, 5.0, LDA_DIM))[::-1]
    np.savez(plda_dir / "plda.npz", mu=np.zeros(LDA_DIM), tr=tr, psi=psi)


def make_random_pipeline(directory: Path, seed: int = 0, batch_size: int = 8) -> Path:
    """Write the pipeline directory (overwriting files of an earlier run) and return it."""
    import torch

    torch.manual_seed(seed)
    directory.mkdir(parents=True, exist_ok=True)
    write_segmentation(directory)
    write_embedding(directory)
    write_plda(directory, np.random.default_rng(seed))
    config = yaml.safe_dump(pipeline_config(batch_size), sort_keys=False)
    (directory / "config.yaml").write_text(config)
    logger.info("Random pyannote pipeline written to %s", directory)
    return directory


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("directory", type=Path)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--batch-size", type=int, default=8)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    make_random_pipeline(args.directory, seed=args.seed, batch_size=args.batch_size)


if __name__ == "__main__":
    main()
