# Sourced by the venv installers: `pip_install ARGS...` runs "${pip[@]}" install with retries.
# Why: a multi-hundred-MB wheel (triton, torch's CUDA libraries) fetched from PyPI can stall at
# the same byte on every in-process resume (CI failed twice on triton 3.9.0, at 272-275 of 286 MB).
# A new pip process starts the download afresh, so a failed install is run again, up to three
# times; finished wheels come from pip's cache, so a retry only re-fetches what failed.
pip_install() {
  local attempt
  for attempt in 1 2 3; do
    if "${pip[@]}" install --resume-retries 10 "$@"; then
      return 0
    fi
    echo "pip install failed (attempt $attempt of 3): $*" >&2
    [ "$attempt" = 3 ] || sleep $((attempt * 15))
  done
  return 1
}
