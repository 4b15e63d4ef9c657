"""LSP framing that survives a careless or hostile client: the bodies of the frames on a byte
stream (`FrameReader`), and text that is no Unicode made readable. No pygls here: the server
hands each body to its protocol."""

from __future__ import annotations

import io
import logging
import re
from typing import Any

log = logging.getLogger(__name__)

# A Content-Length header, also where it follows the bytes of a broken frame on its line: where
# to pick up after one. A JSON body never holds one: the raw line break after its digits cannot be
# inside a string, and outside strings JSON has no letters. A larger length is no message that
# ghosttype could use: 8 bytes for each character of the largest document it completes in.
_CONTENT_LENGTH = re.compile(rb"content-length[ \t]*:[ \t]*([0-9]+)[ \t]*\r?\n", re.IGNORECASE)
_HEADER_REST = re.compile(rb"[ \t]*(?::[ \t]*(?:[0-9]+[ \t]*\r?)?)?")  # after the name
_HEADER_LINES = re.compile(rb"(?:[^\s:]+[ \t]*:[^\n]*\n|[ \t]*\r?\n)*")
_MAX_HEADER_LINE = 256
MAX_MESSAGE_BYTES = 64 << 20


class FrameReader:
    """The bodies of the LSP frames (headers, a blank line, Content-Length bytes) on a byte
    stream, also from a careless or hostile client. Header names are case-insensitive, lines may
    end in `\\n`, other headers are ignored. A frame without a usable Content-Length (missing,
    not a number, over MAX_MESSAGE_BYTES) is skipped up to the next Content-Length header; a body
    ends at its Content-Length or where the next frame's header begins, whichever comes first. So
    a bad frame costs its own message only, and a length too large waits for the next frame (a
    slow client looks the same) and no longer. Memory stays within about MAX_MESSAGE_BYTES."""

    def __init__(self, stream: io.BufferedIOBase) -> None:
        self._stream = stream
        self._buffer = bytearray()
        self._skipped = 0  # bytes in no frame since the last frame began, noted once

    def read(self) -> bytes | None:
        """The next frame's body; None at the end of the input."""
        length = self._header()
        return None if length is None else self._body(length)

    def _fill(self) -> bool:
        chunk = self._stream.read1(65536)
        self._buffer += chunk
        return bool(chunk)

    def _skip(self, end: int) -> None:
        # Other headers before a Content-Length are no loss; anything else or long is noted.
        if end > 4096 or not _HEADER_LINES.fullmatch(self._buffer, 0, end):
            self._skipped += end
        del self._buffer[:end]

    def _header(self) -> int | None:
        """Past the next usable Content-Length header and the blank line that ends its header
        block: the body's length; None at the end of the input."""
        buffer = self._buffer
        while True:
            while (header := _find_header(buffer, 0)) is None:
                # Only the end of a line can hold the header, once the line is complete.
                self._skip(max(buffer.rfind(b"\n") + 1, len(buffer) - _MAX_HEADER_LINE, 0))
                if not self._fill():
                    self._skip(len(buffer))
                    return None
            digits, start = header.group(1), header.end() - header.start()
            self._skip(header.start())
            if self._skipped:
                log.warning("skipped %d bytes that were in no message", self._skipped)
                self._skipped = 0
            if len(digits) > 9 or int(digits) > MAX_MESSAGE_BYTES:
                log.warning("skipped a message with a Content-Length of %d digits", len(digits))
                self._skip(start)
                continue
            while True:  # the other header lines, up to a blank one
                newline = buffer.find(b"\n", start)
                if newline < 0:
                    if len(buffer) > MAX_MESSAGE_BYTES:
                        log.warning("skipped a message whose headers do not end")
                        break
                    if not self._fill():
                        return None
                elif not buffer[start:newline].strip():
                    del buffer[: newline + 1]
                    return int(digits)
                elif _find_header(buffer, start, newline + 1) is not None:
                    break  # another Content-Length: the frame starts over there
                else:
                    start = newline + 1
            self._skip(start)

    def _body(self, length: int) -> bytes | None:
        """The body at the start of the buffer, cut short where a frame's header begins in it;
        None when the input ends first."""
        buffer = self._buffer
        scanned = 0
        while True:
            header = _find_header(buffer, scanned)
            end = length if header is None else min(length, header.start())
            if len(buffer) >= end and not _header_may_begin(buffer, end):
                if end < length:
                    log.warning("a message ended %d bytes before its Content-Length", length - end)
                body = bytes(buffer[:end])
                del buffer[:end]
                return body
            scanned = max(scanned, buffer.rfind(b"\n", scanned) + 1, len(buffer) - _MAX_HEADER_LINE)
            if not self._fill():
                return None


def _find_header(buffer: bytearray, start: int, stop: int | None = None) -> re.Match[bytes] | None:
    """The first Content-Length header between `start` and `stop`. A header ends a line: only the
    last bytes before each line break are searched, so a body without any costs one `find`."""
    stop = len(buffer) if stop is None else stop
    while (newline := buffer.find(b"\n", start, stop)) >= 0:
        window = max(start, newline - _MAX_HEADER_LINE)
        if (header := _CONTENT_LENGTH.search(buffer, window, newline + 1)) is not None:
            return header
        start = newline + 1
    return None


def _header_may_begin(buffer: bytearray, end: int) -> bool:
    """Whether the body (the buffer up to `end`) is no JSON object, which would end in "}", and
    ends in the start of a Content-Length header that the bytes after it have not finished yet: a
    length too large by a few bytes, the next frame's header begun inside the body."""
    last = end
    while last and buffer[last - 1] in b" \t\r\n":
        last -= 1
    if last and buffer[last - 1] == ord("}"):
        return False
    word = b"content-length"
    for start in range(max(0, end - 64, len(buffer) - 128), end):
        tail = bytes(buffer[start:]).lower()
        if word.startswith(tail) or (
            tail.startswith(word) and _HEADER_REST.fullmatch(tail, len(word)) is not None
        ):
            return True
    return False


SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def without_surrogates(value: Any) -> Any:
    """The JSON value with each lone surrogate (a pair is one character by now) as U+FFFD."""
    if isinstance(value, str):
        return _SURROGATE.sub("\ufffd", value)
    if isinstance(value, list):
        return [without_surrogates(item) for item in value]
    if isinstance(value, dict):
        return {without_surrogates(key): without_surrogates(item) for key, item in value.items()}
    return value
