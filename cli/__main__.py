"""``python -m cli``: the same as the ``toekgw`` command."""

from cli.main import main

main()
