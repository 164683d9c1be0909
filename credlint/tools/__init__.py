"""Commands built on a finished run or a loaded project: inventory, preflight, LSP, pytest, docs."""
