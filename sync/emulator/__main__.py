"""`python -m sync.emulator`: same as `python -m sync emulator`."""

from sync.emulator.cli import main

raise SystemExit(main(prog="python -m sync"))
