"""``python -m toekgw``: the same as the ``toekgw`` command."""

from toekgw.cli.main import main

main()
