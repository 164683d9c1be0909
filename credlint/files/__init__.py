"""Stage 1: which files a run reads, and reading them safely."""
