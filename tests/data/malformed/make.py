"""Writes the corpus next to this file: one broken cassette per case. Run it to add a case,
then add the file name to EXPECTED in tests/test_robustness_cassettes.py. BASE, the valid
cassette every case breaks, is also what the test suite's fuzzing starts from."""

import copy
import json
from pathlib import Path

OUT = Path(__file__).parent
BASE = {
    "format": "lg-testkit-cassette",
    "version": 1,
    "meta": {"lg_testkit": "0.1.0"},
    "interactions": [
        {
            "request": {
                "method": "POST",
                "path": "/threads",
                "headers": {"content-type": "application/json"},
                "json": {},
            },
            "response": {
                "status": 200,
                "headers": {"content-type": "application/json"},
                "json": {"thread_id": "t1"},
            },
        },
        {
            "request": {
                "method": "POST",
                "path": "/threads/t1/runs/stream",
                "headers": {},
                "json": {"assistant_id": "agent"},
            },
            "response": {
                "status": 200,
                "headers": {"content-type": "text/event-stream; charset=utf-8"},
                "stream": {
                    "newline": "\r\n",
                    "chunks": [[0.01, 55], [0.02, 43]],
                    "items": [
                        {"t": 0.01, "event": "metadata", "data": {"run_id": "r1", "attempt": 1}},
                        {"t": 0.02, "event": "values", "data": {"messages": []}},
                    ],
                },
            },
        },
    ],
}


def write(name, mutate=None, text=None, raw=None):
    path = OUT / name
    if raw is not None:
        path.write_bytes(raw)
        return
    if text is None:
        doc = copy.deepcopy(BASE)
        result = mutate(doc) if mutate else None
        doc = doc if result is None else result
        text = json.dumps(doc, indent=2) + "\n"
    path.write_text(text)


def at(*keys):
    def get(doc):
        for k in keys:
            doc = doc[k]
        return doc

    return get


def setter(value, *keys):
    def mutate(doc):
        at(*keys[:-1])(doc)[keys[-1]] = value

    return mutate


def deleter(*keys):
    def mutate(doc):
        del at(*keys[:-1])(doc)[keys[-1]]

    return mutate


S = ("interactions", 1, "response", "stream")


def main():
    valid = json.dumps(BASE, indent=2)
    write("empty.json", text="")
    write("truncated.json", text=valid[: len(valid) // 2])
    write("not-json.json", text="{not json\n")
    write(
        "invalid-utf8.json",
        raw=valid.replace('"t1"', '"t\udcff"').encode("utf-8", "surrogateescape"),
    )
    write(
        "vcrpy-yaml.json", text="interactions:\n- request:\n    method: GET\n    uri: http://x/ok\n"
    )
    write("not-a-cassette.json", text='{"interactions": []}\n')
    write("top-level-list.json", text="[]\n")
    write("future-version.json", setter(2, "version"))
    write("old-version.json", setter(0, "version"))
    write("version-string.json", setter("1", "version"))
    write("version-true.json", setter(True, "version"))
    write("too-deep.json", text="[" * 100_000 + "]" * 100_000)
    write(
        "huge-number.json", text='{"format": "lg-testkit-cassette", "version": ' + "1" * 5000 + "}"
    )
    write("missing-interactions.json", deleter("interactions"))
    write("interactions-not-list.json", setter({}, "interactions"))
    write("interaction-not-object.json", setter("GET /ok", "interactions", 0))
    write("missing-request.json", deleter("interactions", 0, "request"))
    write("request-method-number.json", setter(1, "interactions", 0, "request", "method"))
    write("query-not-pairs.json", setter(["a=1"], "interactions", 0, "request", "query"))
    write("missing-status.json", deleter("interactions", 0, "response", "status"))
    write("status-string.json", setter("200", "interactions", 0, "response", "status"))
    write("status-out-of-range.json", setter(42, "interactions", 0, "response", "status"))
    write(
        "headers-list.json",
        setter([["content-type", "application/json"]], "interactions", 0, "response", "headers"),
    )
    write(
        "header-value-number.json",
        setter(5, "interactions", 0, "response", "headers", "content-length"),
    )
    write("body-not-string.json", setter(123, "interactions", 0, "response", "body"))
    write("body-unencodable.json", setter("\ud800", "interactions", 0, "response", "body"))
    write("missing-items.json", deleter(*S, "items"))
    write("items-not-list.json", setter({"0": {}}, *S, "items"))
    write("item-not-object.json", setter("event: values", *S, "items", 1))
    write("item-raw-not-string.json", setter(7, *S, "items", 1, "raw"))
    write("item-raw-unencodable.json", setter("data: \ud800\r\n\r\n", *S, "items", 1, "raw"))
    write("item-data-unencodable.json", setter({"content": "\udfff"}, *S, "items", 1, "data"))
    write("item-text-not-string.json", setter({"not": "json"}, *S, "items", 1, "text"))
    write("item-data-and-text.json", setter("{broken", *S, "items", 1, "text"))
    write("item-event-not-string.json", setter(["values"], *S, "items", 1, "event"))
    write("item-t-string.json", setter("0.02", *S, "items", 1, "t"))
    write(
        "item-t-infinite.json", text=json.dumps(BASE, indent=2).replace('"t": 0.02', '"t": 1e999')
    )
    write("item-t-huge.json", text=json.dumps(BASE, indent=2).replace('"t": 0.02', '"t": 1e21'))
    write("item-retry-string.json", setter("1500", *S, "items", 1, "retry"))
    write("item-comments-not-list.json", setter(7, *S, "items", 1, "comments"))
    write("item-comments-not-strings.json", setter([1, 2], *S, "items", 1, "comments"))
    write("chunks-not-pairs.json", setter([55, 43], *S, "chunks"))
    write("chunk-size-string.json", setter([[0.01, "55"], [0.02, 43]], *S, "chunks"))
    write("chunk-size-negative.json", setter([[0.01, -5], [0.02, 43]], *S, "chunks"))
    write("chunk-t-string.json", setter([["soon", 55], [0.02, 43]], *S, "chunks"))
    write("newline-not-a-line-end.json", setter("\t", *S, "newline"))
    write("cut-short-string.json", setter("yes", *S, "cut_short"))
    # JSON the SDK's orjson does not read, or that breaks replay later
    data = ("interactions", 1, "response", "stream", "items", 1, "data")
    write("data-nan.json", setter({"score": float("nan")}, *data))
    write("data-infinity.json", setter([1, float("-inf")], *data))
    write("data-out-of-range.json", text=valid.replace('"messages": []', '"messages": [1e400]'))
    write("data-too-deep.json", setter(nested(300), *data))
    deep = "[" * 1000 + "]" * 1000  # too deep for json.dumps(indent=2): as text
    write("data-far-too-deep.json", text=valid.replace('"messages": []', f'"messages": {deep}'))
    write("key-twice.json", text=valid.replace('"version": 1,', '"version": 2,\n  "version": 1,'))
    interactions = '"interactions": ['
    write(
        "interactions-twice.json",
        text=valid.replace(interactions, '"interactions": [],\n  ' + interactions),
    )
    write(
        "data-key-twice.json", text=valid.replace('"messages": []', '"messages": [], "messages": 1')
    )
    # text that would inject lines into the stream or the response head
    write("item-event-line-break.json", setter("values\r\ndata: {}", *S, "items", 1, "event"))
    write("item-id-line-break.json", setter("7\nevent: error", *S, "items", 1, "id"))
    write("item-comment-line-break.json", setter(["a\rdata: x"], *S, "items", 1, "comments"))
    write("item-unknown-field.json", setter("values", *S, "items", 1, "evnet"))
    write("header-name-space.json", setter("1", "interactions", 0, "response", "headers", "x a"))
    write(
        "header-value-line-break.json",
        setter("1\r\nset-cookie: a=b", "interactions", 0, "response", "headers", "x-a"),
    )
    write("request-method-space.json", setter("GET /x", "interactions", 0, "request", "method"))
    # statuses a server cannot send back as recorded
    write("status-101.json", setter(101, "interactions", 0, "response", "status"))
    write("status-999.json", setter(999, "interactions", 0, "response", "status"))
    write("status-204-with-body.json", setter(204, "interactions", 0, "response", "status"))
    write("status-304-with-stream.json", setter(304, "interactions", 1, "response", "status"))
    print(len(list(OUT.iterdir())))


def nested(depth):
    value = []
    for _ in range(depth - 1):
        value = [value]
    return value


if __name__ == "__main__":
    main()
