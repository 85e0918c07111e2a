"""Everything that talks to OCI: auth and clients, deadlines and retries, rate limiter, per-backup engine."""
