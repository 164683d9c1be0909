"""The `credlint` command and `python -m credlint`: `cli.main`, then, after a check, out of the
process at once.

A check's process ends holding every file's facts and the project model. The interpreter's own
exit frees them object by object: 20 to 80 ms, which on a warm run with one changed flow is a
tenth of the run, spent after the report is out. Nothing needs that teardown after a check:
every file credlint writes (cache, kept report, fixes, summaries) is written and closed before
`main` returns, its worker processes are reaped, and no exit handler of its own waits. So the
output streams are flushed and the process leaves with the check's exit code, as mypy does.
Other commands keep the ordinary exit: the servers and the LSP run libraries that may count on
their exit handlers. `cli.main` itself, which tests and the API call in-process, never exits.
"""
from __future__ import annotations

import gc
import os
import sys


def leave(code: "int | None") -> None:
    """Flush stdout and stderr, then end the process with `code` (None: 0), skipping the teardown."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (AttributeError, OSError, ValueError):  # closed, or a reader gone (broken pipe)
            pass
    os._exit(code or 0)


def entry() -> None:
    if sys.argv[1:2] == ["check"]:
        # Nor does a check's process need the cycle collector back when the check ends: the
        # check pauses it anyway (`credlint.collector`), and turned on again it would at once
        # walk everything the check left, about as long as the teardown. Paused here, it stays
        # paused for the imports and the early worker too (which collects after each file).
        gc.disable()
        from credlint.cli import main

        leave(main())
    from credlint.cli import main

    sys.exit(main())


if __name__ == "__main__":
    entry()
