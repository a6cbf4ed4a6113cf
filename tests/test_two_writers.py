"""Two writers of one cassette lose nothing: sessions wait for each other and merge; a second
recording proxy on the same file refuses to start, naming it."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from lg_testkit import Cassette
from lg_testkit.errors import CassetteWriteError
from lg_testkit.proxy import RecordingProxy

WRITER = textwrap.dedent(
    """
    import sys, time, httpx
    from lg_testkit import CassetteSession

    path, who, mode = sys.argv[1], sys.argv[2], sys.argv[3]
    session = CassetteSession(path, mode)
    live = httpx.MockTransport(lambda request: httpx.Response(200, json={"who": who}))
    with httpx.Client(base_url="http://lg", transport=session.transport(live)) as client:
        for n in range(20):
            client.get(f"/assistants/{who}-{n}")
            time.sleep(0.01)
    session.save()
    """
)


@pytest.mark.parametrize("mode", ["all", "new_episodes"])
def test_two_processes_recording_one_cassette_keep_every_exchange(
    tmp_path: Path, mode: str
) -> None:
    path = tmp_path / "shared.json"
    writers = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(path), who, mode])
        for who in ("a", "b")
    ]
    assert [writer.wait(timeout=120) for writer in writers] == [0, 0]
    paths = sorted(i.request.path for i in Cassette.load(path).interactions)
    assert paths == sorted(f"/assistants/{w}-{n}" for w in "ab" for n in range(20))


def test_a_second_proxy_on_the_same_cassette_fails_at_once(tmp_path: Path) -> None:
    path = tmp_path / "ui.json"
    first = RecordingProxy("http://127.0.0.1:9", path)
    with pytest.raises(CassetteWriteError, match="another process is recording"):
        RecordingProxy("http://127.0.0.1:9", path)
    first._writer.close()
    RecordingProxy("http://127.0.0.1:9", path)._writer.close()  # free again
