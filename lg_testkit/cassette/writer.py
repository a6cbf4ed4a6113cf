"""Writing a cassette: its readable layout, atomically, once or again and again as it grows.

The file is `json.dumps(document, indent=2)` except that each stream item and each stream's chunk
list stand on one line of their own, which keeps diffs of re-recorded streams readable, and that
it ends with a seal (seal.py): the digest of the text, and whether every stream in it passed
validation (`valid_claim`), so that loading and replaying it again needs no second look. A save
writes a temp file next to the cassette, fsyncs it and renames it over the old one, so a reader
sees the old file or the new one, never half of one; a failed save raises CassetteWriteError
naming the file and leaves the old file as it was. The new file follows the umask like any other
new file; an existing cassette keeps its mode.

`CassetteWriter` is for a cassette written again and again as it grows (the recording proxy
writes after every exchange): the text of a finished interaction is made once and kept, so a
write only joins texts.
"""

from __future__ import annotations

import contextlib
import fcntl
import glob
import hashlib
import json
import os
import re
import secrets
import stat
import tempfile
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from operator import attrgetter
from pathlib import Path
from typing import Any

from lg_testkit.cassette.model import (
    FORMAT_NAME,
    FORMAT_VERSION,
    Interaction,
    dumps_compact,
)
from lg_testkit.cassette.seal import plain_heads, sealed_text
from lg_testkit.errors import CassetteWriteError
from lg_testkit.threadlog import ProtocolThread

__all__ = [
    "STALE_TEMP_SECONDS",
    "CassetteWriter",
    "assemble",
    "interaction_text",
    "thread_text",
    "valid_claim",
    "write_atomically",
]

STALE_TEMP_SECONDS = 600.0  # a save's temp file older than this was left by a killed process
_INDENT = "    "  # an interaction stands two levels deep in the file


class CassetteWriter:
    """Writes one cassette file again and again as it grows, keeping finished interactions'
    text. Interactions are told apart by identity: a kept one must not change any more.

        writer = CassetteWriter(path)
        writer.keep(interaction)              # finished: its text is made now, once
        writer.save(meta, interactions)       # kept texts joined in, the others made afresh
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        # id -> (the interaction, its text, passed validation, its heads are plain)
        self._texts: dict[int, tuple[Interaction, str, bool, bool]] = {}

    def keep(self, interaction: Interaction) -> None:
        """Make the interaction's text now (and check it) and reuse both in every later write."""
        if id(interaction) not in self._texts:
            text, passed = interaction_text(interaction), _passes(interaction)
            self._texts[id(interaction)] = (interaction, text, passed, plain(interaction))

    def kept(self, interaction: Interaction) -> bool:
        return id(interaction) in self._texts

    def dumps(
        self,
        meta: Mapping[str, Any],
        interactions: Iterable[Interaction],
        threads: Iterable[ProtocolThread] = (),
    ) -> str:
        """The file's text for these interactions, in this order (and thread-protocol logs)."""
        texts, valid, sealed = [], True, True
        for interaction in interactions:
            kept = self._texts.get(id(interaction))
            if kept is None:
                text, is_plain = interaction_text(interaction), plain(interaction)
                passed = valid and _passes(interaction)  # no need to check once one fails
            else:
                _, text, passed, is_plain = kept
            texts.append(text)
            valid, sealed = valid and passed, sealed and is_plain
        threads = list(threads)
        valid = valid and all(map(_passes, threads))
        claim = _rules_digest() if valid else None
        texts_of_threads = [thread_text(thread) for thread in threads]
        return assemble(meta, texts, texts_of_threads, claim, sealed=sealed)

    def write(self, text: str) -> Path:
        """Write a text made by `dumps` atomically; CassetteWriteError if it cannot be."""
        write_atomically(self.path, text)
        return self.path

    def save(
        self,
        meta: Mapping[str, Any],
        interactions: Iterable[Interaction],
        threads: Iterable[ProtocolThread] = (),
    ) -> Path:
        return self.write(self.dumps(meta, interactions, threads))


# -- the layout --------------------------------------------------------------------------------


def interaction_text(interaction: Interaction) -> str:
    """One interaction exactly as it stands in the file (two levels deep)."""
    request, response = interaction.request, interaction.response
    shaped = response.to_dict() if response.stream is None else None
    if shaped is None:
        assert response.stream is not None
        stream = response.stream
        head = {"status": response.status, "headers": response.headers}
        fields = [(key, _indented(value, _INDENT + "    ")) for key, value in head.items()]
        parts: dict[str, Any] = {"newline": stream.newline}
        if stream.cut_short:
            parts["cut_short"] = True
        if stream.dropped:
            parts["dropped"] = stream.dropped
        inner = _INDENT + "      "
        lines = [(key, _indented(value, inner)) for key, value in parts.items()]
        lines.append(("chunks", dumps_compact(stream.chunks)))
        items = [item.to_json() for item in stream.items]
        listed = (
            "[\n" + ",\n".join(f"{inner}  {line}" for line in items) + f"\n{inner}]"
            if items
            else "[]"
        )
        lines.append(("items", listed))
        fields.append(("stream", _object(lines, _INDENT + "    ")))
        response_text = _object(fields, _INDENT + "  ")
    else:
        response_text = _indented(shaped, _INDENT + "  ")
    text = _object(
        [("request", _indented(request.to_dict(), _INDENT + "  ")), ("response", response_text)],
        _INDENT,
    )
    return _utf8_safe(text)


def thread_text(thread: ProtocolThread) -> str:
    """One thread-protocol log as it stands in the file: each command and event on a line."""
    inner = _INDENT + "    "
    fields = [
        ("thread_id", dumps_compact(thread.thread_id)),
        ("stream_headers", _indented(thread.stream_headers, _INDENT + "  ")),
    ]
    for key, entries in (("commands", thread.commands), ("events", thread.events)):
        lines = [dumps_compact(entry.to_dict()) for entry in entries]
        listed = "[\n" + ",\n".join(f"{inner}{line}" for line in lines) + f"\n{_INDENT}  ]"
        fields.append((key, listed if lines else "[]"))
    return _utf8_safe(_object(fields, _INDENT))


def _indented(value: Any, indent: str) -> str:
    """`json.dumps(value, indent=2)` as it reads at `indent`."""
    return json.dumps(value, indent=2, ensure_ascii=False).replace("\n", "\n" + indent)


def _object(fields: list[tuple[str, str]], indent: str) -> str:
    """`json.dumps(indent=2)` of an object whose values are already written at `indent` + 2."""
    if not fields:
        return "{}"
    inner = indent + "  "
    body = ",\n".join(f"{inner}{dumps_compact(key)}: {text}" for key, text in fields)
    return "{\n" + body + "\n" + indent + "}"


def assemble(
    meta: Mapping[str, Any],
    interactions: Sequence[str],
    threads: Sequence[str] = (),
    valid: str | None = None,
    *,
    sealed: bool = True,
) -> str:
    """The file's text: `json.dumps(document, indent=2)`, with the interactions' texts joined in
    (and the threads', when there are any), sealed unless `sealed` is false (`plain` says);
    `valid` is what `valid_claim` says."""
    head = _utf8_safe(
        json.dumps(
            {"format": FORMAT_NAME, "version": FORMAT_VERSION, "meta": meta},
            indent=2,
            ensure_ascii=False,
        )
    )
    text = head[:-2] + ',\n  "interactions": ' + _listed(interactions)
    if threads:
        text += ',\n  "threads": ' + _listed(threads)
    return sealed_text(text, valid) if sealed else text + "\n}\n"


def plain(interaction: Interaction) -> bool:
    """Whether every item of the response's stream has plain heads (seal.plain_heads), which a
    file must have to be sealed: its items are then not checked when it is loaded."""
    stream = interaction.response.stream
    if stream is None:
        return True
    items = stream.items
    return plain_heads(
        list(map(attrgetter("t"), items)),
        list(map(attrgetter("event"), items)),
        list(map(attrgetter("id"), items)),
    )


def valid_claim(
    interactions: Iterable[Interaction], threads: Iterable[ProtocolThread] = ()
) -> str | None:
    """What a seal says of these streams: the rules digest (lg_testkit.schemas.rules_digest) if
    every one passes validation without a finding, else None."""
    passed = all(map(_passes, interactions)) and all(map(_passes, threads))
    return _rules_digest() if passed else None


def _passes(recorded: Interaction | ProtocolThread) -> bool:
    from lg_testkit.validation import passes  # the validators load on the first save

    return passes(recorded)


def _rules_digest() -> str:
    from lg_testkit.schemas import rules_digest

    return rules_digest()


def _listed(texts: Sequence[str]) -> str:
    return "[\n    " + ",\n    ".join(texts) + "\n  ]" if texts else "[]"


def _utf8_safe(text: str) -> str:
    """Bytes that were not UTF-8 are kept as lone surrogates (surrogateescape); UTF-8 cannot
    hold those, so they are written as JSON escapes, which load back to the same characters."""
    return _LONE_SURROGATE.sub(lambda m: f"\\u{ord(m[0]):04x}", text)


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


# -- the file ----------------------------------------------------------------------------------


@contextlib.contextmanager
def locked(target: Path, *, wait: bool = True) -> Iterator[None]:
    """Hold the writers' lock of `target` (an flock, in the temp folder) for the block.

    Every lg-testkit writer of one cassette takes it, so two processes never interleave a
    read-merge-write. `wait=False` raises CassetteWriteError at once if another holds it."""
    fd = os.open(_lock_file(target), os.O_RDWR | os.O_CREAT, 0o666)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            raise CassetteWriteError(
                f"{target}: another process is recording into this cassette; give each "
                "writer a cassette of its own"
            ) from None
        yield
    finally:
        os.close(fd)


def _lock_file(target: Path) -> Path:
    """The lock of one cassette, for every process on this machine; kept out of the cassette
    folder, where it would be taken for a recording (and committed)."""
    folder = Path(tempfile.gettempdir()) / "lg-testkit-locks"
    folder.mkdir(exist_ok=True)
    name = hashlib.sha256(str(target.resolve()).encode()).hexdigest()[:32]
    return folder / f"{name}.lock"


def on_disk(target: Path) -> tuple[int, int] | None:
    """What identifies the file's current content for a writer: (mtime, size), or None."""
    try:
        info = target.stat()
    except FileNotFoundError:
        return None
    return info.st_mtime_ns, info.st_size


def write_atomically(target: Path, text: str) -> None:
    """Temp file, fsync, rename: a reader sees the old file or the new one, never half.

    Any failure (disk full, permissions, a missing folder that cannot be made) raises
    CassetteWriteError naming `target`, whose old content is left intact."""
    data = text.encode("utf-8")
    tmp: Path | None = None
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp, fd = _create_temp(target)
        try:
            with contextlib.suppress(FileNotFoundError):  # keep an existing cassette's mode
                os.fchmod(fd, stat.S_IMODE(os.stat(target).st_mode))
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, target)
        tmp = None
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise CassetteWriteError(
            f"{target}: cannot write cassette: {reason}; the file was left as it was"
        ) from exc
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                tmp.unlink()
    _remove_stale_temp_files(target)


def _create_temp(target: Path) -> tuple[Path, int]:
    """A new temp file next to `target`, created with mode 0666 so the umask applies."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    for _ in range(100):
        tmp = target.parent / f".{target.name}.{secrets.token_hex(4)}.tmp"
        try:
            return tmp, os.open(tmp, flags, 0o666)
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temp file name next to {target}")


def _remove_stale_temp_files(target: Path) -> None:
    """Delete temp files left by saves killed before their rename (SIGKILL, power loss).

    Only old ones: a fresh temp file may belong to a save still running in another process.
    """
    now = time.time()
    for stale in target.parent.glob(f".{glob.escape(target.name)}.*.tmp"):
        with contextlib.suppress(OSError):  # gone already, or not ours to delete
            if now - stale.stat().st_mtime > STALE_TEMP_SECONDS:
                stale.unlink()
