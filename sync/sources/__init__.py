"""Where the tag policy comes from (bundled file, TAG_POLICY, file://, oci://, s3://) and how it is cached."""
