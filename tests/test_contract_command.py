"""`lg-testkit contract` with scenarios of several runs, and warnings a user can act on."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import secret_scenario as scenario

from lg_testkit.cassette import Cassette
from lg_testkit.cli import main
from lg_testkit.contract import check_contract
from lg_testkit.serving import serve_in_thread
from lg_testkit.validation import validate_cassette

QUESTION = {"messages": [{"role": "human", "content": "whats the weather in la"}]}


def test_an_interrupt_resumed_by_command_and_a_second_turn(
    capsys: pytest.CaptureFixture[str], langgraph_url: str, tmp_path: Path
) -> None:
    cassette = tmp_path / "steps.json"
    args = ["contract", langgraph_url, "interrupt", "--input", "{}", "--resume", '"yes"']
    args += ["--input", "{}", "--modes", "values", "updates", "--cassette", str(cassette)]
    status = main(args)
    out = capsys.readouterr().out
    assert status == 0, out
    recorded = Cassette.load(cassette)
    runs = [i for i in recorded.interactions if i.request.method == "POST" and i.request.json]
    bodies = [i.request.json for i in runs if "stream_mode" in (i.request.json or {})]
    assert [(b["stream_mode"], b.get("input"), b.get("command")) for b in bodies] == [
        (["values"], {}, None),
        (["values"], None, {"resume": "yes"}),
        (["values"], {}, None),
        (["updates"], {}, None),
        (["updates"], None, {"resume": "yes"}),
        (["updates"], {}, None),
    ]
    # each mode's runs share one thread: the resume finished the interrupted run
    threads = {b_path for b_path in (i.request.path for i in runs) if b_path.endswith("/stream")}
    assert len(threads) == 2
    resumed = next(
        i for i in runs if (i.request.json or {}).get("command") and "values" in str(i.request.json)
    )
    assert resumed.response.stream is not None
    assert resumed.response.stream.events[-1].data == {"answer": "yes"}
    assert validate_cassette(recorded) == []


def test_the_join_warning_says_what_was_expected_and_what_to_do(
    capsys: pytest.CaptureFixture[str], langgraph_url: str
) -> None:
    """langgraph-api 0.16.7 replays only `metadata` when a `messages`-mode run is joined."""
    args = ["contract", langgraph_url, "agent", "--input", json.dumps(QUESTION)]
    assert main([*args, "--modes", "messages"]) == 0  # a warning, not a failure
    out = capsys.readouterr().out
    warning = next(line for line in out.splitlines() if ": warning: " in line)
    assert warning.startswith("messages join:1: -: $: warning: expected the join from the first ")
    assert "(Last-Event-ID: -1) to replay the run's 'messages' stream: the live stream sent " in (
        warning
    )
    assert ", the join only 1: a client that reconnects after a dropped connection" in warning
    assert warning.endswith("(or leave joins out: --no-join).")

    assert main([*args, "--modes", "messages", "--no-join"]) == 0
    assert "warning" not in capsys.readouterr().out


def test_a_step_that_is_not_json_is_unusable_input(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["contract", "http://127.0.0.1:9", "a", "--input", "{}", "--resume", "yes"]) == 2
    assert "lg-testkit: error: --resume is not JSON" in capsys.readouterr().err


# -- credentials never reach the cassette ---------------------------------------------------------


@pytest.fixture(scope="module")
def echo_url() -> Iterator[str]:
    """tests/secret_scenario.py's stand-in server, which echoes every credential it is sent."""
    with serve_in_thread(scenario.echo_app) as url:
        yield url


def _leaked(text: str, *placements: str) -> list[str]:
    """Which of these placements' secrets are in the text."""
    return [name for name in placements if scenario.SECRETS[name] in text]


def test_contract_cassette_masks_credentials_the_run_sent_and_the_server_echoed(
    capsys: pytest.CaptureFixture[str], echo_url: str, tmp_path: Path
) -> None:
    """A credential in the scenario's input, echoed back in the stream, and a `Set-Cookie`
    answer: none of them is written, each is `<redacted>` where it was."""
    key = scenario.SECRETS["config.configurable.openai_api_key"]
    question = {**QUESTION, "openai_api_key": key}
    cassette = tmp_path / "contract.json"
    args = ["contract", echo_url, "agent", "--input", json.dumps(question), "--modes", "values"]
    main([*args, "--no-join", "--cassette", str(cassette)])
    capsys.readouterr()
    text = cassette.read_text("utf-8")
    recorded = Cassette.load(cassette)
    create, run = (i for i in recorded.interactions if i.request.method == "POST")
    assert create.response.headers["set-cookie"] == "<redacted>"
    assert run.request.json["input"]["openai_api_key"] == "<redacted>"
    assert run.response.stream is not None
    echoed = [e.data for e in run.response.stream.events if e.event == "values"][0]["echo"]
    assert '"openai_api_key": "<redacted>"' in echoed[-1]  # the request body, echoed as text
    sent = ["config.configurable.openai_api_key", "set-cookie"]  # what this run carried
    assert _leaked(json.dumps(scenario.SECRETS), *sent) == sent  # (the check can fail)
    assert _leaked(text, *sent) == []


def test_contract_from_python_masks_the_credential_headers_it_sends(
    echo_url: str, tmp_path: Path
) -> None:
    headers = {**scenario.HEADERS, "x-api-key": scenario.SECRETS["x-api-key"]}
    cassette = tmp_path / "contract.json"
    check_contract(
        echo_url, "agent", modes=["values"], join=False, headers=headers, cassette=cassette
    )
    text = cassette.read_text("utf-8")
    run = Cassette.load(cassette).interactions[-1]
    assert run.request.headers["x-api-key"] == "<redacted>"
    assert run.request.headers["authorization"] == "<redacted>"
    # the headers came back inside the stream (echo, config, metadata): masked there too
    assert text.count("<redacted>") > len(headers)
    sent = ["x-api-key", "authorization", "cookie", "x-langsmith-api-key", "api-key"]
    sent += ["x-openai-api-key", "set-cookie"]
    assert _leaked(text, *sent) == []


def test_the_thread_protocol_contract_runs_an_interrupt_and_its_answer(
    capsys: pytest.CaptureFixture[str], langgraph_url: str, tmp_path: Path
) -> None:
    """`--protocol threads`: `run.start`, then `input.respond` to the interrupt the run asked,
    every event of both runs checked against the protocol's schemas; the cassette replays."""
    cassette = tmp_path / "threads.json"
    args = ["contract", langgraph_url, "threads_interrupt", "--protocol", "threads"]
    args += ["--input", '{"question": "ship it?"}', "--resume", '{"approved": true}']
    status = main([*args, "--cassette", str(cassette)])
    out = capsys.readouterr().out
    assert status == 0, out
    assert "| thread protocol |" in out and "| 0 |" in out
    recorded = Cassette.load(cassette)
    (thread,) = recorded.threads
    assert [c.command["method"] for c in thread.commands] == ["run.start", "input.respond"]
    assert thread.commands[1].command["params"]["interrupt_id"]  # the one the run asked
    ends = [
        e.event["params"]["data"]["event"]
        for e in thread.events
        if e.event["method"] == "lifecycle" and not e.event["params"]["namespace"]
    ]
    assert ends[-1] == "completed" and "interrupted" in ends
    assert validate_cassette(recorded) == []


def test_the_thread_protocol_contract_reports_a_broken_server(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A stand-in that answers `run.start` and streams an event missing its `seq`."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Route

    async def command(request: Request) -> JSONResponse:
        sent = await request.json()
        result = {"run_id": "01a2122f-76a6-72d4-ac1e-77c58742f045"}
        return JSONResponse({"type": "success", "id": sent["id"], "result": result, "meta": {}})

    async def events(request: Request) -> Response:
        bad = {"type": "event", "event_id": "1", "method": "lifecycle"}
        bad["params"] = {"namespace": [], "timestamp": 1, "data": {"event": "completed"}}
        body = f"event: lifecycle\r\ndata: {json.dumps(bad)}\r\nid: 1\r\n\r\n"
        return Response(body, media_type="text/event-stream")

    app = Starlette(
        routes=[
            Route("/threads/{thread}/commands", command, methods=["POST"]),
            Route("/threads/{thread}/stream/events", events, methods=["POST"]),
        ]
    )
    with serve_in_thread(app, log_level="critical") as url:
        status = main(["contract", url, "agent", "--protocol", "threads", "--input", "{}"])
    out = capsys.readouterr().out
    assert status == 1, out
    assert "thread run 1:0: lifecycle" in out and "'seq' is a required property" in out


def test_the_thread_protocol_contract_refuses_a_step_it_cannot_send(
    capsys: pytest.CaptureFixture[str],
) -> None:
    args = ["contract", "http://127.0.0.1:9", "agent", "--protocol", "threads"]
    status = main([*args, "--command", '{"goto": "end"}'])
    err = capsys.readouterr().err
    assert status == 2
    assert "steps are --input and --resume; found the command {'goto': 'end'}" in err
