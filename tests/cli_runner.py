"""Run the `leadpulse` command as a user does: a real process on a given database."""

from __future__ import annotations

import os
import subprocess
import sys


def leadpulse(db_url: str, *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "LEADPULSE_DATABASE_URL": db_url}
    proc = subprocess.run(
        [sys.executable, "-m", "leadpulse", *args],
        env=env,
        check=False,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if ok:
        assert proc.returncode == 0, proc.stderr
    return proc
