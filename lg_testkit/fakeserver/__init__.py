"""A fake LangGraph server: cassettes replayed over real HTTP or in-process, for any client.

app.py            the ASGI app: the replay engine's replies (lg_testkit/replay) over HTTP
server.py         `FakeServer`: the public entry point
command.py        `lg-testkit serve`
"""

from lg_testkit.fakeserver.server import FakeServer
from lg_testkit.replay.faults import Faults

__all__ = ["FakeServer", "Faults"]
