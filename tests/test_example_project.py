"""The example downstream project passes offline, as a user's project would in CI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "chat_client"


def test_the_example_chat_client_suite_passes_offline_from_its_cassettes() -> None:
    env = dict(os.environ, LG_URL="http://127.0.0.1:9")  # nothing listens there
    for name in [n for n in env if n.startswith("PYTEST_XDIST")]:  # syrupy reports under xdist
        del env[name]
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=EXAMPLE,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "11 passed" in result.stdout and "1 snapshot passed" in result.stdout
