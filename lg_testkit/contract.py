"""Contract check of a live server: run one assistant in every stream mode and validate it all.

    lg-testkit contract http://127.0.0.1:2024 agent --input '{"messages": [...]}'

For each stream mode, on a new thread: a run streamed with `stream_subgraphs` and
`stream_resumable`, then a join of that run from its first event (`Last-Event-ID: -1`), which
must replay what the live stream sent. Every event is checked as `validate_stream` does; the
result is a table of events seen, valid events and problems per mode. `check_contract` returns
the same figures to Python callers; `cassette=` also saves the exchanges, recorded by lg-testkit.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import httpx

from lg_testkit.cassette import Cassette
from lg_testkit.recorder import Capture, RecordingTransport, interactions_of
from lg_testkit.schemas import STREAM_MODES
from lg_testkit.validation import Problem, validate_stream

__all__ = ["ModeReport", "check_contract", "format_table", "run_command"]


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
    modes: Sequence[str] = STREAM_MODES,
    subgraphs: bool = True,
    join: bool = True,
    strict: bool = True,
    cassette: str | Path | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 120.0,
) -> list[ModeReport]:
    """Run `assistant_id` once per stream mode on the server at `url`; one report per mode."""
    captures: list[Capture] = []
    transport = RecordingTransport(httpx.HTTPTransport(), captures)
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
            body = {
                "assistant_id": assistant_id,
                "input": input,
                "stream_mode": [mode],
                "stream_subgraphs": subgraphs,
                "stream_resumable": join,
            }
            live = _stream(client, captures, "POST", f"/threads/{thread_id}/runs/stream", json=body)
            _check(report, live, f"{mode} run", modes=[mode], subgraphs=subgraphs, strict=strict)
            run_id = _run_id(live)
            if join and run_id is not None:
                joined = _stream(
                    client,
                    captures,
                    "GET",
                    f"/threads/{thread_id}/runs/{run_id}/stream",
                    headers={"Last-Event-ID": "-1"},
                )
                where = f"{mode} join"
                _check(report, joined, where, modes=[mode], subgraphs=subgraphs, strict=strict)
                report.problems.extend(_join_differences(live, joined, where))
    if cassette is not None:
        meta = {
            "lg_testkit_contract": {"assistant_id": assistant_id, "modes": list(modes)},
            "recorded_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "server": info.json() if info.status_code == 200 else None,
        }
        Cassette(interactions_of(captures), meta).save(cassette)
    return reports


def _stream(
    client: httpx.Client, captures: list[Capture], method: str, path: str, **kwargs: Any
) -> list[dict[str, Any]]:
    """The events of one streamed response, as cassette stream items."""
    with client.stream(method, path, **kwargs) as response:
        if response.status_code != 200:
            response.read()
            raise httpx.HTTPStatusError(
                f"{method} {path} answered {response.status_code}: {response.text[:300]}",
                request=response.request,
                response=response,
            )
        for _ in response.iter_raw():
            pass
    stream = captures[-1].finish(cut_short=False).response.stream
    return stream.events if stream is not None else []


def _check(report: ModeReport, events: list[dict[str, Any]], where: str, **settings: Any) -> None:
    problems = validate_stream(events, source=where, **settings)
    bad = {problem.index for problem in problems if problem.severity == "error"}
    report.events += len(events)
    report.valid += len(events) - len(bad - {None})
    report.problems.extend(problems)


def _run_id(events: list[dict[str, Any]]) -> str | None:
    first = events[0] if events else {}
    data = first.get("data")
    if first.get("event") == "metadata" and isinstance(data, dict):
        return str(data.get("run_id"))
    return None


def _join_differences(
    live: list[dict[str, Any]], joined: list[dict[str, Any]], where: str
) -> list[Problem]:
    """A join from the start should replay the live stream's events (a warning where not)."""
    for index, (a, b) in enumerate(zip(live, joined, strict=False)):
        if (a.get("event"), a.get("data")) != (b.get("event"), b.get("data")):
            return [
                Problem(
                    where,
                    index,
                    str(b.get("event")),
                    "$",
                    "the join replayed a different event than the live stream sent "
                    f"({a.get('event')!r})",
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
                f"the join replayed {len(joined)} events, the live stream sent {len(live)}",
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


def run_command(args: argparse.Namespace, out: TextIO | None = None) -> int:
    """`lg-testkit contract`: print the table and every problem; 1 when anything is invalid."""
    out = out or sys.stdout
    try:
        payload = json.loads(args.input) if args.input is not None else None
    except ValueError as exc:
        print(f"lg-testkit: error: --input is not JSON: {exc}", file=sys.stderr)
        return 2
    try:
        reports = check_contract(
            args.url,
            args.assistant,
            input=payload,
            modes=args.modes or STREAM_MODES,
            subgraphs=not args.no_subgraphs,
            strict=not args.lenient,
            cassette=args.cassette,
        )
    except httpx.HTTPError as exc:
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
