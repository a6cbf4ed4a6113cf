"""`show`, `diff`, `lg_snapshot` and normalisation on the thread-centric protocol.

The cassettes are made from the wire recordings of a real `langgraph dev` (tests/data/threads:
every byte the Python SDK's `client.threads.stream()` exchanged, over SSE and WebSocket), folded
into a cassette's `threads` form by the recorder's own code (lg_testkit.threadlog.fold). Two
recordings of one scenario (the async and the sync SDK, minutes apart) differ in every id,
event id, timestamp and token timing, and nothing else: `diff` calls them equivalent. And, as
for run streams (test_diff_property.py): any value changed in any event, command or reply is
reported; new ids and times alone are not.
"""

from __future__ import annotations

import copy
import io
import json
import tempfile
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_diff_property import changed, leaves, renewed, set_at, volatile

from lg_testkit.cassette import Cassette
from lg_testkit.diff import run as diff_run
from lg_testkit.normalize import fold_thread_events, normalize_thread, normalize_thread_events
from lg_testkit.show import run as show_run
from lg_testkit.snapshot import StreamSnapshotExtension
from lg_testkit.threadlog import TimedExchange, fold

pytest_plugins = ["pytester"]

DATA = Path(__file__).parent / "data" / "threads"
PYTHON = DATA / "0.16.7"
CAPTURES = sorted([*PYTHON.glob("*.json"), *(DATA / "js-1.5.x").glob("*.json")])
ANSWER = "It is sunny and 72 degrees in Los Angeles today."


# -- wire recordings as cassettes --------------------------------------------------------------


def _exchanges(capture: dict[str, Any]) -> list[TimedExchange]:
    """The capture's commands and subscriptions (SSE, or a WebSocket's event frames) as the
    recorder sees them."""
    out = []
    for exchange in capture["exchanges"]:
        request, response = exchange["request"], exchange.get("response") or {}
        body = request.get("body")
        try:
            request_json = json.loads(body) if isinstance(body, str) and body else None
        except ValueError:
            request_json = None
        headers = {name.lower(): value for name, value in response.get("headers", [])}
        text = "".join(chunk for _, chunk in response.get("chunks", []))
        chunks = [(t - request["t"], chunk.encode()) for t, chunk in response.get("chunks", [])]
        reply = None
        if response.get("status") == 101:  # a WebSocket: its event frames, as SSE blocks
            chunks = [
                (frame["t"] - request["t"], f"data: {frame['data']}\n\n".encode())
                for frame in exchange.get("frames", [])
                if frame["from"] == "server" and '"type":"event"' in frame.get("data", "")
            ]
            headers, request_json = {"content-type": "text/event-stream"}, {}
        elif "event-stream" not in headers.get("content-type", ""):
            try:
                reply = json.loads(text)
            except ValueError:
                reply = None
        status = 200 if response.get("status") == 101 else response.get("status", 0)
        method = "POST" if response.get("status") == 101 else request["method"]
        out.append(
            TimedExchange(
                request["t"],
                method,
                request["target"],
                request_json,
                status,
                headers,
                reply,
                chunks,
            )
        )
    return out


@cache
def document(name: str) -> dict[str, Any]:
    """A cassette document (as `Cassette.to_dict`) of the named capture's threads."""
    path = next(p for p in CAPTURES if f"{p.parent.name}/{p.stem}" == name or p.stem == name)
    capture = json.loads(path.read_text("utf-8"))
    threads = [t for t in fold(_exchanges(capture)) if t.events or t.commands]
    meta = {"server": capture["server"].get("info")}
    result: dict[str, Any] = Cassette([], meta, None, threads).to_dict()
    return result


def cassette_file(tmp_path: Path, name: str, doc: dict[str, Any] | None = None) -> Path:
    path = tmp_path / f"{name.replace('/', '_')}.json"
    Cassette.from_dict(doc or document(name), str(path)).save(path)
    return path


def diff(a: dict[str, Any], b: dict[str, Any]) -> tuple[int, str]:
    with tempfile.TemporaryDirectory() as folder:
        pa, pb = (cassette_file(Path(folder), n, d) for n, d in (("a", a), ("b", b)))
        out = io.StringIO()
        return diff_run(str(pa), str(pb), out), out.getvalue()


def show(path: Path, colour: str = "never") -> str:
    out = io.StringIO()
    assert show_run(str(path), colour=colour, out=out) == 0
    return out.getvalue()


# -- show --------------------------------------------------------------------------------------


def test_show_prints_each_command_and_its_events_with_messages_folded(tmp_path: Path) -> None:
    text = show(cassette_file(tmp_path, "events_async_sse"))
    lines = text.splitlines()
    assert lines[0].startswith("#0 thread ")
    assert "run.start threads_agent input {" in lines[0]
    assert lines[0].endswith(
        "-> 200  run "
        + document("events_async_sse")["threads"][0]["commands"][0]["reply"]["result"]["run_id"]
    )  # noqa: E501
    rows = [" ".join(line.split()[1:]) for line in lines[1:]]
    assert rows[0] == "lifecycle running threads_agent"
    assert rows[-1] == "lifecycle completed threads_agent"
    assert 'messages ai: tool call get_weather({"query":"weather in los angeles"})' in rows
    assert f'messages ai: "{ANSWER}" (19 deltas)' in rows, "19 token deltas, one row"
    assert 'tools started get_weather({"query":"weather in los angeles"})' in rows
    assert "tools finished call_weather_1 -> Los Angeles: 72 degrees Fahrenheit, sunny." in rows
    assert 'custom {"progress":"answering"}' in rows
    assert not any("content-block-delta" in row for row in rows)


def test_show_marks_the_interrupt_the_answer_and_a_failure(tmp_path: Path) -> None:
    text = show(cassette_file(tmp_path, "interrupt_events_async_sse"))
    interrupt = document("interrupt_events_async_sse")["threads"][0]["commands"][1]
    interrupt_id = interrupt["command"]["params"]["interrupt_id"]
    assert f'input.requested interrupt {interrupt_id}: {{"question":"deploy to prod?"}}' in (
        " ".join(text.split())
    )
    assert "lifecycle interrupted threads_interrupt" in " ".join(text.split())
    assert f'input.respond {{"approved":true}} to interrupt {interrupt_id}  -> 200' in text
    coloured = show(cassette_file(tmp_path, "interrupt_events_async_sse"), "always")
    assert "\x1b[1;33minput.requested" in coloured, "an interrupt stands out"

    failing = show(cassette_file(tmp_path, "failing_events_async_sse"), "always")
    assert "\x1b[1;31mlifecycle" in failing and "failed threads_failing: boom" in failing


def test_show_folds_subgraph_messages_under_their_namespace(tmp_path: Path) -> None:
    rows = [
        " ".join(line.split()[1:])
        for line in show(cassette_file(tmp_path, "subgraphs_async_sse")).splitlines()
    ]  # noqa: E501
    assert any(
        row.startswith("messages|research:")
        and row.endswith('ai: "Found three sources." (5 deltas)')
        for row in rows
    ), rows


def test_show_html_draws_the_thread(tmp_path: Path) -> None:
    page = tmp_path / "t.html"
    out = io.StringIO()
    assert (
        show_run(str(cassette_file(tmp_path, "two_turns_async_sse")), html=str(page), out=out) == 0
    )
    assert out.getvalue().startswith(f"{page}: timeline of 0 interactions, 2 protocol commands")
    html = page.read_text()
    assert ANSWER in html and "run.start threads_agent" in html


# -- normalisation and snapshots ---------------------------------------------------------------


def test_deltas_fold_into_the_message_and_volatile_values_go() -> None:
    thread = document("events_async_sse")["threads"][0]
    view = normalize_thread(thread)
    assert view["thread_id"] == "<id:1>"
    assert view["runs"][0]["reply"] == {
        "type": "success",
        "result": {"run_id": "<id:2>"},
        "meta": {"applied_through_seq": "<seq>"},
    }
    events = view["runs"][0]["events"]
    messages = [e["data"] for e in events if e["method"] == "messages"]
    assert [m["content"] for m in messages][-1] == [{"type": "text", "text": ANSWER}]
    assert all(m["event"] == "message" for m in messages)
    text = json.dumps(view)
    for volatile_key in ('"seq"', '"event_id"', '"timestamp"'):
        assert volatile_key not in text
    assert thread["thread_id"] not in text


def test_a_message_cut_before_its_end_keeps_what_streamed() -> None:
    log = [e["event"] for e in document("events_async_sse")["threads"][0]["events"]]
    cut = next(
        n
        for n, e in enumerate(log)
        if e["params"]["data"].get("text") == "sunny"
        or (e["params"]["data"].get("delta") or {}).get("text") == "sunny"
    )  # noqa: E501
    folded = fold_thread_events(log[: cut + 1])
    assert folded[-1]["data"]["content"] == [{"type": "text", "text": "It is sunny"}]
    assert folded[-1]["data"]["unfinished"] is True


def test_snapshot_of_live_events_survives_new_ids_and_token_splits() -> None:
    log = [e["event"] for e in document("events_async_sse")["threads"][0]["events"]]
    again = [e["event"] for e in document("events_sync_sse")["threads"][0]["events"]]
    extension = StreamSnapshotExtension()
    reply = {"type": "success", "id": 1, "result": {"subscription_id": "x"}}  # WebSocket
    assert extension.serialize([reply, *log]) == extension.serialize(again)
    changed_log = copy.deepcopy(log)
    for event in changed_log:
        delta = event["params"]["data"].get("delta")
        if delta and delta.get("text") == "sunny":
            delta["text"] = "rainy"
    assert extension.serialize(changed_log) != extension.serialize(log)
    assert '"text": "It is rainy and 72' in extension.serialize(changed_log)


def test_lg_snapshot_stores_a_thread_by_meaning(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    source = pytester.path / "cassette.json"
    Cassette.from_dict(document("events_async_sse"), str(source)).save(source)
    pytester.makepyfile(
        """
        from lg_testkit import Cassette

        def test_thread(lg_snapshot):
            assert Cassette.load("cassette.json") == lg_snapshot
        """
    )
    pytester.runpytest("--snapshot-update").assert_outcomes(passed=1)
    stored = next(pytester.path.rglob("__snapshots__/**/*.json")).read_text()
    assert '"text": "It is sunny and 72 degrees in Los Angeles today."' in stored
    assert '"method": "run.start"' in stored and '"seq"' not in stored
    renewed_doc = json.loads(renewed(json.dumps(document("events_async_sse")), 7))
    Cassette.from_dict(renewed_doc, str(source)).save(source)
    pytester.runpytest().assert_outcomes(passed=1)
    broken = copy.deepcopy(renewed_doc)
    broken["threads"][0]["events"][-1]["event"]["params"]["data"]["event"] = "failed"
    Cassette.from_dict(broken, str(source)).save(source)
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(['*"event": "failed"*'])


# -- diff --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("events_async_sse", "events_sync_sse"),
        ("events_async_sse", "events_async_ws"),
        ("interrupt_events_async_sse", "interrupt_events_sync_ws"),
        ("failing_events_async_sse", "failing_events_sync_sse"),
    ],
)
def test_two_recordings_of_one_scenario_are_equivalent(a: str, b: str) -> None:
    code, out = diff(document(a), document(b))
    assert (code, out.splitlines()[-1]) == (0, "equivalent (1 file compared)"), out


def test_a_different_answer_a_failure_and_a_missing_turn_are_reported() -> None:
    a = document("events_async_sse")
    b = copy.deepcopy(a)
    for event in b["threads"][0]["events"]:
        data = event["event"]["params"]["data"]
        if (data.get("delta") or {}).get("text") == "sunny":
            data["delta"]["text"] = "rainy"
        if (data.get("content") or {}).get("text") == ANSWER:
            data["content"]["text"] = ANSWER.replace("sunny", "rainy")
    b["threads"][0]["events"][-1]["event"]["params"]["data"].update(event="failed", error="boom")
    code, out = diff(a, b)
    assert code == 1
    assert (
        f'  - `messages` event 1: `content[0].text` is "{ANSWER}" in A, '
        f'"{ANSWER.replace("sunny", "rainy")}" in B\n'
    ) in out
    assert '`lifecycle` event 1: `event` is "completed" in A, "failed" in B' in out
    assert "in thread #0 command 0 (run.start)" in out

    code, out = diff(document("two_turns_async_sse"), document("events_async_sse"))
    assert code == 1 and "thread #0: command 1 only in A: run.start" in out


@cache
def thread_values() -> list[tuple[str, int, str, int]]:
    """(capture, thread, part, index) of every event and command."""
    found = []
    for path in CAPTURES:
        name = f"{path.parent.name}/{path.stem}"
        for t, thread in enumerate(document(name)["threads"]):
            found += [(name, t, "events", n) for n in range(len(thread["events"]))]
            found += [(name, t, "commands", n) for n in range(len(thread["commands"]))]
    return found


def _changeable(part: str, item: dict[str, Any]) -> list[tuple[tuple[Any, ...], Any]]:
    """Leaves of an event (its params, but the timestamp) or of a command and its reply (but
    the client's counter id and the seq it was applied through)."""
    if part == "events":
        params = item["event"]["params"]
        return [
            (("event", "params", *where), value)
            for where, value in leaves(params)
            if where[:1] != ("timestamp",) and not volatile(where, value)
        ]
    return [
        ((side, *where), value)
        for side in ("command", "reply")
        for where, value in leaves(item[side])
        if where not in (("id",), ("meta", "applied_through_seq")) and not volatile(where, value)
    ]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_any_real_change_in_any_thread_event_or_command_is_reported(data: st.DataObject) -> None:
    name, t, part, index = data.draw(st.sampled_from(thread_values()), label="event or command")
    a = document(name)
    candidates = _changeable(part, a["threads"][t][part][index])
    if not candidates:
        return
    where, value = data.draw(st.sampled_from(candidates), label="value")
    b = copy.deepcopy(a)
    set_at(b["threads"][t][part][index], where, changed(value))
    code, out = diff(a, b)
    assert code == 1, (
        f"{name} {part}[{index}] {list(where)}: {value!r} -> {changed(value)!r}\n{out}"
    )


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(CAPTURES), st.integers(0, 2**32))
def test_new_ids_seqs_and_times_alone_are_equivalent(path: Path, seed: int) -> None:
    original = document(f"{path.parent.name}/{path.stem}")
    text = renewed(json.dumps(original), seed)
    assert text != json.dumps(original)
    changed_doc = json.loads(text)
    for thread in changed_doc["threads"]:  # another server numbers its log and commands anew
        for event in thread["events"]:
            event["event"]["seq"] += 1000
            event["event"]["event_id"] = f"other-{event['event']['event_id']}"
        for command in thread["commands"]:
            for side in ("command", "reply"):
                if isinstance(command[side], dict) and type(command[side].get("id")) is int:
                    command[side]["id"] += 100
    code, out = diff(original, changed_doc)
    assert code == 0, out


@pytest.mark.parametrize("path", CAPTURES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_a_thread_recording_is_equivalent_to_itself(path: Path) -> None:
    doc = document(f"{path.parent.name}/{path.stem}")
    assert diff(doc, doc)[0] == 0


def test_normalize_thread_events_takes_what_the_sdk_hands_out() -> None:
    log = [e["event"] for e in document("interrupt_events_async_sse")["threads"][0]["events"]]
    view = normalize_thread_events(log)
    assert [e["method"] for e in view][:3] == ["lifecycle", "checkpoints", "values"]
    requested = next(e for e in view if e["method"] == "input.requested")
    assert requested["data"]["interrupt_id"].startswith("<id:")
