"""What the replay engine keeps: the recorded interactions, split into lanes (one per recorded
thread), and the state of each consumer's replay (its thread, cursor and ids). The engine
(engine.py) decides; these only hold and walk what was recorded.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from lg_testkit.cassette import Interaction, RecordedRequest
from lg_testkit.errors import UnmatchedRequestError
from lg_testkit.replay.bindings import Bindings, ids_in
from lg_testkit.replay.matching import compare, normalize
from lg_testkit.replay.tape import Plan
from lg_testkit.replay.threads import LiveStream

if TYPE_CHECKING:
    from lg_testkit.validation import Problem

__all__ = [
    "Answer",
    "Cursor",
    "Lane",
    "LiveThread",
    "Matcher",
    "Recorded",
    "Reply",
    "Unmatched",
]


@dataclass(frozen=True)
class Recorded:
    """An interaction and where it was recorded."""

    interaction: Interaction
    source: str
    index: int

    @property
    def label(self) -> str:
        return f"#{self.index} {self.interaction.request.label}"

    @property
    def where(self) -> str:
        return f"{self.source}#{self.index}"


@dataclass(frozen=True)
class Answer:
    recorded: Recorded
    bindings: Bindings
    join_after: str | None = None  # a join: resume after this event id
    is_join: bool = False
    thread: LiveThread | None = None  # the consumer's thread, where it has one


@dataclass(frozen=True)
class Unmatched:
    """No recorded answer: the request, the text for people, `closest` for programs."""

    request: RecordedRequest
    text: str
    closest: list[dict[str, Any]]

    def error(self, hint: str = "") -> UnmatchedRequestError:
        text = f"{self.text}\n{hint}" if hint else self.text
        return UnmatchedRequestError(text, request=self.request, closest=self.closest)


@dataclass
class Reply:
    """What goes back for one request: a recorded body, a stream to play, or a 404."""

    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes = b""
    plan: Plan | None = None
    live: LiveStream | None = None  # a thread-protocol subscription: open until the client closes
    unmatched: Unmatched | None = None
    problems: list[Problem] = field(default_factory=list)  # found in what is played, first time


class Lane:
    """One recorded thread: its creation and every request under `/threads/{id}`, in order."""

    def __init__(self, thread_id: str, order: int, source: str) -> None:
        self.thread_id = thread_id
        self.order = order
        self.source = source
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

    def __init__(self, lane: Lane, matches: Matcher) -> None:
        self.lane, self.matches = lane, matches
        self.played = [False] * len(lane.items)
        self.position = -1

    def mark(self, recorded: Recorded) -> None:
        index = self.lane.items.index(recorded)
        self.played[index] = True
        self.position = max(self.position, index)

    def take(self, request: RecordedRequest, read: bool) -> Recorded | None:
        items = self.lane.items
        found = [n for n, r in enumerate(items) if self.matches(r, request)]
        if not found:
            return None
        ahead = [n for n in found if n > self.position and not self.played[n]]
        if ahead:
            chosen = ahead[0]
        elif read:
            behind = [n for n in found if n <= self.position]
            chosen = behind[-1] if behind else found[-1]
        else:
            unplayed = [n for n in found if not self.played[n]]
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
    bindings: Bindings = field(default_factory=lambda: Bindings({}))
    preset: bool = False  # bindings fixed by the thread protocol's replay of the same thread
    dropped: dict[str, int] = field(default_factory=dict)  # run stream location -> byte offset


class Matcher:
    """Does a recording answer a request? (matching.py's rules, with the engine's settings)."""

    def __init__(self, ignore: Sequence[str], match_on: Sequence[str]) -> None:
        self.ignore, self.match_on = tuple(ignore), tuple(match_on)
        # recorded request -> (it, as normalized): made once, each consumer compares with it
        self._normal: dict[tuple[int, tuple[str, ...]], tuple[RecordedRequest, RecordedRequest]]
        self._normal = {}

    def __call__(self, recorded: Recorded, request: RecordedRequest) -> bool:
        return not self.differences(recorded, request)

    def differences(
        self, recorded: Recorded, request: RecordedRequest, ignore: Sequence[str] = ()
    ) -> list[str]:
        ignore = (*self.ignore, *ignore)
        asked = recorded.interaction.request
        kept = self._normal.get((id(asked), ignore))
        if kept is None or kept[0] is not asked:
            kept = self._normal[(id(asked), ignore)] = (asked, normalize(asked, ignore))
        return compare(kept[1], normalize(request, ignore), self.match_on)
