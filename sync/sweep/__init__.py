"""Sweeps: the policy applied to every volume group backup in a compartment (tree), page by page."""
