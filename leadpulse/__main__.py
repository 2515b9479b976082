"""`python -m leadpulse` is the `leadpulse` command."""

from leadpulse.cli import main

main()
