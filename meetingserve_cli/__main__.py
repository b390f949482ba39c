"""``python -m meetingserve_cli`` is the ``meetingserve`` console script."""

from __future__ import annotations

from meetingserve_cli.main import run

if __name__ == "__main__":
    run()
