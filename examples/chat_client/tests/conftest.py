from __future__ import annotations

import io
import os
from collections.abc import AsyncIterator

import pytest
from chat_client import ChatClient

# Where the team's LangGraph server runs when recording (`pytest --lg-record-mode=once`).
# Replays never connect to it.
LG_URL = os.environ.get("LG_URL", "http://127.0.0.1:2024")


@pytest.fixture
async def chat() -> AsyncIterator[ChatClient]:
    client = ChatClient(LG_URL, out=io.StringIO())
    yield client
    await client.aclose()
