"""`python -m triage.cli`: the `triage` command."""

from triage.cli import main

main()
