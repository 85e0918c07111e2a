"""The policy language: names, conditions, templates, the loader and the planner (pure code, no I/O)."""
