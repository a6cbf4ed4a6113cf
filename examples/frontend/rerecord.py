"""Re-record the example page's cassettes: the real page, in Chromium, against a real
`langgraph dev` serving graph/, through lg-testkit's recording proxy.

    python examples/frontend/rerecord.py      # then commit examples/frontend/cassettes/

Each scenario is one conversation typed and clicked through the page, recorded to
cassettes/<scenario>.json exactly as the page's requests and the server's streams went.
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
    page.get_by_test_id("status").filter(has_text="Ready").wait_for(timeout=WAIT_MS)


SCENARIOS: dict[str, Callable[[Any], None]] = {
    "approve": lambda page: converse(page, "Approve"),
    "reject": lambda page: converse(page, "Reject"),
}


def main() -> None:
    dist = build()
    cassettes = HERE / "cassettes"
    cassettes.mkdir(exist_ok=True)
    with DevServer(HERE / "graph") as server, chromium() as browser:
        for name, scenario in SCENARIOS.items():
            path = cassettes / f"{name}.json"
            path.unlink(missing_ok=True)
            with serve_page(dist, RecordingProxy(server.url, path, log=sys.stderr)) as url:
                page = browser.new_page()
                page.goto(url)
                scenario(page)
                page.close()
            print(f"recorded {path}")


if __name__ == "__main__":
    main()
