"""Re-record the example page's cassettes: the real page, in Chromium, against a real
`langgraph dev` serving graph/, through lg-testkit's recording proxy.

    python examples/frontend/rerecord.py                  # every scenario; then commit cassettes/
    python examples/frontend/rerecord.py threads-approve  # only the ones named

Each scenario is one conversation typed and clicked through the page, recorded to
cassettes/<scenario>.json exactly as the page's requests and the server's streams went:
`approve`, `reject` on the `runs.stream` variant (`?protocol=runs`), `threads-approve`,
`threads-reject` on the thread-centric one (`?protocol=threads`, `@langchain/react`).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import HERE, build, chromium, serve_page  # noqa: E402

from lg_testkit.devserver import DevServer  # noqa: E402
from lg_testkit.proxy import RecordingProxy  # noqa: E402

QUESTION = "Please refund order A-1042."
WAIT_MS = 60_000


def converse(page: Any, decision: str) -> None:
    """Ask, wait for the approval prompt, click `decision`, wait for the answer."""
    page.get_by_label("Message").fill(QUESTION)
    page.get_by_role("button", name="Send").click()
    prompt = page.get_by_test_id("interrupt")
    prompt.wait_for(timeout=WAIT_MS)
    prompt.get_by_role("button", name=decision).click()
    # the resumed answer is the second agent message; the run is over when the page says Ready
    page.get_by_test_id("ai-message").nth(1).wait_for(timeout=WAIT_MS)
    page.get_by_test_id("status").filter(has_text="Ready").wait_for(timeout=WAIT_MS)


# name: (the page's protocol, what the scenario does on it)
SCENARIOS: dict[str, tuple[str, Callable[[Any], None]]] = {
    "approve": ("runs", lambda page: converse(page, "Approve")),
    "reject": ("runs", lambda page: converse(page, "Reject")),
    "threads-approve": ("threads", lambda page: converse(page, "Approve")),
    "threads-reject": ("threads", lambda page: converse(page, "Reject")),
}


def main(names: list[str]) -> None:
    unknown = [name for name in names if name not in SCENARIOS]
    if unknown:
        sys.exit(f"unknown scenario {', '.join(unknown)}: choose from {', '.join(SCENARIOS)}")
    dist = build()
    cassettes = HERE / "cassettes"
    cassettes.mkdir(exist_ok=True)
    with DevServer(HERE / "graph") as server, chromium() as browser:
        for name in names or SCENARIOS:
            protocol, scenario = SCENARIOS[name]
            path = cassettes / f"{name}.json"
            path.unlink(missing_ok=True)
            with serve_page(dist, RecordingProxy(server.url, path, log=sys.stderr)) as url:
                page = browser.new_page()
                page.goto(f"{url}?protocol={protocol}")
                scenario(page)
                page.close()
            print(f"recorded {path}")


if __name__ == "__main__":
    main(sys.argv[1:])
