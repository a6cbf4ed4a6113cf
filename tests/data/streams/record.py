"""Record the stream corpus of one server version into tests/data/streams/<langgraph-api version>/.

    python tests/data/streams/record.py                          # this interpreter's server
    python tests/data/streams/record.py --python /tmp/venv-old/bin/python

`--python` runs `langgraph dev` from another environment (e.g. langgraph-api 0.2.x, pinned as
in the README's compatibility notes); recording always uses this interpreter's lg-testkit.
The test graphs of tests/graphs are run in every stream mode (lg-testkit's contract check,
with subgraphs and a resumable join), plus an interrupt resumed by command, runs with all
modes at once, and the other endpoints that stream run events as the Python SDK calls them
(joins, a thread stream, a stateless run: joins.json). Streams are recorded as they came,
without validation: the tests validate them. `--only joins.json` records one file.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
from langgraph_sdk import get_sync_client
from langgraph_sdk.errors import NotFoundError

from lg_testkit.contract import check_contract
from lg_testkit.devserver import DevServer
from lg_testkit.protocol import STREAM_MODES
from lg_testkit.session import CassetteSession

HERE = Path(__file__).parent
GRAPHS = HERE.parent.parent / "graphs"
QUESTION = {"messages": [{"role": "human", "content": "whats the weather in la"}]}
INPUTS = {"agent": QUESTION, "subgraph": {}, "interrupt": {}, "failing": {}}
# The graphs these recordings run; tests/graphs also holds threads_* graphs that need langgraph
# 1.2, which an older server (langgraph 0.4) cannot import.
RUN_GRAPHS = ("agent", "ticker", "failing", "subgraph", "interrupt")


def _run_graphs(folder: Path) -> Path:
    """`folder` made a langgraph.json app of RUN_GRAPHS (the files linked from tests/graphs)."""
    config = json.loads((GRAPHS / "langgraph.json").read_text())
    config["graphs"] = {name: config["graphs"][name] for name in RUN_GRAPHS}
    for source in GRAPHS.glob("*.py"):
        (folder / source.name).symlink_to(source)
    (folder / "langgraph.json").write_text(json.dumps(config, indent=2))
    return folder


class _Server(DevServer):
    def __init__(self, python: str, graphs: Path) -> None:
        super().__init__(graphs)
        self.python = python

    @property
    def command(self) -> list[str]:
        return [self.python, *super().command[1:]]


def _drain(client: httpx.Client, method: str, path: str, **kwargs: object) -> list[str]:
    """Read a whole stream; the names of its events."""
    with client.stream(method, path, **kwargs) as response:  # type: ignore[arg-type]
        response.raise_for_status()
        text = b"".join(response.iter_raw()).decode()
    return [line[7:] for line in text.splitlines() if line.startswith("event: ")]


def record_resume(url: str, path: Path) -> None:
    """An interrupted run, resumed with `command: {resume}`, then joined from the start."""
    with (
        CassetteSession(path, "all", validate="off") as session,
        httpx.Client(base_url=url, transport=session.transport(), timeout=60) as client,
    ):
        client.get("/info")
        thread_id = client.post("/threads", json={}).json()["thread_id"]
        runs = f"/threads/{thread_id}/runs/stream"
        _drain(
            client,
            "POST",
            runs,
            json={
                "assistant_id": "interrupt",
                "input": {},
                "stream_mode": ["values", "updates"],
            },
        )
        with client.stream(
            "POST",
            runs,
            json={
                "assistant_id": "interrupt",
                "command": {"resume": "yes"},
                "stream_mode": ["values", "updates", "debug", "tasks", "checkpoints"],
                "stream_resumable": True,
            },
        ) as response:
            response.read()
            run_id = response.headers["content-location"].rsplit("/", 1)[-1]
        _drain(
            client,
            "GET",
            f"/threads/{thread_id}/runs/{run_id}/stream",
            headers={"Last-Event-ID": "-1"},
        )


def record_all_modes(url: str, path: Path) -> None:
    """The agent and the subgraph with every mode at once, with and without subgraphs."""
    with (
        CassetteSession(path, "all", validate="off") as session,
        httpx.Client(base_url=url, transport=session.transport(), timeout=60) as client,
    ):
        client.get("/info")
        for assistant, subgraphs in [("agent", False), ("agent", True), ("subgraph", True)]:
            thread_id = client.post("/threads", json={}).json()["thread_id"]
            _drain(
                client,
                "POST",
                f"/threads/{thread_id}/runs/stream",
                json={
                    "assistant_id": assistant,
                    "input": INPUTS[assistant],
                    "stream_mode": list(STREAM_MODES),
                    "stream_subgraphs": subgraphs,
                },
            )
        _drain(client, "POST", "/runs/stream", json={"assistant_id": "agent", "input": QUESTION})


def record_joins(url: str, path: Path) -> None:
    """Run events from every endpoint but `POST .../runs/stream`, through the Python SDK.

    `runs.create` + `runs.join_stream` (no stream_mode: the SDK sends `stream_mode=`; an
    explicit mode; `Last-Event-ID: -1` of a resumable run; a join resumed part-way from an
    event id), a stateless `runs.stream(None, ...)`, and `threads.join_stream` open while a
    run succeeds and another fails.
    """
    with (
        CassetteSession(path, "all", validate="off") as session,
        session.patched(),
        get_sync_client(url=url, timeout=60) as client,
    ):
        client.http.get("/info")
        ticker = {"input": {}, "stream_mode": ["custom", "values"]}
        thread_id = client.threads.create()["thread_id"]
        run = client.runs.create(thread_id, "ticker", **ticker)
        list(client.runs.join_stream(thread_id, run["run_id"]))
        run = client.runs.create(thread_id, "ticker", **ticker)
        list(client.runs.join_stream(thread_id, run["run_id"], stream_mode="custom"))
        run = client.runs.create(thread_id, "ticker", **ticker, stream_resumable=True)
        list(client.runs.join_stream(thread_id, run["run_id"], last_event_id="-1"))
        run = client.runs.create(thread_id, "ticker", **ticker, stream_resumable=True)
        joined = client.runs.join_stream(thread_id, run["run_id"], stream_mode="custom")
        first = next(iter(joined))
        joined.close()  # type: ignore[attr-defined]  # a generator: hang up after one event
        list(client.runs.join_stream(thread_id, run["run_id"], last_event_id=first.id))
        list(client.runs.stream(None, "agent", input=QUESTION, stream_mode=["updates", "custom"]))

        thread_id = client.threads.create()["thread_id"]
        seen: list[str] = []

        def watch() -> None:  # the thread stream stays open: stop after the second run
            try:
                for part in client.threads.join_stream(thread_id):
                    seen.append(part.event)
                    done = isinstance(part.data, dict) and part.data.get("status") == "run_done"
                    if done and seen.count("metadata") == 4:
                        return
            except NotFoundError:  # langgraph-api 0.2.x has no thread stream: its 404 is kept
                return

        watcher = threading.Thread(target=watch)
        watcher.start()
        time.sleep(1.0)  # a recording script, not a test: let the thread stream subscribe
        for assistant in ("agent", "failing"):
            run = client.runs.create(
                thread_id, assistant, input=INPUTS[assistant], stream_mode=["updates"]
            )
            client.runs.join(thread_id, run["run_id"])
        watcher.join(timeout=30)


RECORDINGS = ["contract-*.json", "interrupt-resume.json", "all-modes.json", "joins.json"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python", default=sys.executable, help="interpreter of the server")
    parser.add_argument("--only", choices=RECORDINGS, action="append", help="record this only")
    args = parser.parse_args()
    only = args.only or RECORDINGS
    with (
        tempfile.TemporaryDirectory() as scratch,
        _Server(args.python, _run_graphs(Path(scratch))) as server,
    ):
        version = httpx.get(f"{server.url}/info").json()["version"]
        out = HERE / version
        out.mkdir(parents=True, exist_ok=True)
        for assistant, payload in INPUTS.items() if "contract-*.json" in only else ():
            check_contract(
                server.url, assistant, input=payload, cassette=out / f"contract-{assistant}.json"
            )
        if "interrupt-resume.json" in only:
            record_resume(server.url, out / "interrupt-resume.json")
        if "all-modes.json" in only:
            record_all_modes(server.url, out / "all-modes.json")
        if "joins.json" in only:
            record_joins(server.url, out / "joins.json")
    print(f"recorded into {out}: {sorted(p.name for p in out.glob('*.json'))}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
