"""The replay engine: which recorded answer each request gets, as bytes ready to send.

Every replay path is a thin adapter over one `ReplayEngine`: the marker and `use_cassette`
(`CassetteSession`), `ReplayTransport`, and `FakeServer` in-process and over HTTP. So the same
request gets the same answer, ids, validation and faults wherever it comes in.

The served cassettes' interactions are split into lanes, one per recorded thread (its
`POST /threads` and everything under `/threads/{id}`, in recorded order), and a shared rest
(`/info`, `/assistants/search`, stateless runs, ...).

- Every `POST /threads` starts a new replay of a lane: a UI reloaded ten times, or ten tests in
  parallel, each see the whole recorded conversation. Which lane is decided by the first request
  made on the thread (the first lane, least replayed first, whose next answer matches), so one
  engine can hold many recorded conversations that all start with the same `POST /threads`.
  Replays after the first get ids of their own (bindings.py).
- Within a lane, a write (a run) plays each recorded answer once, in order: a second turn gets
  the second recorded run. A read (GET, history, search) gets the first unplayed answer after
  the conversation's position, and once there is none, repeats the latest one: polling walks
  through its recorded answers, then stays on the last.
- A join (`GET .../runs/{run_id}/stream`) is answered from the run's recorded stream, from just
  after the client's `Last-Event-ID` (all of it for `-1` or no header).
- The shared rest cycles: each matching answer in turn, then from the first again.

Everything is decided by the order of requests alone, so replays are deterministic. A stream
is checked against the schemas the first time it is played (`validate`).
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lg_testkit.cassette import Cassette, RecordedRequest, RecordedStream, dumps_compact
from lg_testkit.errors import SchemaViolationError, UnmatchedRequestError
from lg_testkit.protocol import Route, RouteKind, route, subscription_problem
from lg_testkit.replay.bindings import Bindings, derive_id
from lg_testkit.replay.faults import Faults, check_chunking
from lg_testkit.replay.lanes import (
    Answer,
    Cursor,
    Lane,
    LiveThread,
    Matcher,
    Recorded,
    Reply,
    Unmatched,
)
from lg_testkit.replay.matching import MATCH_ON, differences
from lg_testkit.replay.tape import Tape
from lg_testkit.replay.threads import ThreadReplay, thread_ids
from lg_testkit.threadlog import ProtocolThread

if TYPE_CHECKING:
    from lg_testkit.validation import Problem

__all__ = ["UNMATCHED_HEADER", "VALIDATE_LEVELS", "Answer", "ReplayEngine", "Reply", "Unmatched"]

UNMATCHED_HEADER = "lg-testkit-unmatched"  # marks the 404 of a request nothing answers
PIN_HEADER = "lg-testkit-cassette"  # pins the cassette a request's conversation comes from
PIN_PREFIX = "/_cassette/"  # ... or this path prefix, for clients that cannot set a header
VALIDATE_LEVELS = ("strict", "lenient", "off")
_CLOSEST = 3
_LISTED = 5


class ReplayEngine:
    """The replay state of a set of cassettes; thread-safe, deterministic."""

    def __init__(
        self,
        cassettes: Iterable[Cassette],
        *,
        ignore: Iterable[str] = (),
        match_on: Iterable[str] = MATCH_ON,
        chunking: str = "recorded",
        faults: Faults | None = None,
        validate: str = "strict",
        speed: float | None = None,
        server_info: Any = None,
        on_log: Callable[[str], None] | None = None,
        once: bool = False,
    ) -> None:
        if validate not in VALIDATE_LEVELS:
            raise ValueError(f"validate must be one of {VALIDATE_LEVELS}, not {validate!r}")
        self.matches = Matcher(tuple(ignore), tuple(match_on))
        self.chunking = check_chunking(chunking)
        self.faults = faults or Faults()
        self.validate = validate
        self.speed = speed  # paces thread-protocol events (run streams are paced as they play)
        self.server_info = server_info
        self.on_log = on_log  # called with each request's log line, e.g. to print it
        self.once = once  # each recorded conversation starts once (a session that may record)
        self.protocol_threads: list[ProtocolThread] = []
        self.protocol_sources: list[str] = []  # the cassette each recorded thread came from
        self.lanes: list[Lane] = []
        self.shared: list[Recorded] = []
        self.sources: list[str] = []
        self._tapes: dict[int, tuple[RecordedStream, Tape]] = {}
        self._checked: dict[int, list[Problem]] = {}
        self._lock = threading.Lock()  # in-process and loopback clients may share one engine
        for cassette in cassettes:
            self._add(cassette)
        self.reset()

    def _add(self, cassette: Cassette) -> None:
        source = str(cassette.path or "a cassette")
        self.sources.append(source)
        if self.server_info is None:
            self.server_info = cassette.meta.get("server")
        self.protocol_threads.extend(cassette.threads)
        self.protocol_sources.extend(source for _ in cassette.threads)
        if cassette.valid_for is not None and cassette.valid_for == _rules_digest():
            # its seal says every stream passed these very schemas and rules: not again
            for recorded in (*cassette.interactions, *cassette.threads):
                self._checked[id(recorded)] = []
        lanes: dict[str, Lane] = {}

        def lane(thread_id: str) -> Lane:
            if thread_id not in lanes:
                lanes[thread_id] = Lane(thread_id, len(self.lanes), source)
                self.lanes.append(lanes[thread_id])
            return lanes[thread_id]

        for index, interaction in enumerate(cassette.interactions):
            recorded = Recorded(interaction, source, index)
            request, body = interaction.request, interaction.response.json
            where = route(request.method, request.path)
            created = body.get("thread_id") if isinstance(body, dict) else None
            if where.kind is RouteKind.CREATE_THREAD and isinstance(created, str):
                owner = lane(created)
                owner.creation = owner.creation or recorded
                owner.items.append(recorded)
            elif where.thread_id is not None:
                lane(where.thread_id).items.append(recorded)
            else:
                self.shared.append(recorded)

    def reset(self) -> None:
        """Forget every replay: the next requests start from the recordings' beginning."""
        with self._lock:
            self.threads: dict[str, LiveThread] = {}
            self.protocol: dict[str, ThreadReplay] = {}  # live thread id -> its replay
            self.protocol_uses = [0] * len(self.protocol_threads)
            self.issued: dict[str, int] = {}
            self.shared_played = [False] * len(self.shared)
            for lane in self.lanes:
                lane.commits = lane.offered = 0
            self.unmatched: list[Unmatched] = []
            self.problems: list[Problem] = []
            self.log: list[str] = []  # "METHOD /path [Last-Event-ID] -> status", in order

    # -- answering -----------------------------------------------------------------------------

    def respond(
        self,
        request: RecordedRequest,
        last_event_id: str | None = None,
        *,
        keep_miss: bool = True,
    ) -> Reply:
        """The reply to `request`. A miss is kept in `unmatched` unless `keep_miss` is False
        (a session that may record it live instead). Serving several cassettes, a request may
        pin the one its conversation comes from (file name, stem or path): base URL
        `.../_cassette/NAME/` or the header `lg-testkit-cassette: NAME`."""
        request, pin = _pinned(request)
        with self._lock:
            where = route(request.method, request.path)
            answer = (
                self._protocol(where, request, pin)
                if where.kind in (RouteKind.COMMAND, RouteKind.SUBSCRIPTION)
                and self.protocol_threads
                else self.answer(request, last_event_id, pin)
            )
            if isinstance(answer, Reply):
                reply = answer
            elif isinstance(answer, Answer):
                reply = self._reply(answer)
            elif (fallback := self._fallback(request)) is not None:
                reply = _json_reply(200, fallback)
            else:
                reply = _json_reply(
                    404,
                    {"detail": answer.text, "closest": answer.closest},
                    [(UNMATCHED_HEADER.encode(), b"true")],
                )
                reply.unmatched = answer
                if keep_miss:
                    self.unmatched.append(answer)
            resumed = f" [Last-Event-ID: {last_event_id}]" if last_event_id else ""
            line = f"{request.label}{resumed} -> {reply.status}"
            self.log.append(line)
            if self.on_log is not None:
                self.on_log(line)
            return reply

    def answer(
        self, request: RecordedRequest, last_event_id: str | None = None, pin: str | None = None
    ) -> Answer | Unmatched:
        where = route(request.method, request.path)
        if where.kind is RouteKind.CREATE_THREAD:
            return self._create_thread(request, pin)
        if where.thread_id is not None:
            return self._on_thread(where, request, last_event_id, pin)
        return self._shared(request, pin)

    def pinned(self, source: str, pin: str | None) -> bool:
        """Is a recording from `source` allowed for a request pinned to `pin`?"""
        if pin is None:
            return True
        path = Path(source)
        return pin in (source, path.name, path.stem) or source.endswith(f"/{pin}")

    def ambiguities(self) -> list[str]:
        """Recorded conversations from different cassettes that start with the same requests:
        which one a consumer gets depends on arrival order (pin a cassette to choose)."""
        found = []
        for n, lane in enumerate(self.lanes):
            for other in self.lanes[n + 1 :]:
                if other.source == lane.source or len(lane.items) < 2 or len(other.items) < 2:
                    continue
                first, second = lane.items[:2], other.items[:2]
                same_thread = Bindings({other.thread_id: lane.thread_id})
                if all(
                    self.matches(b, _to_recorded(a.interaction.request, same_thread))
                    for a, b in zip(first, second, strict=True)
                ):
                    found.append(
                        f"{lane.source} and {other.source} both start with "
                        f"{first[0].interaction.request.label}, "
                        f"{_shape(first[1].interaction.request.label)}"
                    )
        return found

    def _fallback(self, request: RecordedRequest) -> Any:
        if request.method == "GET" and request.path == "/ok":
            return {"ok": True}
        if request.method == "GET" and request.path == "/info" and self.server_info:
            return self.server_info
        return None

    def _create_thread(self, request: RecordedRequest, pin: str | None) -> Answer | Unmatched:
        body = request.json if isinstance(request.json, dict) else {}
        candidates = [
            lane
            for lane in self.lanes
            if lane.creation is not None
            and self.pinned(lane.source, pin)
            and not (self.once and lane.offered)
            and not self.matches.differences(lane.creation, request, ("thread_id",))
        ]
        if not candidates:
            creations = [lane.creation for lane in self.lanes if lane.creation is not None]
            return self._unmatched(request, creations or self._everything(), ("thread_id",))
        candidates.sort(key=lambda lane: (lane.commits, lane.offered, lane.order))
        first = candidates[0]
        first.offered += 1
        live_id = body.get("thread_id") if isinstance(body.get("thread_id"), str) else None
        if live_id is None:
            live_id = self._new_id(first.thread_id)
        self.threads[live_id] = LiveThread(live_id, candidates, created_from=first)
        assert first.creation is not None
        return Answer(first.creation, Bindings({first.thread_id: live_id}))

    def _new_id(self, recorded: str) -> str:
        while True:
            instance = self.issued.get(recorded, 0)
            self.issued[recorded] = instance + 1
            live_id = derive_id(recorded, instance)
            if live_id not in self.threads:
                return live_id

    def _on_thread(
        self, where: Route, request: RecordedRequest, last_event_id: str | None, pin: str | None
    ) -> Answer | Unmatched:
        assert where.thread_id is not None
        live = self.threads.get(where.thread_id)
        if live is None:  # a recorded thread id used directly, without creating a thread
            lanes = [
                lane
                for lane in self.lanes
                if lane.thread_id == where.thread_id and self.pinned(lane.source, pin)
            ]
            if not lanes:
                note = (
                    f"Thread {where.thread_id} was not created on this server, and no recording "
                    "has a thread of that id: create the thread first (POST /threads)."
                )
                return self._unmatched(request, self._everything(), note=note)
            live = self.threads[where.thread_id] = LiveThread(where.thread_id, lanes)
            self.issued[where.thread_id] = max(self.issued.get(where.thread_id, 0), 1)
        if live.lane is not None:
            assert live.cursor is not None
            return self._in_lane(live, live.cursor, live.bindings, request, last_event_id)
        for lane in live.candidates:
            bindings = live.bindings if live.preset else _replay_bindings(lane, live.live_id)
            cursor = Cursor(lane, self.matches)
            if live.created_from is lane and lane.creation is not None:
                cursor.mark(lane.creation)
            answer = self._in_lane(live, cursor, bindings, request, last_event_id)
            if isinstance(answer, Answer):
                live.lane, live.cursor, live.bindings = lane, cursor, bindings
                lane.commits += 1
                return answer
        # Explained against each candidate with the ids it would have bound.
        as_recorded = {
            id(r): _to_recorded(
                request,
                live.bindings if live.preset else _replay_bindings(lane, live.live_id),
            )
            for lane in live.candidates
            for r in lane.items
        }
        pool = [r for lane in live.candidates for r in lane.items]
        return self._unmatched(request, pool, as_recorded=as_recorded)

    def _in_lane(
        self,
        live: LiveThread,
        cursor: Cursor,
        bindings: Bindings,
        request: RecordedRequest,
        last_event_id: str | None,
    ) -> Answer | Unmatched:
        asked, request = request, _to_recorded(request, bindings)
        where = route(request.method, request.path)
        if where.kind is RouteKind.JOIN:
            stream = cursor.lane.stream_at(request.path)
            if stream is not None:
                after = bindings.recorded_text(last_event_id) if last_event_id else None
                return Answer(stream, bindings, join_after=after, is_join=True, thread=live)
        recorded = cursor.take(request, where.read)
        if recorded is None:
            as_recorded = dict.fromkeys(map(id, cursor.lane.items), request)
            return self._unmatched(asked, cursor.lane.items, as_recorded=as_recorded)
        return Answer(recorded, bindings, thread=live)

    def _shared(self, request: RecordedRequest, pin: str | None) -> Answer | Unmatched:
        found = [
            n
            for n, r in enumerate(self.shared)
            if self.pinned(r.source, pin) and self.matches(r, request)
        ]
        if not found:
            return self._unmatched(request, self._everything())
        unplayed = [n for n in found if not self.shared_played[n]]
        if not unplayed:  # every answer given: cycle from the first again
            for n in found:
                self.shared_played[n] = False
            unplayed = found
        self.shared_played[unplayed[0]] = True
        return Answer(self.shared[unplayed[0]], Bindings({}))

    # -- the thread protocol -------------------------------------------------------------------

    def _protocol(
        self, where: Route, request: RecordedRequest, pin: str | None
    ) -> Reply | Unmatched:
        """A command or subscription, answered from the recorded thread bound to its thread id."""
        assert where.thread_id is not None
        if where.kind is RouteKind.SUBSCRIPTION and (why := subscription_problem(request.json)):
            body = dumps_compact({"detail": why}).encode()  # the server's answer, for any thread
            return Reply(400, [(b"content-type", b"application/json")], body)
        replay = self.protocol.get(where.thread_id) or self._bind_protocol(where, request, pin)
        if replay is None:
            return self._unmatched(request, self._everything())
        reply = self._protocol_reply(where, request, replay)
        if isinstance(reply, Reply):
            reply.problems = self._check_thread(replay.recorded)
        return reply

    def _protocol_reply(
        self, where: Route, request: RecordedRequest, replay: ThreadReplay
    ) -> Reply | Unmatched:
        if where.kind is RouteKind.SUBSCRIPTION:
            headers = [
                (name.encode("latin-1"), value.encode("utf-8", "surrogateescape"))
                for name, value in replay.recorded.stream_headers.items()
            ] or [(b"content-type", b"text/event-stream; charset=utf-8")]
            return Reply(200, headers, live=replay.subscribe(request.json))
        answered = replay.command(request.path, request.json)
        if isinstance(answered, list):
            return self._explain(request, answered, replay.recorded.thread_id)
        status, body = answered
        headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
        return Reply(status, headers, body)

    def thread_replay(self, request: RecordedRequest) -> ThreadReplay | None:
        """The replay of the thread `request`'s path names, bound at first sight (WebSocket
        subscriptions ask for it directly)."""
        request, pin = _pinned(request)
        where = route(request.method, request.path)
        if where.thread_id is None:
            return None
        with self._lock:
            return self.protocol.get(where.thread_id) or self._bind_protocol(where, request, pin)

    def _bind_protocol(
        self, where: Route, request: RecordedRequest, pin: str | None
    ) -> ThreadReplay | None:
        """Bind a thread id the client minted to the recorded thread it replays: the least
        replayed one of the pinned cassette, if any (whose first command matches, when the
        first request is a command)."""
        assert where.thread_id is not None
        allowed = [n for n, source in enumerate(self.protocol_sources) if self.pinned(source, pin)]
        order = sorted(allowed, key=lambda n: (self.protocol_uses[n], n))
        if where.kind is RouteKind.COMMAND:
            fitting = [
                n
                for n in order
                if self.protocol_threads[n].commands
                and not differences(
                    RecordedRequest(
                        "POST", request.path, json=self.protocol_threads[n].commands[0].command
                    ),
                    request,
                    (*self.matches.ignore, "id"),
                )
            ]
            order = fitting or order
        if not order:
            return None
        chosen = order[0]
        recorded = self.protocol_threads[chosen]
        instance = self.protocol_uses[chosen]
        self.protocol_uses[chosen] += 1
        ids = thread_ids(recorded)
        bindings = Bindings.for_replay(ids, instance, thread=(recorded.thread_id, where.thread_id))
        replay = ThreadReplay(
            recorded,
            bindings,
            speed=self.speed,
            drop_after=self.faults.drop_after,
            stall=self.faults.stall,
            heartbeat=self.faults.heartbeat,
            ignore=self.matches.ignore,
        )
        self.protocol[where.thread_id] = replay
        lanes = [lane for lane in self.lanes if lane.thread_id == recorded.thread_id]
        if lanes:  # the thread's plain requests (GET .../state) replay that thread's lane
            self.threads[where.thread_id] = LiveThread(
                where.thread_id, lanes, bindings=bindings, preset=True
            )
        return replay

    def _explain(self, request: RecordedRequest, found: list[str], thread: str) -> Unmatched:
        lines = [
            f"No recorded command of thread {thread} matches {request.label} "
            f"({_method_of(request.json)}):",
            *(f"  {line}" for line in found[:_LISTED]),
        ]
        closest = [{"thread": thread, "differences": found}]
        return Unmatched(request, "\n".join(lines), closest)

    # -- bytes ---------------------------------------------------------------------------------

    def _reply(self, answer: Answer) -> Reply:
        response = answer.recorded.interaction.response
        bindings = answer.bindings
        headers = [
            (name.encode("latin-1"), bindings.live_text(value).encode("utf-8", "surrogateescape"))
            for name, value in response.headers.items()
        ]
        problems = self._check(answer.recorded)
        if response.stream is None:
            body = bindings.live_bytes(response.content())
            headers.append((b"content-length", str(len(body)).encode()))
            return Reply(response.status, headers, body, problems=problems)
        tape = self._tape(response.stream)
        location = response.headers.get("location", "")
        dropped = answer.thread.dropped if answer.thread is not None else {}
        if answer.is_join:  # a reconnect gets what it missed, without the run's faults
            if location in dropped and not self.faults.recover:
                return _json_reply(404, {"detail": f"Run not found: {answer.recorded.label}"})
            start = tape.start_after(answer.join_after) or dropped.get(location, 0)
            plan = tape.plan(bindings, start=start)
        else:
            plan = tape.plan(bindings, self.faults)
            if plan.drop and plan.cuts and plan.cuts[-1] < len(tape.blob):
                dropped[location] = plan.cuts[-1]
        return Reply(response.status, headers, plan=plan, problems=problems)

    def _tape(self, stream: RecordedStream) -> Tape:
        cached = self._tapes.get(id(stream))
        if cached is None:
            cached = self._tapes[id(stream)] = (stream, Tape(stream, self.chunking))
        return cached[1]

    def _check_thread(self, thread: ProtocolThread) -> list[Problem]:
        """Schema and stream-rule problems of a recorded protocol thread: found once."""
        key = id(thread)
        if self.validate == "off" or key in self._checked:
            return []
        from lg_testkit.thread_validation import check_thread

        found = check_thread(thread, source=f"thread {thread.thread_id}")
        self._checked[key] = found
        self.problems.extend(problem for problem in found if problem.severity == "error")
        return found

    def _check(self, recorded: Recorded) -> list[Problem]:
        """Schema problems of a recorded run stream: found the first time it is played."""
        key = id(recorded.interaction)
        if self.validate == "off" or key in self._checked:
            return []
        from lg_testkit.validation import check_interaction  # the validators load on first use

        found = check_interaction(
            recorded.interaction, source=recorded.where, strict=self.validate == "strict"
        )
        self._checked[key] = found
        self.problems.extend(problem for problem in found if problem.severity == "error")
        return found

    # -- explaining ----------------------------------------------------------------------------

    def _everything(self) -> list[Recorded]:
        return [r for lane in self.lanes for r in lane.items] + self.shared

    def _unmatched(
        self,
        request: RecordedRequest,
        pool: list[Recorded],
        ignore: Sequence[str] = (),
        *,
        as_recorded: dict[int, RecordedRequest] | None = None,
        note: str | None = None,
    ) -> Unmatched:
        """The 404 for `request` (as the client sent it), naming the closest recordings of
        `pool`, each compared with `as_recorded[id(recording)]`: the request in that
        recording's ids, where a replay bound them (else the request itself)."""
        translated = as_recorded or {}

        def rank(pair: tuple[list[str], Recorded]) -> tuple[bool, bool, int, str, int]:
            found, recorded = pair
            theirs = recorded.interaction.request
            return (
                theirs.method != request.method,
                _shape(theirs.path) != _shape(request.path),
                len(found),
                recorded.source,
                recorded.index,
            )

        compared = (
            (self.matches.differences(r, translated.get(id(r), request), ignore), r) for r in pool
        )
        scored = sorted(compared, key=rank)[:_CLOSEST]
        sources = (
            ", ".join(self.sources)
            if len(self.sources) <= 2
            else f"the {len(self.sources)} served cassettes"
        )
        lines = [f"No recorded interaction in {sources} matches {request.label}."]
        if note:
            lines.append(note)
        if not pool:
            lines.append("The cassettes hold no interactions.")
        many = len(self.sources) > 1
        for rank_index, (found, recorded) in enumerate(scored):
            label = f"{recorded.label} in {recorded.source}" if many else recorded.label
            if rank_index:
                lines.append(f"Next closest: {label} ({len(found)} differences)")
            elif not found:
                lines.append(
                    f"Interaction {label} matches but was already played: each recorded run "
                    "plays once per thread; create a new thread to replay the conversation again."
                )
            else:
                lines.append(f"Closest recorded: {label}")
                lines.extend(f"  {line}" for line in found[:_LISTED])
                if len(found) > _LISTED:
                    lines.append(f"  ... and {len(found) - _LISTED} more differences")
        closest = [
            {
                "cassette": recorded.source,
                "interaction": recorded.index,
                "request": recorded.interaction.request.label,
                "differences": found,
            }
            for found, recorded in scored
        ]
        return Unmatched(request, "\n".join(lines), closest)

    def check(self) -> None:
        """Raise what went wrong so far: `UnmatchedRequestError` for requests nothing answered,
        then `SchemaViolationError` for invalid streams that were played."""
        if self.unmatched:
            texts = [miss.text for miss in self.unmatched]
            count = len(texts)
            raise UnmatchedRequestError(
                f"{count} request{'s' if count > 1 else ''} to the fake server had no recorded "
                "answer:\n" + "\n\n".join(texts),
                request=self.unmatched[0].request,
                closest=self.unmatched[0].closest,
            )
        if self.problems:
            raise SchemaViolationError(self.problems, ", ".join(self.sources))


def _replay_bindings(lane: Lane, live_id: str) -> Bindings:
    """The ids of the lane's next replay: the recorded ones the first time (only the thread
    id a client chose is mapped), ids of its own after that."""
    if lane.commits == 0:
        return Bindings({lane.thread_id: live_id})
    return Bindings.for_replay(lane.ids, lane.commits, thread=(lane.thread_id, live_id))


def _json_reply(status: int, value: Any, extra: list[tuple[bytes, bytes]] | None = None) -> Reply:
    body = json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        *(extra or []),
    ]
    return Reply(status, headers, body)


def _pinned(request: RecordedRequest) -> tuple[RecordedRequest, str | None]:
    if request.path.startswith(PIN_PREFIX):
        name, _, rest = request.path.removeprefix(PIN_PREFIX).partition("/")
        return replace(request, path="/" + rest), name
    return request, request.headers.get(PIN_HEADER)


def _method_of(command: Any) -> str:
    method = command.get("method") if isinstance(command, dict) else None
    return f"method {method!r}" if method else "not a command"


def _shape(path: str) -> str:
    """A path with its ids blanked, to rank recordings of the same endpoint first."""
    return re.sub(r"[0-9a-fA-F]{8}-[0-9a-fA-F-]{27}", "{id}", path)


def _to_recorded(request: RecordedRequest, bindings: Bindings) -> RecordedRequest:
    """The request with the consumer's ids put back to the recorded ones."""
    if bindings.identity:
        return request
    return replace(
        request,
        path=bindings.recorded_text(request.path),
        query=[[k, bindings.recorded_text(v)] for k, v in request.query],
        json=bindings.recorded_json(request.json),
    )


def _rules_digest() -> str:
    from lg_testkit.schemas import rules_digest  # reads the schema files once, on first use

    return rules_digest()
