"""Strings from users' files cannot forge lines, drive the terminal or inject rich markup.

A flow name, a secret name, a file name and the project folder carry a newline followed by a
forged finding, a CR, ESC sequences, the one-character CSI U+009B, bidi overrides and rich
markup. Every text output must show them as visible escapes; JSON must keep them exactly.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Dict, Optional, Tuple

import pytest

from conftest import _env
from credlint.reporters.text import safe, safe_source, source_column

FORGED = "x.py:1:1: CL201 hardcoded-secret forged"
PAYLOAD = "\n" + FORGED + "\x1b[2J\x9b1m\r\u202e\u2066[red]r[/red][link=https://e.vil]l[/link]"
FLOW_NAME = "etl" + PAYLOAD
SECRET = "DB" + PAYLOAD
DECLARED = "S3" + PAYLOAD
FILE_NAME = "fl\x1b[2J\nw\u202e.py"
ROOT_NAME = "p\x1b]0;owned\x07q"

BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
# Never raw in a text report: C0 (the report's own newlines aside), DEL, C1, line and paragraph
# separators, bidi controls, lone surrogates.
FORBIDDEN = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029" + BIDI + "\ud800-\udfff]")
CONCISE_LINE = re.compile(r"[^:]+:\d+:\d+: CL\d{3} [a-z-]+ .+")
SGR = re.compile(r"\x1b\[[0-9;]*m")


def _python_literal(text: str) -> str:
    """A string literal that keeps ESC, C1 and bidi characters raw in the source (so the source
    lines shown as snippets carry them too); newline and CR must be written as escapes."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r") + '"'


FLOW = f'''from prefect import Flow
from prefect.storage import S3
from prefect.tasks.notifications import SlackTask
from prefect.tasks.secrets import PrefectSecret

with Flow({_python_literal(FLOW_NAME)},\tstorage=S3(bucket="b", secrets=[{_python_literal(DECLARED)}])) as flow:
    SlackTask(message="done")(upstream_tasks=[PrefectSecret({_python_literal(SECRET)})])
'''


@pytest.fixture
def hostile(tmp_path: Path) -> Path:
    root = tmp_path / ROOT_NAME
    (root / ".git").mkdir(parents=True)
    (root / "credlint.toml").write_text('cloud-secrets = []\n', encoding="utf-8")
    (root / FILE_NAME).write_text(FLOW, encoding="utf-8")
    return root


def _run(*args: str, cwd: Path, env: Optional[Dict[str, str]] = None) -> Tuple[int, str, str]:
    """The CLI in a subprocess (`env`: the whole environment); its output must be valid UTF-8
    (a lone surrogate written back as a raw byte would not be)."""
    proc = subprocess.run([sys.executable, "-m", "credlint", *args], cwd=str(cwd),
                          env=_env() if env is None else env, capture_output=True, timeout=120)
    return proc.returncode, proc.stdout.decode("utf-8"), proc.stderr.decode("utf-8")


def _assert_inert(where: str, text: str) -> None:
    found = FORBIDDEN.search(text)
    if found is not None:
        context = text[max(found.start() - 60, 0):found.end() + 20]
        raise AssertionError(f"{where}: raw {found.group()!r} at {found.start()}: {context!r}")
    for line in text.splitlines():
        assert not line.lstrip(" │┃").startswith(FORGED), f"{where}: a forged line: {line!r}"


def _findings(root: Path) -> list:
    code, out, err = _run("check", "--format", "json", "--no-cache", ".", cwd=root)
    assert code == 1, err
    return json.loads(out)["findings"]


def test_json_keeps_the_strings_exactly_and_stays_ascii(hostile):
    findings = _findings(hostile)
    assert {f["path"] for f in findings} == {FILE_NAME}
    assert {f["flow"] for f in findings} == {FLOW_NAME}
    assert {SECRET, DECLARED} <= {f["secret"] for f in findings}
    for fmt in ("json", "json-lines", "sarif"):
        code, out, err = _run("check", "--format", fmt, ".", cwd=hostile)
        assert code == 1, err
        assert out.isascii() and not re.search("[\x00-\x09\x0b-\x1f\x7f]", out), fmt
        documents = [json.loads(line) for line in out.splitlines()] if fmt == "json-lines" else [json.loads(out)]
        strings = list(_strings(documents))
        if fmt == "sarif":  # SARIF locations are URIs: percent-encoded, decoded back exactly
            from urllib.parse import unquote

            strings += [unquote(s) for s in strings]
        assert FILE_NAME in strings or any(s.endswith("/" + FILE_NAME) for s in strings), fmt
        assert any(FLOW_NAME in s for s in strings) and any(SECRET in s for s in strings), fmt


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def test_concise_is_one_inert_line_per_finding(hostile):
    findings = _findings(hostile)
    code, out, err = _run("check", "--format", "concise", "--color", "never", ".", cwd=hostile)
    assert code == 1, err
    _assert_inert("concise", out)
    _assert_inert("stderr", err)
    lines = out.splitlines()
    assert len(lines) == len(findings) >= 4
    for line in lines:
        assert CONCISE_LINE.fullmatch(line), line
        assert line.startswith(safe(FILE_NAME) + ":")
    assert out.count(FORGED) == out.count(safe(PAYLOAD)) >= len(findings)
    assert any(safe(FLOW_NAME) in line for line in lines)
    assert any(safe(SECRET) in line for line in lines)
    assert any(safe(DECLARED) in line for line in lines)


def test_full_report_prints_user_strings_escaped_and_markup_literally(hostile):
    code, out, err = _run("check", "--format", "full", "--color", "never", "--statistics", ".", cwd=hostile)
    assert code == 1, err
    _assert_inert("full", out)
    _assert_inert("stderr", err)
    assert "/p\\x1b]0;" in out  # the header names the project folder (rich may shorten it)
    assert safe(FLOW_NAME) in out and safe(SECRET) in out
    assert out.count(FORGED) == out.count(safe(PAYLOAD)) >= 6  # whole every time: markup shown as written
    assert f"{safe(FILE_NAME)}:6:" in out


def test_full_report_caret_stays_under_the_finding_after_escapes_and_tabs(hostile):
    code, out, err = _run("check", "--format", "full", "--color", "never", "--select", "CL102",
                         "--fail-on", "warning", ".", cwd=hostile)
    assert code == 1, err
    lines = out.splitlines()
    at = next(i for i, line in enumerate(lines) if line.lstrip().startswith("6 | with Flow("))
    source, caret = lines[at], lines[at + 1]
    assert "\\x1b[2J" in source and "\\u202e" in source and "\t" not in source  # escaped, TAB expanded
    assert caret.index("^") == source.index("S3(bucket")
    assert caret.rstrip().endswith("^") and len(caret.rstrip()) == source.index(")) as flow:") + 1


def test_colored_full_report_emits_only_its_own_sgr_codes(hostile):
    environ = {k: v for k, v in _env().items() if k != "NO_COLOR"}
    code, out, err = _run("check", "--format", "full", "--color", "always", ".", cwd=hostile,
                          env={**environ, "TERM": "xterm-256color"})
    assert code == 1, err
    assert SGR.search(out), "no colour at all: the test would prove nothing"
    assert "\x1b]" not in out  # no OSC: neither the folder's title change nor a [link] hyperlink
    _assert_inert("full --color always", SGR.sub("", out))


def test_inventory_table_is_inert(hostile):
    code, out, err = _run("inventory", "--color", "never", ".", cwd=hostile)
    assert code == 0, err
    _assert_inert("inventory", out)
    _assert_inert("stderr", err)
    assert "\\x1b[2J" in out and "[red]r" in out


def _clean_environment(tmp_path: Path) -> Dict[str, str]:
    home = tmp_path / "home"
    home.mkdir()
    keep = {k: v for k, v in _env().items() if not k.startswith(("PREFECT", "AWS", "GOOGLE", "AZURE", "CLOUDSDK"))}
    keep.update(HOME=str(home), PREFECT__BACKEND="server\x1b[2J\u202e[red]b[/red]")
    return keep


def test_preflight_table_is_inert(hostile, tmp_path):
    code, out, err = _run("preflight", "--color", "never", ".", cwd=hostile, env=_clean_environment(tmp_path))
    assert code == 1, err
    _assert_inert("preflight", out)
    _assert_inert("stderr", err)
    assert out.startswith("backend server\\x1b[2J\\u202e[red]b[/red] (env PREFECT__BACKEND)")


def test_a_file_name_that_is_not_utf8_is_shown_escaped(tmp_path):
    (tmp_path / ".git").mkdir()
    source = (b'from prefect import Flow\nfrom prefect.storage import S3\n'
              b'with Flow("x", storage=S3(bucket="b")) as flow:\n    pass\n')
    Path(os.fsdecode(bytes(tmp_path) + b"/fl\x9bow.py")).write_bytes(source)  # not UTF-8: "fl\udc9bow.py"
    for fmt in ("concise", "full"):
        code, out, err = _run("check", "--format", fmt, "--color", "never", "--fail-on", "warning", ".",
                              cwd=tmp_path)
        assert code == 1, err
        _assert_inert(fmt, out)
        assert "fl\\udc9bow.py:3:" in out


# --------------------------------------------------------------------------------------------
# safe() and safe_source()
# --------------------------------------------------------------------------------------------


def test_safe_escapes_every_control_character_like_repr():
    unsafe = list(range(0x20)) + list(range(0x7f, 0xa0)) + [0x2028, 0x2029] + [ord(c) for c in BIDI] \
        + [0xd800, 0xdc9b, 0xdfff]
    for code in unsafe:
        char = chr(code)
        assert safe(char) == repr(char)[1:-1], hex(code)
        assert safe(f"a{char}b") == f"a{repr(char)[1:-1]}b", hex(code)
    for code in range(0x20, 0x7f):
        assert safe(chr(code)) == chr(code), hex(code)
    for text in ("flows/etl.py", "flow 'étl' needs 数据", "emoji \U0001f511", "nbsp\u00a0zwj\u200d", "a\\x1b"):
        assert safe(text) == text


def test_safe_source_expands_tabs_and_escapes_the_rest():
    assert safe_source("\tx = 1\t# c") == "        x = 1   # c"
    assert safe_source('\tname = "\x1b[2J\u202e"') == '        name = "\\x1b[2J\\u202e"'
    assert safe_source("plain") == "plain"
    line = '\tf("\x1b", x)'
    shown = safe_source(line)
    assert shown[source_column(line, line.index("x)")):].startswith("x)")
    assert source_column(line, len(line) + 2) == len(shown) + 2
    for code in list(range(0x20)) + list(range(0x7f, 0xa0)):
        if code != 9:
            assert safe_source(chr(code)) == safe(chr(code))
