"""``python -m sluiceway`` is the ``sluiceway`` command."""

from sluiceway.cli.app import main

main()
