"""Redaction: what never reaches a cassette, through the library, the plugin and any writer."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from lg_testkit import Cassette
from lg_testkit.errors import SecretLeakError
from lg_testkit.redaction import Redaction, redact_headers

STREAMS = Path(__file__).parent / "data" / "streams" / "0.16.7"


def test_credential_headers_are_masked_and_their_values_remembered() -> None:
    seen: set[str] = set()
    headers = redact_headers(
        [
            ("Authorization", "Bearer tok-0123456789"),
            ("Cookie", "sid=cookie-0123456789; a=b"),
            ("X-Tenant", "acme-tenant-1"),
            ("Accept", "*/*"),
        ],
        extra_secrets=["x-tenant"],
        seen=seen,
    )
    assert headers == {
        "authorization": "<redacted>",
        "cookie": "<redacted>",
        "x-tenant": "<redacted>",
        "accept": "*/*",
    }
    assert {"tok-0123456789", "cookie-0123456789"} <= seen


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
    assert run.response.stream.items[1]["data"]["messages"][0]["content"] == "<redacted>"  # type: ignore[union-attr]


def test_the_scan_refuses_to_write_and_says_where(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WEATHER_SECRET", "72 degrees Fahrenheit")
    cassette = Cassette.load(STREAMS / "contract-agent.json")
    cassette.redaction = Redaction(secrets=["env:WEATHER_SECRET", "env:UNSET_VARIABLE_XYZ"])
    target = tmp_path / "leak.json"
    with pytest.raises(SecretLeakError) as caught:
        cassette.save(target)
    message = str(caught.value)
    assert message.startswith(f"{target}: refusing to write a cassette containing a secret value")
    assert (
        "interaction #2 (POST /threads/01a20bcb-6c29-73a0-8171-7b2fa5505fda/runs/stream): "
        "interactions[2].response.stream.items[3].data.messages[2].content: contains the secret "
        "72 ... (21 characters)"
    ) in message
    assert "72 degrees Fahrenheit" not in message
    assert not target.exists() and os.listdir(tmp_path) == []


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


def test_plugin_masks_configured_fields_and_refuses_an_echoed_secret(
    pytester: pytest.Pytester, langgraph_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LG_URL", langgraph_url)
    pytester.makepyfile(test_echo=PLUGIN_TEST)
    pytester.makeini(INI + "lg_secrets =\n    sk-echo-0123456789\n")
    result = pytester.runpytest(
        "--lg-record-mode=once",
        "--lg-validate=off",
        "--lg-redact-json=request:input.messages.*.content",
        "-p",
        "no:cacheprovider",
    )
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*SecretLeakError*refusing to write a cassette containing a secret value*",
            "*interaction #1 (POST /threads/*/runs/stream): "
            "interactions[[]1[]].response.stream.items[[]1[]].data.messages[[]0[]].content*",
        ]
    )
    assert not (pytester.path / "cassettes").exists() or not list(
        (pytester.path / "cassettes").rglob("*.json")
    )

    # Without the secret in the stream, the recording is written with the field and key masked.
    pytester.makeini(INI)
    result = pytester.runpytest(
        "--lg-record-mode=once",
        "--lg-validate=off",
        "--lg-redact-json=**.messages.*.content",
        "--lg-secret=env:LG_UNSET_SECRET",
        "-p",
        "no:cacheprovider",
    )
    result.assert_outcomes(passed=1)
    text = (pytester.path / "cassettes" / "test_echo" / "test_echo.json").read_text()
    assert "sk-echo-0123456789" not in text and "plugin_key_0123456789" not in text
    assert '"x-api-key": "<redacted>"' in text
