"""Re-record this project's cassettes from a real `langgraph dev` serving graph/, then replay.

python rerecord.py                    # then commit cassettes/
python rerecord.py --snapshot-update  # also when what the user sees changed on purpose

Tests marked `replays_only` (the drops) replay another test's cassette and are left out of the
recording; the replay that follows runs every test offline, with strict validation.
"""

import os
import subprocess
import sys
from pathlib import Path

from lg_testkit.devserver import DevServer

HERE = Path(__file__).resolve().parent
PYTEST = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]

with DevServer(HERE / "graph") as server:
    env = dict(os.environ, LG_URL=server.url)
    record = [*PYTEST, "--lg-record-mode=all", "-m", "not replays_only", *sys.argv[1:]]
    if subprocess.call(record, env=env, cwd=HERE):
        sys.exit("recording failed: cassettes/ may be partly rewritten; fix and run again")
sys.exit(subprocess.call(PYTEST, cwd=HERE))  # offline now: the server is gone
