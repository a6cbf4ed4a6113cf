"""`lg-testkit show PATH`: a cassette as a readable timeline, in the terminal or as a web page.

Each stream event becomes one line: time, event name, and a one-line summary of what it means
(the node, the message text so far, a tool call, an interrupt, an error). `--html OUT` writes
a self-contained page (no network) that draws the same timeline: events per stream mode over
time, and the token cadence of streamed messages.

A cassette's thread-protocol threads (`client.threads.stream()`) follow its interactions: a
section per command (`run.start`, `input.respond`, ...) with its reply, then the events that
followed it (lifecycle, values, updates, tools, custom, interrupts as `input.requested`), each
message folded into one row holding its text and tool calls, with the number of deltas.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, TextIO

from lg_testkit.cassette import NO_DATA, Cassette, Interaction, StreamItem, dumps_compact
from lg_testkit.normalize import fold_thread_events
from lg_testkit.protocol import base_event
from lg_testkit.threadlog import ProtocolEvent, ProtocolThread

__all__ = ["Row", "add_show_command", "render_html", "render_text", "timeline"]

_WIDTH = 100
_TEMPLATE = Path(__file__).parent / "templates" / "timeline.html"
_TOKEN_MODES = ("messages", "messages/partial")


@dataclass
class Row:
    """One line of the timeline."""

    t: float
    event: str
    summary: str
    kind: str = "event"  # event, comment, error, interrupt, incomplete
    token: bool = False  # a streamed piece of a message (for the cadence chart)

    @property
    def mode(self) -> str:
        return base_event(self.event)[0]


@dataclass
class Section:
    """One interaction: its request line and, for streams, the rows."""

    index: int
    label: str
    status: int
    rows: list[Row]
    note: str = ""


def timeline(cassette: Cassette) -> list[Section]:
    sections = [_section(n, i) for n, i in enumerate(cassette.interactions)]
    for thread in cassette.threads:
        sections += _thread_sections(thread, len(sections))
    return sections


def _section(index: int, interaction: Interaction) -> Section:
    request, response = interaction.request, interaction.response
    label = request.label
    body = request.json if isinstance(request.json, dict) else {}
    if "assistant_id" in body:
        label += f"  {body['assistant_id']}"
    if "stream_mode" in body:
        label += f" stream_mode={dumps_compact(body['stream_mode'])}"
    label += _command(body.get("command"))
    if response.stream is None:
        return Section(index, label, response.status, [], _short(_compact(response.json), 60))
    texts: dict[str, str] = {}
    rows = [_row(item, texts) for item in response.stream.items]
    note = "cut short" if response.stream.cut_short else ""
    return Section(index, label, response.status, rows, note)


def _row(item: StreamItem, texts: dict[str, str]) -> Row:
    t = float(item.t)
    if item.comment is not None:
        return Row(t, ":", item.comment.strip(), "comment")
    if item.incomplete:
        return Row(t, "(incomplete)", _short(item.raw or ""), "incomplete")
    event = "message" if item.event is None else item.event
    data = item.text if item.data is NO_DATA else item.data
    mode = base_event(event)[0]
    summary, kind = _summary(mode, data, texts)
    token = mode in _TOKEN_MODES or (
        mode == "events" and isinstance(data, dict) and data.get("event") == "on_chat_model_stream"
    )
    return Row(t, event, _short(summary), kind, token)


def _command(command: Any) -> str:
    """`  resumes with "yes"` for a run started by `command: {resume: ...}` (after an interrupt)."""
    if not isinstance(command, dict) or not command:
        return ""
    parts = []
    if "resume" in command:
        parts.append(f"resumes with {_short(dumps_compact(command['resume']), 40)}")
    others = {key: value for key, value in command.items() if key != "resume"}
    if others:
        parts.append(f"command {_short(dumps_compact(others), 40)}")
    return "  " + ", ".join(parts)


# -- the thread protocol ------------------------------------------------------------------------


def _thread_sections(thread: ProtocolThread, first: int) -> list[Section]:
    """One section per command of a protocol thread (lg_testkit.threadlog): the command, its
    reply, and the events that followed it, each message folded into one row with its text."""
    groups: dict[int, list[ProtocolEvent]] = {}
    for event in thread.events:
        groups.setdefault(event.after if event.after < len(thread.commands) else -1, []).append(
            event
        )
    sections = []
    if groups.get(-1):
        label = f"thread {thread.thread_id}: events before any command"
        sections.append(Section(first, label, 200, _thread_rows(groups[-1])))
    for k, command in enumerate(thread.commands):
        label = f"thread {thread.thread_id} @{command.t:.3f}s {_protocol_command(command.command)}"
        rows = _thread_rows(groups.get(k, []))
        sections.append(
            Section(first + len(sections), label, command.status, rows, _reply(command.reply))
        )
    return sections


def _protocol_command(command: Any) -> str:
    if not isinstance(command, dict):
        return _short(_compact(command), 60)
    method, params = str(command.get("method", "?")), command.get("params")
    params = params if isinstance(params, dict) else {}
    if method == "run.start":
        text = f"run.start {params.get('assistant_id', '?')}"
        for key in ("input", "command"):
            if params.get(key) is not None:
                text += f" {key} {_short(dumps_compact(params[key]), 60)}"
        return text
    if method == "input.respond":
        answers = params.get("responses") or [params]
        return "input.respond " + ", ".join(
            f"{_short(dumps_compact(a.get('response')), 40)} to interrupt {a.get('interrupt_id')}"
            for a in answers
            if isinstance(a, dict)
        )
    return f"{method} {_short(dumps_compact(params), 60)}" if params else method


def _reply(reply: Any) -> str:
    if not isinstance(reply, dict):
        return _short(_compact(reply), 60) if reply is not None else ""
    if reply.get("type") == "error":
        return f"error {reply.get('error')}: {_short(str(reply.get('message', '')), 60)}"
    result = reply.get("result")
    if isinstance(result, dict) and result.get("run_id"):
        return f"run {result['run_id']}"
    return str(reply.get("type", "")) if not result else _short(_compact(result), 60)


def _thread_rows(events: list[ProtocolEvent]) -> list[Row]:
    """Rows of one command's events; a message's parts fold into one row at its finish."""
    rows: list[Row] = []
    messages: dict[str, tuple[int, list[Any]]] = {}  # namespace -> (row index, its parts)
    for event in events:
        params = event.event.get("params")
        params = params if isinstance(params, dict) else {}
        namespace = params.get("namespace") or []
        name = "|".join([event.method, *(str(part) for part in namespace)])
        data = params.get("data")
        kind = data.get("event") if isinstance(data, dict) else None
        if event.method == "messages" and isinstance(data, dict):
            where = repr(namespace)
            if kind == "message-start" or where not in messages:
                messages[where] = (len(rows), [])
                rows.append(Row(event.t, name, ""))
            index, parts = messages[where]
            parts.append(event.event)
            folded = fold_thread_events(parts)
            rows[index].t = event.t
            rows[index].summary, rows[index].kind = _folded_message(folded[0]["data"], len(parts))
            if kind in ("message-finish", "error"):
                del messages[where]
            continue
        summary, what = _protocol_summary(event.method, data)
        rows.append(Row(event.t, name, _short(summary), what))
    return rows


def _folded_message(data: Any, parts: int) -> tuple[str, str]:
    if not isinstance(data, dict) or data.get("event") != "message":
        return _short(_compact(data)), "event"
    role = str(data.get("role", "?"))
    texts, calls = [], []
    for block in data.get("content") or []:
        if not isinstance(block, dict):
            continue
        if block.get("type") == "tool_call":
            calls.append(_call(block))
        elif isinstance(block.get("text"), str):
            texts.append(block["text"])
        elif isinstance(block.get("reasoning"), str):
            texts.append(f"(thinking) {block['reasoning']}")
    text = f'{role}: "{"".join(texts)}"' if texts or not calls else f"{role}:"
    if calls:
        text += " tool call " + ", ".join(calls)
    deltas = parts - 2 - 2 * len(data.get("content") or [])
    if deltas > 0:
        text += f"  ({deltas} delta{'s' if deltas > 1 else ''})"
    if "error" in data:
        return _short(f"{text}  error: {_compact(data['error'])}"), "error"
    if data.get("unfinished"):
        text += "  (unfinished)"
    return _short(text), "event"


def _protocol_summary(method: str, data: Any) -> tuple[str, str]:
    """What one thread-protocol event means, in a line; and its kind."""
    if not isinstance(data, dict):
        return _compact(data), "event"
    kind = data.get("event")
    if method == "lifecycle":
        graph = f" {data['graph_name']}" if data.get("graph_name") else ""
        if kind == "failed":
            return f"failed{graph}: {data.get('error', '')}", "error"
        return f"{kind}{graph}", "interrupt" if kind == "interrupted" else "event"
    if method == "input.requested":
        return (
            f"interrupt {data.get('interrupt_id')}: {_short(_compact(data.get('payload')), 60)}",
            "interrupt",
        )
    if method == "tools":
        if kind == "tool-started":
            return f"started {data.get('tool_name')}({_compact(data.get('input'))})", "event"
        if kind == "tool-finished":
            output = data.get("output")
            if isinstance(output, dict) and "content" in output:
                output = _text(output["content"])
            return f"finished {data.get('tool_call_id')} -> {_compact(output)}", "event"
        if kind == "tool-error":
            return f"error {data.get('tool_call_id')}: {data.get('message')}", "error"
        return f"{kind} {_compact({k: v for k, v in data.items() if k != 'event'})}", "event"
    if method == "checkpoints":
        return f"step {data.get('step')} ({data.get('source')}) {data.get('id')}", "event"
    if method in ("values", "updates", "tasks"):
        return _summary(method, data, {}) if data else ("{}", "event")
    return _compact(data), "event"


# -- summaries ---------------------------------------------------------------------------------


def _summary(mode: str, data: Any, texts: dict[str, str]) -> tuple[str, str]:
    """What one event means, in a line; and its kind."""
    if mode == "error":
        if isinstance(data, dict):
            return f"{data.get('error', 'error')}: {data.get('message', '')}", "error"
        return _compact(data), "error"
    if mode == "metadata" and isinstance(data, dict):
        return f"run {data.get('run_id')} (attempt {data.get('attempt')})", "event"
    if mode in ("values", "updates") and isinstance(data, dict) and "__interrupt__" in data:
        return f"interrupt: {_interrupts(data['__interrupt__'])}", "interrupt"
    if mode == "values" and isinstance(data, dict):
        messages = data.get("messages")
        if isinstance(messages, list) and messages:
            return f"{len(messages)} messages; last {_message(messages[-1])}", "event"
        return f"state {_compact(data)}", "event"
    if mode == "updates" and isinstance(data, dict):
        return "; ".join(f"{node}: {_update(update)}" for node, update in data.items()), "event"
    if mode == "messages" and isinstance(data, list) and data:
        node = (
            data[1].get("langgraph_node") if len(data) > 1 and isinstance(data[1], dict) else None
        )
        return f"{node or '?'} > {_streamed(data[0], texts)}", "event"
    if mode in ("messages/partial", "messages/complete") and isinstance(data, list):
        return "; ".join(_message(m) for m in data), "event"
    if mode == "messages/metadata" and isinstance(data, dict):
        nodes = [
            str(v.get("metadata", {}).get("langgraph_node"))
            for v in data.values()
            if isinstance(v, dict)
        ]
        return f"node {', '.join(nodes)}", "event"
    if mode == "tasks" and isinstance(data, dict):
        if "result" in data or "error" in data:
            error = f" error {data['error']}" if data.get("error") else ""
            return f"result of {data.get('name')}{error}", "error" if error else "event"
        return f"start {data.get('name')}", "event"
    if mode == "checkpoints" and isinstance(data, dict):
        step = (data.get("metadata") or {}).get("step")
        return f"step {step}, next {_compact(data.get('next'))}", "event"
    if mode == "debug" and isinstance(data, dict):
        payload = data.get("payload")
        name = (payload.get("name") if isinstance(payload, dict) else None) or ""
        return f"{data.get('type')} step {data.get('step')} {name}".rstrip(), "event"
    if mode == "events" and isinstance(data, dict):
        chunk = (data.get("data") or {}).get("chunk")
        text = (
            f' "{chunk.get("content")}"' if isinstance(chunk, dict) and chunk.get("content") else ""
        )
        return f"{data.get('event')} {data.get('name')}{text}", "event"
    return _compact(data), "event"


def _message(message: Any) -> str:
    if not isinstance(message, dict):
        return _compact(message)
    kind = str(message.get("type", "?")).removesuffix("Chunk").replace("AIMessage", "ai")
    calls = message.get("tool_calls") or []
    if calls:
        return f"{kind}: " + ", ".join(_call(c) for c in calls if isinstance(c, dict))
    name = f" {message['name']}" if kind == "tool" and message.get("name") else ""
    return f'{kind}{name}: "{_text(message.get("content"))}"'


def _streamed(chunk: Any, texts: dict[str, str]) -> str:
    """A messages-tuple chunk: the message text so far, or the tool call it carries."""
    if not isinstance(chunk, dict):
        return _compact(chunk)
    if not str(chunk.get("type", "")).endswith("Chunk"):
        return _message(chunk)
    if chunk.get("tool_calls") or chunk.get("tool_call_chunks"):
        calls = chunk.get("tool_calls") or chunk.get("tool_call_chunks") or []
        return "tool call " + ", ".join(_call(c) for c in calls if isinstance(c, dict))
    key = str(chunk.get("id"))
    texts[key] = texts.get(key, "") + _text(chunk.get("content"))
    return f'ai: "{texts[key]}"'


def _call(call: dict[str, Any]) -> str:
    args = call.get("args")
    return f"{call.get('name')}({args if isinstance(args, str) else _compact(args)})"


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            str(block.get("text", "")) if isinstance(block, dict) else str(block)
            for block in content
        )
    return _compact(content)


def _update(update: Any) -> str:
    if isinstance(update, dict) and isinstance(update.get("messages"), list):
        return ", ".join(_message(m) for m in update["messages"])
    return _compact(update)


def _interrupts(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(dumps_compact(v.get("value") if isinstance(v, dict) else v) for v in value)
    return _compact(value)


def _compact(value: Any) -> str:
    return value if isinstance(value, str) else dumps_compact(value)


def _short(text: str, limit: int = _WIDTH) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


# -- rendering ---------------------------------------------------------------------------------

_RESET = "\x1b[0m"
_COLOURS = {
    "metadata": "\x1b[2m",
    "values": "\x1b[36m",
    "updates": "\x1b[34m",
    "messages": "\x1b[32m",
    "messages/partial": "\x1b[32m",
    "messages/complete": "\x1b[32m",
    "messages/metadata": "\x1b[2;32m",
    "custom": "\x1b[35m",
    "tasks": "\x1b[33m",
    "checkpoints": "\x1b[2;36m",
    "debug": "\x1b[2m",
    "events": "\x1b[2;35m",
}
_KIND_COLOURS = {"error": "\x1b[1;31m", "interrupt": "\x1b[1;33m", "comment": "\x1b[2m"}


def render_text(sections: list[Section], *, colour: bool = False) -> str:
    def paint(code: str, text: str) -> str:
        return f"{code}{text}{_RESET}" if colour and code else text

    lines: list[str] = []
    for section in sections:
        status = paint("\x1b[31m" if section.status >= 400 else "", str(section.status))
        note = f"  {section.note}" if section.note else ""
        lines.append(paint("\x1b[1m", f"#{section.index} {section.label}") + f"  -> {status}{note}")
        width = max((len(row.event) for row in section.rows), default=0)
        for row in section.rows:
            code = _KIND_COLOURS.get(row.kind) or _COLOURS.get(row.mode, "")
            lines.append(
                f"  {row.t:8.3f}s  {paint(code, row.event.ljust(min(width, 28)))}  {row.summary}"
            )
    return "\n".join(lines) + "\n"


def render_html(sections: list[Section], title: str) -> str:
    """A self-contained page drawing the timeline (data inline, no network)."""
    data = {
        "title": title,
        "sections": [
            {
                "index": s.index,
                "label": s.label,
                "status": s.status,
                "note": s.note,
                "rows": [{**asdict(r), "mode": r.mode} for r in s.rows],
            }
            for s in sections
        ],
    }
    payload = json.dumps(data, ensure_ascii=False).replace("</", "<\\/")
    template = _TEMPLATE.read_text(encoding="utf-8")
    return template.replace("__LG_TITLE__", _escape(title)).replace("__LG_DATA__", payload)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _wants_colour(choice: str, out: TextIO) -> bool:
    if choice != "auto":
        return choice == "always"
    return out.isatty() and "NO_COLOR" not in os.environ


def run(
    path: str, *, html: str | None = None, colour: str = "auto", out: TextIO | None = None
) -> int:
    out = out or sys.stdout
    cassette = Cassette.load(path)
    sections = timeline(cassette)
    if html is not None:
        Path(html).write_text(render_html(sections, Path(path).name), encoding="utf-8")
        events = sum(len(s.rows) for s in sections)
        what = f"{len(cassette.interactions)} interactions"
        if cassette.threads:
            what += f", {len(sections) - len(cassette.interactions)} protocol commands"
        print(f"{html}: timeline of {what}, {events} stream items", file=out)
        return 0
    out.write(render_text(sections, colour=_wants_colour(colour, out)))
    return 0


def add_show_command(commands: Any) -> None:
    """Register `show` on the CLI's subparsers."""
    show = commands.add_parser(
        "show",
        help="print a cassette as a timeline (time, event, what it means), or draw it as HTML",
    )
    show.add_argument("path", metavar="PATH", help="the cassette")
    show.add_argument("--html", metavar="OUT", help="write a self-contained HTML timeline to OUT")
    show.add_argument(
        "--color",
        choices=("auto", "always", "never"),
        default="auto",
        help="colour the output (default: on a terminal, unless NO_COLOR is set)",
    )
    show.set_defaults(run=lambda args: run(args.path, html=args.html, colour=args.color))
