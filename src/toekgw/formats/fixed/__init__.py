"""The fixed-record engine: declarative layouts compiled into fast decoders and encoders.

It knows no counterpart. A format (G68, eIndkomst …) is a set of layout tables plus its rules.
"""

from toekgw.formats.fixed.codec import EncodeError, RecordCodec, compile_layout
from toekgw.formats.fixed.layout import Align, Field, Kind, Layout, LayoutError
from toekgw.formats.fixed.stream import ENCODING, Line, iter_lines, write_lines

__all__ = [
    "ENCODING",
    "Align",
    "EncodeError",
    "Field",
    "Kind",
    "Layout",
    "LayoutError",
    "Line",
    "RecordCodec",
    "compile_layout",
    "iter_lines",
    "write_lines",
]
