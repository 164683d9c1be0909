"""Stage 3: the project model, every file's facts linked into flows, consumers, needs and providers."""
