"""The event schemas against streams recorded from real servers, and against realistic breakage."""

from __future__ import annotations

import copy
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from lg_testkit import Cassette, validate_event, validate_stream
from lg_testkit.schemas import EVENT_SCHEMAS, SCHEMA_DIR, base_event, load_schema
from lg_testkit.validation import validate_cassette

ROOT = Path(__file__).parent.parent
STREAMS = Path(__file__).parent / "data" / "streams"
CURRENT, OLD = "0.16.7", "0.2.125"
CORPUS = sorted(STREAMS.glob("*/*.json"))


def corpus_events(version: str) -> list[dict[str, Any]]:
    events = []
    for path in sorted((STREAMS / version).glob("*.json")):
        for interaction in Cassette.load(path).interactions:
            if interaction.response.stream is not None:
                events.extend(item.to_dict() for item in interaction.response.stream.events)
    return events


def first(version: str, name: str, where: Any = None) -> Any:
    """A deep copy of the data of the first recorded `name` event (matching `where`)."""
    for event in corpus_events(version):
        if event.get("event") == name and (where is None or where(event["data"])):
            return copy.deepcopy(event["data"])
    raise LookupError(f"no {name} event in the {version} corpus")


# -- real servers ----------------------------------------------------------------------------


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_recorded_stream_validates(path: Path) -> None:
    assert validate_cassette(Cassette.load(path)) == []


@pytest.mark.parametrize("version", [CURRENT, OLD])
def test_corpus_covers_every_mode_subgraphs_interrupts_resume_and_errors(version: str) -> None:
    events = corpus_events(version)
    names = {base_event(event["event"])[0] for event in events}
    # 0.2.x servers emit no `tasks` or `checkpoints` events; no server here sends `end`.
    absent = {"end"} if version == CURRENT else {"end", "tasks", "checkpoints"}
    assert names == set(EVENT_SCHEMAS) - absent
    assert any(base_event(event["event"])[1] for event in events)  # subgraph namespaces
    assert any(
        "__interrupt__" in (event.get("data") or {})
        for event in events
        if event["event"] in ("values", "updates")
    )
    assert any(event["event"] == "error" for event in events)
    resume = Cassette.load(STREAMS / version / "interrupt-resume.json")
    bodies = [i.request.json for i in resume.interactions if i.request.method == "POST"]
    assert {"resume": "yes"} in [body.get("command") for body in bodies if body]


# -- the schema files ------------------------------------------------------------------------


@pytest.mark.parametrize("stem", sorted(p.stem for p in SCHEMA_DIR.glob("*.json")))
def test_each_schema_is_a_valid_draft_2020_12_schema(stem: str) -> None:
    schema = load_schema(stem)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)


def test_schemas_ship_inside_the_wheel(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "hatchling", "build", "-t", "wheel", "-d", str(tmp_path)],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for stem in {*EVENT_SCHEMAS.values(), "definitions"}:
        assert f"lg_testkit/schemas/{stem}.json" in names
    assert "lg_testkit/schemas/threads/event.json" in names


# -- one realistic breakage per event type ---------------------------------------------------


def _break(version: str, name: str, change: Any, where: Any = None) -> Any:
    data = first(version, name, where)
    change(data)
    return data


def _drop(key: str) -> Any:
    return lambda data: data.pop(key)


BREAKAGES = [
    # (event, broken data, JSON path, message)
    (
        "metadata",
        lambda: _break(CURRENT, "metadata", _drop("run_id")),
        "$",
        "'run_id' is a required property",
    ),
    (
        "values",
        lambda: _break(
            CURRENT,
            "values",
            lambda d: d.update(__interrupt__=[{"id": "x"}]),
            lambda d: "messages" in d,
        ),
        "$['__interrupt__'][0]",
        "'value' is a required property",
    ),
    ("updates", lambda: [first(CURRENT, "updates")], "$", "expected object, found array"),
    ("updates", lambda: {}, "$", "expected at least 1 key(s), found {}"),
    (
        "messages/metadata",
        lambda: _break(
            CURRENT,
            "messages/metadata",
            lambda d: d.update({key: {"langgraph_node": "agent"} for key in d}),
        ),
        "$['lc_run--",
        "'metadata' is a required property",
    ),  # $[message id]
    (
        "messages/partial",
        lambda: _break(CURRENT, "messages/partial", lambda d: d[0].pop("type")),
        "$[0]",
        "'type' is a required property",
    ),
    (
        "messages/complete",
        lambda: _break(CURRENT, "messages/complete", lambda d: d[0].update(content=42)),
        "$[0].content",
        "expected string or array, found number 42",
    ),
    (
        "messages",
        lambda: _break(CURRENT, "messages", lambda d: d.pop()),
        "$",
        "expected at least 2 items, found 1",
    ),
    (
        "messages",
        lambda: _break(CURRENT, "messages", lambda d: d[0].pop("type")),
        "$[0]",
        "'type' is a required property",
    ),
    (
        "messages",
        lambda: _break(
            CURRENT,
            "messages",
            lambda d: d[0]["tool_calls"][0].update(args='{"query": "weather"}'),
            lambda d: d[0]["tool_calls"],
        ),
        "$[0].tool_calls[0].args",
        "expected object, found string",
    ),
    (
        "messages/complete",
        lambda: _break(CURRENT, "messages/complete", lambda d: d[0].pop("tool_call_id")),
        "$[0]",
        "'tool_call_id' is a required property",
    ),
    ("custom", lambda: _break(CURRENT, "values", lambda d: None), None, None),  # custom is open
    (
        "tasks",
        lambda: _break(CURRENT, "tasks", _drop("name")),
        "$",
        "'name' is a required property",
    ),
    (
        "tasks",
        lambda: _break(CURRENT, "tasks", _drop("interrupts"), lambda d: "result" in d),
        "$",
        "'interrupts' is a required property",
    ),
    (
        "checkpoints",
        lambda: _break(CURRENT, "checkpoints", lambda d: d["config"].pop("configurable")),
        "$.config",
        "'configurable' is a required property",
    ),
    (
        "checkpoints",
        lambda: _break(CURRENT, "checkpoints", lambda d: d.update(next="agent")),
        "$.next",
        "expected array, found string 'agent'",
    ),
    (
        "debug",
        lambda: _break(CURRENT, "debug", _drop("step")),
        "$",
        "'step' is a required property",
    ),
    (
        "debug",
        lambda: _break(OLD, "debug", lambda d: d.update(type="checkpoint_saved")),
        "$.type",
        "expected one of ['checkpoint', 'task', 'task_result'], found 'checkpoint_saved'",
    ),
    (
        "debug",
        lambda: _break(
            CURRENT, "debug", lambda d: d["payload"].pop("triggers"), lambda d: d["type"] == "task"
        ),
        "$.payload",
        "'triggers' is a required property",
    ),
    (
        "events",
        lambda: _break(CURRENT, "events", lambda d: d.update(event="chain_start")),
        "$.event",
        "expected a string matching '^on_', found 'chain_start'",
    ),
    (
        "events",
        lambda: _break(OLD, "events", _drop("run_id")),
        "$",
        "'run_id' is a required property",
    ),
    (
        "error",
        lambda: _break(CURRENT, "error", _drop("message")),
        "$",
        "'message' is a required property",
    ),
    ("end", lambda: "done", "$", "expected null or object, found string 'done'"),
]


@pytest.mark.parametrize(
    ("event", "make", "path", "message"),
    BREAKAGES,
    ids=[f"{case[0]}-{n}" for n, case in enumerate(BREAKAGES)],
)
def test_realistic_breakage_is_rejected_with_where_and_what(
    event: str, make: Any, path: str | None, message: str | None
) -> None:
    problems = validate_event(event, make(), source="run.sse", index=3)
    if message is None:
        assert problems == []
        return
    assert problems, "the broken event was accepted"
    problem = problems[0]
    assert (problem.severity, problem.path[: len(path)]) == ("error", path)  # type: ignore[arg-type]
    assert problem.message.startswith(message), problem.message  # type: ignore[arg-type]
    assert str(problem).startswith(f"run.sse:3: {event}: {problem.path}: {message}")


def test_a_huge_invalid_value_is_quoted_briefly() -> None:
    (problem,) = validate_event("updates", ["x" * 10_000])
    assert len(problem.message) < 120


def test_namespaced_event_names_use_the_schema_of_their_mode() -> None:
    broken = [{"role": "human"}]  # an updates event must be keyed by node
    (problem,) = validate_event("updates|sub:91beded7-01f2|inner:5c2b", broken)
    assert problem.event == "updates|sub:91beded7-01f2|inner:5c2b"
    assert problem.message.startswith("expected object, found array")


# -- stream rules ----------------------------------------------------------------------------


def _stream(*events: tuple[str, Any] | tuple[str, Any, str]) -> list[tuple[Any, ...]]:
    return [("metadata", {"run_id": "r1", "attempt": 1}), *events]


def messages(version: str = CURRENT) -> Any:
    return first(version, "messages")


def test_metadata_must_come_first() -> None:
    (problem,) = validate_stream([("values", {"x": 1})], modes=["values"], source="s")
    assert (
        str(problem) == "s:0: values: $: expected `metadata` (with the run_id) as the first event"
    )


def test_events_of_a_mode_that_was_not_requested_are_rejected() -> None:
    stream = _stream(("values", {}), ("messages", messages()))
    (problem,) = validate_stream(stream, modes=["values"], source="s")
    assert str(problem) == (
        "s:2: messages: $: an event of stream mode 'messages-tuple', which was not requested "
        "(stream_mode: ['values'])"
    )
    assert validate_stream(stream, modes=["values", "messages-tuple"]) == []


def test_old_servers_interrupt_values_event_is_accepted_in_any_mode() -> None:
    interrupt = first(OLD, "values", lambda d: "__interrupt__" in d)
    assert validate_stream(_stream(("values", interrupt)), modes=["debug"]) == []


def test_subgraph_events_need_stream_subgraphs() -> None:
    stream = _stream(("updates|sub:91be", {"inner": {}}))
    (problem,) = validate_stream(stream, modes="updates", subgraphs=False, source="s")
    assert str(problem) == (
        "s:1: updates|sub:91be: $: a subgraph event, but stream_subgraphs was not requested"
    )
    assert validate_stream(stream, modes="updates", subgraphs=True) == []


def test_ids_of_a_resumable_stream_never_go_down() -> None:
    stream = [
        ("metadata", {"run_id": "r"}, "1795493884790-0"),
        ("values", {}, "1795493884793-0"),
        ("values", {}, "1795493884793-0"),  # 0.16.x repeats an id within one millisecond
        ("values", {}, "1795493884792-0"),
    ]
    (problem,) = validate_stream(stream, source="s")
    assert str(problem) == (
        "s:3: values: $: id '1795493884792-0' is lower than the previous id '1795493884793-0'; "
        "ids of a resumable stream never go down"
    )
    assert validate_stream([("metadata", {"run_id": "r"}, "9"), ("values", {}, "10")]) == []


def test_nothing_may_follow_an_error() -> None:
    stream = _stream(("error", {"error": "ValueError", "message": "boom"}), ("values", {}))
    (problem,) = validate_stream(stream, source="s")
    assert str(problem) == "s:2: values: $: no event may follow `error` (event 1)"


def test_unknown_event_names_are_errors_when_strict_and_warnings_when_lenient() -> None:
    stream = _stream(("feedback", {"key": "x"}))
    (strict,) = validate_stream(stream, source="s")
    (lenient,) = validate_stream(stream, source="s", strict=False)
    assert strict.severity == "error" and lenient.severity == "warning"
    assert str(lenient).startswith("s:1: feedback: $: warning: unknown event name 'feedback'")


def test_data_that_is_not_json_is_rejected_for_a_known_event() -> None:
    items = [{"event": "metadata", "data": {"run_id": "r"}}, {"event": "values", "text": "{oops"}]
    (problem,) = validate_stream(items, source="s")
    assert str(problem) == "s:1: values: $: expected JSON data, found none or text that is not JSON"


def test_sdk_stream_parts_validate_directly() -> None:
    from langgraph_sdk.schema import StreamPart

    parts = [StreamPart("metadata", {"run_id": "r"}), StreamPart("messages", messages())]
    assert validate_stream(parts, modes=["messages-tuple"]) == []


def test_a_recorded_stream_broken_by_hand_is_reported_at_its_cassette_interaction(
    tmp_path: Path,
) -> None:
    cassette = Cassette.load(STREAMS / CURRENT / "contract-agent.json")
    number, interaction = next(
        (n, i)
        for n, i in enumerate(cassette.interactions)
        if i.request.json and i.request.json.get("stream_mode") == ["messages-tuple"]
    )
    assert interaction.response.stream is not None
    events = interaction.response.stream.events
    events[4].data[0].pop("type")
    cassette.save(tmp_path / "broken.json")
    problems = validate_cassette(Cassette.load(tmp_path / "broken.json"))
    assert [str(p) for p in problems] == [
        f"{tmp_path / 'broken.json'}#{number}:4: messages: $[0]: 'type' is a required property"
    ]
