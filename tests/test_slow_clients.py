"""The fake server over HTTP under slow or silent clients (slowloris): every such connection is
closed within a bound, and normal clients are served all the while.

`FakeServer.serve(header_timeout=..., keep_alive=...)` with short timeouts; raw sockets that
send nothing, a few bytes of headers, or headers one byte at a time (each byte well within any
per-read timeout: only a deadline for the whole headers stops them), or that finish a request
and then sit idle or trickle the next one. Bounds are generous: the machine may be loaded.
"""

from __future__ import annotations

import selectors
import socket
import threading
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pytest

from lg_testkit import FakeServer
from lg_testkit.cassette import (
    Cassette,
    Interaction,
    RecordedRequest,
    RecordedResponse,
    RecordedStream,
)
from lg_testkit.cli import main

HEADER_TIMEOUT = 1.0
KEEP_ALIVE = 1.0
BOUND = 30.0  # every slow connection must be closed by then (the timeouts are 1 s)
INFO = {"version": "0.0-test", "flags": {}}
SLOW_STREAM = [  # a run whose second event comes 2.5 s after the first: longer than the timeouts
    (0.0, b'event: metadata\r\ndata: {"run_id":"r1","attempt":1}\r\n\r\n'),
    (2.5, b'event: values\r\ndata: {"messages":[]}\r\n\r\n'),
]


def _server() -> FakeServer:
    info = Interaction(RecordedRequest("GET", "/info"), RecordedResponse(200, json=INFO))
    stream = RecordedStream.from_chunks(SLOW_STREAM)
    run = Interaction(
        RecordedRequest("POST", "/runs/stream", json={"assistant_id": "agent"}),
        RecordedResponse(200, {"content-type": "text/event-stream"}, stream=stream),
    )
    return FakeServer([Cassette([info, run])], speed=1.0, validate="off")


@pytest.fixture
def url() -> Iterator[str]:
    with _server().serve(header_timeout=HEADER_TIMEOUT, keep_alive=KEEP_ALIVE) as base:
        yield base


def _connect(url: str) -> socket.socket:
    parts = urlsplit(url)
    sock = socket.create_connection((parts.hostname, parts.port), timeout=BOUND)
    sock.setblocking(False)
    return sock


def _wait_closed(
    socks: list[socket.socket], trickle: dict[socket.socket, bytes], deadline: float
) -> list[socket.socket]:
    """Read until each socket is closed by the server; `trickle` sockets send one more byte of
    their headers every 0.2 s meanwhile. Returns the sockets still open at the deadline."""
    selector = selectors.DefaultSelector()
    for sock in socks:
        selector.register(sock, selectors.EVENT_READ)
    open_ = set(socks)
    next_byte = time.monotonic()
    while open_ and time.monotonic() < deadline:
        for key, _ in selector.select(timeout=0.1):
            sock = key.fileobj
            assert isinstance(sock, socket.socket)
            try:
                data = sock.recv(65536)
            except ConnectionResetError:
                data = b""
            if not data:  # the server closed it
                selector.unregister(sock)
                open_.discard(sock)
        if time.monotonic() >= next_byte:
            next_byte += 0.2
            for sock in list(open_ & set(trickle)):
                rest = trickle[sock]
                if rest:
                    try:
                        sock.send(rest[:1])
                    except OSError:
                        continue
                    trickle[sock] = rest[1:]
    selector.close()
    return sorted(open_, key=id)


REQUEST = b"GET /info HTTP/1.1\r\nHost: lg\r\n\r\n"
ENDLESS_HEADERS = b"GET /info HTTP/1.1\r\nHost: lg\r\n" + b"X-Slow: " + b"a" * 10_000


def _normal_client(url: str, results: list[object]) -> None:
    """A normal client: a read, a stream longer than the timeouts (its headers came in time),
    another read; appends what it got, or the error."""
    try:
        with httpx.Client(base_url=url, timeout=BOUND) as client:
            results.append(client.get("/info").json())
            with client.stream("POST", "/runs/stream", json={"assistant_id": "agent"}) as r:
                results.append(b"".join(r.iter_raw()))
            results.append(client.get("/info").json())
    except Exception as exc:  # reported by the test
        results.append(exc)


def test_silent_and_slow_connections_are_closed_while_normal_clients_are_served(
    url: str,
) -> None:
    silent = [_connect(url) for _ in range(80)]  # connect, send nothing
    partial = [_connect(url) for _ in range(60)]  # a few bytes of headers, then nothing
    for sock in partial:
        sock.send(b"GET /info HTTP/1.1\r\nHost: lg\r\n")
    trickling = [_connect(url) for _ in range(40)]  # headers one byte every 0.2 s, forever
    idle_after = [_connect(url) for _ in range(10)]  # one request answered, then nothing
    next_slow = [_connect(url) for _ in range(10)]  # one request, then the next one trickles
    for sock in idle_after + next_slow:
        sock.send(REQUEST)
    slow = silent + partial + trickling + idle_after + next_slow
    trickle = dict.fromkeys(trickling + next_slow, ENDLESS_HEADERS)

    results: list[object] = []
    client = threading.Thread(target=_normal_client, args=(url, results))
    client.start()
    try:
        still_open = _wait_closed(slow, trickle, time.monotonic() + BOUND)
        client.join(BOUND)
        assert results == [INFO, b"".join(chunk for _, chunk in SLOW_STREAM), INFO]
        assert len(still_open) == 0, (
            f"{len(still_open)} of {len(slow)} slow connections still open after {BOUND} s"
        )
        assert all(trickle[sock] for sock in trickling + next_slow)  # cut long before the end
    finally:
        for sock in slow:
            sock.close()


def test_a_stream_outlasting_the_timeouts_is_not_cut(url: str) -> None:
    """The deadline covers a request's headers only: a response may take as long as it takes."""
    with httpx.Client(base_url=url, timeout=BOUND) as client:
        for _ in range(2):  # the second on a connection kept alive by the first
            with client.stream("POST", "/runs/stream", json={"assistant_id": "agent"}) as r:
                assert b"".join(r.iter_raw()) == b"".join(chunk for _, chunk in SLOW_STREAM)


def test_serve_takes_the_timeouts_from_the_command_line(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["serve", "x.json", "--header-timeout", "0"])
    assert "--header-timeout: expected a positive number of seconds, got '0'" in (
        capsys.readouterr().err
    )
    with pytest.raises(SystemExit):
        main(["serve", "--help"])
    out = capsys.readouterr().out
    assert "--header-timeout SECONDS" in out and "--keep-alive SECONDS" in out
