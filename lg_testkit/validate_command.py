"""`lg-testkit validate PATH...`: check cassettes, folders of them, or saved event-stream bodies.

Prints one line per problem, `path:event-index: event-name: json-path: message` (for a
cassette, `path#N` names its interaction N), and returns the exit status: 0 all valid,
1 something invalid, 2 unusable input (a missing file, or neither a cassette nor an SSE body).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from lg_testkit.cassette import Cassette, RecordedStream
from lg_testkit.errors import CassetteError
from lg_testkit.progress import Progress
from lg_testkit.validation import Problem, validate_cassette, validate_stream

__all__ = ["FOLDER_PATTERNS", "run", "validate_path"]

FOLDER_PATTERNS = ("*.json", "*.sse")  # what a folder is searched for, recursively
OK, INVALID, UNUSABLE = 0, 1, 2


class UnusableInput(CassetteError):
    """The file cannot be checked at all (exit 2): missing, unreadable, neither a cassette
    nor an event-stream body."""


def validate_path(path: Path, *, strict: bool = True) -> tuple[list[Problem], int]:
    """(problems, streams checked) of one cassette or event-stream body file."""
    try:
        content = path.read_bytes()
    except FileNotFoundError:
        raise UnusableInput(f"{path}: no such file") from None
    except OSError as exc:
        raise UnusableInput(f"{path}: cannot read: {exc.strerror or exc}") from None
    try:
        document = json.loads(content)
    except ValueError:
        document = None
    else:
        if not (isinstance(document, dict) and "format" in document):
            raise UnusableInput(
                f'{path}: JSON but not an lg-testkit cassette (no "format" field); '
                "expected a cassette or a text/event-stream body"
            )
    if document is not None:
        try:
            cassette = Cassette.load(path)
        except CassetteError as exc:
            raise UnusableInput(str(exc)) from None
        streams = sum(1 for i in cassette.interactions if i.response.stream is not None)
        streams += len(cassette.threads)  # a thread-protocol log counts as one stream
        return validate_cassette(cassette, strict=strict), streams
    stream = RecordedStream.from_chunks([(0.0, content)])
    if not stream.events:
        raise UnusableInput(
            f"{path}: neither an lg-testkit cassette nor a text/event-stream body "
            "(no SSE event found)"
        )
    return validate_stream(stream.items, strict=strict, source=str(path)), 1


def _files(path: Path) -> list[Path]:
    if not path.is_dir():
        return [path]
    found = {file for pattern in FOLDER_PATTERNS for file in path.rglob(pattern) if file.is_file()}
    return sorted(found)


def run(
    paths: Sequence[str],
    *,
    lenient: bool = False,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    out, err = out or sys.stdout, err or sys.stderr
    status = OK
    files = streams = errors = 0
    targets: list[Path] = []
    for name in paths:
        found = _files(Path(name))
        if not found:
            print(
                f"lg-testkit: error: {name}: folder holds no {' or '.join(FOLDER_PATTERNS)} file",
                file=err,
            )
            status = UNUSABLE
        targets.extend(found)
    with Progress(len(targets), "validating", err) as progress:
        for target in targets:
            progress.step(target.name)
            try:
                problems, checked = validate_path(target, strict=not lenient)
            except UnusableInput as exc:
                progress.clear()
                print(f"lg-testkit: error: {exc}", file=err)
                status = UNUSABLE
                continue
            files, streams = files + 1, streams + checked
            for problem in problems:
                print(problem, file=out)
                if problem.severity == "error":
                    errors += 1
    if errors and status == OK:
        status = INVALID
    verdict = f"{errors} problem{'s' if errors != 1 else ''}" if errors else "all valid"
    print(f"lg-testkit validate: {files} file(s), {streams} stream(s): {verdict}", file=err)
    return status
