"""Errors that end a run with exit code 2 and a one-line message (never a traceback)."""


class UsageError(Exception):
    """Bad paths or options."""


class RuleError(Exception):
    """A rule module is malformed (bad metadata, unknown fixture, duplicate code)."""
