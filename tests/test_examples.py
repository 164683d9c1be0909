"""The shipped examples do what examples/README.md says: each file listed fires exactly the codes
its row names (a row naming none, such as "nothing", fires none), and together they show every
rule credlint has but CL001 (a suppression comment that silences nothing)."""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from conftest import check_json
from credlint.engine.collect import collect_rules

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
_ROW = re.compile(r"^\|\s*`([^`]+)`\s*\|(.*)\|\s*$")
NOT_SHOWN = {"CL001"}


def _rows():
    """(path, codes) for each row of the README's tables that names a file."""
    for line in (EXAMPLES / "README.md").read_text(encoding="utf-8").splitlines():
        match = _ROW.match(line)
        if match:
            path, text = match.groups()
            yield path, set(re.findall(r"CL\d{3}", text))


@pytest.fixture(scope="module")
def document(tmp_path_factory):
    root = tmp_path_factory.mktemp("ex") / "examples"
    shutil.copytree(EXAMPLES, root, ignore=shutil.ignore_patterns(".credlint_cache"))
    (root / ".git").mkdir()
    return check_json("--no-cache", ".", cwd=root)


@pytest.fixture(scope="module")
def findings(document):
    return document["findings"]


@pytest.mark.parametrize("path, codes", list(_rows()), ids=lambda v: v if isinstance(v, str) else "")
def test_each_listed_file_fires_what_its_row_says(findings, path, codes):
    fired = {f["code"] for f in findings if f["path"] == path}
    assert fired == codes, f"{path}: the README says {sorted(codes)}, credlint finds {sorted(fired)}"


def test_the_examples_show_every_rule(findings):
    every = {r.code for r in collect_rules()} - NOT_SHOWN
    assert every - {f["code"] for f in findings} == set()


def test_the_examples_hold_both_models(findings):
    """The Prefect 3.x project sits beside the 1.x one: block rules fire there, and only there."""
    block_codes = {f["code"] for f in findings if f["code"].startswith("CL4")}
    assert block_codes == {"CL401", "CL402", "CL403", "CL404"}
    assert all(f["path"].startswith("prefect3/") for f in findings if f["code"].startswith("CL4"))


def test_the_summary_counts_the_flows_of_both_models(document):
    """Five 1.x flows (legacy.py does not parse) and three 3.x flow functions."""
    assert document["summary"]["flows"]["found"] == 8
