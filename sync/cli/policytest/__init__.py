"""`backup-tag-sync test`: policy test cases (a backup as OCI returns it, and what must hold afterwards)."""
