"""`lg-testkit diff` as a property: no real change slips through, no churn shows.

Starting from every recorded run stream (tests/data/streams: every stream mode, subgraphs,
interrupts, errors, joins, two server versions): change any value that is not volatile, in any
event, and `diff` reports it (exit 1); change only ids and timestamps, and it says
`equivalent` (exit 0). Volatile: ids, times and loopback ports (what normalisation replaces),
and the versions a server stamps into run metadata.
"""

from __future__ import annotations

import copy
import io
import json
import random
import re
import tempfile
import uuid
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lg_testkit.cassette import Cassette
from lg_testkit.diff import run
from lg_testkit.normalize import Normalizer

STREAMS = Path(__file__).parent / "data" / "streams"
SERVER_FACTS = {"langgraph_version", "langgraph_api_version", "langgraph_plan", "lc_versions"}
SERVER_FACTS |= {"user-agent"}
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
HEX32 = re.compile(r"(?<![0-9a-f])[0-9a-f]{32}(?![0-9a-f])")
ISO = re.compile(r"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(\.\d+)?")
EPOCH_MS = re.compile(r"\b1[6-9]\d{11}\b")  # ms since 1970 in this century: SSE ids, start times

Path_ = tuple[Any, ...]


@cache
def recordings() -> list[tuple[str, int]]:
    """(file, interaction) of every recorded stream with events."""
    found = []
    for path in sorted(STREAMS.glob("*/*.json")):
        for number, interaction in enumerate(Cassette.load(path).interactions):
            stream = interaction.response.stream
            if stream is not None and stream.events:
                found.append((str(path), number))
    return found


@cache
def document(path: str) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(Path(path).read_text("utf-8"))
    return result


def one_stream(path: str, number: int) -> dict[str, Any]:
    """A cassette document holding one recorded exchange."""
    whole = document(path)
    return {**whole, "interactions": [copy.deepcopy(whole["interactions"][number])]}


def leaves(value: Any, path: Path_ = ()) -> list[tuple[Path_, Any]]:
    if isinstance(value, dict):
        return [leaf for key, inner in value.items() for leaf in leaves(inner, (*path, key))]
    if isinstance(value, list):
        return [leaf for index, inner in enumerate(value) for leaf in leaves(inner, (*path, index))]
    return [(path, value)]


def volatile(path: Path_, value: Any) -> bool:
    """An id, a time, a port, or a server's version: what normalisation and diff leave out."""
    if SERVER_FACTS.intersection(part for part in path if isinstance(part, str)):
        return True
    key = path[-1] if path and isinstance(path[-1], str) else None
    return bool(Normalizer().value(value, key) != value)


def changed(value: Any) -> Any:
    if isinstance(value, bool):
        return not value
    if isinstance(value, int | float):
        return value + 1
    if isinstance(value, str):
        return value + "~"
    return "~"  # null


def set_at(data: Any, path: Path_, value: Any) -> None:
    for part in path[:-1]:
        data = data[part]
    data[path[-1]] = value


def diff(a: dict[str, Any], b: dict[str, Any]) -> tuple[int, str]:
    with tempfile.TemporaryDirectory() as folder:
        pa, pb = Path(folder) / "a.json", Path(folder) / "b.json"
        for path, doc in ((pa, a), (pb, b)):
            Cassette.from_dict(doc, str(path)).save(path)
        out = io.StringIO()
        return run(str(pa), str(pb), out), out.getvalue()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_any_real_change_in_any_event_is_reported(data: st.DataObject) -> None:
    path, number = data.draw(st.sampled_from(recordings()), label="recording")
    a = one_stream(path, number)
    items = a["interactions"][0]["response"]["stream"]["items"]
    events = [n for n, item in enumerate(items) if "event" in item and "data" in item]
    index = data.draw(st.sampled_from(events), label="event")
    candidates = [
        (where, value)
        for where, value in leaves(items[index]["data"])
        if not volatile(where, value)
    ]
    if not candidates:
        return  # e.g. a metadata event: nothing but an id
    where, value = data.draw(st.sampled_from(candidates), label="value")
    b = copy.deepcopy(a)
    item = b["interactions"][0]["response"]["stream"]["items"][index]
    item.pop("raw", None)
    if where:
        set_at(item["data"], where, changed(value))
    else:
        item["data"] = changed(value)
    code, out = diff(a, b)
    assert code == 1, f"{item['event']} {list(where)}: {value!r} -> {changed(value)!r}\n{out}"


def renewed(text: str, seed: int) -> str:
    """Every id and time in a cassette's text replaced: the same run, recorded another time."""
    rng = random.Random(seed)
    ids: dict[str, str] = {}
    shift = rng.randrange(1, 10**6)

    def new_id(match: re.Match[str]) -> str:
        old = match.group(0)
        if old not in ids:
            fresh = str(uuid.UUID(int=rng.getrandbits(128), version=4))
            ids[old] = fresh if "-" in old else fresh.replace("-", "")
        return ids[old]

    def new_time(match: re.Match[str]) -> str:
        seconds = (int(match.group(1)[-2:]) + shift) % 60
        return f"{match.group(1)[:-2]}{seconds:02d}{match.group(2) or ''}"

    text = UUID.sub(new_id, text)
    text = HEX32.sub(new_id, text)
    text = ISO.sub(new_time, text)
    return EPOCH_MS.sub(lambda m: str(int(m.group(0)) + shift), text)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(sorted(STREAMS.glob("*/*.json"))), st.integers(0, 2**32))
def test_new_ids_and_times_alone_are_equivalent(path: Path, seed: int) -> None:
    original = document(str(path))
    text = renewed(json.dumps(original), seed)
    assert text != json.dumps(original)
    code, out = diff(original, json.loads(text))
    assert code == 0, out


def test_a_changed_tool_answer_in_an_updates_only_stream_is_not_equivalent() -> None:
    """Issue 12: `updates` streams whose tool output changed printed `equivalent`."""
    path, number = next(
        (path, number)
        for path, number in recordings()
        if "0.16.7/contract-agent" in path
        and document(path)["interactions"][number]["request"].get("json", {}).get("stream_mode")
        == ["updates"]
    )
    a = one_stream(path, number)
    b = copy.deepcopy(a)
    for item in b["interactions"][0]["response"]["stream"]["items"]:
        item.pop("raw", None)
        for message in item.get("data", {}).get("tools", {}).get("messages", []):
            message["content"] = "Los Angeles: 19C and rainy."
        for message in item.get("data", {}).get("agent", {}).get("messages", []):
            if message["content"]:
                message["content"] = "It is rainy and 19C in Los Angeles today."
    code, out = diff(a, b)
    assert code == 1
    assert (
        '  - `updates` event 1: `tools.messages[0].content` is "Los Angeles: 72 degrees '
        'Fahrenheit, sunny." in A, "Los Angeles: 19C and rainy." in B'
    ) in out
    assert '`updates` event 2: `agent.messages[0].content` is "It is sunny and 72 degrees' in out


@pytest.mark.parametrize(
    "path", sorted(STREAMS.glob("*/*.json")), ids=lambda p: f"{p.parent.name}/{p.name}"
)
def test_a_recording_is_equivalent_to_itself(path: Path) -> None:
    assert diff(document(str(path)), document(str(path)))[0] == 0
