"""Which recorded answer each request to the fake server gets.

The interactions of the served cassettes are split into lanes, one per recorded thread (its
`POST /threads` and everything under `/threads/{id}`, in recorded order), and a shared rest
(`/info`, `/assistants/search`, stateless runs, ...).

- Every `POST /threads` starts a new replay of a lane: a UI reloaded ten times, or ten tests in
  parallel, each see the whole recorded conversation. Which lane is decided by the first request
  made on the thread (the first lane, least replayed first, whose next answer matches), so one
  server can hold many recorded conversations that all start with the same `POST /threads`.
  Replays after the first get ids of their own (see bindings.py).
- Within a lane, a run (a write) plays each recorded answer once, in order: a second turn gets
  the second recorded run. A read (GET, history, search) gets the first unplayed answer after
  the conversation's position, and once there is none, repeats the latest one: polling walks
  through its recorded answers, then stays on the last.
- A join (`GET .../runs/{run_id}/stream`) is answered from the run's recorded stream, from just
  after the client's `Last-Event-ID` (all of it for `-1` or no header).
- The shared rest cycles: each matching answer in turn, then from the first again.

Everything is decided by the order of requests alone, so replays are deterministic.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace

from lg_testkit.cassette import Cassette, Interaction, RecordedRequest
from lg_testkit.fakeserver.bindings import Bindings, derive_id, ids_in
from lg_testkit.matching import differences

__all__ = ["Answer", "Conversations", "Recorded", "Unmatched"]

_THREAD_PATH = re.compile(r"/threads/([^/]+)(/.*)?")
_JOIN_PATH = re.compile(r"/threads/[^/]+/runs/[^/]+/stream")
_NOT_THREADS = frozenset({"search", "count", "prune"})
_READ_SUFFIXES = ("/history", "/search", "/count")
_CLOSEST = 3


@dataclass(frozen=True)
class Recorded:
    """An interaction and where it was recorded."""

    interaction: Interaction
    source: str
    index: int

    @property
    def label(self) -> str:
        return f"#{self.index} in {self.source}: {self.interaction.request.label}"


@dataclass(frozen=True)
class Answer:
    recorded: Recorded
    bindings: Bindings
    join_after: str | None = None  # a join: resume after this event id
    is_join: bool = False


@dataclass(frozen=True)
class Unmatched:
    """No recorded answer: the text for people, `closest` for programs."""

    text: str
    closest: list[dict[str, object]]


def is_read(request: RecordedRequest) -> bool:
    return request.method == "GET" or (
        request.method == "POST" and request.path.endswith(_READ_SUFFIXES)
    )


class Lane:
    """One recorded thread: its creation and every request under `/threads/{id}`, in order."""

    def __init__(self, thread_id: str, order: int) -> None:
        self.thread_id = thread_id
        self.order = order
        self.items: list[Recorded] = []
        self.creation: Recorded | None = None
        self.commits = 0  # replays bound to this lane so far
        self.offered = 0  # thread creations answered from this lane
        self._ids: set[str] | None = None
        self._streams: dict[str, Recorded] | None = None

    @property
    def ids(self) -> set[str]:
        if self._ids is None:
            self._ids = ids_in(r.interaction for r in self.items) | {self.thread_id}
        return self._ids

    def stream_at(self, location: str) -> Recorded | None:
        """The recorded run stream whose `location` header is `location`."""
        if self._streams is None:
            self._streams = {}
            for recorded in self.items:
                response = recorded.interaction.response
                if response.stream is not None and "location" in response.headers:
                    self._streams.setdefault(response.headers["location"], recorded)
        return self._streams.get(location)


class Cursor:
    """One replay's position in a lane."""

    def __init__(self, lane: Lane, ignore: tuple[str, ...]) -> None:
        self.lane, self.ignore = lane, ignore
        self.played = [False] * len(lane.items)
        self.position = -1

    def mark(self, recorded: Recorded) -> None:
        index = self.lane.items.index(recorded)
        self.played[index] = True
        self.position = max(self.position, index)

    def take(self, request: RecordedRequest) -> Recorded | None:
        items = self.lane.items
        matches = [
            n
            for n, r in enumerate(items)
            if not differences(r.interaction.request, request, self.ignore)
        ]
        if not matches:
            return None
        ahead = [n for n in matches if n > self.position and not self.played[n]]
        if ahead:
            chosen = ahead[0]
        elif is_read(request):
            behind = [n for n in matches if n <= self.position]
            chosen = behind[-1] if behind else matches[-1]
        else:
            unplayed = [n for n in matches if not self.played[n]]
            if not unplayed:
                return None
            chosen = unplayed[0]
        self.mark(items[chosen])
        return items[chosen]


@dataclass
class LiveThread:
    """A thread a consumer holds: the lanes it may replay, and once chosen, its replay."""

    live_id: str
    candidates: list[Lane]
    created_from: Lane | None = None
    lane: Lane | None = None
    cursor: Cursor | None = None
    bindings: Bindings = Bindings({})


class Conversations:
    """The replay state of one fake server."""

    def __init__(self, cassettes: Iterable[Cassette], ignore: Iterable[str] = ()) -> None:
        self.ignore = tuple(ignore)
        self.lanes: list[Lane] = []
        self.shared: list[Recorded] = []
        self.sources: list[str] = []
        for cassette in cassettes:
            self._add(cassette)
        self.reset()

    def _add(self, cassette: Cassette) -> None:
        source = str(cassette.path or "a cassette")
        self.sources.append(source)
        lanes: dict[str, Lane] = {}

        def lane(thread_id: str) -> Lane:
            if thread_id not in lanes:
                lanes[thread_id] = Lane(thread_id, len(self.lanes))
                self.lanes.append(lanes[thread_id])
            return lanes[thread_id]

        for index, interaction in enumerate(cassette.interactions):
            recorded = Recorded(interaction, source, index)
            request, body = interaction.request, interaction.response.json
            match = _THREAD_PATH.fullmatch(request.path)
            created = body.get("thread_id") if isinstance(body, dict) else None
            if request.method == "POST" and request.path == "/threads" and isinstance(created, str):
                owner = lane(created)
                owner.creation = owner.creation or recorded
                owner.items.append(recorded)
                continue
            if match and match[1] not in _NOT_THREADS:
                lane(match[1]).items.append(recorded)
            else:
                self.shared.append(recorded)

    def reset(self) -> None:
        """Forget every replay: the next requests start from the recordings' beginning."""
        self.threads: dict[str, LiveThread] = {}
        self.issued: dict[str, int] = {}
        self.shared_played = [False] * len(self.shared)
        for lane in self.lanes:
            lane.commits = lane.offered = 0

    # -- answering -----------------------------------------------------------------------------

    def answer(
        self, request: RecordedRequest, last_event_id: str | None = None
    ) -> Answer | Unmatched:
        if request.method == "POST" and request.path == "/threads":
            return self._create_thread(request)
        match = _THREAD_PATH.fullmatch(request.path)
        if match and match[1] not in _NOT_THREADS:
            return self._on_thread(match[1], request, last_event_id)
        return self._shared(request)

    def _create_thread(self, request: RecordedRequest) -> Answer | Unmatched:
        body = request.json if isinstance(request.json, dict) else {}
        ignore = (*self.ignore, "thread_id")
        candidates = [
            lane
            for lane in self.lanes
            if lane.creation is not None
            and not differences(lane.creation.interaction.request, request, ignore)
        ]
        if not candidates:
            creations = [lane.creation for lane in self.lanes if lane.creation is not None]
            return self._unmatched(request, creations or self._everything(), ignore)
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
        self, thread_id: str, request: RecordedRequest, last_event_id: str | None
    ) -> Answer | Unmatched:
        live = self.threads.get(thread_id)
        if live is None:  # a recorded thread id used directly, without creating a thread
            lanes = [lane for lane in self.lanes if lane.thread_id == thread_id]
            if not lanes:
                return self._unmatched(request, self._everything())
            live = self.threads[thread_id] = LiveThread(thread_id, lanes)
            self.issued[thread_id] = max(self.issued.get(thread_id, 0), 1)
        if live.lane is not None:
            assert live.cursor is not None
            return self._in_lane(live.cursor, live.bindings, request, last_event_id)
        for lane in live.candidates:
            bindings = Bindings.for_replay(
                lane.ids, lane.commits, thread=(lane.thread_id, live.live_id)
            )
            cursor = Cursor(lane, self.ignore)
            if live.created_from is lane and lane.creation is not None:
                cursor.mark(lane.creation)
            answer = self._in_lane(cursor, bindings, request, last_event_id)
            if isinstance(answer, Answer):
                live.lane, live.cursor, live.bindings = lane, cursor, bindings
                lane.commits += 1
                return answer
        first = live.candidates[0]
        bindings = Bindings.for_replay(
            first.ids, first.commits, thread=(first.thread_id, live.live_id)
        )
        return self._unmatched(
            _to_recorded(request, bindings),
            [r for lane in live.candidates for r in lane.items],
        )

    def _in_lane(
        self,
        cursor: Cursor,
        bindings: Bindings,
        request: RecordedRequest,
        last_event_id: str | None,
    ) -> Answer | Unmatched:
        request = _to_recorded(request, bindings)
        if request.method == "GET" and _JOIN_PATH.fullmatch(request.path):
            stream = cursor.lane.stream_at(request.path)
            if stream is not None:
                after = bindings.recorded_text(last_event_id) if last_event_id else None
                return Answer(stream, bindings, join_after=after, is_join=True)
        recorded = cursor.take(request)
        if recorded is None:
            return self._unmatched(request, cursor.lane.items)
        return Answer(recorded, bindings)

    def _shared(self, request: RecordedRequest) -> Answer | Unmatched:
        matches = [
            n
            for n, r in enumerate(self.shared)
            if not differences(r.interaction.request, request, self.ignore)
        ]
        if not matches:
            return self._unmatched(request, self._everything())
        unplayed = [n for n in matches if not self.shared_played[n]]
        if not unplayed:  # every answer given: cycle from the first again
            for n in matches:
                self.shared_played[n] = False
            unplayed = matches
        self.shared_played[unplayed[0]] = True
        return Answer(self.shared[unplayed[0]], Bindings({}))

    # -- explaining ----------------------------------------------------------------------------

    def _everything(self) -> list[Recorded]:
        return [r for lane in self.lanes for r in lane.items] + self.shared

    def _unmatched(
        self, request: RecordedRequest, pool: list[Recorded], ignore: tuple[str, ...] | None = None
    ) -> Unmatched:
        ignore = self.ignore if ignore is None else ignore

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

        scored = sorted(
            ((differences(r.interaction.request, request, ignore), r) for r in pool), key=rank
        )[:_CLOSEST]
        sources = (
            ", ".join(self.sources)
            if len(self.sources) <= 2
            else (f"the {len(self.sources)} served cassettes")
        )
        lines = [f"No recorded interaction in {sources} matches {request.label}."]
        if not pool:
            lines.append("The cassettes hold no interactions.")
        closest = [
            {
                "cassette": recorded.source,
                "interaction": recorded.index,
                "request": recorded.interaction.request.label,
                "differences": found,
            }
            for found, recorded in scored
        ]
        for rank_index, (found, recorded) in enumerate(scored):
            if rank_index:
                lines.append(f"Next closest: {recorded.label} ({len(found)} differences)")
            elif not found:
                lines.append(
                    f"{recorded.label} matches but was already played: each recorded run "
                    "plays once per thread; create a new thread to replay the conversation again."
                )
            else:
                lines.append(f"Closest recorded: {recorded.label}")
                lines.extend(f"  {line}" for line in found[:5])
                if len(found) > 5:
                    lines.append(f"  ... and {len(found) - 5} more differences")
        return Unmatched("\n".join(lines), closest)


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
