"""The text of users' files for snippets and suppression comments, read only when a finding needs
it."""
from __future__ import annotations

from pathlib import Path
from typing import Dict, Optional


class Sources:
    """File contents for snippets and suppression comments, read when first asked for (a warm
    run reads only the files that have findings)."""

    def __init__(self, root: Path):
        self.root = root
        self.given: Dict[str, bytes] = {}  # contents that are not on disk (--stdin-filename)

    def get(self, rel: str) -> Optional[bytes]:
        if rel not in self.given:
            from credlint.facts.file import MAX_FILE_BYTES
            from credlint.files.read import Unreadable, read_file

            try:
                self.given[rel] = read_file(str(self.root / rel), MAX_FILE_BYTES)
            except Unreadable:
                self.given[rel] = None
        return self.given[rel]
