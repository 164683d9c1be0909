"""Stage 5: hits made into findings (located, masked, fingerprinted, suppressed), and baselines."""
