"""Plain typed data shared by every layer: OCIDs, backup kinds, backups and their sources, statuses."""
