"""backup-tag-sync: names and tags OCI volume group backups from a policy."""

__version__ = "0.1.0"
