"""Streaming a fixed-record file: bytes in, numbered text lines out, memory flat.

Line ends may be CRLF or LF. The character set is ISO-8859-1 unless a format says otherwise;
every byte decodes in it, so reading never fails half-way through a file.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import NamedTuple

__all__ = ["ENCODING", "Line", "iter_lines", "write_lines"]

ENCODING = "iso-8859-1"


class Line(NamedTuple):
    number: int  # 1-based
    text: str  # without its line end
    terminated: bool  # False only for a last line that has no line end


def iter_lines(chunks: Iterable[bytes], encoding: str = ENCODING) -> Iterator[Line]:
    """Numbered lines of a byte stream (a binary file object iterates line by line).

    A line that is empty only because the file ends with a line end is not a record and is
    not yielded; an empty line inside the file is (the caller reports it).
    """
    for number, raw in enumerate(chunks, start=1):
        if raw.endswith(b"\n"):
            body = raw[:-2] if raw.endswith(b"\r\n") else raw[:-1]
            yield Line(number, body.decode(encoding), True)
        else:
            yield Line(number, raw.decode(encoding), False)


def write_lines(
    lines: Iterable[str], encoding: str = ENCODING, newline: str = "\r\n"
) -> Iterator[bytes]:
    """Encode records for writing: each line in ``encoding`` with its line end."""
    end = newline.encode("ascii")
    for line in lines:
        yield line.encode(encoding) + end
