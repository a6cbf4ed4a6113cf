"""Record the stream corpus of one server version into tests/data/streams/<langgraph-api version>/.

    python tests/data/streams/record.py                          # this interpreter's server
    python tests/data/streams/record.py --python /tmp/venv-old/bin/python

`--python` runs `langgraph dev` from another environment (e.g. langgraph-api 0.2.x, pinned as
in the README's compatibility notes); recording always uses this interpreter's lg-testkit.
The test graphs of tests/graphs are run in every stream mode (lg-testkit's contract check,
with subgraphs and a resumable join), plus an interrupt resumed by command and runs with all
modes at once. Streams are recorded as they came, without validation: the tests validate them.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import httpx

from lg_testkit.contract import check_contract
from lg_testkit.devserver import DevServer
from lg_testkit.schemas import STREAM_MODES
from lg_testkit.session import CassetteSession

HERE = Path(__file__).parent
GRAPHS = HERE.parent.parent / "graphs"
QUESTION = {"messages": [{"role": "human", "content": "whats the weather in la"}]}
INPUTS = {"agent": QUESTION, "subgraph": {}, "interrupt": {}, "failing": {}}


class _Server(DevServer):
    def __init__(self, python: str) -> None:
        super().__init__(GRAPHS)
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python", default=sys.executable, help="interpreter of the server")
    args = parser.parse_args()
    with _Server(args.python) as server:
        version = httpx.get(f"{server.url}/info").json()["version"]
        out = HERE / version
        out.mkdir(parents=True, exist_ok=True)
        for assistant, payload in INPUTS.items():
            check_contract(
                server.url, assistant, input=payload, cassette=out / f"contract-{assistant}.json"
            )
        record_resume(server.url, out / "interrupt-resume.json")
        record_all_modes(server.url, out / "all-modes.json")
    print(f"recorded into {out}: {sorted(p.name for p in out.glob('*.json'))}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
