"""`lg-testkit validate` and `lg-testkit contract`, as a user runs them."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from lg_testkit.cassette import Cassette
from lg_testkit.cli import main

STREAMS = Path(__file__).parent / "data" / "streams"
QUESTION = {"messages": [{"role": "human", "content": "whats the weather in la"}]}
BROKEN_BODY = (
    b": heartbeat\r\n\r\n"
    b'event: metadata\r\ndata: {"attempt":1}\r\nid: 1\r\n\r\n'
    b'event: messages\r\ndata: [{"type":"AIMessageChunk","content":"Hi"}]\r\nid: 2\r\n\r\n'
    b'event: updates\r\ndata: ["agent"]\r\nid: 1\r\n\r\n'
    b"event: feedback\r\ndata: {}\r\n\r\n"
)


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, list[str], str]:
    status = main(["validate", *args])
    captured = capsys.readouterr()
    return status, captured.out.splitlines(), captured.err


def test_the_committed_corpus_of_two_server_versions_is_valid(
    capsys: pytest.CaptureFixture[str],
) -> None:
    status, lines, err = run(capsys, str(STREAMS / "0.16.7"), str(STREAMS / "0.2.125"))
    assert (status, lines) == (0, [])
    files = len([*(STREAMS / "0.16.7").glob("*.json"), *(STREAMS / "0.2.125").glob("*.json")])
    assert f"{files} file(s)" in err and "all valid" in err


def test_a_body_saved_from_a_live_server_validates(
    capsys: pytest.CaptureFixture[str], langgraph_url: str, tmp_path: Path
) -> None:
    body = tmp_path / "run.sse"
    with (
        httpx.Client(base_url=langgraph_url, timeout=60) as client,
        client.stream(
            "POST",
            "/runs/stream",
            json={
                "assistant_id": "agent",
                "input": QUESTION,
                "stream_mode": ["updates", "messages"],
            },
        ) as response,
    ):
        body.write_bytes(b"".join(response.iter_raw()))  # what `curl -N` saves
    assert run(capsys, str(body))[:2] == (0, [])


def test_an_invalid_body_gets_one_line_per_problem_and_exit_1(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    body = tmp_path / "bad.sse"
    body.write_bytes(BROKEN_BODY)
    status, lines, _ = run(capsys, str(body))
    assert status == 1
    assert lines == [
        f"{body}:0: metadata: $: 'run_id' is a required property",
        f"{body}:1: messages: $: expected at least 2 items, found 1",
        f"{body}:2: updates: $: id '1' is lower than the previous id '2'; "
        "ids of a resumable stream never go down",
        f"{body}:2: updates: $: expected object, found array ['agent']",
        f"{body}:3: feedback: $: unknown event name 'feedback'; expected one of: metadata, "
        "values, updates, messages/metadata, messages/partial, messages/complete, messages, "
        "custom, tasks, checkpoints, debug, events, error, end",
    ]


def test_lenient_turns_unknown_events_into_warnings(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    body = tmp_path / "feedback.sse"
    body.write_bytes(
        b'event: metadata\r\ndata: {"run_id":"r"}\r\n\r\nevent: feedback\r\ndata: {}\r\n\r\n'
    )
    assert run(capsys, str(body))[0] == 1
    status, lines, _ = run(capsys, "--lenient", str(body))
    assert status == 0
    assert lines == [
        f"{body}:1: feedback: $: warning: unknown event name 'feedback'; "
        + (
            "expected one of: metadata, values, updates, messages/metadata, messages/partial, "
            "messages/complete, messages, custom, tasks, checkpoints, debug, events, error, end"
        )
    ]


def test_a_broken_cassette_names_its_interaction(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    cassette = Cassette.load(STREAMS / "0.2.125" / "contract-failing.json")
    number = next(n for n, i in enumerate(cassette.interactions) if i.response.stream)
    stream = cassette.interactions[number].response.stream
    assert stream is not None
    stream.events[1].data.pop("message")  # the error event
    cassette.save(tmp_path / "failing.json")
    status, lines, _ = run(capsys, str(tmp_path))
    assert (status, lines) == (
        1,
        [f"{tmp_path / 'failing.json'}#{number}:1: error: $: 'message' is a required property"],
    )


def test_a_thread_protocol_cassette_is_checked_too(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Recorded by `useStream` from @langchain/react: its thread log validates; a seq that goes
    back is named by thread and event."""
    recorded = Path(__file__).parents[1] / "examples" / "frontend" / "cassettes"
    status, lines, err = run(capsys, str(recorded / "threads-approve.json"))
    assert (status, lines) == (0, []) and "1 stream(s): all valid" in err

    cassette = Cassette.load(recorded / "threads-approve.json")
    thread = cassette.threads[0]
    thread.events[3].event["seq"] = thread.events[1].event["seq"]
    cassette.save(tmp_path / "broken.json")
    status, lines, _ = run(capsys, str(tmp_path / "broken.json"))
    assert status == 1
    where = f"{tmp_path / 'broken.json'}#thread {thread.thread_id}:3:"
    assert any(line.startswith(where) and "seq" in line for line in lines), lines


@pytest.mark.parametrize(
    ("content", "complaint"),
    [
        (None, "no such file"),
        (b'{"interactions": []}', "JSON but not an lg-testkit cassette"),
        (b'{"format": "lg-testkit-cassette", "version": 99, "interactions": []}', "newer"),
        (b"HTTP/1.1 500 Internal Server Error\r\n\r\noops", "neither an lg-testkit cassette nor"),
    ],
    ids=["missing", "other-json", "future-cassette", "not-sse"],
)
def test_unusable_input_exits_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, content: bytes | None, complaint: str
) -> None:
    path = tmp_path / "input.json"
    if content is not None:
        path.write_bytes(content)
    status, lines, err = run(capsys, str(path), str(STREAMS / "0.16.7" / "interrupt-resume.json"))
    assert (status, lines) == (2, [])
    assert err.startswith(f"lg-testkit: error: {path}") and complaint in err


def test_the_installed_command_prints_problems_on_stdout(tmp_path: Path) -> None:
    body = tmp_path / "bad.sse"
    body.write_bytes(BROKEN_BODY)
    done = subprocess.run(
        [sys.executable, "-m", "lg_testkit", "validate", str(body)], capture_output=True, text=True
    )
    assert done.returncode == 1
    assert done.stdout.splitlines()[0] == f"{body}:0: metadata: $: 'run_id' is a required property"


def test_contract_command_prints_a_table_per_mode(
    capsys: pytest.CaptureFixture[str], langgraph_url: str, tmp_path: Path
) -> None:
    cassette = tmp_path / "contract.json"
    status = main(
        [
            "contract",
            langgraph_url,
            "agent",
            "--input",
            json.dumps(QUESTION),
            "--modes",
            "messages-tuple",
            "custom",
            "--cassette",
            str(cassette),
        ]
    )
    out = capsys.readouterr().out.splitlines()
    assert status == 0
    assert out[1:4] == [
        "| stream mode | events seen | valid | problems |",
        "|---|---:|---:|---:|",
        out[3],
    ]
    assert out[3].startswith("| messages-tuple | ") and out[3].endswith(" | 0 |")
    assert out[4] == "| custom | 4 | 4 | 0 |"  # metadata + custom, live and joined
    assert run(capsys, str(cassette))[:2] == (0, [])


def test_contract_command_against_no_server_is_unusable_input(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["contract", "http://127.0.0.1:9", "agent", "--modes", "values"]) == 2
    assert "lg-testkit: error: http://127.0.0.1:9" in capsys.readouterr().err


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_is_drawn_on_a_terminal_and_nowhere_else() -> None:
    from lg_testkit import validate_command

    on_terminal, in_a_log = _Terminal(), io.StringIO()
    for err in (on_terminal, in_a_log):
        assert validate_command.run([str(STREAMS)], out=io.StringIO(), err=err) == 0
    files = len(list(STREAMS.rglob("*.json")))
    assert f"validating {files}/{files}" in on_terminal.getvalue()
    assert "validating" not in in_a_log.getvalue()  # CI logs stay clean
    assert in_a_log.getvalue().endswith("stream(s): all valid\n")
