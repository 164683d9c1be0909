"""Facts of one Python module, from one libcst pass."""
