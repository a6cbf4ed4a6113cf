"""The `lg-testkit` command line."""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from lg_testkit import __version__
from lg_testkit.diff import add_diff_command
from lg_testkit.errors import LgTestkitError
from lg_testkit.fakeserver.command import add_serve_command
from lg_testkit.proxy import add_proxy_command
from lg_testkit.session import use_cassette
from lg_testkit.show import add_show_command

SEED_INPUT: dict[str, Any] = {"messages": [{"role": "human", "content": "whats the weather in la"}]}


async def seed_flow(url: str, *, echo: bool = True) -> list[tuple[str, Any]]:
    """The seed notebook's two cells: print each event of a run, then keep the final answer."""
    from langgraph_sdk import get_client

    seen: list[tuple[str, Any]] = []
    async with get_client(url=url, api_key=None) as client:
        thread = await client.threads.create()
        async for chunk in client.runs.stream(thread["thread_id"], "agent", input=SEED_INPUT):
            seen.append((chunk.event, chunk.data))
            if echo:
                print(f"Receiving new event of type: {chunk.event}...")
                print(chunk.data)
                print("\n\n")
        thread = await client.threads.create()
        final_answer = None
        async for chunk in client.runs.stream(thread["thread_id"], "agent", input=SEED_INPUT):
            if chunk.event == "values":
                final_answer = chunk.data
    if echo:
        print("final_answer:", final_answer)
    seen.append(("final_answer", final_answer))
    return seen


def _demo(args: argparse.Namespace) -> int:
    from lg_testkit.demo import DEMO_DIR
    from lg_testkit.devserver import DevServer

    cassette = Path(
        args.cassette or Path(tempfile.mkdtemp(prefix="lg-testkit-demo-")) / "demo.json"
    )
    print(f"== 1. Recording the seed notebook's flow from a live `langgraph dev` ({DEMO_DIR}) ==")
    with DevServer(DEMO_DIR) as server:
        url = server.url
        with use_cassette(cassette, "all"):
            live = asyncio.run(seed_flow(url))
    print(f"== 2. Server stopped; cassette written to {cassette} ==")
    print("== 3. Replaying offline: same code, same URL, no server ==")
    with use_cassette(cassette, "none"):
        replayed = asyncio.run(seed_flow(url))
    if replayed != live:
        print("FAILED: the replay differs from the live run", file=sys.stderr)
        return 1
    events = sum(1 for name, _ in live if name != "final_answer")
    print(f"== OK: replay matched the live run ({events} events, same final answer) ==")
    return 0


def _import_vcrpy(args: argparse.Namespace) -> int:
    from lg_testkit.redaction import Redaction
    from lg_testkit.vcrpy_import import from_vcrpy

    redaction = Redaction()  # collects the credentials masked on reading, to mask their echoes
    cassette = from_vcrpy(args.source, redaction)
    redaction.enforce(cassette, str(args.dest))  # credentials masked, as in every recording
    cassette.save(args.dest)
    streams = [i.response.stream for i in cassette.interactions if i.response.stream]
    events = sum(len(stream.events) for stream in streams)
    print(
        f"{args.dest}: {len(cassette.interactions)} interactions, "
        f"{len(streams)} streams with {events} events"
    )
    return 0


def _validate(args: argparse.Namespace) -> int:
    from lg_testkit import validate_command

    return validate_command.run(args.paths, lenient=args.lenient)


class _Step(argparse.Action):
    """`contract --input/--resume/--command JSON`: one run of the scenario, kept in order."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option_string: str | None = None,
    ) -> None:
        kind = (option_string or "--input").removeprefix("--")
        setattr(namespace, self.dest, [*(getattr(namespace, self.dest) or []), (kind, values)])


def _contract(args: argparse.Namespace) -> int:
    from lg_testkit import contract

    return contract.run_command(args)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="lg-testkit", description=__doc__)
    parser.add_argument("--version", action="version", version=f"lg-testkit {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser(
        "demo", help="record the seed notebook's flow from an embedded server, then replay it"
    )
    demo.add_argument("--cassette", help="where to write the demo cassette (default: a temp dir)")
    demo.set_defaults(run=_demo)
    add_serve_command(commands)
    add_proxy_command(commands)
    add_show_command(commands)
    add_diff_command(commands)
    convert = commands.add_parser(
        "import-vcrpy", help="convert a vcrpy cassette of LangGraph traffic to an lg-testkit one"
    )
    convert.add_argument("source", help="the vcrpy cassette (.yaml or .json)")
    convert.add_argument("dest", help="the lg-testkit cassette to write")
    convert.set_defaults(run=_import_vcrpy)
    validate = commands.add_parser(
        "validate",
        help="check cassettes, folders of them or saved text/event-stream bodies against the "
        "event schemas; exit 0 valid, 1 invalid, 2 unusable input",
    )
    validate.add_argument("paths", nargs="+", metavar="PATH", help="cassette, folder or SSE body")
    validate.add_argument(
        "--lenient", action="store_true", help="report unknown event names as warnings"
    )
    validate.set_defaults(run=_validate)
    contract = commands.add_parser(
        "contract",
        help="run an assistant of a live server in every stream mode (with subgraphs and a "
        "resumable join), validate every event and print a table per mode",
    )
    contract.add_argument("url", help="the server, e.g. http://127.0.0.1:2024")
    contract.add_argument("assistant", help="assistant id or graph name, e.g. agent")
    steps = contract.add_argument_group(
        "scenario",
        "The runs made on each mode's thread, in the order given (default: one run, input "
        "null). Each is streamed, validated and joined.",
    )
    for flag, what in [
        ("--input", "a run with this input, e.g. a first question or a next turn"),
        ("--resume", 'a run resuming an interrupt with command {"resume": JSON}'),
        ("--command", 'a run with this command, e.g. {"goto": "node"}'),
    ]:
        steps.add_argument(flag, metavar="JSON", dest="steps", action=_Step, help=what)
    contract.add_argument(
        "--modes", nargs="+", metavar="MODE", help="stream modes to check (default: all)"
    )
    contract.add_argument(
        "--no-subgraphs", action="store_true", help="do not ask for subgraph events"
    )
    contract.add_argument(
        "--lenient", action="store_true", help="report unknown event names as warnings"
    )
    contract.add_argument(
        "--no-join", action="store_true", help="do not join each run from its first event"
    )
    contract.add_argument(
        "--protocol",
        choices=("runs", "threads"),
        default="runs",
        help="runs: every stream mode of runs.stream (default); threads: the thread-centric "
        "protocol (commands and a subscription to every channel)",
    )
    contract.add_argument("--cassette", help="also save every exchange to this cassette")
    contract.set_defaults(run=_contract)
    args = parser.parse_args(argv)
    try:
        return int(args.run(args))
    except LgTestkitError as exc:
        print(f"lg-testkit: error: {exc}", file=sys.stderr)
        return 2
