"""``python -m whichmodel`` is the ``whichmodel`` command."""

from whichmodel.cli import main

main()
