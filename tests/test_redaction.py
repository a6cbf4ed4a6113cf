"""Redaction's rules: which names are credentials, what is masked where, and that masking keeps a
recording replayable (chunking, matching). tests/test_secrets.py plants secrets end to end."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lg_testkit import Cassette
from lg_testkit.cassette import Interaction, RecordedRequest, RecordedResponse, RecordedStream
from lg_testkit.errors import CassetteError, SecretLeakError
from lg_testkit.normalize import normalize_events
from lg_testkit.redaction import (
    Redaction,
    is_credential_header,
    is_credential_name,
    locate,
    mask_query,
    masked_copy,
    matches_redacted,
    redact_headers,
)
from lg_testkit.replay.matching import differences

DATA = Path(__file__).parent / "data"
STREAMS = DATA / "streams" / "0.16.7"


# -- names -----------------------------------------------------------------------------------------

CREDENTIALS = [
    "token",
    "access_token",
    "refresh_token",
    "api_key",
    "apiKey",
    "OPENAI_API_KEY",
    "openai_api_key",
    "x-api-key",
    "x-openai-api-key",
    "password",
    "secret",
    "client_secret",
    "secret_key",
    "private_key",
    "authorization",
    "cookie",
    "accesstoken",
    "credentials",
]
NOT_CREDENTIALS = [
    "input_tokens",
    "output_tokens",
    "total_tokens",
    "max_tokens",
    "tokens",
    "token_usage",
    "input_token_details",
    "usage_metadata",
    "checkpoint_ns",
    "langgraph_checkpoint_ns",
    "__pregel_task_id",
    "run_id",
    "thread_id",
    "session_id",
    "key",
    "cache_key",
    "feedback_keys",
    "langgraph_auth_user",
    "langgraph_auth_user_id",
    "langsmith_session_name",
    "token_type",
]


@pytest.mark.parametrize("name", CREDENTIALS)
def test_a_field_named_as_a_credential_is_one(name: str) -> None:
    assert is_credential_name(name)


@pytest.mark.parametrize("name", NOT_CREDENTIALS)
def test_langgraph_counts_and_ids_are_not_credentials(name: str) -> None:
    assert not is_credential_name(name)


def test_no_field_of_any_committed_recording_is_masked_by_the_defaults() -> None:
    """Real LangGraph streams of every mode (metadata, checkpoints, debug, events, token usage)
    and thread-protocol logs: the default rules change nothing in them."""
    checked = 0
    for path in sorted(DATA.rglob("*.json")):
        try:
            cassette = Cassette.load(path)
        except CassetteError:  # the malformed examples; thread-protocol logs (checked below)
            continue
        before = json.dumps(cassette.to_dict())
        Redaction().enforce(cassette)
        assert json.dumps(cassette.to_dict()) == before, path
        checked += 1
    assert checked >= 10
    names: set[str] = set()
    for path in (DATA / "threads").rglob("*.json"):
        names |= set(_keys(json.loads(path.read_text())))
    assert len(names) > 100 and not [name for name in names if is_credential_name(name)]


def _keys(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, inner in value.items():
            yield key
            yield from _keys(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _keys(inner)


def test_headers_are_masked_by_what_their_name_says_and_their_values_remembered() -> None:
    seen: set[str] = set()
    headers = redact_headers(
        [
            ("Authorization", "Bearer tok-0123456789"),
            ("Cookie", "sid=cookie-0123456789; a=b"),
            ("api-key", "azure-0123456789"),
            ("X-OpenAI-Api-Key", "sk-openai-0123456789"),
            ("Set-Cookie", "s=server-0123456789; Path=/threads/area; Domain=example.com"),
            ("X-Tenant", "acme-tenant-1"),
            ("Accept", "*/*"),
            ("Content-Length", "12"),
        ],
        extra_secrets=["x-tenant"],
        seen=seen,
    )
    assert headers == {
        "authorization": "<redacted>",
        "cookie": "<redacted>",
        "api-key": "<redacted>",
        "x-openai-api-key": "<redacted>",
        "set-cookie": "<redacted>",
        "x-tenant": "<redacted>",
        "accept": "*/*",
    }
    expected = {"tok-0123456789", "cookie-0123456789", "azure-0123456789", "server-0123456789"}
    assert expected <= seen
    assert "example.com" not in seen and "/threads/area" not in seen  # cookie attributes
    assert all(is_credential_header(name) for name in ("X-Session-Id", "x-csrf-token", "Passwd"))
    assert not is_credential_header("content-type") and not is_credential_header("last-event-id")


# -- masking ---------------------------------------------------------------------------------------


def run_interaction(request_json: Any, events: list[tuple[str, Any]]) -> Interaction:
    """A recorded run stream, chunked every 7 bytes (boundaries fall inside events)."""
    text = "".join(f"event: {name}\r\ndata: {json.dumps(data)}\r\n\r\n" for name, data in events)
    blob = text.encode()
    chunks = [(n / 1000, blob[n : n + 7]) for n in range(0, len(blob), 7)]
    stream = RecordedStream.from_chunks(chunks)
    request = RecordedRequest("POST", "/runs/stream", json=request_json)
    return Interaction(request, RecordedResponse(200, {}, stream=stream))


def chunk(text: str, message_id: str = "m1") -> list[Any]:
    return [{"type": "AIMessageChunk", "content": text, "id": message_id}, {"langgraph_step": 1}]


def test_credential_fields_and_their_echoes_are_masked_everywhere() -> None:
    key = "sk-config-0123456789"
    interaction = run_interaction(
        {"config": {"configurable": {"openai_api_key": key, "user_id": "u1"}}},
        [
            ("metadata", {"run_id": "r1"}),
            ("values", {"note": f"using {key} now", "usage": {"total_tokens": 12, "token": key}}),
        ],
    )
    redaction = Redaction()
    redaction.apply(interaction)
    assert interaction.request.json["config"]["configurable"] == {
        "openai_api_key": "<redacted>",
        "user_id": "u1",
    }
    values = interaction.response.stream.items[1].data  # type: ignore[union-attr]
    assert values == {
        "note": "using <redacted> now",
        "usage": {"total_tokens": 12, "token": "<redacted>"},
    }
    assert key in redaction.seen

    kept = run_interaction({"config": {"configurable": {"openai_api_key": key}}}, [])
    Redaction(mask_credential_fields=False).apply(kept)
    assert kept.request.json["config"]["configurable"]["openai_api_key"] == key


def test_a_secret_split_across_token_events_is_masked_piece_by_piece() -> None:
    secret = "SPLIT-SECRET-9876"
    text = f"The code is {secret}."
    pieces = [text[n : n + 4] for n in range(0, len(text), 4)]
    partial = [text[: n + 4] for n in range(0, len(text), 4)]
    model = {"event": "on_chat_model_stream", "run_id": "r9"}
    interaction = run_interaction(
        {},
        [
            ("metadata", {"run_id": "r1"}),
            *(("messages", chunk(p)) for p in pieces),
            *(("messages/partial", [{"type": "ai", "content": p, "id": "m2"}]) for p in partial),
            *(("events", {**model, "data": {"chunk": {"content": p}}}) for p in pieces),
        ],
    )
    stream = interaction.response.stream
    assert stream is not None
    Redaction(secrets=[secret]).enforce(Cassette([interaction]))

    assert secret[:4] not in json.dumps(interaction.to_dict())  # no piece of it is left
    folded = normalize_events(stream.items)
    assert folded[1]["data"][0]["content"] == "The code is <redacted>."  # messages, folded
    assert folded[2]["data"][0]["content"] == "The code is <redacted>."  # last partial
    assert folded[3]["data"]["data"]["chunk"]["content"] == "The code is <redacted>."
    partials = [i.data[0]["content"] for i in stream.items if i.event == "messages/partial"]
    assert all("The code is <redacted>.".startswith(p) for p in partials)
    # The chunk sizes still add up to the bytes: replay keeps the recorded chunking.
    assert sum(size for _, size in stream.chunks) == len(b"".join(stream.encode_items()))
    assert len(stream.encode()) == len(stream.chunks)


def test_json_paths_mask_requests_responses_and_stream_events(tmp_path: Path) -> None:
    cassette = Cassette.load(STREAMS / "contract-agent.json")
    Redaction(json_paths=["request:input.messages.*.content", "messages.*.content"]).enforce(
        cassette
    )
    cassette.save(tmp_path / "masked.json")
    run = Cassette.load(tmp_path / "masked.json").interactions[2]  # a values-mode run
    text = str(run.to_dict())
    assert "whats the weather in la" not in text
    assert "It is sunny and 72 degrees" not in text
    assert run.request.json["input"]["messages"][0]["content"] == "<redacted>"
    assert run.response.stream.items[1].data["messages"][0]["content"] == "<redacted>"  # type: ignore[union-attr]


def test_a_configured_secret_is_masked_wherever_it_appears(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WEATHER_SECRET", "72 degrees Fahrenheit")
    cassette = Cassette.load(STREAMS / "contract-agent.json")
    redaction = Redaction(secrets=["env:WEATHER_SECRET", "env:UNSET_VARIABLE_XYZ"])
    redaction.enforce(cassette, str(tmp_path / "masked.json"))
    cassette.save(tmp_path / "masked.json")
    text = (tmp_path / "masked.json").read_text()
    assert "72 degrees Fahrenheit" not in text
    assert "Los Angeles: <redacted>, sunny." in text


def test_a_configured_secret_that_cannot_be_masked_is_refused_and_not_shown(
    tmp_path: Path,
) -> None:
    secret = "01a20bcb-6c29-73a0-8171-7b2fa5505fda"  # a thread id: in a path, and in keys
    cassette = Cassette.load(STREAMS / "contract-agent.json")
    target = tmp_path / "leak.json"
    with pytest.raises(SecretLeakError) as caught:
        Redaction(secrets=[secret]).enforce(cassette, str(target))
        cassette.save(target)
    message = str(caught.value)
    assert message.startswith(f"{target}: refusing to write a cassette containing a secret value")
    assert "interaction #2 (POST /threads/<redacted>/runs/stream): " in message
    assert "interactions[2].request.path: contains the secret 01a... (36 characters)" in message
    assert secret not in message
    assert not target.exists() and os.listdir(tmp_path) == []


# -- what the matcher uses -------------------------------------------------------------------------


def test_a_masked_recorded_value_matches_any_live_one() -> None:
    assert matches_redacted("<redacted>", {"any": "value"})
    assert matches_redacted("my key is <redacted>!", "my key is sk-123!")
    assert matches_redacted("a<redacted>b<redacted>c", "a12b34c")
    assert not matches_redacted("my key is <redacted>!", "your key is sk-123!")
    assert not matches_redacted("plain", "plain")  # nothing masked: equality decides

    recorded = RecordedRequest(
        "POST",
        "/runs/stream",
        query=[["api_key", "<redacted>"]],
        json={"input": {"messages": [{"content": "<redacted>"}]}, "config": {"a": 1}},
    )
    live = RecordedRequest(
        "POST",
        "/runs/stream",
        query=[["api_key", "live-key-0123456789"]],
        json={"input": {"messages": [{"content": "calc 2 + 40"}]}, "config": {"a": 1}},
    )
    assert differences(recorded, live) == []


def test_differences_never_show_a_credential() -> None:
    recorded = RecordedRequest("GET", "/x", query=[["token", "old-0123456789"], ["n", "1"]])
    live = RecordedRequest(
        "GET",
        "/x",
        query=[["token", "new-0123456789"], ["n", "2"]],
        json={"config": {"client_secret": "shh-0123456789", "keys": ["k"]}},
    )
    found = "\n".join(differences(recorded, live))
    assert "[['token', '<redacted>'], ['n', '1']]" in found
    assert "json: recorded None, got {'config': {'client_secret': '<redacted>'" in found
    assert "0123456789" not in found
    assert mask_query([("api_key", "v" * 10), ("limit", "5")]) == [
        ["api_key", "<redacted>"],
        ["limit", "5"],
    ]
    assert masked_copy({"a": {"password": ["p1"], "n": 1}}) == {
        "a": {"password": ["<redacted>"], "n": 1}
    }


def test_ignore_takes_the_same_paths_as_redact_json() -> None:
    body = {
        "input": {"messages": [{"id": "a", "content": "x"}, {"id": "b", "content": "y"}]},
        "config": {"configurable": {"user_id": "u1", "deep": {"user_id": "u2"}}},
    }
    assert [key for _, key in locate(body, ["input", "messages", "*", "id"])] == ["id", "id"]
    assert len(locate(body, ["**", "user_id"])) == 2
    recorded = RecordedRequest("POST", "/runs/stream", json=body)
    live = RecordedRequest(
        "POST",
        "/runs/stream",
        json={
            "input": {"messages": [{"id": "c", "content": "x"}, {"id": "d", "content": "y"}]},
            "config": {"configurable": {"user_id": "u9", "deep": {"user_id": "u8"}}},
        },
    )
    assert len(differences(recorded, live)) == 4
    assert differences(recorded, live, ignore=["input.messages.*.id", "**.user_id"]) == []
    prefixed = ["json.input.messages.*.id", "request:**.user_id"]
    assert differences(recorded, live, ignore=prefixed) == []


# -- through pytest, against a real server ---------------------------------------------------------

INI = "[pytest]\nasyncio_default_fixture_loop_scope = function\n"
PLUGIN_TEST = """
import asyncio, os
import pytest
from langgraph_sdk import get_client

@pytest.mark.lg_cassette
def test_echo():
    async def run():
        key = "lsv2_pt_plugin_key_0123456789"
        async with get_client(url=os.environ["LG_URL"], api_key=key) as client:
            thread = await client.threads.create()
            async for _ in client.runs.stream(thread["thread_id"], "agent", input={
                "messages": [{"role": "human", "content": "my token is sk-echo-0123456789"}]}):
                pass
    asyncio.run(run())
"""


def test_plugin_masks_an_echoed_secret_and_the_recording_replays(
    pytester: pytest.Pytester, langgraph_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LG_URL", langgraph_url)
    pytester.makepyfile(test_echo=PLUGIN_TEST)
    pytester.makeini(INI + "lg_secrets =\n    sk-echo-0123456789\n")
    options = ["--lg-redact-json=request:input.messages.*.content", "-p", "no:cacheprovider"]
    result = pytester.runpytest("--lg-record-mode=once", *options)
    result.assert_outcomes(passed=1)
    text = (pytester.path / "cassettes" / "test_echo" / "test_echo.json").read_text()
    assert "sk-echo-0123456789" not in text and "plugin_key_0123456789" not in text
    assert '"x-api-key": "<redacted>"' in text
    assert "my token is <redacted>" in text  # the graph's echo of the input, masked in place
    assert "sk-echo-0123456789" not in "\n".join(result.outlines + result.errlines)

    monkeypatch.setenv("LG_URL", "http://127.0.0.1:9")  # offline: the recording answers
    pytester.runpytest(*options).assert_outcomes(passed=1)
