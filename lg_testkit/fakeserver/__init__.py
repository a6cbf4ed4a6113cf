"""A fake LangGraph server: cassettes replayed over real HTTP or in-process, for any client.

app.py            the ASGI app: recorded status, headers and bytes; 404 with the closest
conversations.py  which recorded answer each request gets (threads, turns, polling)
bindings.py       ids handed out per replayed thread, mapped back in later requests
playback.py       a recorded stream cut into chunks, paced, with faults placed
faults.py         drops, stalls, heartbeats, re-chunking
transport.py      in-process httpx transports that stream
server.py         `FakeServer`: the public entry point
command.py        `lg-testkit serve`
"""

from lg_testkit.fakeserver.faults import Faults
from lg_testkit.fakeserver.server import FakeServer

__all__ = ["FakeServer", "Faults"]
