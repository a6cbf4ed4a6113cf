"""A recording process killed with SIGKILL leaves the previous cassette or a complete new one.

A child process saves two large cassettes (A and B) over the same file in turn; the test kills it
at random moments and, in one mode, deterministically between writing the temp file and renaming
it. After each kill the file must load and be exactly A or B. Temp files (`.NAME.*.tmp`) may be
left behind; a later save removes the stale ones.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from lg_testkit.cassette import STALE_TEMP_SECONDS, Cassette

BUILD = textwrap.dedent(
    """
    from lg_testkit.cassette import (
        Cassette, Interaction, RecordedRequest, RecordedResponse, RecordedStream,
    )

    def build(tag, events=4000):
        chunk = 'event: messages\\r\\ndata: [{{"content":"{} token {}"}},{{}}]\\r\\n\\r\\n'
        chunks = [(i / 1000, chunk.format(tag, i).encode()) for i in range(events)]
        stream = RecordedStream.from_chunks(chunks)
        response = RecordedResponse(200, {"content-type": "text/event-stream"}, stream=stream)
        request = RecordedRequest("POST", "/runs/stream")
        return Cassette([Interaction(request, response)], {"tag": tag})
    """
)
CHILD = BUILD + textwrap.dedent(
    """
    import os, sys
    path, mode = sys.argv[1], sys.argv[2]
    versions = [build("A"), build("B")]
    if mode == "in-fsync":  # stop between writing the temp file and renaming it
        real_fsync = os.fsync
        def fsync(fd):
            real_fsync(fd)
            print("fsynced", flush=True)
            sys.stdin.readline()  # blocks until killed
        os.fsync = fsync
    for i in range(10**6):
        print(f"saving {i}", flush=True)
        versions[(i + 1) % 2].save(path)
    """
)


def _texts() -> dict[str, str]:
    namespace: dict[str, object] = {}
    exec(BUILD, namespace)
    build = namespace["build"]
    return {tag: build(tag).dumps() for tag in "AB"}  # type: ignore[operator]


def _kill_once(path: Path, mode: str, rng: random.Random) -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(path), mode],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    try:
        if mode == "in-fsync":
            assert "fsynced\n" in child.stdout  # reads up to that line
        else:
            target = rng.randrange(1, 4)  # kill during or after the target-th save
            for line in child.stdout:
                if line == f"saving {target}\n":
                    break
            time.sleep(rng.uniform(0, 0.05))  # not synchronisation: the random moment of the kill
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
        child.stdout.close()
        assert child.stdin is not None
        child.stdin.close()
    assert child.returncode == -signal.SIGKILL


def test_sigkill_mid_save_leaves_the_old_or_the_new_cassette(tmp_path: Path) -> None:
    texts = _texts()
    path = tmp_path / "big.json"
    path.write_text(texts["A"])
    rng = random.Random(os.environ.get("LG_KILL_SEED", "1"))
    seen = set()
    for mode in ["random"] * 6 + ["in-fsync"]:
        before = path.read_text()
        _kill_once(path, mode, rng)
        after = path.read_text()
        assert after in (texts["A"], texts["B"])  # complete, never half a file
        assert Cassette.load(path).meta["tag"] in "AB"
        if mode == "in-fsync":
            assert after == before  # killed before the rename: the previous cassette
        seen.add(after)
    leftovers = sorted(tmp_path.glob(".big.json.*.tmp"))
    assert leftovers, "the in-fsync kill leaves its temp file"
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith(".")) == ["big.json"]


@pytest.mark.parametrize("age", [STALE_TEMP_SECONDS + 60, 5.0])
def test_the_next_save_removes_stale_temp_files_only(tmp_path: Path, age: float) -> None:
    path = tmp_path / "c[1].json"  # glob characters in the name are matched literally
    Cassette().save(path)
    left = tmp_path / ".c[1].json.abc123.tmp"
    left.write_text('{"half": ')
    other = tmp_path / ".other.json.abc123.tmp"
    other.write_text("")
    old = time.time() - age
    for temp in (left, other):
        os.utime(temp, (old, old))
    Cassette().save(path)
    assert left.exists() is (age < STALE_TEMP_SECONDS)  # a fresh one may be a live save's
    assert other.exists()  # another cassette's temp files are left alone
