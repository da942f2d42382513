"""The developers' guide's runnable examples, run as they stand (docs/developers.md)."""

from __future__ import annotations

import contextlib
import io
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path

GUIDE = Path(__file__).resolve().parent.parent / "docs" / "developers.md"


def example_code(heading: str) -> str:
    """The first ``python`` block after ``### <heading>`` in the guide."""
    section = GUIDE.read_text(encoding="utf-8").split(f"### {heading}\n", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S)
    assert code is not None, f"no python block under {heading!r}"
    return code.group(1)


@contextlib.contextmanager
def scratch_tempdir() -> Iterator[None]:
    """The examples' ``tempfile.mkdtemp()`` directories made inside one that is removed
    afterwards: a reader who runs an example keeps its work to look at, a test run must not
    leave it in /tmp."""
    saved = tempfile.tempdir
    with tempfile.TemporaryDirectory(prefix="toekgw-example-") as scratch:
        tempfile.tempdir = scratch
        try:
            yield
        finally:
            tempfile.tempdir = saved


def run_code(code: str, filename: str, namespace: dict[str, object] | None = None) -> None:
    """Run a documented example as it stands (in ``namespace``; a fresh one by default), its
    temporary directories in :func:`scratch_tempdir`."""
    with scratch_tempdir():
        exec(
            compile(code, filename, "exec"),
            {"__name__": "example"} if namespace is None else namespace,
        )


def run_example(heading: str) -> list[str]:
    """Run the example under ``### <heading>``; the lines it printed."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        run_code(example_code(heading), str(GUIDE))
    return out.getvalue().splitlines()
