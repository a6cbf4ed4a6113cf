"""Contract check of a live server: run one assistant in every stream mode and validate it all.

    lg-testkit contract http://127.0.0.1:2024 agent --input '{"messages": [...]}'
    lg-testkit contract URL approver --input '{}' --resume '"yes"' --input '{"more": 1}'

For each stream mode, on a new thread: each step of the scenario (by default one run with
`--input`; `--input`, `--resume` and `--command` add runs in the order given: a new turn, a
resume after an interrupt, any command) is a run streamed with `stream_subgraphs` and
`stream_resumable`, then joined from its first event (`Last-Event-ID: -1`), which should replay
what the live stream sent. Every event is checked as `validate_stream` does; the result is a
table of events seen, valid events and problems per mode. `check_contract` returns the same
figures to Python callers (`steps=[{"input": ...}, {"command": {"resume": ...}}]`);
`cassette=` also saves the exchanges, recorded by lg-testkit.

    lg-testkit contract URL agent --protocol threads --input '{...}' --resume '{"approved": true}'

checks the thread-centric protocol instead (`check_thread_contract`): on a thread of its own,
each step is a command (`run.start` with the input; `input.respond` to the interrupt the run
before asked, for `--resume`), then a subscription to every channel from after the last event
seen, read until the run ends at the root; every command, reply and event is checked against
the protocol's schemas and stream rules (lg_testkit.thread_validation).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import httpx

from lg_testkit.cassette import Cassette, StreamItem
from lg_testkit.protocol import STREAM_MODES
from lg_testkit.recorder import Capture, RecordingTransport, interactions_of
from lg_testkit.redaction import Redaction
from lg_testkit.validation import Problem, validate_stream

__all__ = [
    "THREAD_CHANNELS",
    "ModeReport",
    "check_contract",
    "check_thread_contract",
    "format_table",
    "run_command",
]

# Every channel langgraph-api's thread protocol delivers (a subscription names what it wants).
THREAD_CHANNELS = (
    "lifecycle",
    "values",
    "updates",
    "messages",
    "tools",
    "custom",
    "input",
    "checkpoints",
    "tasks",
)
_RUN_ENDS = frozenset({"completed", "failed", "interrupted"})


@dataclass
class ModeReport:
    """What one stream mode produced: events seen (live stream and join), valid ones, problems."""

    mode: str
    events: int = 0
    valid: int = 0
    problems: list[Problem] = field(default_factory=list)


def check_contract(
    url: str,
    assistant_id: str,
    *,
    input: Any = None,
    steps: Sequence[Mapping[str, Any]] | None = None,
    modes: Sequence[str] = STREAM_MODES,
    subgraphs: bool = True,
    join: bool = True,
    strict: bool = True,
    cassette: str | Path | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 120.0,
) -> list[ModeReport]:
    """Run `assistant_id` in each stream mode on the server at `url`; one report per mode.

    `steps` are the runs of a scenario on one thread, each a part of the run's body (`input`,
    or `command` such as `{"resume": ...}`); by default one run with `input`.
    """
    runs = [dict(step) for step in steps] if steps is not None else [{"input": input}]
    captures: list[Capture] = []
    redaction = Redaction()  # one per recording: collects the credentials masked in flight
    transport = RecordingTransport(httpx.HTTPTransport(), captures, redaction=redaction)
    reports = []
    with httpx.Client(
        base_url=url, transport=transport, headers=headers, timeout=timeout
    ) as client:
        info = client.get("/info")
        for mode in modes:
            report = ModeReport(mode)
            reports.append(report)
            thread = client.post("/threads", json={})
            thread.raise_for_status()
            thread_id = thread.json()["thread_id"]
            for number, step in enumerate(runs, 1):
                body = {
                    "assistant_id": assistant_id,
                    **step,
                    "stream_mode": [mode],
                    "stream_subgraphs": subgraphs,
                    "stream_resumable": join,
                }
                suffix = f" {number}" if len(runs) > 1 else ""  # `values run 2`, `values join 2`
                runs_path = f"/threads/{thread_id}/runs/stream"
                live = _stream(client, captures, "POST", runs_path, json=body)
                settings = {"modes": [mode], "subgraphs": subgraphs, "strict": strict}
                _check(report, live, f"{mode} run{suffix}", **settings)
                run_id = _run_id(live)
                if join and run_id is not None:
                    joined = _stream(
                        client,
                        captures,
                        "GET",
                        f"/threads/{thread_id}/runs/{run_id}/stream",
                        headers={"Last-Event-ID": "-1"},
                    )
                    where = f"{mode} join{suffix}"
                    _check(report, joined, where, **settings)
                    report.problems.extend(_join_differences(live, joined, where, mode))
    if cassette is not None:
        meta = {
            "lg_testkit_contract": {
                "assistant_id": assistant_id,
                "modes": list(modes),
                "steps": runs,
            },
            "recorded_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "server": info.json() if info.status_code == 200 else None,
        }
        recorded = Cassette(interactions_of(captures), meta)
        redaction.enforce(recorded, str(cassette))  # credentials and their echoes masked
        recorded.save(cassette)
    return reports


def check_thread_contract(
    url: str,
    assistant_id: str,
    *,
    steps: Sequence[Mapping[str, Any]],
    cassette: str | Path | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 120.0,
) -> ModeReport:
    """The thread-centric protocol of the server at `url`: each step (`{"input": ...}` or
    `{"command": {"resume": ...}}`) sent as a command on one new thread, its events read from a
    subscription to every channel; everything checked against the protocol's schemas."""
    from lg_testkit.thread_validation import (
        validate_command,
        validate_reply,
        validate_subscription,
    )

    captures: list[Capture] = []
    redaction = Redaction()
    transport = RecordingTransport(httpx.HTTPTransport(), captures, redaction=redaction)
    report = ModeReport("thread protocol")
    thread_id, since, interrupt = str(uuid.uuid4()), None, None
    with httpx.Client(
        base_url=url, transport=transport, headers=headers, timeout=timeout
    ) as client:
        for number, step in enumerate(steps, 1):
            where = f"thread run {number}"
            command = _thread_command(number, assistant_id, step, interrupt)
            reply = client.post(f"/threads/{thread_id}/commands", json=command)
            answer = (
                reply.json()
                if reply.headers.get("content-type", "").startswith("application/json")
                else reply.text
            )
            report.problems += validate_command(command, source=where)
            report.problems += validate_reply(
                answer, method=command["method"], status=reply.status_code, source=where
            )
            if (
                reply.status_code != 200
                or not isinstance(answer, dict)
                or answer.get("type") != "success"
            ):
                break
            body: dict[str, Any] = {"channels": list(THREAD_CHANNELS)}
            if since is not None:
                body["since"] = since
            events = _read_run(client, f"/threads/{thread_id}/stream/events", body)
            problems = validate_subscription(events, request=body, source=where)
            bad = {problem.index for problem in problems if problem.severity == "error"}
            report.events += len(events)
            report.valid += len(events) - len(bad - {None})
            report.problems += problems
            since = max((e.get("seq", 0) for e in events), default=since)
            interrupt = next(
                (
                    e["params"]["data"]
                    for e in reversed(events)
                    if e.get("method") == "input.requested"
                ),
                None,
            )
    if cassette is not None:
        from lg_testkit.recorder import split_protocol

        plain, threads = split_protocol(captures)
        meta = {
            "lg_testkit_contract": {
                "assistant_id": assistant_id,
                "protocol": "threads",
                "steps": list(steps),
            },
            "recorded_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        }
        recorded = Cassette(plain, meta, threads=threads)
        redaction.enforce(recorded, str(cassette))
        recorded.save(cassette)
    return report


def _thread_command(
    number: int, assistant_id: str, step: Mapping[str, Any], interrupt: Any
) -> dict[str, Any]:
    """The command for one step: a run of the input, or the answer to the last interrupt."""
    if "command" not in step:
        params = {"assistant_id": assistant_id, "input": step.get("input")}
        return {"id": number, "method": "run.start", "params": params}
    command = step["command"]
    if not isinstance(command, dict) or set(command) != {"resume"}:
        raise ValueError(
            f"the thread protocol's steps are --input and --resume; found the command {command!r}"
        )
    asked = interrupt if isinstance(interrupt, dict) else {}
    params = {
        "interrupt_id": asked.get("interrupt_id"),
        "namespace": asked.get("namespace", []),
        "response": command["resume"],
    }
    return {"id": number, "method": "input.respond", "params": params}


def _read_run(client: httpx.Client, path: str, body: dict[str, Any]) -> list[dict[str, Any]]:
    """The envelopes of one subscription, up to the event that ends the run at the root (a
    subscription never ends by itself: it is closed then)."""
    from lg_testkit.sse import SSEParser, sdk_json

    parser, events = SSEParser(), []
    with client.stream("POST", path, json=body) as response:
        _refuse_error(response)
        for chunk in response.iter_raw():
            for block in parser.feed(chunk):
                if not block.is_event or block.data is None:
                    continue
                envelope = sdk_json(block.data)
                events.append(envelope)
                params = envelope.get("params") or {}
                data = params.get("data") or {}
                if (
                    envelope.get("method") == "lifecycle"
                    and not params.get("namespace")
                    and data.get("event") in _RUN_ENDS
                ):
                    return events
    return events


def _stream(
    client: httpx.Client, captures: list[Capture], method: str, path: str, **kwargs: Any
) -> list[StreamItem]:
    """The events of one streamed response, as cassette stream items."""
    with client.stream(method, path, **kwargs) as response:
        _refuse_error(response)
        for _ in response.iter_raw():
            pass
    stream = captures[-1].finish(cut_short=False).response.stream
    return stream.events if stream is not None else []


def _refuse_error(response: httpx.Response) -> None:
    """An HTTPStatusError naming the request and the start of the body, unless it is a 200."""
    if response.status_code != 200:
        response.read()
        request = response.request
        raise httpx.HTTPStatusError(
            f"{request.method} {request.url.path} answered {response.status_code}: "
            f"{response.text[:300]}",
            request=request,
            response=response,
        )


def _check(report: ModeReport, events: list[StreamItem], where: str, **settings: Any) -> None:
    problems = validate_stream(events, source=where, **settings)
    bad = {problem.index for problem in problems if problem.severity == "error"}
    report.events += len(events)
    report.valid += len(events) - len(bad - {None})
    report.problems.extend(problems)


def _run_id(events: list[StreamItem]) -> str | None:
    data = events[0].data if events else None
    if events and events[0].event == "metadata" and isinstance(data, dict):
        return str(data.get("run_id"))
    return None


_JOIN_ADVICE = (
    "a client that reconnects after a dropped connection (the SDKs resume with Last-Event-ID) "
    "would not get the same stream. The events themselves are valid; if your client streams "
    "in this mode, test its reconnect against this server (or leave joins out: --no-join)."
)


def _join_differences(
    live: list[StreamItem], joined: list[StreamItem], where: str, mode: str
) -> list[Problem]:
    """A join from the start should replay the live stream's events (a warning where not)."""
    asked = (
        "expected the join from the first event (Last-Event-ID: -1) to replay the run's "
        f"{mode!r} stream"
    )
    for index, (a, b) in enumerate(zip(live, joined, strict=False)):
        if (a.event, a.data) != (b.event, b.data):
            found = f"`{b.event}`" if a.event != b.event else f"`{b.event}` with other data"
            return [
                Problem(
                    where,
                    index,
                    str(b.event),
                    "$",
                    f"{asked}; at event {index} the live stream sent `{a.event}`, the join "
                    f"{found}: {_JOIN_ADVICE}",
                    "warning",
                )
            ]
    if len(live) != len(joined):
        return [
            Problem(
                where,
                min(len(live), len(joined)),
                "-",
                "$",
                f"{asked}: the live stream sent {len(live)} events, the join "
                f"{'only ' if len(joined) < len(live) else ''}{len(joined)}: {_JOIN_ADVICE}",
                "warning",
            )
        ]
    return []


def format_table(reports: Sequence[ModeReport]) -> str:
    """A markdown table: one row per stream mode."""
    rows = ["| stream mode | events seen | valid | problems |", "|---|---:|---:|---:|"]
    for report in reports:
        errors = sum(1 for problem in report.problems if problem.severity == "error")
        rows.append(f"| {report.mode} | {report.events} | {report.valid} | {errors} |")
    return "\n".join(rows)


def _step(kind: str, value: Any) -> dict[str, Any]:
    """One run of a scenario from the command line: `--input`, `--resume` or `--command`."""
    if kind == "input":
        return {"input": value}
    return {"command": {"resume": value} if kind == "resume" else value}


def run_command(args: argparse.Namespace, out: TextIO | None = None) -> int:
    """`lg-testkit contract`: print the table and every problem; 1 when anything is invalid."""
    out = out or sys.stdout
    steps: list[dict[str, Any]] = []
    for kind, text in getattr(args, "steps", None) or [("input", None)]:
        try:
            value = json.loads(text) if text is not None else None
        except ValueError as exc:
            print(f"lg-testkit: error: --{kind} is not JSON: {exc}", file=sys.stderr)
            return 2
        steps.append(_step(kind, value))
    try:
        if getattr(args, "protocol", "runs") == "threads":
            reports = [
                check_thread_contract(args.url, args.assistant, steps=steps, cassette=args.cassette)
            ]
        else:
            reports = check_contract(
                args.url,
                args.assistant,
                steps=steps,
                modes=args.modes or STREAM_MODES,
                subgraphs=not args.no_subgraphs,
                join=not getattr(args, "no_join", False),
                strict=not args.lenient,
                cassette=args.cassette,
            )
    except (httpx.HTTPError, ValueError) as exc:
        print(f"lg-testkit: error: {args.url}: {exc}", file=sys.stderr)
        return 2
    print(f"Contract check of assistant {args.assistant!r} at {args.url}", file=out)
    print(format_table(reports), file=out)
    problems = [problem for report in reports for problem in report.problems]
    for problem in problems:
        print(problem, file=out)
    if args.cassette:
        print(f"exchanges saved to {args.cassette}", file=out)
    return 1 if any(problem.severity == "error" for problem in problems) else 0
