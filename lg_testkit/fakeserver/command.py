"""`lg-testkit serve PATH...`: the fake server on a port, for UIs, services and curl."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from lg_testkit.fakeserver.server import FakeServer
from lg_testkit.fakeserver.timeouts import HEADER_TIMEOUT, KEEP_ALIVE
from lg_testkit.replay.faults import CHUNKINGS, Faults, check_chunking

__all__ = ["add_serve_command"]


def add_serve_command(commands: Any) -> None:
    """Register `serve` on the CLI's subparsers."""
    serve = commands.add_parser(
        "serve",
        help="serve cassettes as a fake LangGraph server over HTTP",
        description="Replay cassettes as a LangGraph server: same answers, byte for byte, "
        "every time, to any client (Python or JS SDK, curl, a browser UI).",
    )
    serve.add_argument("paths", nargs="+", metavar="PATH", help="a cassette, or a folder of them")
    serve.add_argument(
        "--host", default="127.0.0.1", help="interface to listen on (default: %(default)s)"
    )
    serve.add_argument(
        "--port", type=int, default=2024, help="port; 0 picks a free one (default: %(default)s)"
    )
    serve.add_argument(
        "--speed",
        type=float,
        default=None,
        help="pace streams at the recorded timing divided by X (default: no delays)",
    )
    serve.add_argument(
        "--chunking",
        type=_chunking,
        default="recorded",
        help=f"how stream bytes are split: {', '.join(CHUNKINGS)} (default: %(default)s)",
    )
    serve.add_argument(
        "--drop-after", type=int, metavar="N", help="drop run streams after N events"
    )
    serve.add_argument(
        "--stall",
        metavar="N:SECONDS",
        type=_stall,
        help="pause SECONDS after event N of run streams",
    )
    serve.add_argument(
        "--heartbeat", type=float, metavar="SECONDS", help="send `: heartbeat` in longer gaps"
    )
    serve.add_argument(
        "--ignore",
        action="append",
        default=[],
        metavar="JSON_PATH",
        help="request body path to leave out of matching, e.g. config.configurable.user_id "
        "(repeatable)",
    )
    serve.add_argument(
        "--no-recover",
        action="store_true",
        help="after --drop-after, a client's reconnect finds the run gone (HTTP 404), so the "
        "client reports the error instead of recovering",
    )
    serve.add_argument(
        "--header-timeout",
        type=_seconds,
        default=HEADER_TIMEOUT,
        metavar="SECONDS",
        help="close a connection whose request headers take longer (default: %(default)s)",
    )
    serve.add_argument(
        "--keep-alive",
        type=_seconds,
        default=KEEP_ALIVE,
        metavar="SECONDS",
        help="close a connection left idle this long after a response (default: %(default)s)",
    )
    serve.add_argument("--quiet", action="store_true", help="do not log each request on stderr")
    serve.set_defaults(run=_serve)


def _seconds(value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        seconds = 0.0
    if not seconds > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {value!r}")
    return seconds


def _chunking(value: str) -> str:
    try:
        return check_chunking(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _stall(value: str) -> tuple[int, float]:
    events, _, seconds = value.partition(":")
    try:
        return int(events), float(seconds)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected N:SECONDS, e.g. 3:2.5; got {value!r}") from None


def _log(line: str) -> None:
    print(f"lg-testkit: {line}", file=sys.stderr, flush=True)


def _serve(args: argparse.Namespace) -> int:
    server = FakeServer.from_path(
        *args.paths,
        chunking=args.chunking,
        speed=args.speed,
        faults=Faults(
            drop_after=args.drop_after,
            stall=args.stall,
            heartbeat=args.heartbeat,
            recover=not args.no_recover,
        ),
        ignore=args.ignore,
        on_log=None if args.quiet else _log,
    )
    count = sum(len(c.interactions) for c in server.cassettes)
    for ambiguity in server.engine.ambiguities():
        print(
            f"lg-testkit: warning: {ambiguity}: which one a consumer gets depends on the order "
            "requests arrive; pin one with the base URL /_cassette/NAME/ or the header "
            "lg-testkit-cassette: NAME",
            file=sys.stderr,
        )

    def ready(url: str) -> None:
        print(
            f"lg-testkit: serving {len(server.cassettes)} cassette(s), {count} interactions, "
            f"at {url}",
            flush=True,
        )
        print(url, flush=True)

    try:
        server.run(
            args.host,
            args.port,
            ready=ready,
            header_timeout=args.header_timeout,
            keep_alive=args.keep_alive,
        )
    except KeyboardInterrupt:
        pass
    except OSError as exc:
        print(
            f"lg-testkit: error: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr
        )
        return 2
    return 0
