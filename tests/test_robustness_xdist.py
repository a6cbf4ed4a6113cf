"""Under pytest-xdist each test records its own cassette; no two workers write the same file."""

from __future__ import annotations

import json

import pytest

from lg_testkit import Cassette

pytest_plugins = ["pytester"]
INI = "[pytest]\nasyncio_default_fixture_loop_scope = function\n"
# The user tests talk to 127.0.0.1:9 (nothing listens; the session's `GET /info` after recording
# is refused at once) through an injected MockTransport standing in for the server.

USER_TESTS = '''
import json

import httpx
import pytest


def server(request: httpx.Request) -> httpx.Response:
    """Answers with a long stream naming the test that asked, so a mix-up shows in the file."""
    who = json.loads(request.content)["test"]
    data = [json.dumps({"test": who, "i": i}, separators=(",", ":")) for i in range(300)]
    events = "".join(f"event: values\\r\\ndata: {line}\\r\\n\\r\\n" for line in data)
    return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=events)


def record(lg_cassette, request):
    transport = lg_cassette.transport(httpx.MockTransport(server))
    with httpx.Client(transport=transport, base_url="http://127.0.0.1:9") as client:
        with client.stream("POST", "/runs/stream", json={"test": request.node.nodeid}) as r:
            r.read()


@pytest.mark.parametrize("n", range(8))
def test_param(lg_cassette, request, n):
    record(lg_cassette, request)


def test_plain_one(lg_cassette, request):
    record(lg_cassette, request)


def test_plain_two(lg_cassette, request):
    record(lg_cassette, request)
'''


def test_two_workers_record_complete_cassettes_each_of_its_own_test(
    pytester: pytest.Pytester,
) -> None:
    pytester.makeini(INI)
    pytester.makepyfile(test_user=USER_TESTS)
    result = pytester.runpytest_subprocess("-n", "2", "--lg-record-mode=all", "--lg-validate=off")
    result.assert_outcomes(passed=10)
    result.stdout.fnmatch_lines(["*2 workers*"])
    files = sorted((pytester.path / "cassettes" / "test_user").glob("*.json"))
    names = [f"test_param[{n}]" for n in range(8)] + ["test_plain_one", "test_plain_two"]
    expected = {f"test_param[{n}]" for n in range(8)} | {"test_plain_one", "test_plain_two"}
    assert len(files) == len(expected)
    owners = set()
    for path in files:
        stream = Cassette.load(path).interactions[0].response.stream  # complete: it loads
        assert stream is not None and len(stream.items) == 300
        [owner] = {item.data["test"] for item in stream.items}  # one test's events only
        owners.add(owner.split("::")[1])
        assert path.stem in names
    assert owners == expected
    assert not list((pytester.path / "cassettes").rglob("*.tmp"))

    replay = pytester.runpytest_subprocess("--lg-validate=off")  # each test finds its own file
    replay.assert_outcomes(passed=10)


COLLIDING = """
import httpx
import pytest


@pytest.mark.parametrize("x", ["a/b", "a b"])
def test_p(lg_cassette, x):
    live = httpx.MockTransport(lambda request: httpx.Response(200, json={"x": x}))
    transport = lg_cassette.transport(live)
    with httpx.Client(transport=transport, base_url="http://127.0.0.1:9") as client:
        assert client.post("/x", json={"x": x}).json() == {"x": x}
"""


def test_distinct_parametrized_ids_get_distinct_cassettes(pytester: pytest.Pytester) -> None:
    pytester.makeini(INI)
    pytester.makepyfile(test_user=COLLIDING)
    pytester.runpytest("--lg-record-mode=all", "--lg-validate=off").assert_outcomes(passed=2)
    files = list((pytester.path / "cassettes" / "test_user").glob("*.json"))
    assert len(files) == 2, [f.name for f in files]
    bodies = {json.dumps(Cassette.load(f).interactions[0].request.json) for f in files}
    assert len(bodies) == 2
