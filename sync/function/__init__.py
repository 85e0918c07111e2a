"""The OCI Function entry: the Fn handler's body, and a runner for the real FDK on a unix socket."""
