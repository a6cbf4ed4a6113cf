"""`lg-testkit diff A B`: what really changed between two recordings of the same scenario.

Both sides are normalised first (lg_testkit.normalize: ids and times replaced, token chunks
folded into whole messages), so churn never shows. What is reported:

- an interaction (request) only one side made, or a different status / content type;
- per stream: an event type added or missing, or sent a different number of times; event ids
  sent by one side only; a different order of events within a stream mode (across modes the
  order depends on timing, so it is not compared);
- per event type (and per JSON body): a field added, removed or changing type;
- a different outcome: the final `values` state, the folded messages (type, text, tool calls),
  `custom` events, errors and interrupts;
- any other value that changed: in each event (the k-th event of a name in A against the k-th
  in B), in the pieces of a streamed message that folding would hide (when both sides were
  chunked alike), and in JSON bodies (threads, runs, state); a change already reported as
  outcome is not repeated.

Volatile values are not compared: ids, times and loopback ports (normalised away), how text was
split into tokens, and the versions and plan a server stamps into run metadata
(`langgraph_api_version`, ...; the report's header names the versions) and `/info`. Identical
findings in several interactions are listed once. Folders are compared file by file (same
relative names).

Thread-protocol threads (a cassette's `threads`) are compared in order, command by command:
the command, its status and reply, and the events that followed it, folded and normalised
(lg_testkit.normalize.normalize_thread: ids, seqs, event ids, timestamps and the client-minted
thread id left out, each message's deltas joined), then compared as a stream is.
"""

from __future__ import annotations

import copy
import difflib
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lg_testkit.cassette import Cassette, Interaction, StreamItem
from lg_testkit.errors import CassetteError
from lg_testkit.normalize import Normalizer, anonymous, is_token_chunk, normalize_thread
from lg_testkit.progress import Progress
from lg_testkit.protocol import RouteKind, base_event, route
from lg_testkit.threadlog import ProtocolThread

__all__ = ["Difference", "add_diff_command", "diff_cassettes", "diff_paths"]

_SHOWN_PLACES = 3
_SHOWN_VALUES = 60
# What a server stamps into run metadata about itself and its caller: differs between servers,
# not between behaviours.
_SERVER_FACTS = frozenset(
    {"langgraph_version", "langgraph_api_version", "langgraph_plan", "lc_versions", "user-agent"}
)


@dataclass
class Difference:
    """One finding; `places` are the interactions (labels) where it was seen."""

    text: str
    places: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        if not self.places:
            return self.text
        shown = "; ".join(self.places[:_SHOWN_PLACES])
        more = len(self.places) - _SHOWN_PLACES
        return f"{self.text}\n    in {shown}{f' and {more} more' if more > 0 else ''}"


class _Findings:
    def __init__(self) -> None:
        self.by_text: dict[str, Difference] = {}

    def add(self, text: str, place: str | None = None) -> None:
        found = self.by_text.setdefault(text, Difference(text))
        if place is not None and place not in found.places:
            found.places.append(place)

    def list(self) -> list[Difference]:
        return list(self.by_text.values())


# -- cassettes ---------------------------------------------------------------------------------


def diff_cassettes(a: Cassette, b: Cassette) -> list[Difference]:
    """The real differences between two cassettes of the same scenario; empty if equivalent."""
    findings = _Findings()
    norm_a, norm_b = Normalizer(), Normalizer()
    keys_a = [_key(i, norm_a) for i in a.interactions]
    keys_b = [_key(i, norm_b) for i in b.interactions]
    matcher = difflib.SequenceMatcher(a=keys_a, b=keys_b, autojunk=False)
    for op, a0, a1, b0, b1 in matcher.get_opcodes():
        if op == "equal" or (op == "replace" and a1 - a0 == b1 - b0):
            for i, j in zip(range(a0, a1), range(b0, b1), strict=True):
                _diff_interaction(a.interactions[i], b.interactions[j], keys_b[j], findings)
            continue
        for i in range(a0, a1):
            findings.add(f"request only in A: {keys_a[i]} (A #{i})")
        for j in range(b0, b1):
            findings.add(f"request only in B: {keys_b[j]} (B #{j})")
    for n in range(max(len(a.threads), len(b.threads))):
        if n >= len(b.threads):
            findings.add(f"protocol thread only in A: thread #{n} ({_commands(a.threads[n])})")
        elif n >= len(a.threads):
            findings.add(f"protocol thread only in B: thread #{n} ({_commands(b.threads[n])})")
        else:
            _diff_thread(a.threads[n], b.threads[n], n, findings)
    return findings.list()


def _key(interaction: Interaction, normalizer: Normalizer) -> str:
    request = interaction.request
    label = f"{request.method} {anonymous(normalizer.text(request.path))}"
    body = request.json if isinstance(request.json, dict) else {}
    details = [f"{k}={_compact(body[k])}" for k in ("assistant_id", "stream_mode") if k in body]
    if body.get("stream_subgraphs"):
        details.append("stream_subgraphs")
    return f"{label} ({', '.join(details)})" if details else label


def _diff_interaction(a: Interaction, b: Interaction, place: str, findings: _Findings) -> None:
    ra, rb = a.response, b.response
    if ra.status != rb.status:
        findings.add(f"status: {ra.status} in A, {rb.status} in B", place)
    ctype_a, ctype_b = (_ctype(r.headers) for r in (ra, rb))
    if ctype_a != ctype_b:
        findings.add(f"content-type: {ctype_a!r} in A, {ctype_b!r} in B", place)
    if ra.stream is not None and rb.stream is not None:
        events_a = _events(ra.stream.items)
        events_b = _events(rb.stream.items)
        pieces = (_events(ra.stream.items, fold=False), _events(rb.stream.items, fold=False))
        _diff_streams(events_a, events_b, place, findings, pieces)
    elif ra.stream is None and rb.stream is None:
        _diff_shapes("body", _shape(_norm(ra.json)), _shape(_norm(rb.json)), place, findings)
        where = route(a.request.method, a.request.path)
        if not (where.kind is RouteKind.SHARED and where.read):  # not /info, searches
            _diff_values("body", _norm(ra.json), _norm(rb.json), place, findings)


def _ctype(headers: dict[str, str]) -> str:
    return headers.get("content-type", "").split(";")[0].strip()


def _norm(value: Any) -> Any:
    return anonymous(Normalizer().value(value))


def _events(items: list[StreamItem], *, fold: bool = True) -> list[dict[str, Any]]:
    return [anonymous(event) for event in Normalizer().events(items, fold=fold)]


# -- the thread protocol ------------------------------------------------------------------------


def _commands(thread: ProtocolThread) -> str:
    methods = [_method(c.command) for c in thread.commands]
    return ", ".join(methods) or "no commands"


def _method(command: Any) -> str:
    return str(command.get("method")) if isinstance(command, dict) else "?"


def _diff_thread(a: ProtocolThread, b: ProtocolThread, n: int, findings: _Findings) -> None:
    """Two recorded protocol threads, command by command: each command, its status and reply,
    and the events that followed it (folded and normalised: lg_testkit.normalize)."""
    runs_a, runs_b = (anonymous(normalize_thread(t)["runs"]) for t in (a, b))
    unfolded = [anonymous(normalize_thread(t, fold=False)["runs"]) for t in (a, b)]
    for k in range(max(len(runs_a), len(runs_b))):
        if k >= len(runs_b) or k >= len(runs_a):
            side, run = ("A", runs_a[k]) if k >= len(runs_b) else ("B", runs_b[k])
            what = _method(run["command"]) if run["command"] else "events before any command"
            findings.add(f"thread #{n}: command {k} only in {side}: {what}")
            continue
        run_a, run_b = runs_a[k], runs_b[k]
        command_a, command_b = run_a["command"], run_b["command"]
        place = f"thread #{n} command {k} ({_method(command_a) if command_a else 'none'})"
        if (command_a is None) != (command_b is None) or _method(command_a) != _method(command_b):
            findings.add(
                f"thread #{n} command {k}: {_method(command_a)} in A, {_method(command_b)} in B"
            )
            continue
        if run_a.get("status") != run_b.get("status"):
            findings.add(f"status: {run_a.get('status')} in A, {run_b.get('status')} in B", place)
        for what in ("command", "reply"):
            _diff_shapes(what, _shape(run_a.get(what)), _shape(run_b.get(what)), place, findings)
            _diff_values(what, run_a.get(what), run_b.get(what), place, findings)
        pieces = (_as_stream(unfolded[0][k]["events"]), _as_stream(unfolded[1][k]["events"]))
        _diff_streams(
            _as_stream(run_a["events"]), _as_stream(run_b["events"]), place, findings, pieces
        )


def _as_stream(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Folded protocol events as run-stream events named `method|namespace`, so the stream
    comparison below reads them; token deltas lose their text (folding compares it joined)."""
    out = []
    for event in events:
        namespace = event.get("namespace") or []
        name = "|".join([str(event.get("method")), *(str(part) for part in namespace)])
        data = event.get("data")
        if isinstance(data, dict) and data.get("event") == "content-block-delta":
            data = {key: value for key, value in data.items() if key not in ("delta", "content")}
        rest = {k: v for k, v in event.items() if k not in ("method", "namespace", "data")}
        out.append({"event": name, "data": {**rest, "data": data} if rest else data})
    return out


# -- streams -----------------------------------------------------------------------------------


def _diff_streams(
    a: list[dict[str, Any]],
    b: list[dict[str, Any]],
    place: str,
    findings: _Findings,
    pieces: tuple[list[dict[str, Any]], list[dict[str, Any]]] | None = None,
) -> None:
    """Folded events `a` and `b`; `pieces`, the same streams unfolded."""
    count_a = Counter(e["event"] for e in a)
    count_b = Counter(e["event"] for e in b)
    for name in sorted(count_a.keys() | count_b.keys()):
        n, m = count_a[name], count_b[name]
        if not m:
            findings.add(f"event `{name}` missing in B (A sent {n})", place)
        elif not n:
            findings.add(f"event `{name}` added in B (B sent {m})", place)
        elif n != m:
            findings.add(f"event `{name}`: sent {n} times in A, {m} in B", place)
    ids_a, ids_b = any("id" in e for e in a), any("id" in e for e in b)
    if ids_a != ids_b:
        findings.add(f"event ids (for resuming): sent by {'A' if ids_a else 'B'} only", place)
    shared = set(count_a) & set(count_b)
    # Order within one stream mode is the graph's; across modes it depends on timing.
    for mode in sorted({base_event(name)[0] for name in shared}):
        order_a = [e["event"] for e in a if base_event(e["event"])[0] == mode]
        order_b = [e["event"] for e in b if base_event(e["event"])[0] == mode]
        if Counter(order_a) == Counter(order_b) and order_a != order_b:
            k = next(k for k, (x, y) in enumerate(zip(order_a, order_b, strict=True)) if x != y)
            findings.add(
                f"event order in mode `{mode}`: its event {k} is `{order_a[k]}` in A, "
                f"`{order_b[k]}` in B",
                place,
            )
    for name in sorted(shared):
        shape_a = _merged_shape(e for e in a if e["event"] == name)
        shape_b = _merged_shape(e for e in b if e["event"] == name)
        _diff_shapes(f"`{name}`", shape_a, shape_b, place, findings)
    outcome_a, outcome_b = _outcome(a), _outcome(b)
    reported: set[tuple[str, str]] = set()
    for what in sorted(outcome_a.keys() | outcome_b.keys()):
        if what in outcome_a and what in outcome_b:
            reported |= _diff_values(what, outcome_a[what], outcome_b[what], place, findings)
    for name in sorted(shared):
        changed = _diff_each(
            f"`{name}` event", _of(a, name), _of(b, name), place, findings, reported
        )
        if not changed and pieces is not None:  # what folding the token pieces would hide
            _diff_each(
                f"`{name}` piece",
                [_untexted(name, data) for data in _of(pieces[0], name)],
                [_untexted(name, data) for data in _of(pieces[1], name)],
                place,
                findings,
                reported,
                aligned_only=True,
            )


def _of(events: list[dict[str, Any]], name: str) -> list[Any]:
    return [e.get("data", e.get("text")) for e in events if e["event"] == name]


def _diff_each(
    what: str,
    a: list[Any],
    b: list[Any],
    place: str,
    findings: _Findings,
    reported: set[tuple[str, str]],
    *,
    aligned_only: bool = False,
) -> bool:
    """The k-th value of `a` against the k-th of `b` (blocks matched where the counts differ);
    a change already in `reported` is left out. True when anything differed."""
    if len(a) == len(b):
        pairs = list(zip(range(len(a)), a, b, strict=True))
    elif aligned_only:  # chunked differently: the pieces cannot be paired
        return False
    else:
        keys_a, keys_b = ([_canonical(v) for v in side] for side in (a, b))
        matcher = difflib.SequenceMatcher(a=keys_a, b=keys_b, autojunk=False)
        pairs = [
            (j, a[i], b[j])
            for op, a0, a1, b0, b1 in matcher.get_opcodes()
            if op == "replace" and a1 - a0 == b1 - b0
            for i, j in zip(range(a0, a1), range(b0, b1), strict=True)
        ]
    differed = False
    for k, x, y in pairs:
        for path, old, new in _changed(x, y, ""):
            differed = True
            pair = (_short(old), _short(new))
            if pair not in reported:
                findings.add(
                    f"{what} {k}: `{path or '$'}` is {pair[0]} in A, {pair[1]} in B", place
                )
    return differed


def _untexted(name: str, data: Any) -> Any:
    """A token piece without its text (content, tool-call argument pieces): folding compares
    the text joined, so how it was split does not count."""
    if not is_token_chunk(name, data):
        return data
    data = copy.deepcopy(data)
    chunk = data[0] if isinstance(data, list) else (data.get("data") or {}).get("chunk")
    if isinstance(chunk, dict):
        chunk.pop("content", None)
        for call in chunk.get("tool_call_chunks") or []:
            if isinstance(call, dict):
                call.pop("args", None)
    return data


def _canonical(value: Any) -> str:
    from lg_testkit.cassette import dumps_compact

    return dumps_compact(value)


def _outcome(events: list[dict[str, Any]]) -> dict[str, Any]:
    """What the run produced, by stream mode (namespaces kept apart)."""
    out: dict[str, Any] = {}
    for event in events:
        name, data = event["event"], event.get("data")
        mode, namespace = base_event(name)
        suffix = f" ({namespace})" if namespace else ""
        if mode == "values":
            out[f"final state{suffix}"] = data
        elif mode in ("messages", "messages/complete", "messages/partial"):
            messages = data if mode != "messages" else data[:1] if isinstance(data, list) else []
            for message in messages if isinstance(messages, list) else []:
                out.setdefault(f"messages{suffix}", []).append(_message(message))
        elif mode == "custom":
            out.setdefault(f"custom events{suffix}", []).append(data)
        elif mode == "error":
            out["error"] = data
        elif mode == "updates" and isinstance(data, dict) and "__interrupt__" in data:
            out.setdefault(f"interrupts{suffix}", []).append(data["__interrupt__"])
    return out


def _message(message: Any) -> Any:
    if not isinstance(message, dict):
        return message
    kind = str(message.get("type", "")).removesuffix("Chunk").lower()
    kind = {"aimessage": "ai", "humanmessage": "human", "toolmessage": "tool"}.get(kind, kind)
    calls = [
        {"name": c.get("name"), "args": c.get("args")}
        for c in message.get("tool_calls") or []
        if isinstance(c, dict)
    ]
    return {"type": kind, "content": message.get("content"), "tool_calls": calls}


# -- shapes and values -------------------------------------------------------------------------

Shape = dict[str, set[str]]


def _type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _shape(value: Any, path: str = "", into: Shape | None = None) -> Shape:
    """JSON path -> the types seen there; list items share one `[]` path."""
    shape: Shape = {} if into is None else into
    shape.setdefault(path or "$", set()).add(_type(value))
    if isinstance(value, dict):
        for key, inner in value.items():
            _shape(inner, f"{path}.{key}" if path else str(key), shape)
    elif isinstance(value, list):
        for inner in value:
            _shape(inner, f"{path}[]", shape)
    return shape


def _merged_shape(events: Iterator[dict[str, Any]]) -> Shape:
    shape: Shape = {}
    for event in events:
        data = event.get("data")
        if base_event(event["event"])[0] == "messages" and isinstance(data, list):
            for index, part in enumerate(data):  # a [message, metadata] tuple, not a list
                _shape(part, f"data[{index}]", shape)
        else:
            _shape(data, "data", shape)
    return shape


def _diff_shapes(what: str, a: Shape, b: Shape, place: str, findings: _Findings) -> None:
    for path in sorted(a.keys() | b.keys()):
        if path not in b:
            if _parent(path) in b or _parent(path) not in a:
                findings.add(f"{what}: field `{path}` removed in B (was {_types(a[path])})", place)
        elif path not in a:
            if _parent(path) in a or _parent(path) not in b:
                findings.add(f"{what}: field `{path}` added in B ({_types(b[path])})", place)
        elif a[path] != b[path]:
            findings.add(
                f"{what}: field `{path}` changed type: {_types(a[path])} in A, "
                f"{_types(b[path])} in B",
                place,
            )


def _parent(path: str) -> str:
    """The path one level up, so a removed object is reported once, not once per field."""
    if path.endswith("[]"):
        return path[:-2] or "$"
    head, dot, _ = path.rpartition(".")
    return head if dot else "$"


def _types(types: set[str]) -> str:
    return "|".join(sorted(types))


def _diff_values(
    what: str, a: Any, b: Any, place: str, findings: _Findings
) -> set[tuple[str, str]]:
    """Leaf values that differ where both sides have the field (shape changes are separate);
    the (A, B) values reported."""
    reported = set()
    for path, x, y in _changed(a, b, ""):
        reported.add((_short(x), _short(y)))
        findings.add(f"{what}: `{path or '$'}` is {_short(x)} in A, {_short(y)} in B", place)
    return reported


def _changed(a: Any, b: Any, path: str) -> Iterator[tuple[str, Any, Any]]:
    """(path, A's value, B's value) of each leaf that differs; a value turning into another
    type counts only to or from null (other type changes are shape findings)."""
    if isinstance(a, dict) and isinstance(b, dict):
        for key in a.keys() & b.keys():
            if key not in _SERVER_FACTS:
                yield from _changed(a[key], b[key], f"{path}.{key}" if path else str(key))
    elif isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            yield f"{path}.length", len(a), len(b)
        for index, (x, y) in enumerate(zip(a, b, strict=False)):
            yield from _changed(x, y, f"{path}[{index}]")
    elif a != b and (_type(a) == _type(b) or None in (a, b)):
        yield path, a, b


def _short(value: Any) -> str:
    from lg_testkit.cassette import dumps_compact

    text = dumps_compact(value)
    return text if len(text) <= _SHOWN_VALUES else text[: _SHOWN_VALUES - 3] + "..."


def _compact(value: Any) -> str:
    from lg_testkit.cassette import dumps_compact

    return value if isinstance(value, str) and "," not in value else dumps_compact(value)


# -- files and folders -------------------------------------------------------------------------


def diff_paths(a: Path, b: Path) -> dict[str, list[Difference]]:
    """Differences per compared file (its name relative to the folders, or `A`)."""
    if a.is_dir() != b.is_dir():
        raise CassetteError(f"compare a file with a file, a folder with a folder: {a}, {b}")
    if not a.is_dir():
        return {a.name: diff_cassettes(Cassette.load(a), Cassette.load(b))}
    names_a = {p.relative_to(a).as_posix() for p in a.rglob("*.json")}
    names_b = {p.relative_to(b).as_posix() for p in b.rglob("*.json")}
    results: dict[str, list[Difference]] = {}
    with Progress(len(names_a | names_b), "diffing") as progress:
        for name in sorted(names_a | names_b):
            progress.step(name)
            if name not in names_b:
                results[name] = [Difference(f"file only in A: {a / name}")]
            elif name not in names_a:
                results[name] = [Difference(f"file only in B: {b / name}")]
            else:
                results[name] = diff_cassettes(Cassette.load(a / name), Cassette.load(b / name))
    return results


def _describe(path: Path) -> str:
    if path.is_dir():
        return str(path)
    server = Cassette.load(path).meta.get("server")
    version = server.get("version") if isinstance(server, dict) else None
    return f"{path} (langgraph-api {version})" if version else str(path)


def run(a: str, b: str, out: Any = None) -> int:
    """Print the report; 0 when equivalent, 1 when not."""
    out = out or sys.stdout
    path_a, path_b = Path(a), Path(b)
    results = diff_paths(path_a, path_b)
    print(f"A: {_describe(path_a)}\nB: {_describe(path_b)}", file=out)
    total = 0
    for name, differences in results.items():
        if not differences:
            continue
        total += len(differences)
        if path_a.is_dir():
            print(f"\n{name}:", file=out)
        for difference in differences:
            print(f"  - {difference}", file=out)
    files = sum(1 for d in results.values() if d)
    if not total:
        print(
            f"equivalent ({len(results)} file{'s' if len(results) != 1 else ''} compared)", file=out
        )
        return 0
    print(
        f"\n{total} difference{'s' if total != 1 else ''} in {files} file(s): not equivalent",
        file=out,
    )
    return 1


def add_diff_command(commands: Any) -> None:
    """Register `diff` on the CLI's subparsers."""
    diff = commands.add_parser(
        "diff",
        help="compare two recordings of the same scenario by meaning; exit 0 equivalent, "
        "1 different, 2 unusable input",
        description="Compare two cassettes (or folders of them) by meaning: ids and times "
        "normalised, token chunks folded into messages. Reports events added or missing, "
        "fields added, removed or changing type, and different outcomes.",
    )
    diff.add_argument("a", metavar="A", help="the reference cassette or folder (e.g. old server)")
    diff.add_argument("b", metavar="B", help="the cassette or folder to compare (e.g. new server)")
    diff.set_defaults(run=lambda args: run(args.a, args.b))
