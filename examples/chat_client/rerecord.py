"""Re-record this project's cassettes from a real `langgraph dev` serving lg-testkit's test graphs.

python rerecord.py            # then commit cassettes/ and __snapshots__/
"""

import os
import subprocess
import sys
from pathlib import Path

from lg_testkit.devserver import DevServer

GRAPHS = Path(__file__).resolve().parents[2] / "tests" / "graphs"

with DevServer(GRAPHS) as server:
    env = dict(os.environ, LG_URL=server.url)
    command = [sys.executable, "-m", "pytest", "-q", "--lg-record-mode=all", *sys.argv[1:]]
    sys.exit(subprocess.call(command, env=env, cwd=Path(__file__).parent))
