"""Speed-ups that wrap the pipeline without entering it: the kept report and the project server."""
