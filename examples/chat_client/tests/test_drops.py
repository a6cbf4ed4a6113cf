"""A connection that drops mid-answer, on purpose: lg-testkit's faults replay the research
stream recorded by test_chat_client.py and cut it after a few events.

These tests replay another test's cassette (`path=`), so `rerecord.py` leaves them out
(`-m "not replays_only"`): there is nothing of their own to record.
"""

from __future__ import annotations

import io

import pytest
from chat_client import ChatClient
from test_chat_client import RESEARCH_ANSWER, RESEARCH_PROGRESS

from lg_testkit import CassetteSession, Faults

RESEARCH = "tests/test_chat_client/test_shows_the_progress_its_research_subgraph_reports.json"


@pytest.mark.replays_only
@pytest.mark.lg_cassette(path=RESEARCH, validate="strict", faults=Faults(drop_after=4))
async def test_a_dropped_stream_is_picked_up_where_it_dropped(
    chat: ChatClient, lg_cassette: CassetteSession
) -> None:
    """The SDK reconnects with the last event id; the answer arrives whole, nothing twice."""
    reply = await chat.send(await chat.new_thread(), "research", "is the sky blue")

    # One line per request the replay answered: the stream, then the SDK's reconnect.
    reconnects = [line for line in lg_cassette.engine.log if "[Last-Event-ID: " in line]
    assert len(reconnects) == 1, lg_cassette.engine.log

    assert reply.error is None
    assert reply.progress == RESEARCH_PROGRESS  # no progress line repeated
    assert reply.text == RESEARCH_ANSWER
    assert isinstance(chat.out, io.StringIO)
    assert chat.out.getvalue() == RESEARCH_ANSWER + "\n"


@pytest.mark.replays_only
@pytest.mark.lg_cassette(
    path=RESEARCH, validate="strict", faults=Faults(drop_after=4, recover=False)
)
async def test_a_run_lost_with_the_connection_is_reported(chat: ChatClient) -> None:
    """The reconnect finds the run gone (a server restart): the user is told, nothing raises."""
    reply = await chat.send(await chat.new_thread(), "research", "is the sky blue")

    assert reply.error == "connection lost: NotFoundError"
    assert reply.progress == RESEARCH_PROGRESS[:2]  # what came before the drop
    assert reply.text == ""
    assert isinstance(chat.out, io.StringIO)
    assert chat.out.getvalue() == "[connection lost: NotFoundError; the answer may be incomplete]\n"
