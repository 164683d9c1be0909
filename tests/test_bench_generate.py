"""bench/generate.py: the benchmark's repositories are reproducible, valid Python, shaped as asked,
and what credlint reports in them comes from the flows, never from the ordinary modules."""
from __future__ import annotations

import ast
import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from typing import Dict

import pytest

GENERATE = Path(__file__).resolve().parent.parent / "bench" / "generate.py"


def _load_generate():
    """bench/ is not a package: import the script by path."""
    spec = importlib.util.spec_from_file_location("bench_generate", GENERATE)
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    return module


generate = _load_generate()


def _files(root: Path) -> Dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _is_prefect(data: bytes) -> bool:
    return b"from prefect" in data


def test_same_seed_gives_the_same_bytes(tmp_path: Path) -> None:
    first = generate.generate(tmp_path / "a", files=150, prefect_share=0.1, seed=7)
    second = generate.generate(tmp_path / "b", files=150, prefect_share=0.1, seed=7)
    assert first == second
    assert _files(tmp_path / "a") == _files(tmp_path / "b")


def test_another_seed_gives_another_tree(tmp_path: Path) -> None:
    generate.generate(tmp_path / "a", files=150, prefect_share=0.1, seed=7)
    generate.generate(tmp_path / "b", files=150, prefect_share=0.1, seed=8)
    a, b = _files(tmp_path / "a"), _files(tmp_path / "b")
    assert sorted(a) != sorted(b)
    assert [a[k] for k in sorted(a) if k.endswith(".py")] != [b[k] for k in sorted(b) if k.endswith(".py")]


@pytest.mark.parametrize("files, share", [(200, 0.05), (60, 1.0), (80, 0.25), (50, 0.0)])
def test_share_of_prefect_files_is_as_asked(tmp_path: Path, files: int, share: float) -> None:
    summary = generate.generate(tmp_path, files=files, prefect_share=share, seed=1)
    python = {rel: data for rel, data in _files(tmp_path).items() if rel.endswith(".py")}
    prefect = [rel for rel, data in python.items() if _is_prefect(data)]
    assert len(python) == summary["py_files"] == files
    assert len(prefect) == summary["flow_files"] == round(files * share)
    # Ordinary modules never mention Prefect, so only the flows (and the shared tasks) can concern it.
    assert not [rel for rel, data in python.items() if not _is_prefect(data) and b"prefect" in data.lower()]
    for rel in generate.DEPLOY_FILES:
        assert (tmp_path / rel).is_file()
    assert summary["deploy_files"] == len(generate.DEPLOY_FILES)
    assert "[tool.credlint]" in (tmp_path / "pyproject.toml").read_text(encoding="utf-8")


def test_every_python_file_parses(tmp_path: Path) -> None:
    generate.generate(tmp_path, files=150, prefect_share=0.2, seed=3)
    for rel, data in _files(tmp_path).items():
        if rel.endswith(".py"):
            ast.parse(data, filename=rel)


def test_big_module_has_the_size_asked_and_parses() -> None:
    text = generate.big_module(200_000, seed=1)
    assert 200_000 <= len(text.encode("utf-8")) < 240_000
    ast.parse(text)


def test_generated_tree_refuses_a_non_empty_folder(tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("x", encoding="utf-8")
    with pytest.raises(FileExistsError):
        generate.generate(tmp_path, files=10, prefect_share=0.5, seed=1)


def test_credlint_reports_in_flows_only(tmp_path: Path) -> None:
    tree = tmp_path / "repo"
    generate.generate(tree, files=40, prefect_share=0.25, seed=3)
    python = {rel: data for rel, data in _files(tree).items() if rel.endswith(".py")}
    prefect = {rel for rel, data in python.items() if _is_prefect(data)}
    # The seed gives ordinary modules that name credentials: credlint parses them and must stay quiet.
    assert any(b"password" in data or b"token" in data for rel, data in python.items() if rel not in prefect)
    done = subprocess.run([sys.executable, "-m", "credlint", "check", str(tree), "--format", "json", "--exit-zero"],
                          capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    by_file = {}
    for finding in report["findings"]:
        by_file.setdefault(Path(finding["path"]).relative_to("repo").as_posix(), []).append(finding["code"])
    python_hits = {rel: codes for rel, codes in by_file.items() if rel.endswith(".py")}
    assert set(python_hits) <= prefect, "findings in ordinary modules"
    assert any(code.startswith(("CL1", "CL2")) for codes in python_hits.values() for code in codes)
