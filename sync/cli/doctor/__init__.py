"""`doctor`: checks a live deployment region by region, one line per check (see README "Operating it")."""
