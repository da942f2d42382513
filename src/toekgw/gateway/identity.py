"""Who is acting: the one place that says which person a command runs as.

For now the acting identity is the operating-system user (``getpass.getuser()``), or
``$TOEKGW_USER`` when set (tests, a shared service account that passes the person's name on;
``toekgw run`` sets it to ``[run] identity``). The journal writes it on every event.
Issue 16 adds roles from the configuration; they will be looked up here.
"""

from __future__ import annotations

import functools
import getpass
import os

__all__ = ["USER_ENV", "acting_identity"]

USER_ENV = "TOEKGW_USER"


def acting_identity(override: str | None = None) -> str:
    """``override`` (a command's ``--as`` option), else ``$TOEKGW_USER``, else the OS user."""
    name = override or os.environ.get(USER_ENV) or _os_user()
    return name.strip()


@functools.cache
def _os_user() -> str:
    """The process's OS user (it does not change while the process lives; asked once)."""
    return getpass.getuser()
