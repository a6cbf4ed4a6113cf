"""A fake chat model for the demo and test graphs: no keys, no network, tokens and tool calls."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.messages.tool import tool_call_chunk
from langchain_core.outputs import ChatGenerationChunk

__all__ = ["FakeChatModel", "reply_once"]


class FakeChatModel(GenericFakeChatModel):
    """`GenericFakeChatModel` that also streams tool calls.

    The stock `_stream` splits `content` on whitespace but drops `tool_calls`, so a graph
    streamed in `messages` mode (which makes `invoke` stream) would lose its tool call.
    Here content streams token by token as before, then each tool call follows as one
    `tool_call_chunks` chunk, the way real providers stream them.
    """

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        message = self._generate(messages, stop=stop, **kwargs).generations[0].message
        assert isinstance(message, AIMessage) and isinstance(message.content, str)
        # Words and the whitespace between them, as separate tokens (like the stock model).
        chunks = [
            AIMessageChunk(content=token, id=message.id)
            for token in re.split(r"(\s)", message.content)
            if token
        ]
        chunks += [
            AIMessageChunk(
                content="",
                id=message.id,
                tool_call_chunks=[
                    tool_call_chunk(
                        name=call["name"], args=json.dumps(call["args"]), id=call["id"], index=i
                    )
                ],
            )
            for i, call in enumerate(message.tool_calls)
        ]
        if chunks and "chunk_position" in AIMessageChunk.model_fields:  # langchain-core >= 1.0
            chunks[-1].chunk_position = "last"
        for message_chunk in chunks:
            chunk = ChatGenerationChunk(message=message_chunk)
            if run_manager:
                run_manager.on_llm_new_token(chunk.text, chunk=chunk)
            yield chunk


def reply_once(message: AIMessage) -> FakeChatModel:
    """A fresh model that answers `message` once: runs never share iterator state."""
    return FakeChatModel(messages=iter([message]))
