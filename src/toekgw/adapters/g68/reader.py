"""G68 from KSD: read a delivery from a file or stream, validate it completely, hand out the
payments as they stream.

This is the public API for the CLI and the SFTP receiver::

    from toekgw.adapters.g68.reader import G68Config, read_delivery

    result = read_delivery("delivery.g68", G68Config(today=danish_date(now)),
                           on_payments=journal.add_batch, batch_size=1000)
    if result.refused:
        ...  # the whole delivery goes to the error list: result.refusal says why

or, to drive the loop yourself::

    reader = G68Reader(path, config)
    for entry in reader:          # PaymentEntry(line, payment | None, findings)
        ...
    result = reader.result()

Memory stays flat with the size of the file; the findings are kept (they are the error list).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import BinaryIO

from toekgw.formats.g68 import DeliveryScan, G68Config, G68Validation, PaymentEntry
from toekgw.formats.g68.delivery import CleanRun
from toekgw.gateway.errors import InputError

__all__ = [
    "G68Config",
    "G68Reader",
    "G68Validation",
    "PaymentEntry",
    "read_delivery",
]

Source = str | os.PathLike[str] | BinaryIO


class G68Reader:
    """Iterate the payments of one delivery; :meth:`result` once the iteration is done.

    ``source`` is a path or a binary file object (read from where it stands, not closed).
    ``progress(bytes_read)`` is called after each block read, for a progress bar.
    With ``payments=False`` the reader only validates: it yields just the records with
    findings, and checks the clean ones column-wise, several times faster (the findings and
    :meth:`result` are the same). Adding ``on_clean`` reads every payment that way: each run
    of clean records goes to ``on_clean`` as columns, and every other record is yielded (see
    :meth:`toekgw.formats.g68.DeliveryScan.check_stream`).
    """

    def __init__(
        self,
        source: Source,
        config: G68Config,
        *,
        name: str | None = None,
        progress: Callable[[int], None] | None = None,
        payments: bool = True,
        on_clean: CleanRun | None = None,
    ) -> None:
        self._source = source
        self._payments = payments and on_clean is None
        self._on_clean = on_clean
        if name is None:
            name = str(source) if isinstance(source, str | os.PathLike) else None
        self.name = name
        self._scan = DeliveryScan(config, name)
        self._progress = progress
        self._used = False

    def __iter__(self) -> Iterator[PaymentEntry]:
        if self._used:
            raise RuntimeError("a G68Reader reads its delivery once")
        self._used = True
        with ExitStack() as stack:
            stream = self._open(stack)
            try:
                if self._payments:
                    yield from self._scan.scan_stream(stream, progress=self._progress)
                else:
                    yield from self._scan.check_stream(
                        stream, progress=self._progress, on_clean=self._on_clean
                    )
            except OSError as exc:
                raise InputError(f"{self.name or 'G68 stream'}: reading failed ({exc})") from exc

    def _open(self, stack: ExitStack) -> BinaryIO:
        src = self._source
        if not isinstance(src, str | os.PathLike):
            return src
        path = Path(src)
        try:
            return stack.enter_context(path.open("rb"))
        except FileNotFoundError:
            raise InputError(f"{path}: no such file") from None
        except IsADirectoryError:
            raise InputError(f"{path}: is a directory, not a G68 file") from None
        except OSError as exc:
            raise InputError(f"{path}: cannot be read ({exc.strerror})") from None

    def result(self) -> G68Validation:
        return self._scan.result()


def read_delivery(
    source: Source,
    config: G68Config,
    *,
    name: str | None = None,
    on_payments: Callable[[list[PaymentEntry]], None] | None = None,
    batch_size: int = 1000,
    progress: Callable[[int], None] | None = None,
) -> G68Validation:
    """Read and validate one delivery; hand the payments to ``on_payments`` in batches.

    Every record is handed out, clean or not (``entry.findings`` says which), so a receiver
    can journal the delivery as it reads and decide on the whole when ``refused`` is known.
    Without ``on_payments`` the delivery is only validated, column-wise (see
    :class:`G68Reader`'s ``payments``).
    """
    reader = G68Reader(
        source, config, name=name, progress=progress, payments=on_payments is not None
    )
    batch: list[PaymentEntry] = []
    for entry in reader:
        if on_payments is not None:
            batch.append(entry)
            if len(batch) >= batch_size:
                on_payments(batch)
                batch = []
    if on_payments is not None and batch:
        on_payments(batch)
    return reader.result()
