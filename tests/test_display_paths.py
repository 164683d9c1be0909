"""Paths shown relative to the working directory: `displayer` (once per run) agrees with
`display_path` (once per file) wherever the project root lies."""
from pathlib import Path

import pytest

from credlint.files.paths import display_path, displayer

RELS = ["flows/etl.py", "deploy/config.toml", "setup.py", "a/b/c/d.py"]


@pytest.mark.parametrize("root, cwd", [
    ("/work/project", "/work/project"),  # the usual case
    ("/work/project", "/work"),  # the root below the working directory
    ("/work/project", "/work/project/flows"),  # above it
    ("/work/project", "/work/other"),  # beside it
    ("/tmp/bench/tree", "/work/main"),  # far away
    ("/work/project", "/"),
])
def test_displayer_agrees_with_display_path(root, cwd):
    show = displayer(Path(root), Path(cwd))
    for rel in RELS:
        assert show(rel) == display_path(Path(root) / rel, Path(cwd))
    assert show("flows/etl.py") == {
        "/work": "project/flows/etl.py", "/work/project/flows": "etl.py",
        "/work/other": "../project/flows/etl.py", "/work/main": "../../tmp/bench/tree/flows/etl.py",
        "/": "work/project/flows/etl.py"}.get(cwd, "flows/etl.py")


def test_from_a_folder_of_the_project():
    show = displayer(Path("/work/project"), Path("/work/project/flows"))
    assert [show(rel) for rel in ("flows/etl.py", "flows/sub/a.py", "flowsx/b.py", "deploy/c.toml")] == \
        ["etl.py", "sub/a.py", "../flowsx/b.py", "../deploy/c.toml"]
