"""Per-file facts kept on disk and computed in worker processes."""
