"""`lg-testkit diff`: recordings compared by meaning, live and across server versions."""

from __future__ import annotations

import copy
import json
import re
import shutil
from pathlib import Path
from typing import Any

import httpx
import pytest

from lg_testkit import Cassette, CassetteSession
from lg_testkit.cli import main
from lg_testkit.normalize import normalize_events
from lg_testkit.schemas import STREAM_MODES

STREAMS = Path(__file__).parent / "data" / "streams"
OLD, NEW = STREAMS / "0.2.125", STREAMS / "0.16.7"
QUESTION = {"messages": [{"role": "human", "content": "whats the weather in la"}]}
ALL_MODES = list(STREAM_MODES)
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def record_scenario(url: str, path: Path) -> None:
    """The agent in every mode, the failing graph, and the interrupt resumed: a typical suite."""
    with (
        CassetteSession(path, "all", validate="off") as session,
        httpx.Client(base_url=url, transport=session.transport(), timeout=60) as client,
    ):
        for assistant, body in [
            ("agent", {"input": QUESTION, "stream_mode": ALL_MODES, "stream_subgraphs": True}),
            ("failing", {"input": {}, "stream_mode": ["values", "updates"]}),
            ("interrupt", {"input": {}, "stream_mode": ["values", "updates"]}),
        ]:
            thread_id = client.post("/threads", json={}).json()["thread_id"]
            runs = f"/threads/{thread_id}/runs/stream"
            client.post(runs, json={"assistant_id": assistant, **body}).read()
        client.post(
            runs,
            json={
                "assistant_id": "interrupt",
                "command": {"resume": "yes"},
                "stream_mode": ["values"],
            },
        ).read()
        client.get(f"/threads/{thread_id}/state")


def diff(capsys: pytest.CaptureFixture[str], a: Path, b: Path) -> tuple[int, str]:
    code = main(["diff", str(a), str(b)])
    return code, capsys.readouterr().out


def test_two_recordings_of_the_same_scenario_are_equivalent(
    langgraph_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first, second = tmp_path / "first.json", tmp_path / "second.json"
    record_scenario(langgraph_url, first)
    record_scenario(langgraph_url, second)
    assert first.read_text() != second.read_text()  # ids, times and chunking all differ

    code, out = diff(capsys, first, second)
    assert code == 0, out
    assert out.splitlines()[-1] == "equivalent (1 file compared)"


def test_upgrade_from_0_2_to_0_16_lists_the_real_differences_only(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out = diff(capsys, OLD / "contract-agent.json", NEW / "contract-agent.json")
    assert code == 1
    assert "(langgraph-api 0.2.125)" in out and "(langgraph-api 0.16.7)" in out
    expected = [
        # modes 0.2.x did not have
        "event `tasks` added in B (B sent 6)",
        "event `checkpoints` added in B (B sent 5)",
        # messages-tuple with subgraphs: 0.2.x namespaced every chunk by its task
        "event `messages|agent:<id>` missing in B (A sent 2)",
        "event `messages` added in B (B sent 3)",
        # serialized messages lost `example`; chunks gained `chunk_position`
        "`values`: field `data.messages[].example` removed in B (was boolean)",
        "`events`: field `data.data.chunk.chunk_position` added in B (string)",
        # run metadata no longer echoes request headers
        "`messages/metadata`: field `data.<id>.metadata.x-request-id` removed in B (was string)",
        # debug task results changed shape
        "`debug`: field `data.payload.result` changed type: array in A, object in B",
    ]
    for line in expected:
        assert f"  - {line}\n" in out
    # Nothing about churn: no raw ids, no token counts, no timing, no outcome changes.
    assert not UUID.search(out)
    assert "sent 22 times" not in out and "sent 25" not in out
    assert "final state" not in out and " is " not in out.replace("this is", "")


def _chunked_again(cassette: Cassette) -> Cassette:
    """The same run with every AI token split in two and all ids renewed: pure churn."""
    text = cassette.dumps()
    for old in sorted(set(UUID.findall(text))):
        text = text.replace(old, "0f" + old[2:])
    document = json.loads(text)
    for interaction in document["interactions"]:
        stream = interaction["response"].get("stream")
        if not stream:
            continue
        items: list[dict[str, Any]] = []
        for item in stream["items"]:
            data = item.get("data")
            chunk = data[0] if item.get("event") == "messages" and isinstance(data, list) else None
            if chunk and chunk.get("type") == "AIMessageChunk" and len(chunk["content"]) > 1:
                half = len(chunk["content"]) // 2
                first, second = copy.deepcopy(item), copy.deepcopy(item)
                first["data"][0]["content"] = chunk["content"][:half]
                second["data"][0]["content"] = chunk["content"][half:]
                items += [first, second]
            else:
                items.append(item)
        stream["items"] = items
    return _from_document(document)


def _from_document(document: dict[str, Any]) -> Cassette:
    return Cassette.from_dict(document, "edited.json")


def test_rechunked_tokens_and_new_ids_are_not_differences(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    original = Cassette.load(NEW / "contract-agent.json")
    churned = _chunked_again(original)
    churned.save(tmp_path / "churned.json")
    tokens = lambda c: sum(  # noqa: E731
        len(i.response.stream.items) for i in c.interactions if i.response.stream
    )
    assert tokens(churned) > tokens(original)

    code, out = diff(capsys, NEW / "contract-agent.json", tmp_path / "churned.json")
    assert code == 0, out


def test_a_changed_answer_and_a_dropped_field_are_reported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    document = json.loads((NEW / "contract-agent.json").read_text())
    values_stream = document["interactions"][2]["response"]["stream"]["items"]
    final = values_stream[-1]["data"]["messages"][-1]
    final["content"] = "It is raining in Los Angeles."
    for item in values_stream:
        for message in item.get("data", {}).get("messages", []):
            message.pop("response_metadata", None)
    _from_document(document).save(tmp_path / "changed.json")

    code, out = diff(capsys, NEW / "contract-agent.json", tmp_path / "changed.json")
    assert code == 1
    differences = [line for line in out.splitlines() if line.startswith("  - ")]
    assert differences == [
        "  - `values`: field `data.messages[].response_metadata` removed in B (was object)",
        '  - final state: `messages[3].content` is "It is sunny and 72 degrees in Los Angeles '
        'today." in A, "It is raining in Los Angeles." in B',
    ]


def test_folders_are_compared_file_by_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old, new = tmp_path / "old", tmp_path / "new"
    for folder, source in [(old, OLD), (new, NEW)]:
        (folder / "agent").mkdir(parents=True)
        shutil.copy(source / "contract-agent.json", folder / "agent" / "run.json")
        shutil.copy(NEW / "contract-interrupt.json", folder / "same.json")
    shutil.copy(NEW / "contract-failing.json", new / "failing.json")

    code, out = diff(capsys, old, new)
    assert code == 1
    assert "failing.json:\n  - file only in B" in out
    assert "agent/run.json:\n  - " in out
    assert "same.json" not in out
    assert out.splitlines()[-1].endswith("in 2 file(s): not equivalent")


def test_unusable_input_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "bad.json").write_text("{}")
    assert main(["diff", str(tmp_path / "bad.json"), str(NEW / "contract-agent.json")]) == 2
    assert "expected format 'lg-testkit-cassette'" in capsys.readouterr().err


def test_normalize_events_folds_tokens_and_replaces_ids() -> None:
    cassette = Cassette.load(NEW / "contract-agent.json")
    tuple_stream = next(
        i.response.stream
        for i in cassette.interactions
        if i.response.stream
        and i.request.json
        and i.request.json.get("stream_mode") == ["messages-tuple"]
    )
    assert tuple_stream is not None
    events = normalize_events(tuple_stream.items)
    assert [e["event"] for e in events] == ["metadata", "messages", "messages", "messages"]
    answer = events[-1]["data"][0]
    assert answer["content"] == "It is sunny and 72 degrees in Los Angeles today."
    assert answer["id"] == "<id:8>" and events[0]["data"]["run_id"] == "<id:1>"
    assert events[0]["id"] == "<sse-id>"
    assert not UUID.search(json.dumps(events))
    assert normalize_events(tuple_stream.items) == events  # stable: usable for snapshots
