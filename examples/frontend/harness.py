"""Build the example page, serve it beside a LangGraph API on one origin, open it in Chromium.

    dist = build()                                        # npm ci (once) + npm run build
    api = FakeServer.from_path("cassettes/approve.json", speed=1).app
    with serve_page(dist, api) as url:                    # the page at /, the API under /api/
        with chromium() as browser:
            page = browser.new_page()
            page.goto(url)                                # the page's apiUrl defaults to /api

The API is any ASGI app: the fake server replaying cassettes (`FakeServer.app`), or a
`RecordingProxy` in front of a real `langgraph dev` to record them. One origin, so the browser
sends no CORS preflight and may read every response header (the JS SDK reconnects after a drop
by the `Location` header, which a cross-origin page can only read if the server exposes it).
"""

from __future__ import annotations

import contextlib
import fcntl
import mimetypes
import os
import shutil
import subprocess
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from pathlib import Path
from typing import Any

from lg_testkit.serving import serve_in_thread

__all__ = ["CHROMIUM_FLAGS", "HERE", "PageApp", "build", "chromium", "find_chromium", "serve_page"]

HERE = Path(__file__).resolve().parent
API_PREFIX = "/api"
# Headless on a machine with no display and no network but loopback: no GPU, no sandbox (root),
# and none of the background connections a closed network refuses.
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
Asgi = Callable[[Scope, Receive, Send], Awaitable[None]]


def build(folder: Path = HERE) -> Path:
    """`npm ci` where node_modules is missing or older than the lockfile, then `npm run build`.
    Returns the folder of the built page (dist/). Processes building at once take turns."""
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError("npm is not installed: the example page is built with esbuild from npm")
    installed = folder / "node_modules" / ".package-lock.json"
    lock = folder / "package-lock.json"
    with open(folder / ".build.lock", "w") as guard:  # pytest-xdist workers build one at a time
        fcntl.flock(guard, fcntl.LOCK_EX)
        if not installed.is_file() or installed.stat().st_mtime < lock.stat().st_mtime:
            _run([npm, "ci", "--no-audit", "--no-fund"], folder)
        _run([npm, "run", "build", "--silent"], folder)
    return folder / "dist"


def _run(command: list[str], folder: Path) -> None:
    done = subprocess.run(command, cwd=folder, capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed in {folder}:\n{done.stdout}{done.stderr}")


class PageApp:
    """ASGI: the files of `dist` at `/`, and `api` under `/api/` (its paths without the prefix)."""

    def __init__(self, dist: Path, api: Asgi) -> None:
        self.dist = dist.resolve()
        self.api = api

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.api(scope, receive, send)  # the recording proxy saves on shutdown
            return
        path: str = scope["path"]
        if path == API_PREFIX or path.startswith(API_PREFIX + "/"):
            inner = dict(scope, path=path[len(API_PREFIX) :] or "/")
            if "raw_path" in scope and scope["raw_path"] is not None:
                inner["raw_path"] = scope["raw_path"][len(API_PREFIX) :] or b"/"
            await self.api(inner, receive, send)
        elif scope["type"] == "http":
            await self._file(path, send)

    async def _file(self, path: str, send: Send) -> None:
        file = (self.dist / path.lstrip("/")).resolve()
        if path.endswith("/"):
            file = file / "index.html"
        if not file.is_relative_to(self.dist) or not file.is_file():
            status, body, kind = 404, f"not found: {path}\n".encode(), "text/plain"
        else:
            status, body = 200, file.read_bytes()
            kind = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
        headers = [(b"content-type", kind.encode()), (b"cache-control", b"no-store")]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


@contextlib.contextmanager
def serve_page(dist: Path, api: Asgi) -> Iterator[str]:
    """Serve `PageApp(dist, api)` on a free loopback port; yields the page's URL."""
    with serve_in_thread(PageApp(dist, api), lifespan="on") as url:
        yield url + "/"


def find_chromium() -> str | None:
    """Debian's chromium (or $CHROMIUM), or None."""
    candidates = [os.environ.get("CHROMIUM"), "chromium", "chromium-browser"]
    return next((shutil.which(c) for c in candidates if c and shutil.which(c)), None)


@contextlib.contextmanager
def chromium(executable: str | None = None) -> Iterator[Any]:
    """A headless Chromium driven by Playwright: the system's browser (`executable`, else
    `find_chromium()`), never one Playwright downloads."""
    from playwright.sync_api import sync_playwright

    executable = executable or find_chromium()
    if executable is None:
        raise RuntimeError("Chromium is not installed: apt-get install -y chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        try:
            yield browser
        finally:
            browser.close()
