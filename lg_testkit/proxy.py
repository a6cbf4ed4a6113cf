"""`lg-testkit proxy`: a recording reverse proxy, for clients that cannot load a Python patch.

    lg-testkit proxy --target http://127.0.0.1:2024 --cassette cassettes/ui.json --port 2025

Point a JS/TS front end, curl or a program in any language at the proxy: every request goes to
the target, every response comes back chunk by chunk as it arrives (heartbeats included, nothing
buffered), and every exchange is recorded into an event-level cassette (the same recorder as the
pytest plugin: `lg_testkit.recorder.Capture`).

A WebSocket (the thread protocol's `transport="websocket"`: `GET /threads/{id}/stream/events`
upgraded) is relayed frame by frame both ways as each arrives. On that path it is recorded as
what it carries: each `subscription.subscribe` frame as a subscription receiving the event
frames that follow it, any other command frame with its reply as a command, folded with the
thread's HTTP commands and subscriptions into one event log per thread (lg_testkit.threadlog),
so the cassette replays over SSE or a WebSocket alike.

Crash safety. The cassette is rewritten atomically (temp file, fsync, rename) after each finished
interaction, and every `flush_interval` seconds while a stream is in flight, with the in-flight
streams included up to their last chunk and marked `cut_short`. So Ctrl-C, a crash or `kill -9`
leaves a complete, loadable cassette: everything that finished, plus open streams as far as the
last flush got. The cost is one rewrite of the file per interval while streams are open.

Redaction as everywhere (lg_testkit.redaction): credential headers, query parameters and JSON
fields masked, configured headers and JSON paths masked, and every masked or configured secret
value masked wherever the server echoes it. A configured secret left where it cannot be masked
(a path, a JSON key) is not written: the error says where it was, and the interaction holding
it is left out of the file.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import sys
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any, TextIO

import httpx

from lg_testkit.cassette import (
    Cassette,
    CassetteWriter,
    Interaction,
    RecordedResponse,
    RecordedStream,
)
from lg_testkit.cassette.writer import locked
from lg_testkit.errors import CassetteError, CassetteWriteError, SecretLeakError
from lg_testkit.progress import Progress
from lg_testkit.recorder import Capture, split_protocol
from lg_testkit.redaction import Redaction
from lg_testkit.serving import HOP_BY_HOP, listen, url_of, uvicorn_server
from lg_testkit.threadlog import is_protocol

__all__ = ["RecordingProxy", "add_proxy_command"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


class RecordingProxy:
    """An ASGI app forwarding to `target` and recording into `cassette_path`.

    `append=True` keeps the interactions already in the file. `flush_interval` (seconds) is how
    often open streams are written while they run; 0 writes only finished interactions.
    `log` receives one line per finished interaction (None: silent).
    """

    def __init__(
        self,
        target: str,
        cassette_path: str | Path,
        *,
        redaction: Redaction | None = None,
        append: bool = False,
        flush_interval: float = 0.5,
        log: TextIO | None = None,
    ) -> None:
        self.target = target.rstrip("/")
        self.path = Path(cassette_path)
        self.redaction = redaction or Redaction()
        self.flush_interval = flush_interval
        self.log = log
        existing = Cassette.load(self.path) if append and self.path.exists() else Cassette()
        self.kept, self.kept_threads = existing.interactions, existing.threads
        self.writer = CassetteWriter(self.path)  # keeps the text of finished interactions
        self.captures: list[Capture] = []  # in request order
        self.left_out: set[int] = set()  # ids of captures refused by the secret scan
        self.leaks: list[str] = []
        self.meta: dict[str, Any] = {}
        self.progress = Progress(None, "proxy", log) if log is not None else None
        self._client: httpx.AsyncClient | None = None
        self._lock = asyncio.Lock()
        self._dirty = False  # chunks arrived since the last write
        self._save_wanted = False
        self._flusher: asyncio.Task[None] | None = None
        self.write_error: CassetteWriteError | None = None  # set while writes fail
        # One writer per cassette: a second proxy (or test) on the same file fails at once.
        self._writer = contextlib.ExitStack()
        self._writer.enter_context(locked(self.path, wait=False))

    # -- ASGI ----------------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        elif scope["type"] == "http":
            await self._forward(scope, receive, send)
        elif scope["type"] == "websocket":
            await self._relay_websocket(scope, receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await self.start()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.stop()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def start(self) -> None:
        self._client = httpx.AsyncClient(timeout=httpx.Timeout(None, connect=10.0))
        self._client.headers.clear()  # forward the caller's headers only, not httpx's defaults
        from lg_testkit import __version__

        self.meta = {
            "lg_testkit": __version__,
            "recorded_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "recorded_by": "lg-testkit proxy",
            "server": await self._server_info(),
        }
        if self.flush_interval > 0:
            self._flusher = asyncio.create_task(self._flush_open_streams())

    async def stop(self) -> None:
        if self._flusher is not None:
            self._flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._flusher
        async with self._lock:  # after any write under way, one last one with everything
            self._save_wanted = False
            await self._write()
        if self._client is not None:
            await self._client.aclose()
        if self.progress is not None:
            self.progress.clear()
        self._writer.close()

    async def _server_info(self) -> Any:
        assert self._client is not None
        try:
            response = await self._client.get(f"{self.target}/info", timeout=3.0)
            return response.json() if response.status_code == 200 else None
        except (httpx.HTTPError, ValueError):
            return None

    # -- one exchange --------------------------------------------------------------------------

    async def _forward(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self._client is None:  # served without lifespan events
            await self.start()
        assert self._client is not None
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        url = self.target + scope.get("raw_path", scope["path"].encode()).decode("latin-1")
        if scope.get("query_string"):
            url += "?" + scope["query_string"].decode("latin-1")
        headers = [
            (k.decode("latin-1"), v.decode("latin-1"))
            for k, v in scope["headers"]
            if k.decode("latin-1").lower() not in HOP_BY_HOP
        ]
        request = self._client.build_request(
            scope["method"], url, headers=headers, content=bytes(body)
        )
        capture = Capture(request, redaction=self.redaction)
        try:
            response = await self._client.send(request, stream=True)
        except httpx.HTTPError as exc:
            await _plain(send, 502, f"lg-testkit proxy: cannot reach {self.target}: {exc}\n")
            return
        self.captures.append(capture)
        capture.start_response(response)
        cut_short, dropped = True, None
        try:
            await send(
                {
                    "type": "http.response.start",
                    "status": response.status_code,
                    "headers": [
                        (k, v)
                        for k, v in response.headers.raw
                        if k.lower().decode() not in HOP_BY_HOP
                    ],
                }
            )
            cut_short = not await _pump(response, capture, receive, send, self.touch)
        except OSError:  # the client went away while we wrote
            pass
        except httpx.TransportError as exc:  # upstream died mid-body: replay dies the same way
            dropped = exc
            raise
        finally:
            await response.aclose()
            capture.finish(cut_short=cut_short, dropped=dropped)
            self.report(capture)
            await self.save()

    # -- a WebSocket ---------------------------------------------------------------------------

    async def _relay_websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Relay a WebSocket to the target both ways, recording what it carries on a
        thread-protocol subscription path (lg_testkit.websocket_relay)."""
        from lg_testkit.websocket_relay import relay_websocket

        if self._client is None:  # served without lifespan events
            await self.start()
        await relay_websocket(self, scope, receive, send)

    def note(self, line: str) -> None:
        """One line on the log (credentials masked), if there is one."""
        if self.log is not None and self.progress is not None:
            self.progress.clear()
            print(self.redaction.mask_text(line), file=self.log, flush=True)

    def touch(self) -> None:
        """Chunks arrived: the next flush writes, and the progress line says so."""
        self._dirty = True
        if self.progress is not None and self.progress.enabled:  # per chunk: only on a terminal
            live = [c for c in self.captures if c.interaction is None]
            self.progress.status(
                f"recording to {self.path}: {len(self.captures)} requests, {len(live)} open, "
                f"{sum(len(c.chunks) for c in live)} chunks in flight"
            )

    def report(self, capture: Capture) -> None:
        """The log line of a finished exchange."""
        if self.log is None or capture.interaction is None:
            return
        interaction = capture.interaction
        stream = interaction.response.stream
        what = (
            f"{len(stream.events)} events"
            if stream
            else f"{sum(len(c) for _, c in capture.chunks)} bytes"
        )
        cut = ", cut short" if stream and stream.cut_short else ""
        seconds = capture.chunks[-1][0] if capture.chunks else 0.0
        assert self.progress is not None
        self.progress.clear()
        line = (
            f"#{self.captures.index(capture)} {interaction.request.label} -> "
            f"{interaction.response.status}, {what}{cut}, {seconds:.2f} s"
        )
        print(self.redaction.mask_text(line), file=self.log, flush=True)

    # -- writing -------------------------------------------------------------------------------

    async def _flush_open_streams(self) -> None:
        while True:
            await asyncio.sleep(self.flush_interval)
            if self._dirty and any(c.interaction is None and c.is_stream for c in self.captures):
                await self.save()

    def snapshot(self, *, open_streams: bool = True) -> Cassette:
        """The cassette as of now: finished interactions, and open streams as far as they got."""
        interactions: list[Interaction] = list(self.kept)
        protocol = [c for c in self.captures if is_protocol(c.request.method, c.request.path)]
        for capture in self.captures:
            if id(capture) in self.left_out or capture in protocol:
                continue
            if capture.interaction is not None:
                interactions.append(capture.interaction)
            elif capture.is_stream and open_streams:
                stream = RecordedStream.from_chunks(list(capture.chunks), cut_short=True)
                response = RecordedResponse(capture.status, dict(capture.headers), stream=stream)
                interactions.append(Interaction(capture.request, response))
        threads = split_protocol(protocol)[1]  # one event log per thread (threadlog.py)
        return Cassette(interactions, dict(self.meta), self.path, [*self.kept_threads, *threads])

    async def save(self) -> None:
        """Write the cassette atomically; an interaction holding a secret is left out.

        Saves coalesce: asked for while one is being written, the next write is just marked
        wanted, and the running writer writes once more, covering every request that asked.
        """
        self._save_wanted = True
        if self._lock.locked():
            return
        async with self._lock:
            while self._save_wanted:
                self._save_wanted = False
                await self._write()

    async def _write(self) -> None:
        self._dirty = False
        cassette = self.snapshot()
        if not cassette.interactions and not cassette.threads:
            return
        try:
            await asyncio.to_thread(self._save, cassette, self._finished())
            if self.write_error is not None and self.log is not None:
                print(f"lg-testkit proxy: {self.path} written again", file=self.log, flush=True)
            self.write_error = None
        except CassetteWriteError as exc:  # disk full, ...: say so, and try again on the next
            self.write_error, self._dirty = exc, True
            if self.log is not None:
                print(f"lg-testkit proxy: error: {exc}; retrying", file=self.log, flush=True)
        except SecretLeakError as exc:
            self._leave_out_leaks(str(exc))
            # An open stream holding the secret waits until it finishes to be left out.
            try:
                snapshot = self.snapshot(open_streams=False)
                await asyncio.to_thread(self._save, snapshot, self._finished())
            except SecretLeakError as again:  # in interactions kept from the file (--append)
                if self.log is not None and str(again) not in self.leaks:
                    print(f"lg-testkit proxy: error: {again}", file=self.log, flush=True)
                self.leaks.append(str(again))

    def _finished(self) -> set[int]:
        """Ids of the interactions that will not change any more (their text can be kept)."""
        done = {id(c.interaction) for c in self.captures if c.interaction is not None}
        return done | {id(interaction) for interaction in self.kept}

    def _save(self, cassette: Cassette, finished: set[int]) -> None:
        """`Cassette.save`, with the text of finished interactions made once and kept.

        The proxy rewrites a growing file after every exchange; re-serialising all of it each
        time made writes (and so the next events) slower as the recording grew.
        """
        for interaction in cassette.interactions:
            if not self.writer.kept(interaction):
                self.redaction.apply(interaction)
                if id(interaction) in finished:
                    self.writer.keep(interaction)
        for thread in cassette.threads:  # made afresh by each snapshot
            self.redaction.apply_thread(thread)
        document = self.writer.dumps(cassette.meta, cassette.interactions, cassette.threads)
        if self.redaction.appears_in(document):
            # A credential first seen after an interaction holding it was kept, or a secret
            # where it cannot be masked: mask everything again (then refuse what is left).
            self.writer = CassetteWriter(self.path)
            self.redaction.enforce(cassette, str(self.path))
            for interaction in cassette.interactions:
                if id(interaction) in finished:
                    self.writer.keep(interaction)
            document = self.writer.dumps(cassette.meta, cassette.interactions, cassette.threads)
        self.writer.write(document)

    def _leave_out_leaks(self, message: str) -> None:
        finished = [
            c for c in self.captures if c.interaction is not None and id(c) not in self.left_out
        ]
        leaking = []
        for capture in finished:
            assert capture.interaction is not None
            try:
                self.redaction.scan(Cassette([capture.interaction]))
            except SecretLeakError:
                self.left_out.add(id(capture))
                leaking.append(
                    self.redaction.mask_text(
                        f"#{self.captures.index(capture)} {capture.interaction.request.label}"
                    )
                )
        if leaking:
            self.leaks.append(message)
            if self.log is not None:
                print(
                    f"lg-testkit proxy: error: {message}\nLeft out of {self.path}: "
                    f"{', '.join(leaking)}",
                    file=self.log,
                    flush=True,
                )


async def _pump(
    response: httpx.Response,
    capture: Capture,
    receive: Receive,
    send: Send,
    touch: Callable[[], None],
) -> bool:
    """Pass the body through chunk by chunk; False if the client disconnected first."""

    async def forward() -> None:
        async for chunk in response.aiter_raw():
            capture.chunk(chunk)
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
            touch()
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    async def disconnected() -> None:
        while (await receive())["type"] != "http.disconnect":
            pass

    pump = asyncio.create_task(forward())
    watch = asyncio.create_task(disconnected())
    try:
        done, _ = await asyncio.wait({pump, watch}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (pump, watch):
            task.cancel()
        await asyncio.gather(pump, watch, return_exceptions=True)
    if pump in done:
        pump.result()  # re-raise an upstream or send error
        return True
    return False


async def _plain(send: Send, status: int, text: str) -> None:
    body = text.encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"text/plain; charset=utf-8")],
        }
    )
    await send({"type": "http.response.body", "body": body})


# -- the command -------------------------------------------------------------------------------


def add_proxy_command(commands: Any) -> None:
    """Register `proxy` on the CLI's subparsers."""
    proxy = commands.add_parser(
        "proxy",
        help="a reverse proxy to a LangGraph server that records every exchange into a cassette",
        description="Forward every request to --target, stream responses through as they arrive, "
        "and record them into an event-level cassette, rewritten atomically after each "
        "exchange (and while streams are open), so Ctrl-C or kill -9 leaves a usable file.",
    )
    proxy.add_argument("--target", required=True, help="the server, e.g. http://127.0.0.1:2024")
    proxy.add_argument("--cassette", required=True, help="the cassette to write")
    proxy.add_argument("--host", default="127.0.0.1", help="interface (default: %(default)s)")
    proxy.add_argument(
        "--port", type=int, default=2025, help="0 picks a free one (default: %(default)s)"
    )
    proxy.add_argument(
        "--append", action="store_true", help="keep the interactions already in the file"
    )
    proxy.add_argument(
        "--flush-interval",
        type=float,
        default=0.5,
        metavar="SECONDS",
        help="write open streams this often (default: %(default)s; 0: only finished exchanges)",
    )
    proxy.add_argument(
        "--redact-header", action="append", default=[], metavar="NAME", help="also mask this header"
    )
    proxy.add_argument(
        "--redact-json",
        action="append",
        default=[],
        metavar="PATH",
        help="mask this JSON field in bodies and stream events, e.g. request:config.configurable."
        "token (request:/response: limits the side; * matches any key, ** any depth)",
    )
    proxy.add_argument(
        "--secret",
        action="append",
        default=[],
        metavar="VALUE",
        help="mask this value wherever it appears, refuse to write it where it cannot be masked "
        "(env:NAME reads the variable NAME); repeatable",
    )
    proxy.add_argument(
        "--keep-credential-fields",
        action="store_true",
        help="do not mask JSON fields named as credentials (api_key, token, password, ...)",
    )
    proxy.set_defaults(run=_run)


def _run(args: argparse.Namespace) -> int:
    redaction = Redaction(
        args.redact_header,
        args.redact_json,
        args.secret,
        mask_credential_fields=not args.keep_credential_fields,
    )
    try:
        app = RecordingProxy(
            args.target,
            args.cassette,
            redaction=redaction,
            append=args.append,
            flush_interval=args.flush_interval,
            log=sys.stderr,
        )
    except CassetteError as exc:
        print(f"lg-testkit: error: {exc}", file=sys.stderr)
        return 2
    try:
        sock = listen(args.host, args.port)
    except OSError as exc:
        print(
            f"lg-testkit: error: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr
        )
        return 2
    print(f"lg-testkit: proxy {url_of(sock)} -> {app.target}, recording to {app.path}", flush=True)
    try:
        uvicorn_server(app, lifespan="on").run(sockets=[sock])
    except KeyboardInterrupt:
        pass
    finally:
        sock.close()
    if app.write_error is not None:
        print(f"lg-testkit: error: the cassette was not saved: {app.write_error}", file=sys.stderr)
    return 1 if app.leaks or app.write_error is not None else 0
