"""Raw wire captures of the thread-centric protocol: a recording TCP relay and its reader.

    relay = Relay("127.0.0.1", 2024).start()      # listens on relay.url, forwards to the server
    ...drive any client (Python SDK, JS SDK, curl) at relay.url...
    connections = relay.stop()
    exchanges = assemble(connections, t0=relay.t0)   # HTTP exchanges and WebSocket frames

The relay copies bytes both ways unchanged and notes every read with its arrival time, so the
capture holds exactly what the server sent, in the chunks and at the moments it arrived (the
relay adds one local hop). `assemble` parses the bytes afterwards: HTTP/1.1 with h11 (requests,
responses, each chunk of a chunked body with its time), then RFC 6455 frames after a
`101 Switching Protocols` (unmasked, permessage-deflate inflated). Standalone: it needs only
h11 (an httpx dependency) and the standard library.

A fault can be injected: `Relay(..., drop=DropRule(needle=b'"values"', after_events=8))` cuts
the first connection whose request bytes contain `needle` once the server has sent
`after_events` SSE events on it (both sockets aborted), as a network drop would.

The capture file's shape is documented in README.md beside this file.
"""

from __future__ import annotations

import asyncio
import base64
import bisect
import contextlib
import struct
import threading
import time
import zlib
from dataclasses import dataclass, field
from typing import Any

import h11

__all__ = ["DropRule", "Relay", "RawConnection", "assemble", "sse_events"]


@dataclass
class DropRule:
    needle: bytes  # found in the client's bytes of the connection to cut
    after_events: int  # SSE events (b"\nevent: " / b"event: " at a block start) sent before the cut
    done: bool = False


@dataclass
class RawConnection:
    id: int
    opened: float
    reads: list[tuple[float, str, bytes]] = field(
        default_factory=list
    )  # (t, "client"|"server", bytes)
    eof: dict[str, float] = field(default_factory=dict)  # side -> t its bytes ended
    dropped: float | None = None  # t the relay cut it (DropRule)
    stopped: bool = False  # still open when the relay stopped, so cut by it
    closed: float | None = None


class Relay:
    """A TCP relay on 127.0.0.1 that records every byte, in a thread of its own."""

    def __init__(self, host: str, port: int, *, drop: DropRule | None = None) -> None:
        self.upstream = (host, port)
        self.drop = drop
        self.connections: list[RawConnection] = []
        self.t0 = time.monotonic()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.base_events.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def now(self) -> float:
        return time.monotonic() - self.t0

    def start(self) -> Relay:
        self._thread.start()
        future = asyncio.run_coroutine_threadsafe(self._listen(), self._loop)
        future.result(10)
        self.t0 = time.monotonic()
        return self

    async def _listen(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    def open_count(self) -> int:
        return sum(1 for c in self.connections if c.closed is None)

    def stop(self, grace: float = 3.0) -> list[RawConnection]:
        """Wait up to `grace` seconds for clients to close, then cut the rest and stop."""
        deadline = time.monotonic() + grace
        while self.open_count() and time.monotonic() < deadline:
            time.sleep(0.05)

        async def shutdown() -> None:
            assert self._server is not None
            self._server.close()
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(shutdown(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        return self.connections

    async def _handle(self, creader: asyncio.StreamReader, cwriter: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        conn = RawConnection(id=len(self.connections), opened=self.now())
        self.connections.append(conn)
        try:
            ureader, uwriter = await asyncio.open_connection(*self.upstream)
        except OSError:
            cwriter.close()
            conn.closed = self.now()
            self._tasks.discard(task)
            return
        client_bytes = bytearray()
        events_seen = 0
        cut = asyncio.Event()

        async def pump(
            reader: asyncio.StreamReader, writer: asyncio.StreamWriter, side: str
        ) -> None:
            nonlocal events_seen
            try:
                while True:
                    data = await reader.read(65536)
                    if not data:
                        break
                    conn.reads.append((self.now(), side, data))
                    if side == "client":
                        client_bytes.extend(data)
                    writer.write(data)
                    await writer.drain()
                    rule = self.drop
                    watched = side == "server" and rule is not None and not rule.done
                    if watched and rule.needle in client_bytes:
                        events_seen += data.count(b"event: ")
                        if events_seen >= rule.after_events:
                            rule.done = True
                            conn.dropped = self.now()
                            cut.set()
                            return
            except (ConnectionError, OSError):
                pass
            finally:
                conn.eof.setdefault(side, self.now())
                with contextlib.suppress(Exception):
                    if writer.can_write_eof():
                        writer.write_eof()

        pumps = [
            asyncio.ensure_future(pump(creader, uwriter, "client")),
            asyncio.ensure_future(pump(ureader, cwriter, "server")),
        ]
        cutter = asyncio.ensure_future(cut.wait())
        try:
            done, _ = await asyncio.wait([*pumps, cutter], return_when=asyncio.FIRST_COMPLETED)
            if cutter in done:
                for writer in (cwriter, uwriter):
                    writer.transport.abort()
            await asyncio.gather(*pumps, return_exceptions=True)
        except asyncio.CancelledError:
            conn.stopped = True  # stop() cut a connection the client had left open
        finally:
            cutter.cancel()
            for p in pumps:
                p.cancel()
            for writer in (cwriter, uwriter):
                with contextlib.suppress(Exception):
                    writer.close()
            conn.closed = self.now()
            self._tasks.discard(task)


# -- reading the bytes back ------------------------------------------------------------------


def _text(data: bytes) -> Any:
    """UTF-8 text, or {"base64": ...} for bytes that are not."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return {"base64": base64.b64encode(data).decode("ascii")}


def _headers(headers: h11._headers.Headers) -> list[list[str]]:
    return [
        [name.decode("latin-1"), value.decode("latin-1")] for name, value in headers.raw_items()
    ]


class _Timeline:
    """Bytes of one direction with the arrival time of each read, for locating frames."""

    def __init__(self) -> None:
        self.data = bytearray()
        self.ends: list[int] = []
        self.times: list[float] = []

    def add(self, t: float, data: bytes) -> None:
        self.data.extend(data)
        self.ends.append(len(self.data))
        self.times.append(t)

    def time_at(self, offset: int) -> float:
        """Arrival time of the byte just before `offset`."""
        i = bisect.bisect_left(self.ends, offset)
        return self.times[min(i, len(self.times) - 1)]


def _round(t: float) -> float:
    return round(t, 4)


def assemble(connections: list[RawConnection], *, t0_shift: float = 0.0) -> list[dict[str, Any]]:
    """Every HTTP exchange of every connection, in the order requests arrived."""
    exchanges: list[dict[str, Any]] = []
    for conn in connections:
        exchanges.extend(_connection_exchanges(conn, t0_shift))
    exchanges.sort(key=lambda e: (e["request"]["t"], e["connection"]))
    for n, exchange in enumerate(exchanges):
        exchange["n"] = n
    return exchanges


def _connection_exchanges(conn: RawConnection, shift: float) -> list[dict[str, Any]]:
    client_reads = [(t - shift, data) for t, side, data in conn.reads if side == "client"]
    server_reads = [(t - shift, data) for t, side, data in conn.reads if side == "server"]
    requests, ws_client = _parse_requests(client_reads)
    exchanges: list[dict[str, Any]] = []
    cli = h11.Connection(h11.CLIENT)
    pending = list(requests)
    reads = iter(server_reads)
    current: dict[str, Any] | None = None
    ws_server: _Timeline | None = None

    def send_next() -> dict[str, Any] | None:
        if not pending:
            return None
        request = pending.pop(0)
        cli.send(request["_h11"])
        if request["_body"]:
            cli.send(h11.Data(data=request["_body"]))
        if request["_complete"]:
            cli.send(h11.EndOfMessage())
        exchange = {
            "connection": conn.id,
            "request": {k: v for k, v in request.items() if not k.startswith("_")},
            "response": None,
        }
        exchanges.append(exchange)
        return exchange

    current = send_next()
    last_t = 0.0
    while current is not None:
        event = cli.next_event()
        if event is h11.NEED_DATA:
            try:
                last_t, data = next(reads)
            except StopIteration:
                break
            cli.receive_data(data)
            continue
        if event is h11.PAUSED:
            if cli.our_state is h11.SWITCHED_PROTOCOL or cli.their_state is h11.SWITCHED_PROTOCOL:
                ws_server = _Timeline()
                trailing, _ = cli.trailing_data
                if trailing:
                    ws_server.add(last_t, trailing)
                for t, data in reads:
                    ws_server.add(t, data)
                break
            cli.start_next_cycle()
            current = send_next()
            continue
        if isinstance(event, h11.InformationalResponse | h11.Response):
            current["response"] = {
                "t": _round(last_t),
                "status": event.status_code,
                "reason": event.reason.decode("latin-1"),
                "headers": _headers(event.headers),
                "chunks": [],
                "end": None,
            }
            if event.status_code == 101:
                # h11 pauses after a 101 to a request that asked to upgrade
                continue
        elif isinstance(event, h11.Data):
            current["response"]["chunks"].append([_round(last_t), _text(bytes(event.data))])
        elif isinstance(event, h11.EndOfMessage):
            current["response"]["end"] = _round(last_t)
        elif isinstance(event, h11.ConnectionClosed):
            break
    client_eof = conn.eof.get("client")
    server_eof = conn.eof.get("server")
    for exchange in exchanges:
        response = exchange["response"]
        if response is not None and response["end"] is None and response["status"] != 101:
            # An open-ended response (SSE): who ended the connection, and when.
            response["closed"] = _round(
                min(x for x in (client_eof, server_eof, conn.closed) if x is not None) - shift
            )
            if conn.dropped is not None:
                response["closed_by"] = "relay-drop"
            elif conn.stopped:
                response["closed_by"] = "relay-stop"
            elif client_eof is not None and (server_eof is None or client_eof <= server_eof):
                response["closed_by"] = "client"
            else:
                response["closed_by"] = "server"
    if ws_client is not None and exchanges:
        upgrade = exchanges[-1]
        extensions = ""
        if upgrade["response"] is not None:
            for name, value in upgrade["response"]["headers"]:
                if name.lower() == "sec-websocket-extensions":
                    extensions = value
        upgrade["frames"] = _merge_frames(
            _ws_messages(ws_client, "client", extensions),
            _ws_messages(ws_server or _Timeline(), "server", extensions),
        )
        upgrade["websocket_closed"] = _round((conn.closed or 0.0) - shift)
    return exchanges


def _parse_requests(
    reads: list[tuple[float, bytes]],
) -> tuple[list[dict[str, Any]], _Timeline | None]:
    """The requests in a client byte stream; after an upgrade, the rest as WebSocket bytes."""
    requests: list[dict[str, Any]] = []
    srv = h11.Connection(h11.SERVER)
    current: dict[str, Any] | None = None
    body = bytearray()
    index = 0
    last_t = 0.0
    while True:
        event = srv.next_event()
        if event is h11.NEED_DATA:
            if index >= len(reads):
                break
            last_t, data = reads[index]
            index += 1
            srv.receive_data(data)
            continue
        if event is h11.PAUSED:
            trailing, _ = srv.trailing_data
            if current is not None and _is_upgrade(current):
                timeline = _Timeline()
                if trailing:
                    timeline.add(last_t, trailing)
                for t, data in reads[index:]:
                    timeline.add(t, data)
                return requests, timeline
            # The next request waits behind the unanswered one: parse it on a fresh connection.
            srv = h11.Connection(h11.SERVER)
            if trailing:
                srv.receive_data(trailing)
            continue
        if isinstance(event, h11.Request):
            current = {
                "t": _round(last_t),
                "method": event.method.decode("ascii"),
                "target": event.target.decode("latin-1"),
                "headers": _headers(event.headers),
                "body": "",
                "_h11": event,
                "_body": b"",
                "_complete": False,
            }
            body = bytearray()
            requests.append(current)
        elif isinstance(event, h11.Data):
            body.extend(event.data)
        elif isinstance(event, h11.EndOfMessage):
            assert current is not None
            current["body"] = _text(bytes(body))
            current["_body"] = bytes(body)
            current["_complete"] = True
        elif isinstance(event, h11.ConnectionClosed):
            break
    return requests, None


def _is_upgrade(request: dict[str, Any]) -> bool:
    return any(
        name.lower() == "upgrade" and value.lower() == "websocket"
        for name, value in request["headers"]
    )


_OPCODES = {0: "continuation", 1: "text", 2: "binary", 8: "close", 9: "ping", 10: "pong"}


def _ws_messages(timeline: _Timeline, side: str, extensions: str) -> list[dict[str, Any]]:
    """The messages in one direction of a WebSocket, fragments joined, deflate undone."""
    deflate = "permessage-deflate" in extensions
    no_takeover = f"{side}_no_context_takeover" in extensions
    inflater = zlib.decompressobj(-15)
    data = bytes(timeline.data)
    pos = 0
    messages: list[dict[str, Any]] = []
    fragments: list[bytes] = []
    first_opcode = 0
    compressed = False
    while pos + 2 <= len(data):
        b0, b1 = data[pos], data[pos + 1]
        fin, rsv1, opcode = bool(b0 & 0x80), bool(b0 & 0x40), b0 & 0x0F
        masked, length = bool(b1 & 0x80), b1 & 0x7F
        head = 2
        if length == 126:
            if pos + 4 > len(data):
                break
            (length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
            head = 4
        elif length == 127:
            if pos + 10 > len(data):
                break
            (length,) = struct.unpack(">Q", data[pos + 2 : pos + 10])
            head = 10
        mask = b""
        if masked:
            mask = data[pos + head : pos + head + 4]
            head += 4
        end = pos + head + length
        if end > len(data):
            break  # a frame cut short by the connection's end
        payload = data[pos + head : end]
        if masked:
            payload = bytes(byte ^ mask[i % 4] for i, byte in enumerate(payload))
        t = timeline.time_at(end)
        pos = end
        if opcode >= 8:  # control frames are never fragmented nor compressed
            message: dict[str, Any] = {"t": _round(t), "from": side, "opcode": _OPCODES[opcode]}
            if opcode == 8 and len(payload) >= 2:
                message["code"] = struct.unpack(">H", payload[:2])[0]
                message["reason"] = payload[2:].decode("utf-8", "replace")
            elif payload:
                message["data"] = _text(payload)
            messages.append(message)
            continue
        if opcode != 0:
            first_opcode, compressed, fragments = opcode, rsv1, []
        fragments.append(payload)
        if not fin:
            continue
        body = b"".join(fragments)
        if deflate and compressed:
            if no_takeover:
                inflater = zlib.decompressobj(-15)
            body = inflater.decompress(body + b"\x00\x00\xff\xff")
        message = {"t": _round(t), "from": side, "opcode": _OPCODES.get(first_opcode, "?")}
        if compressed:
            message["compressed"] = True
        message["data"] = _text(body)
        messages.append(message)
    return messages


def _merge_frames(*sides: list[dict[str, Any]]) -> list[dict[str, Any]]:
    merged = [m for side in sides for m in side]
    merged.sort(key=lambda m: m["t"])
    return merged


def sse_events(chunks: list[list[Any]]) -> list[dict[str, Any]]:
    """The SSE blocks in a response's chunks: {"t", "event", "id", "data", "comments"}.

    A minimal WHATWG parser (CRLF, LF or CR line ends); `t` is the arrival time of the chunk
    that completed the block; `data` is the joined data lines as text.
    """
    blocks: list[dict[str, Any]] = []
    buffer = ""
    fields: dict[str, Any] = {}
    for t, text in chunks:
        buffer += text if isinstance(text, str) else ""
        while True:
            cut = _line_end(buffer)
            if cut is None:
                break
            line, buffer = buffer[: cut[0]], buffer[cut[1] :]
            if line == "":
                if fields:
                    fields["t"] = t
                    blocks.append(fields)
                fields = {}
                continue
            if line.startswith(":"):
                fields.setdefault("comments", []).append(line[1:].lstrip(" "))
                continue
            name, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if name == "data":
                fields["data"] = f"{fields['data']}\n{value}" if "data" in fields else value
            elif name in ("event", "id", "retry"):
                fields[name] = value
    return blocks


def _line_end(text: str) -> tuple[int, int] | None:
    for i, ch in enumerate(text):
        if ch == "\n":
            return i, i + 1
        if ch == "\r":
            if i + 1 == len(text):
                return None  # maybe CRLF split across chunks
            return (i, i + 2) if text[i + 1] == "\n" else (i, i + 1)
    return None
