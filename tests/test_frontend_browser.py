"""The example `useStream` chat page (examples/frontend) in headless Chromium, against the fake
server replaying what the page recorded from a real `langgraph dev`: what a user sees.

Both variants of the page: `?protocol=runs` (`useStream` from `@langchain/langgraph-sdk/react`,
the `runs.stream` protocol; cassettes approve.json, reject.json) and `?protocol=threads`
(`useStream` from `@langchain/react`, the thread-centric protocol; threads-approve.json,
threads-reject.json).

The page is built once per session (npm ci + esbuild) and served with the fake server under
/api on the same origin. Screenshots are kept under the session's artifacts folder
($LG_TEST_ARTIFACTS, else <pytest basetemp>/artifacts).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browsers import FRONTEND, harness, require, require_chromium

from lg_testkit import Cassette, FakeServer, Faults

CASSETTES = FRONTEND / "cassettes"
QUESTION = "Please refund order A-1042."
PREAMBLE = "Let me look up order A-1042."
TOOL_CALL = 'look_up_order({"order_id":"A-1042"})'
TOOL_RESULT = "Order A-1042: wireless headphones, $42.00, delivered 3 days ago; refundable."
PROMPT = "Refund $42.00 for order A-1042 to the card ending 4242?"
APPROVED = (
    "Done: $42.00 is refunded for order A-1042. "
    "It will be back on the card ending 4242 within five business days."
)
REJECTED = "All right: nothing was refunded, and order A-1042 stays as it is."
WAIT_MS = 20_000

# The text of the last agent message on the page.
LAST_AI_TEXT = """() => {
  const texts = document.querySelectorAll('[data-testid="ai-message"] .text');
  return texts.length ? texts[texts.length - 1].textContent : "";
}"""
# Every distinct text the last agent message shows, and every status line, as the DOM changes
# (set before it streams).
RECORD_TEXTS = f"""() => {{
  const read = {LAST_AI_TEXT};
  const status = () => document.querySelector('[data-testid="status"]').textContent;
  window.seenTexts = [];
  window.seenStatuses = [];
  const note = (seen, value) => {{
    if (value !== seen[seen.length - 1]) seen.push(value);
  }};
  new MutationObserver(() => {{
    note(window.seenTexts, read());
    note(window.seenStatuses, status());
  }}).observe(document.body, {{ subtree: true, childList: true, characterData: true }});
}}"""


@pytest.fixture(scope="session")
def frontend_dist() -> Path:
    """examples/frontend built: `npm ci` from its lockfile (once), then `npm run build`."""
    require("node", "apt-get install -y nodejs")
    require("npm", "apt-get install -y npm")
    dist: Path = harness.build(FRONTEND)
    return dist


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's headless Chromium, driven by Playwright, shared by this module's tests.

    Not by the session: Playwright's sync API keeps an event loop running in the main thread
    while it is open, and the async tests of later modules need none to be."""
    with harness.chromium(require_chromium()) as launched:
        yield launched


@pytest.fixture(scope="session")
def artifacts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = Path(
        os.environ.get("LG_TEST_ARTIFACTS") or tmp_path_factory.getbasetemp() / "artifacts"
    )
    folder.mkdir(parents=True, exist_ok=True)
    return folder


class Chat:
    """The page opened in a fresh browser context, and what a user does and reads there."""

    def __init__(self, page: Any) -> None:
        self.page = page

    def ask(self, text: str) -> None:
        self.page.get_by_label("Message").fill(text)
        self.page.get_by_role("button", name="Send").click()

    def text(self, test_id: str) -> str:
        return str(self.page.get_by_test_id(test_id).inner_text())

    def tool_call(self) -> tuple[str, str]:
        """The tool call shown (name and arguments) and the result shown under it."""
        call = self.page.get_by_test_id("tool-call")
        return call.locator("code").inner_text(), call.get_by_test_id("tool-result").inner_text()

    def last_answer(self) -> str:
        return str(self.page.evaluate(LAST_AI_TEXT))

    def wait_for_answer(self, text: str) -> None:
        self.page.wait_for_function(f"(want) => ({LAST_AI_TEXT})() === want", arg=text)

    def wait_until_ready(self) -> None:
        self.page.get_by_test_id("status").filter(has_text="Ready").wait_for()

    def prompt(self) -> Any:
        prompt = self.page.get_by_test_id("interrupt")
        prompt.wait_for()
        return prompt

    def decide(self, choice: str) -> None:
        self.prompt().get_by_role("button", name=choice).click()

    def screenshot(self, path: Path) -> None:
        self.page.screenshot(path=str(path), full_page=True)
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def open_chat(browser: Any, frontend_dist: Path) -> Iterator[Any]:
    """`open_chat(server, api="/api", protocol="runs", transport="sse")`: the page variant
    `protocol`, its API (`?apiUrl=`) the fake server under `api` on the page's origin; a
    request the server has no recording for fails the test."""
    with contextlib.ExitStack() as stack:
        servers: list[FakeServer] = []

        def open_(
            server: FakeServer, api: str = "/api", protocol: str = "runs", transport: str = "sse"
        ) -> Chat:
            url = stack.enter_context(harness.serve_page(frontend_dist, server.app))
            context = browser.new_context(viewport={"width": 800, "height": 900})
            stack.callback(context.close)
            context.set_default_timeout(WAIT_MS)
            servers.append(server)
            page = context.new_page()
            query = f"protocol={protocol}&transport={transport}&assistantId=agent"
            page.goto(f"{url}?{query}&apiUrl={url.rstrip('/')}{api}")
            assert page.locator("main").get_attribute("data-protocol") == protocol
            return Chat(page)

        yield open_
    for server in servers:
        server.check()  # every request the page made had a recorded answer


def recorded(protocol: str, scenario: str) -> Path:
    """The cassette of `scenario` (approve, reject) recorded on the page variant `protocol`."""
    return CASSETTES / (f"{scenario}.json" if protocol == "runs" else f"threads-{scenario}.json")


@pytest.mark.parametrize("protocol", ["runs", "threads"])
def test_the_answer_streams_in_token_by_token_at_recorded_timing(
    open_chat: Any, protocol: str
) -> None:
    server = FakeServer.from_path(recorded(protocol, "approve"), speed=1)
    chat = open_chat(server, protocol=protocol)
    chat.ask(QUESTION)

    # Before the approval: the preamble, the tool call with its result, the prompt.
    prompt = chat.prompt()
    assert chat.text("human-message").endswith(QUESTION)
    assert chat.last_answer() == PREAMBLE
    assert chat.tool_call() == (TOOL_CALL, TOOL_RESULT)
    assert prompt.inner_text().startswith(PROMPT)
    assert chat.text("status") == "Waiting for your approval"

    chat.page.evaluate(RECORD_TEXTS)
    chat.decide("Approve")
    # Moment one: part of the answer is on screen, the rest still on its way.
    partial = chat.page.wait_for_function(
        f"""(whole) => {{
          const text = ({LAST_AI_TEXT})();
          return text.startsWith("Done") && text !== whole ? text : null;
        }}""",
        arg=APPROVED,
    ).json_value()
    assert APPROVED.startswith(partial) and len(partial) < len(APPROVED)
    assert chat.text("status") == "Streaming…"
    # Moment two: the whole answer, the run over.
    chat.wait_for_answer(APPROVED)
    chat.wait_until_ready()
    seen = chat.page.evaluate("window.seenTexts")
    grew = [t for t in seen if t.startswith("Done")]
    assert len(grew) >= 10, seen  # ~40 tokens ~50 ms apart: many frames, not one jump
    assert all(APPROVED.startswith(t) for t in grew) and grew[-1] == APPROVED
    # busy from the click to the answer's end: never "Ready" in between, the prompt not back
    assert chat.page.evaluate("window.seenStatuses") == ["Streaming…", "Ready"]
    assert not chat.page.get_by_test_id("interrupt").is_visible()
    assert not chat.page.get_by_test_id("error").is_visible()


def test_screenshots_mid_stream_and_at_the_interrupt(open_chat: Any, artifacts: Path) -> None:
    # A 10 s stall after the 25th event of each run stream (the first has 18: only the
    # resumed answer stops, mid-sentence) holds the page still for its screenshot.
    faults = Faults(stall=(25, 10.0))
    chat = open_chat(FakeServer.from_path(CASSETTES / "approve.json", faults=faults))
    chat.ask(QUESTION)
    chat.prompt()
    chat.screenshot(artifacts / "frontend-interrupt.png")
    shown = chat.page.inner_text("main")
    for text in (QUESTION, PREAMBLE, TOOL_CALL, TOOL_RESULT, PROMPT, "Approve", "Reject"):
        assert text in shown

    chat.decide("Approve")
    held = "Done: $42.00 is refunded for order A-1042. It will be back on"
    chat.wait_for_answer(held)  # 23 tokens (events 3 to 25), then the stall
    chat.screenshot(artifacts / "frontend-mid-stream.png")
    assert chat.last_answer() == held  # the screenshot was taken while it stood still
    assert chat.text("status") == "Streaming…"
    assert "Approve" not in chat.page.inner_text("main")


def test_rejecting_resumes_the_run_with_the_users_decision(open_chat: Any) -> None:
    # The whole folder served, as one `lg-testkit serve cassettes/` would serve a JS suite; the
    # page pins the conversation it follows by its API URL.
    chat = open_chat(FakeServer.from_path(CASSETTES), api="/api/_cassette/reject")
    chat.ask(QUESTION)
    chat.decide("Reject")
    chat.wait_for_answer(REJECTED)
    chat.wait_until_ready()
    answers = chat.page.locator('[data-testid="ai-message"] .text').all_inner_texts()
    assert answers == [PREAMBLE, REJECTED]


def test_a_dropped_stream_reconnects_and_the_answer_completes(
    open_chat: Any, artifacts: Path
) -> None:
    server = FakeServer.from_path(CASSETTES / "approve.json", faults=Faults(drop_after=8))
    chat = open_chat(server)
    chat.ask(QUESTION)
    chat.decide("Approve")
    chat.wait_for_answer(APPROVED)
    chat.wait_until_ready()
    chat.screenshot(artifacts / "frontend-recovered.png")
    assert not chat.page.get_by_test_id("error").is_visible()
    assert chat.tool_call() == (TOOL_CALL, TOOL_RESULT)
    joins = [line for line in server.log if line.startswith("GET ") and "/stream" in line]
    assert len(joins) == 2, server.log  # each run's stream dropped once; the SDK rejoined


def test_a_dropped_stream_whose_run_is_gone_shows_the_error(
    open_chat: Any, artifacts: Path
) -> None:
    faults = Faults(drop_after=8, recover=False)
    chat = open_chat(FakeServer.from_path(CASSETTES / "approve.json", faults=faults))
    chat.ask(QUESTION)
    error = chat.page.get_by_test_id("error")
    error.wait_for()
    chat.screenshot(artifacts / "frontend-error.png")
    assert "404" in error.inner_text(), error.inner_text()  # the reconnect found no run
    assert chat.text("status") == "Ready"
    assert chat.page.get_by_role("button", name="Send").is_enabled()  # the user can try again
    assert not chat.page.get_by_test_id("interrupt").is_visible()


# -- the thread-centric variant: `useStream` from @langchain/react -----------------------------


def held_after(path: Path, tokens: int, pause: float) -> Cassette:
    """The cassette with its resumed answer paused for `pause` seconds after `tokens` tokens:
    the recorded log, each event after that one `pause` seconds later (a stall mid-answer)."""
    cassette = Cassette.load(path)
    (thread,) = cassette.threads
    resumed = [event for event in thread.events if event.after == len(thread.commands) - 1]
    deltas = [
        event
        for event in resumed
        if event.method == "messages"
        and event.event["params"]["data"].get("event") == "content-block-delta"
    ]
    for event in resumed:
        if event.seq >= deltas[tokens].seq:
            event.t += pause
    return cassette


def test_threads_screenshots_mid_stream_and_at_the_interrupt(
    open_chat: Any, artifacts: Path
) -> None:
    cassette = held_after(CASSETTES / "threads-approve.json", tokens=23, pause=10.0)
    chat = open_chat(FakeServer([cassette], speed=1), protocol="threads")
    chat.ask(QUESTION)
    chat.prompt()
    chat.screenshot(artifacts / "frontend-threads-interrupt.png")
    shown = chat.page.inner_text("main")
    for text in (QUESTION, PREAMBLE, TOOL_CALL, TOOL_RESULT, PROMPT, "Approve", "Reject"):
        assert text in shown
    assert chat.text("status") == "Waiting for your approval"

    chat.decide("Approve")
    held = "Done: $42.00 is refunded for order A-1042. It will be back on"
    chat.wait_for_answer(held)  # 23 tokens, then 10 s of nothing
    chat.screenshot(artifacts / "frontend-threads-mid-stream.png")
    assert chat.last_answer() == held  # the screenshot was taken while it stood still
    assert chat.text("status") == "Streaming…"
    assert "Approve" not in chat.page.inner_text("main")


def test_threads_rejecting_resumes_the_run_with_the_users_decision(open_chat: Any) -> None:
    # One cassette: a thread-protocol thread is not yet pinned by `/_cassette/NAME/`, so a
    # folder would hand the page whichever recorded thread was replayed least.
    server = FakeServer.from_path(CASSETTES / "threads-reject.json")
    chat = open_chat(server, protocol="threads")
    chat.ask(QUESTION)
    chat.decide("Reject")
    chat.wait_for_answer(REJECTED)
    chat.wait_until_ready()
    answers = chat.page.locator('[data-testid="ai-message"] .text').all_inner_texts()
    assert answers == [PREAMBLE, REJECTED]
    assert not chat.page.get_by_test_id("interrupt").is_visible()


def test_threads_a_dropped_subscription_reconnects_and_nothing_shows_twice(
    open_chat: Any, artifacts: Path
) -> None:
    # The page reads the thread through two subscriptions (lifecycle + input; everything it
    # shows); the second is cut after 8 events, mid-preamble. @langchain/react opens it again
    # a second or two later and reads the thread's log from its start.
    server = FakeServer.from_path(CASSETTES / "threads-approve.json", faults=Faults(drop_after=8))
    chat = open_chat(server, protocol="threads")
    chat.ask(QUESTION)
    chat.decide("Approve")
    chat.wait_for_answer(APPROVED)
    chat.wait_until_ready()
    chat.screenshot(artifacts / "frontend-threads-recovered.png")
    assert not chat.page.get_by_test_id("error").is_visible()
    assert chat.tool_call() == (TOOL_CALL, TOOL_RESULT)
    answers = chat.page.locator('[data-testid="ai-message"] .text').all_inner_texts()
    assert answers == [PREAMBLE, APPROVED]  # the log read again, each message shown once
    assert chat.page.locator('[data-testid="human-message"]').count() == 1
    subscriptions = [line for line in server.log if "/stream/events" in line]
    assert len(subscriptions) >= 3, server.log  # two, and the dropped one opened again


def test_threads_a_cassette_recorded_over_sse_serves_the_page_over_websocket(
    open_chat: Any,
) -> None:
    server = FakeServer.from_path(CASSETTES / "threads-approve.json", speed=1)
    chat = open_chat(server, protocol="threads", transport="websocket")
    chat.ask(QUESTION)
    assert chat.prompt().inner_text().startswith(PROMPT)
    assert chat.tool_call() == (TOOL_CALL, TOOL_RESULT)
    chat.decide("Approve")
    chat.wait_for_answer(APPROVED)
    chat.wait_until_ready()
    answers = chat.page.locator('[data-testid="ai-message"] .text').all_inner_texts()
    assert answers == [PREAMBLE, APPROVED]
    assert not any("/stream/events" in line for line in server.log), server.log  # no SSE
