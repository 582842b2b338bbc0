"""Reading db.json as a stream: its top-level members one after another, each array item by item.

A legacy store's db.json holds every record of the store in one document; loading it whole would take
memory in proportion to the store. This reader holds one item (and one read buffer) at a time, and
decodes each item with the standard library's C-accelerated JSON scanner.
"""

from __future__ import annotations

import codecs
import json
import math
import re
from collections.abc import Iterator
from typing import Any, BinaryIO

from dist.domain.errors import Invalid

CHUNK_SIZE = 1024 * 1024
# The largest single item accepted; a longer one is taken for a broken document rather than read on and on.
MAX_ITEM_CHARS = 256 * 1024 * 1024
WHITESPACE = re.compile(r"[ \t\n\r]*")
SEPARATOR = re.compile(r"[ \t\n\r]*([,\]])[ \t\n\r]*")


class _NotJson(Exception):
    """A value Python's json module accepts but JSON does not: NaN, Infinity, a number too large for a float."""


def _reject_constant(text: str) -> Any:
    raise _NotJson(f"{text} is not a JSON value")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _NotJson(f"{text} is out of range")
    return value


class JsonStream:
    """A cursor over a JSON document read from a binary file, a buffer at a time."""

    def __init__(self, source: BinaryIO, name: str):
        self._source = source
        self._name = name
        self._decoder = json.JSONDecoder(parse_constant=_reject_constant, parse_float=_finite_float)
        self._text = codecs.getincrementaldecoder("utf-8")()
        self._buf = ""
        self._pos = 0
        self._eof = False
        # Where the buffer starts in the document, for error messages: lines before it, and its column.
        self._line = 1
        self._column = 1
        self.bytes_read = 0

    def _more(self) -> bool:
        """Append the next chunk to the buffer, dropping what was consumed; False at the end of the file."""
        if self._eof:
            return False
        consumed = self._buf[: self._pos]
        newlines = consumed.count("\n")
        self._line += newlines
        self._column = len(consumed) - consumed.rfind("\n") if newlines else self._column + len(consumed)
        # Long items are read in growing chunks, so an item is re-scanned a logarithmic number of times.
        size = max(CHUNK_SIZE, len(self._buf) - self._pos)
        data = self._source.read(size)
        self.bytes_read += len(data)
        try:
            decoded = self._text.decode(data, final=not data)
        except UnicodeDecodeError as error:
            raise self.error(f"the file is not UTF-8 ({error.reason})", len(self._buf)) from None
        self._buf = self._buf[self._pos :] + decoded
        self._pos = 0
        self._eof = not data
        return not self._eof

    def error(self, reason: str, at: int | None = None) -> Invalid:
        at = self._pos if at is None else at
        head = self._buf[:at]
        newlines = head.count("\n")
        line = self._line + newlines
        column = at - head.rfind("\n") if newlines else self._column + at
        return Invalid("legacy.invalid", f"{self._name} is not valid JSON: {reason} (line {line}, column {column})")

    def peek(self) -> str:
        """The next character that is not whitespace ('' at the end of the document)."""
        while True:
            match = WHITESPACE.match(self._buf, self._pos)
            assert match is not None
            self._pos = match.end()
            if self._pos < len(self._buf) or not self._more():
                return self._buf[self._pos : self._pos + 1]

    def expect(self, char: str, what: str) -> None:
        found = self.peek()
        if found != char:
            shown = repr(found) if found else "the end of the file"
            raise self.error(f"expected {what}, found {shown}")
        self._pos += 1

    def separator(self) -> str:
        """Consume the ',' or ']' after an array item, with the whitespace around it: one regex, the common case."""
        match = SEPARATOR.match(self._buf, self._pos)
        if match is not None:
            self._pos = match.end()
            return match.group(1)
        found = self.peek()
        if found not in (",", "]"):
            self.expect(",", "',' or ']'")
        self._pos += 1
        return found

    def value(self) -> Any:
        """Decode the next whole value."""
        self.peek()
        while True:
            try:
                value, end = self._decoder.raw_decode(self._buf, self._pos)
            except json.JSONDecodeError as error:
                # Reading more moves the buffer: keep the error's place relative to the item.
                offset = error.pos - self._pos
                if len(self._buf) - self._pos < MAX_ITEM_CHARS and self._more():
                    continue
                raise self.error(error.msg, self._pos + offset) from None
            except (_NotJson, RecursionError) as error:
                raise self.error(str(error) or "values nested too deeply") from None
            # A number that ends the buffer may go on in the next chunk.
            if end == len(self._buf) and self._more():
                continue
            self._pos = end
            return value


class LegacyDocument:
    """db.json as a stream of top-level members. Each pass reads the open file from its start, so a rename of
    db.json by another process between passes changes nothing."""

    def __init__(self, source: BinaryIO, name: str):
        self.source = source
        self.name = name

    def members(self) -> Iterator[tuple[str, Iterator[Any] | None]]:
        """Each top-level member in file order: its name and an iterator over its items when it is an array,
        else None. Items a caller leaves unread are skipped before the next member."""
        self.source.seek(0)
        stream = JsonStream(self.source, self.name)
        if stream.peek() != "{":
            raise Invalid("legacy.invalid", f"{self.name} does not hold a JSON object")
        stream.expect("{", "'{'")
        if stream.peek() == "}":
            stream.expect("}", "'}'")
        else:
            while True:
                if stream.peek() != '"':
                    raise stream.error("expected a member name")
                name = stream.value()
                stream.expect(":", "':'")
                if stream.peek() == "[":
                    items = self._items(stream)
                    yield name, items
                    for _ in items:
                        pass
                else:
                    stream.value()
                    yield name, None
                if stream.peek() == "}":
                    stream.expect("}", "'}'")
                    break
                stream.expect(",", "',' or '}'")
        if stream.peek():
            raise stream.error("unexpected data after the document")

    @staticmethod
    def _items(stream: JsonStream) -> Iterator[Any]:
        stream.expect("[", "'['")
        if stream.peek() == "]":
            stream.expect("]", "']'")
            return
        while True:
            yield stream.value()
            if stream.separator() == "]":
                return
