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
# The most text decoded in one call as a run of array items: their objects take several times its size.
BATCH_CHARS = 256 * 1024
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
        # Where the document starts in the file, and how many characters come before the buffer: an error's line
        # and column are counted from these, so that reading keeps no count of lines.
        self._start = source.tell()
        self._offset = 0
        self.bytes_read = 0

    def _more(self) -> bool:
        """Append the next chunk to the buffer, dropping what was consumed; False at the end of the file."""
        if self._eof:
            return False
        # Long items are read in growing chunks, so an item is re-scanned a logarithmic number of times.
        size = max(CHUNK_SIZE, len(self._buf) - self._pos)
        data = self._source.read(size)
        self.bytes_read += len(data)
        try:
            decoded = self._text.decode(data, final=not data)
        except UnicodeDecodeError as error:
            raise self.error(f"the file is not UTF-8 ({error.reason})", len(self._buf)) from None
        self._offset += self._pos
        self._buf = self._buf[self._pos :] + decoded
        self._pos = 0
        self._eof = not data
        return not self._eof

    def error(self, reason: str, at: int | None = None) -> Invalid:
        line, column = self._place(self._offset + (self._pos if at is None else at))
        return Invalid("legacy.invalid", f"{self._name} is not valid JSON: {reason} (line {line}, column {column})")

    def _place(self, target: int) -> tuple[int, int]:
        """The line and column of the document's character `target`, read again from the file's start."""
        self._source.seek(self._start)
        # Undecodable bytes count as one character each, as far as the reader got before refusing them.
        text = codecs.getincrementaldecoder("utf-8")(errors="replace")
        line, newline, seen = 1, -1, 0
        while seen < target:
            data = self._source.read(CHUNK_SIZE)
            piece = text.decode(data, final=not data)[: target - seen]
            if not data and not piece:
                break
            if "\n" in piece:
                line += piece.count("\n")
                newline = seen + piece.rfind("\n")
            seen += len(piece)
        return line, target - newline

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

    def items(self) -> list[Any]:
        """The next array items, up to a separator: a run of objects decoded in one call when the buffer holds
        them whole, else the next item alone."""
        buf, pos = self._buf, self._pos
        cut = buf.rfind("},", pos, min(len(buf) - 1, pos + BATCH_CHARS))
        if cut > pos:
            text = "[" + buf[pos : cut + 1] + "]"
            try:
                values, end = self._decoder.raw_decode(text)
            except (json.JSONDecodeError, _NotJson, RecursionError):
                pass
            else:
                # Decoded whole, the run is exactly the items before that ',': JSON has one reading. A "}," inside
                # a string, or a run that holds an error, ends early or fails, and the items go one by one.
                if end == len(text):
                    self._pos = cut + 1
                    return values  # type: ignore[no-any-return]
        return [self.item()]

    def item(self) -> Any:
        """Decode the next array item: at once when it lies whole inside the buffer (as all but one item per
        buffer do), else by `value`, which reads on and reports errors."""
        buf = self._buf
        try:
            value, end = self._decoder.raw_decode(buf, self._pos)
        except (json.JSONDecodeError, _NotJson, RecursionError):
            return self.value()
        # An item that ends the buffer may go on in the next chunk (a number), so `value` decides.
        if end == len(buf):
            return self.value()
        self._pos = end
        return value

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
            yield from stream.items()
            if stream.separator() == "]":
                return
