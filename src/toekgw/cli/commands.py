"""The list of command groups: one line per module, so adding one touches one place."""

from __future__ import annotations

import click


def register(root: click.Group) -> None:
    from toekgw.cli import access, demo, generate, receive, simulate, validate
    from toekgw.cli.audit import audit
    from toekgw.cli.backup import backup, restore
    from toekgw.cli.debitor import debitor
    from toekgw.cli.doctor import doctor
    from toekgw.cli.eindkomst import eindkomst
    from toekgw.cli.errors import errors
    from toekgw.cli.journal import journal
    from toekgw.cli.nemkonto import nemkonto
    from toekgw.cli.oir import oir
    from toekgw.cli.payments import payments
    from toekgw.cli.reconcile import reconcile
    from toekgw.cli.retention import retention
    from toekgw.cli.run import run
    from toekgw.cli.send import send
    from toekgw.cli.serve import serve
    from toekgw.cli.sortiment import sortiment
    from toekgw.cli.status import status
    from toekgw.cli.token import token
    from toekgw.cli.ydelsesindeks import ydelsesindeks

    validate.register_all()
    receive.register_all()
    simulate.register_all()
    root.add_command(validate.validate)
    root.add_command(receive.receive)
    root.add_command(simulate.simulate)
    root.add_command(send)
    root.add_command(status)
    root.add_command(errors)
    root.add_command(doctor)
    root.add_command(backup)
    root.add_command(restore)
    root.add_command(journal)
    root.add_command(generate.generate)
    root.add_command(demo.demo)
    root.add_command(eindkomst)
    root.add_command(nemkonto)
    root.add_command(payments)
    root.add_command(oir)
    root.add_command(debitor)
    root.add_command(sortiment)
    root.add_command(token)
    root.add_command(ydelsesindeks)
    root.add_command(serve)
    root.add_command(run)
    root.add_command(reconcile)
    root.add_command(audit)
    root.add_command(retention)
    access.guard(root)  # last: every command above checks its role first
