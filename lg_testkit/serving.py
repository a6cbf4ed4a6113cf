"""Serving an ASGI app (the fake server, the recording proxy) with uvicorn on a loopback socket.

The socket is bound and listening before uvicorn runs, so the port is known at once (0 picks
a free one) and early connections queue instead of being refused.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any, Literal

__all__ = ["HOP_BY_HOP", "listen", "serve_in_thread", "url_of", "uvicorn_server"]

# Hop-by-hop headers (RFC 9110 7.6.1) belong to one connection: a proxy does not forward them.
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "host",
    }
)

BACKLOG = 2048
_START_TIMEOUT = 10.0


def listen(host: str = "127.0.0.1", port: int = 0) -> socket.socket:
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(BACKLOG)
    return sock


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def uvicorn_server(
    app: Any, *, lifespan: Literal["on", "off"] = "off", log_level: str = "warning", **config: Any
) -> Any:
    """A uvicorn server for `app`; `config` overrides any of uvicorn's settings below."""
    import uvicorn

    settings: dict[str, Any] = {
        "lifespan": lifespan,
        "log_level": log_level,
        "access_log": False,
        "server_header": False,
        "date_header": False,
        "timeout_graceful_shutdown": 1,
        "timeout_keep_alive": 30,  # a slow test must not lose a pooled connection mid-reuse
        "backlog": BACKLOG,
    }
    return uvicorn.Server(uvicorn.Config(app, **{**settings, **config}))


@contextlib.contextmanager
def serve_in_thread(
    app: Any,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    lifespan: Literal["on", "off"] = "off",
    log_level: str = "warning",
    **config: Any,
) -> Iterator[str]:
    """Run `app` with uvicorn in a daemon thread; yields the base URL, stops on exit.
    `config`: uvicorn settings (see `uvicorn_server`)."""
    sock = listen(host, port)
    server = uvicorn_server(app, lifespan=lifespan, log_level=log_level, **config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + _START_TIMEOUT
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.01)
    try:
        yield url_of(sock)
    finally:
        server.should_exit = True
        thread.join()
        sock.close()
