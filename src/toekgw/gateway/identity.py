"""Who is acting: the one place that says which person a command runs as.

The acting identity is the operating-system user (:func:`os_user`), or ``$TOEKGW_USER`` when
set (tests, a shared service account that passes the person's name on; ``toekgw run`` sets it
to ``[run] identity``). The journal writes it on every event. Whether the OS user may name
someone else, and which roles the identity has, is :mod:`toekgw.gateway.roles`.
"""

from __future__ import annotations

import functools
import getpass
import os

__all__ = ["USER_ENV", "acting_identity", "os_user"]

USER_ENV = "TOEKGW_USER"


def acting_identity(override: str | None = None) -> str:
    """``override`` (a command's ``--as`` option), else ``$TOEKGW_USER``, else the OS user."""
    name = override or os.environ.get(USER_ENV) or os_user()
    return name.strip()


@functools.cache
def os_user() -> str:
    """The operating-system user this process runs as (it does not change while the process
    lives; asked once)."""
    return getpass.getuser()
