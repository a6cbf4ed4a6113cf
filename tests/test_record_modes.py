"""`new_episodes` on a multi-turn thread: a turn that continues a thread which exists only in
the cassette is refused with what to do, and nothing is appended to the cassette."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from langgraph_sdk.client import LangGraphClient

from lg_testkit import UnmatchedRequestError, use_cassette

TURN = {"messages": [{"role": "human", "content": "whats the weather in la"}]}


async def turns(url: str, count: int) -> None:
    async with httpx.AsyncClient(base_url=url) as http:
        await _turns(LangGraphClient(http), count)


async def _turns(client: LangGraphClient, count: int) -> None:
    thread = (await client.threads.create())["thread_id"]
    for _ in range(count):
        async for _part in client.runs.stream(thread, "agent", input=TURN):
            pass


async def test_a_new_turn_on_a_replayed_thread_is_refused(
    tmp_path: Path, langgraph_url: str
) -> None:
    cassette = tmp_path / "turns.json"
    with use_cassette(cassette, "once"):
        await turns(langgraph_url, 1)
    before = cassette.read_bytes()

    with pytest.raises(UnmatchedRequestError) as refused, use_cassette(cassette, "new_episodes"):
        await turns(langgraph_url, 2)
    message = str(refused.value)
    assert "exists only in the cassette" in message and "--lg-record-mode=all" in message
    assert cassette.read_bytes() == before, "nothing that only exists by replay was appended"
