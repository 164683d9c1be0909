"""What a caller asks of a check: the paths, the command line's settings, and how to run it.

The one input of the API (`credlint.api.check`), the pipeline and the speed-ups alike.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple


@dataclass
class Options:
    paths: List[str] = field(default_factory=lambda: ["."])
    config_file: Optional[str] = None
    select: Optional[List[str]] = None
    ignore: Optional[List[str]] = None
    backend: Optional[str] = None
    fail_on: Optional[str] = None
    jobs: Optional[int] = None  # processes for the analysis; None: the free cores (`cpus.default_jobs`)
    cache: bool = True
    cache_dir: Optional[str] = None  # default: .credlint_cache/ at the project root
    prefilter: bool = True  # False parses every Python file (tests check it changes nothing)
    stdin: Optional[Tuple[str, bytes]] = None  # (path, content): lint an editor buffer as that file
    # path -> content: unsaved editor buffers that stand for those files (`credlint lsp`). Unlike
    # `stdin` they are not the only paths reported on: `paths` says that, and need not exist.
    buffers: Dict[str, bytes] = field(default_factory=dict)
    server: bool = True  # ask the project's `credlint server` when one is running
    # Command-line settings as ruff has them: `exclude` replaces the configured `exclude` (None:
    # keep it), `extend_exclude` and `extend_select` add to the configuration's.
    exclude: Optional[List[str]] = None
    extend_exclude: List[str] = field(default_factory=list)
    extend_select: List[str] = field(default_factory=list)
    # Name each finding's fix and its safety (JSON `fix_safety`): the fixers parse the files of the
    # findings they can fix, again. The formats that do not show it (full, concise, github, SARIF)
    # turn it off, so a check for them never loads the fixers.
    fixes: bool = True

    @property
    def caching(self) -> bool:
        """Facts and reports may be kept and reused (the facts of a run that parsed every file,
        `prefilter=False`, are never kept: they are the check that the prefilter changes nothing)."""
        return self.cache and self.prefilter
