"""Run a real `langgraph dev` server in a subprocess, for recording and for tests.

    with DevServer("path/to/app") as server:   # the folder holding langgraph.json
        client = get_client(url=server.url)

The server runs the in-memory runtime of `langgraph-cli[inmem]`, from the current interpreter,
fully offline: LangSmith tracing, CLI analytics and the PyPI version check are switched off and
LangSmith keys are not passed on, so it starts with no network and no keys.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import IO

from lg_testkit.errors import DevServerError

__all__ = ["DevServer"]

HOST = "127.0.0.1"

# Set for the server: nothing it does should need the network.
OFFLINE_ENV = {
    "LANGSMITH_TRACING": "false",
    "LANGSMITH_TRACING_V2": "false",
    "LANGCHAIN_TRACING_V2": "false",
    "LANGCHAIN_TRACING": "false",
    "LANGGRAPH_CLI_NO_ANALYTICS": "1",  # else the CLI posts each command to its analytics
    "LANGGRAPH_NO_VERSION_CHECK": "true",  # else the server asks PyPI for newer versions
    "PYTHONUNBUFFERED": "1",  # so the log shows the port line as soon as it is printed
}
# Removed for the server: with a LangSmith key it verifies licences and sends usage metadata.
UNSET_ENV = (
    "LANGSMITH_API_KEY",
    "LANGCHAIN_API_KEY",
    "LANGSMITH_CONTROL_PLANE_API_KEY",
    "LANGGRAPH_CLOUD_LICENSE_KEY",
)

# `langgraph dev` moves to another port when the one asked for is taken, and says so:
#   "Port 2024 is already in use, using port 36111 instead."
#   "- 🚀 API: http://127.0.0.1:36111"
_PORT_LINES = (
    re.compile(r"using port (\d+) instead"),
    re.compile(r"API: (?:\x1b\[[0-9;]*m)?https?://[^\s:]+:(\d+)"),
)
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_LOG_TAIL_LINES = 40
_STOP_TIMEOUT = 10.0
_POLL_INTERVAL = 0.1


class DevServer:
    """A `langgraph dev` subprocess serving the graphs of one `langgraph.json` folder.

    `port=None` picks a free port. The log goes to a temporary file outside `graph_dir`
    (a file written inside it would wake the file watcher). `start()` returns once
    `GET /ok` answers, or raises `DevServerError` with the command and the log's tail.
    `env` adds or overrides environment variables of the server.

    `langgraph dev` keeps threads and runs in a `.langgraph_api/` folder in its working
    directory. With `isolated=True` (the default) that directory is a scratch folder of
    symlinks to the entries of `graph_dir`, removed by `stop()`: every server starts empty,
    servers on the same folder do not share a store, and `graph_dir` may be read-only.
    Paths in langgraph.json must then stay inside `graph_dir`; for one that points outside
    (e.g. `"dependencies": [".."]`) pass `isolated=False` to run in `graph_dir` itself.
    """

    def __init__(
        self,
        graph_dir: Path | str,
        *,
        port: int | None = None,
        startup_timeout: float = 120.0,
        env: Mapping[str, str] | None = None,
        isolated: bool = True,
    ) -> None:
        self.graph_dir = Path(graph_dir).resolve()
        self.port = port
        self.startup_timeout = startup_timeout
        self.extra_env = dict(env or {})
        self.isolated = isolated
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None
        self._scratch: tempfile.TemporaryDirectory[str] | None = None
        self._cwd = self.graph_dir

    @property
    def url(self) -> str:
        """Base URL of the running server, e.g. `http://127.0.0.1:36111`."""
        if self._process is None or self.port is None:
            raise DevServerError(f"the dev server for {self.graph_dir} is not running")
        return f"http://{HOST}:{self.port}"

    @property
    def command(self) -> list[str]:
        """The command line that starts the server."""
        return [
            sys.executable,
            "-m",
            "langgraph_cli",
            "dev",
            "--no-browser",
            "--no-reload",
            "--host",
            HOST,
            "--port",
            str(self.port),
            "--config",
            "langgraph.json",  # in the working directory: graph_dir or its scratch mirror
        ]

    @property
    def log_path(self) -> Path | None:
        """Where the server's stdout and stderr go, once started."""
        return Path(self._log.name) if self._log is not None else None

    def start(self) -> DevServer:
        """Start the server and wait until it answers `GET /ok`."""
        if self._process is not None:
            return self
        if not (self.graph_dir / "langgraph.json").is_file():
            raise DevServerError(
                f"expected a langgraph.json in {self.graph_dir}, found none: "
                "DevServer needs the folder that `langgraph dev` would be run in"
            )
        if self.port is None:
            self.port = _free_port()
        self._log = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed in stop()
            prefix="lg-testkit-devserver-", suffix=".log", delete=False
        )
        began = time.monotonic()
        self._cwd = self._working_dir()
        self._process = subprocess.Popen(
            self.command,
            cwd=self._cwd,  # `langgraph dev` resolves graph paths from its cwd
            env=self._environment(),
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # own process group, so stop() reaches its children
        )
        try:
            self._wait_until_ready(began + self.startup_timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Terminate the server's process group; kill it if it does not exit in time."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            _signal_group(process, signal.SIGTERM)
            try:
                process.wait(_STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                _signal_group(process, signal.SIGKILL)
                process.wait()
        if process is not None:
            # Children left behind by a server that exited on its own.
            _signal_group(process, signal.SIGKILL)
        if self._scratch is not None:
            self._scratch.cleanup()  # removes the symlinks, never what they point to
            self._scratch = None
        if self._log is not None:
            self._log.close()
            Path(self._log.name).unlink(missing_ok=True)  # its tail is in any error raised
            self._log = None

    def __enter__(self) -> DevServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = f"url={self.url!r}" if self._process is not None else "stopped"
        return f"DevServer({str(self.graph_dir)!r}, {state})"

    def _working_dir(self) -> Path:
        """Where the server runs: `graph_dir`, or a fresh mirror of it when isolated."""
        if not self.isolated:
            return self.graph_dir
        self._scratch = tempfile.TemporaryDirectory(prefix="lg-testkit-devserver-")
        work = Path(self._scratch.name)
        for entry in self.graph_dir.iterdir():
            if entry.name != ".langgraph_api":  # a store left by a non-isolated run
                (work / entry.name).symlink_to(entry)
        return work

    def _environment(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in UNSET_ENV}
        env.update(OFFLINE_ENV)
        env.update(self.extra_env)
        return env

    def _wait_until_ready(self, deadline: float) -> None:
        assert self._process is not None
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise self._error(f"exited with code {self._process.returncode} before serving")
            self.port = self._announced_port() or self.port
            if _answers_ok(self.url):
                return
            time.sleep(_POLL_INTERVAL)
        raise self._error(f"did not answer GET /ok within {self.startup_timeout:g} s")

    def _announced_port(self) -> int | None:
        """The port `langgraph dev` says it listens on, if it has said so yet."""
        for line in reversed(self._log_lines()):
            for pattern in _PORT_LINES:
                if match := pattern.search(line):
                    return int(match.group(1))
        return None

    def _log_lines(self) -> list[str]:
        if self.log_path is None:
            return []
        text = self.log_path.read_bytes().decode("utf-8", errors="replace")
        return _ANSI.sub("", text).splitlines()

    def _error(self, what: str) -> DevServerError:
        tail = "\n".join(self._log_lines()[-_LOG_TAIL_LINES:]) or "(empty)"
        return DevServerError(
            f"langgraph dev for {self.graph_dir} {what}.\n"
            f"command: {subprocess.list2cmdline(self.command)}\n"
            f"in: {self._cwd}\n"
            f"last {_LOG_TAIL_LINES} lines of its log:\n{tail}"
        )


def _free_port() -> int:
    """A port nothing listens on right now (`langgraph dev` moves on if it gets taken)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


# Talks to localhost directly, whatever HTTP(S)_PROXY the environment sets.
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _answers_ok(url: str) -> bool:
    try:
        with _DIRECT.open(f"{url}/ok", timeout=2) as response:
            return bool(response.status == 200)
    except (OSError, urllib.error.URLError):
        return False


def _signal_group(process: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, sig)
