"""Per-file facts: plain, cacheable data about one file, free of secret values (stage 2 of the pipeline)."""
