"""`lg-testkit show`: the timeline a user reads in the terminal, and the page a browser draws."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
from browsers import CHROMIUM_FLAGS, require_chromium

from lg_testkit.cli import main

STREAMS = Path(__file__).parent / "data" / "streams" / "0.16.7"


def show(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    assert main(["show", *args]) == 0
    return capsys.readouterr().out


def test_timeline_says_what_each_event_means(capsys: pytest.CaptureFixture[str]) -> None:
    out = show(capsys, str(STREAMS / "contract-agent.json"), "--color", "never")
    assert "#2 POST /threads/" in out and 'agent stream_mode=["values"]  -> 200' in out
    lines = out.splitlines()
    assert any(
        re.fullmatch(r" +\d+\.\d{3}s  metadata +run [0-9a-f-]{36} \(attempt 1\)", line)
        for line in lines
    )
    # the message text so far, token by token, with the node that streamed it
    assert '  messages  agent > ai: "It is"' in out
    assert '  messages  agent > ai: "It is sunny and 72 degrees in Los Angeles today."' in out
    # the tool call and the tool's answer
    assert 'messages  agent > tool call get_weather({"query":"weather in los angeles"})' in out
    assert 'updates   tools: tool get_weather: "Los Angeles: 72 degrees Fahrenheit, sunny."' in out
    assert "  tasks     start tools" in out
    assert "\x1b[" not in out


def test_errors_and_interrupts_stand_out_in_colour(capsys: pytest.CaptureFixture[str]) -> None:
    failing = show(capsys, str(STREAMS / "contract-failing.json"), "--color", "always")
    assert "\x1b[1;31merror" in failing and "ValueError: boom" in failing
    interrupt = show(capsys, str(STREAMS / "contract-interrupt.json"), "--color", "always")
    assert re.search(r'\x1b\[1;33mupdates *\x1b\[0m  interrupt: "approve\?"', interrupt)


def test_html_is_self_contained(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    page = tmp_path / "timeline.html"
    out = show(capsys, str(STREAMS / "contract-agent.json"), "--html", str(page))
    assert out.startswith(f"{page}: timeline of 28 interactions")
    html = page.read_text()
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)  # nothing fetched
    assert "</script" not in html.split('id="lg-data"', 1)[1].split("</script>", 1)[0]


def test_html_timeline_renders_in_headless_chromium(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Debian's chromium draws the page (in CI, where .ci/run installs it, it never skips)."""
    flags = [require_chromium(), *CHROMIUM_FLAGS, "--user-data-dir=" + str(tmp_path / "profile")]
    page = tmp_path / "timeline.html"
    show(capsys, str(STREAMS / "all-modes.json"), "--html", str(page))
    dom = subprocess.run(
        [*flags, "--dump-dom", page.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    from lg_testkit import Cassette

    items = sum(
        len(i.response.stream.items)
        for i in Cassette.load(STREAMS / "all-modes.json").interactions
        if i.response.stream
    )
    body = re.search(r"<body[^>]*>", dom)
    assert body is not None and "data-error" not in body.group(), body
    assert f'data-rendered="{items}"' in body.group()  # one dot per stream item
    assert dom.count('<svg width="1120"') >= 2
    assert dom.count('class="gap"') > 10  # the token cadence bars
    assert "messages-tuple" in dom and "token cadence:" in dom

    shot = tmp_path / "timeline.png"
    subprocess.run(
        [*flags, "--window-size=1200,900", f"--screenshot={shot}", page.as_uri()],
        capture_output=True,
        timeout=120,
        check=True,
    )
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000


def test_html_timeline_draws_in_jsdom(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], js_dir: Path
) -> None:
    """The page's own script runs (in jsdom, from tests/js) and draws one dot per stream item."""
    page = tmp_path / "timeline.html"
    show(capsys, str(STREAMS / "all-modes.json"), "--html", str(page))
    done = subprocess.run(
        ["node", "render_dom.mjs", str(page)],
        cwd=js_dir,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    drawn = json.loads(done.stdout)
    from lg_testkit import Cassette

    items = sum(
        len(i.response.stream.items)
        for i in Cassette.load(STREAMS / "all-modes.json").interactions
        if i.response.stream
    )
    assert drawn["errors"] == [] and drawn["error"] is None
    assert drawn["rendered"] == drawn["circles"] == items
    assert drawn["svgs"] >= 2 and drawn["gaps"] > 10  # timeline and token cadence bars
    assert "token cadence:" in drawn["text"]


def test_a_resumed_run_says_so_and_with_what(capsys: pytest.CaptureFixture[str]) -> None:
    out = show(capsys, str(STREAMS / "interrupt-resume.json"), "--color", "never")
    headers = [line for line in out.splitlines() if line.startswith("#")]
    first, resumed = (line for line in headers if "/runs/stream" in line)
    assert "resumes" not in first
    assert resumed.endswith('"checkpoints"]  resumes with "yes"  -> 200')
