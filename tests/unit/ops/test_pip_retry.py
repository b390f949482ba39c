"""scripts/pip_retry.sh: the venv installers run a failed `pip install` again in a new process.

Run with bash and a stand-in for pip that fails a set number of times; `sleep` is stubbed so the
test does not wait out the back-off.
"""

import subprocess
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[3] / "scripts" / "pip_retry.sh"


def run_with_failures(failures: int) -> subprocess.CompletedProcess[str]:
    program = f"""
set -euo pipefail
calls=0
fake_pip() {{ calls=$((calls + 1)); echo "call $calls: $*"; [ "$calls" -gt {failures} ]; }}
sleep() {{ echo "slept $1"; }}
pip=(fake_pip)
source "{SCRIPT}"
pip_install "torch==2.13.0" -e .
echo "done after $calls"
"""
    return subprocess.run(["bash", "-c", program], capture_output=True, text=True, check=False)


def test_first_success_runs_pip_once_with_resume_retries() -> None:
    result = run_with_failures(0)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "call 1: install --resume-retries 10 torch==2.13.0 -e .",
        "done after 1",
    ]


def test_a_failed_install_is_run_again_after_a_pause() -> None:
    result = run_with_failures(2)
    assert result.returncode == 0, result.stderr
    assert [line for line in result.stdout.splitlines() if not line.startswith("call")] == [
        "slept 15",
        "slept 30",
        "done after 3",
    ]
    assert result.stderr.count("pip install failed (attempt") == 2


def test_three_failures_fail_the_install() -> None:
    result = run_with_failures(3)
    assert result.returncode != 0
    assert "done after" not in result.stdout
    assert "attempt 3 of 3" in result.stderr
