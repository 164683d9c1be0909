"""The text a scan reads: a file's bytes, their lowercase copy made on demand, and the probes.

A probe is a cheap whole-file test; a format's rule runs only if one of its probes hits, and each
probe runs at most once per file. `Candidate` is what a rule finds, before overlaps are resolved.
"""
from __future__ import annotations

import re
from typing import NamedTuple, Optional, Tuple


class Candidate(NamedTuple):
    """What a rule found, before overlaps are resolved: the span, the format, the text it judged
    and the priority that decides which of two overlapping candidates is kept."""

    start: int
    end: int
    pattern: str
    secret: str
    priority: int


class ScannedText:
    """The file's bytes, its lowercase copy (made on demand; bytes.lower keeps offsets) and the
    probe results, so that each probe runs at most once per file."""

    __slots__ = ("data", "_lower", "_probes", "path", "_runs")

    def __init__(self, data: bytes, path: Optional[str] = None):
        self.data = data
        self._lower: Optional[bytes] = None
        self._probes: dict = {}
        self.path = path
        self._runs: Optional[bool] = None

    @property
    def runs_as_config(self) -> bool:
        """A deployment file that is not a test fixture or a CI job (`.env`, compose, agent
        scripts): the values in it are the ones services run with, weak ones included."""
        if self._runs is None:
            self._runs = False
            if self.path:
                from credlint.facts.deploy.classify import classify
                from credlint.facts.values import is_test_path

                kind = classify(self.path, self.data[:65536])
                self._runs = kind not in (None, "ci-yaml") and not is_test_path(self.path)
        return self._runs

    @property
    def lower(self) -> bytes:
        if self._lower is None:
            self._lower = self.data.lower()
        return self._lower

    def probe(self, probe: "Probe") -> bool:
        hit = self._probes.get(probe)
        if hit is None:
            kind, needle = probe
            if kind == "in":
                hit = needle in self.data
            elif kind == "ci":
                hit = needle in self.lower
            elif kind == "rx":
                hit = PROBE_RX[needle].search(self.data) is not None
            else:  # "cirx": a lowercase regex over the lowered file
                hit = PROBE_RX[needle].search(self.lower) is not None
            self._probes[probe] = hit
        return hit


# A probe is a cheap whole-file test: ("in", literal), ("ci", lowercase literal, looked up in the
# lowered file), ("rx", regex starting with a literal, searched once) or ("cirx", the same over
# the lowered file). A rule runs only if one of its probes hits; `could_match` is "some probe
# hits". Probes are shared between rules.
Probe = Tuple[str, bytes]
PROBE_RX: dict = {}


def _rx(pattern: bytes, kind: str = "rx") -> Probe:
    PROBE_RX.setdefault(pattern, re.compile(pattern))
    return (kind, pattern)


P_A = _rx(rb"A(?:KIA|SIA|BIA|CCA|3T[A-Z0-9]|Iza|ccountKey=)")
P_S = _rx(rb"S(?:G\.|K[0-9a-f]{32}|haredAccessKey=)")  # "SK" alone is too common (TASK, DISK)
P_G = _rx(rb"G(?:R1348941|OCSPX-)")
P_GH = _rx(rb"gh[pousr]_")
P_GL = _rx(rb"gl(?:pat|dt|rt|ft|soat|oas|imt|agent|cbt|ffct|wt|ptt)-")
P_X = _rx(rb"x(?:ox|app-)")
P_PN = _rx(rb"p(?:n[ub]|cu)_")
P_URL = _rx(rb"://[^\s:/@]{0,128}:[^\s/@]{1,256}@")
P_GHPAT, P_HOOKS = ("in", b"github_pat_"), ("in", b"hooks.slack.com/")
P_LIVE, P_WHSEC = ("in", b"k_live_"), ("in", b"whsec_")
P_DAPI, P_DISCORD, P_TEAMS = ("in", b"dapi"), ("in", b"discord"), ("in", b".webhook.office.com/")
P_SNOW, P_OPENAI, P_ANT = ("in", b"snowflake://"), ("in", b"T3BlbkFJ"), ("in", b"sk-ant-")
P_PYPI, P_NPM, P_KEY = ("in", b"pypi-Ag"), ("in", b"npm_"), ("in", b"PRIVATE KEY")
P_TWILIO = ("ci", b"twilio")
# "secret" alone is in most Prefect flows (PrefectSecret): probe for the AWS key names themselves.
P_AWS_SECRET = (_rx(rb"secret[_.-]?access[_.-]?key", "cirx"),
                _rx(rb"aws[_.-]?(?:secret|(?:access[_.-]?)?key)", "cirx"))
P_SQUARE, P_AUTHTOKEN, P_JWT = ("in", b"sq0"), ("in", b"_authToken"), ("in", b"eyJ")
P_HF, P_DO, P_AZURE_AD = _rx(rb"hf_[A-Za-z]{34}"), _rx(rb"do[opr]_v1_"), ("in", b"Q~")
P_VAULT = _rx(rb"hv[sb]\.")
P_MAILCHIMP = _rx(rb"-us[0-9]")
P_TELEGRAM = _rx(rb":A[A-Za-z0-9_-]{34}")
P_DISCORD_BOT = _rx(rb"\.[A-Za-z0-9_-]{6}\.[A-Za-z0-9_-]{27}")
P_PUTTY = ("in", b"PuTTY-User-Key-File-")
P_IBM = (("ci", b"ibm"), _rx(rb"cloud[_.-]?iam", "cirx"))
P_CLOUDANT, P_SOFTLAYER = ("ci", b"cloudant"), ("ci", b"softlayer")
