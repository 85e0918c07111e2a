"""The command line (`backup-tag-sync`, `python -m sync`): lint, plan, apply, sweep, emulator, demo."""
