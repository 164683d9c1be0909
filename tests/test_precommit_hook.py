"""The pre-commit hook, run by the real pre-commit on throw-away git repositories.

What is tested is this checkout's working tree as a user's pre-commit would install it: the
hook manifest (.pre-commit-hooks.yaml), `pip install .` of the package, and `credlint check` run
on the files pre-commit passes.

Two things about pre-commit shape these tests:

* `pre-commit try-repo REPO` builds its hook environment in a store inside a temporary folder
  of its own, not in PRE_COMMIT_HOME, so every try-repo run installs credlint and its
  dependencies again (about 15 s with a warm pip cache). Two runs use try-repo (one with
  `--all-files`, one on staged files); the other scenarios use `pre-commit run` with the very
  configuration try-repo writes (`repo: <path>`, `rev: <sha>`, `hooks: [{id: credlint}]`), whose
  environment lives in a PRE_COMMIT_HOME shared by the session and is built once.
* On a checkout with uncommitted changes, try-repo tests HEAD plus staged files plus changes
  to tracked files (its "shadow repo": `git add -u`), but not untracked files. So the tests do
  not point it at the checkout itself: they commit a snapshot of the working tree (tracked and
  untracked files, less what .gitignore ignores) into a temporary repository, and point
  try-repo and the configuration at that. From a fresh clone (CI) the snapshot is HEAD.

pre-commit and the hook's pip install run with the user's pip settings (index, cache), and git
without the user's global or system configuration, as far as pre-commit lets it (see `_env`).
"""
from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Dict, Optional

import pytest

REPO = Path(__file__).resolve().parents[1]
PRE_COMMIT = [sys.executable, "-m", "pre_commit"]
HOOK_ID = "credlint"
INSTALL_TIMEOUT = 600  # a cold pip cache on a slow network; normally ~15 s

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="pre-commit needs git")

# A flow that fetches a secret nothing provides: with backend "server" there is no secret store,
# so CL101 is an error. (A task that reads a *context* secret, such as S3Download without
# `credentials=`, falls back to boto3's default chain: CL102, a warning, which does not fail
# the hook with the default `fail-on = "error"`.)
FLOW = """\
from prefect import Flow
from prefect.tasks.aws.s3 import S3Download
from prefect.tasks.secrets import PrefectSecret
with Flow("etl") as flow:
    S3Download(bucket="data")(key="k", credentials=PrefectSecret("AWS_CREDENTIALS"))
"""
# The agent that runs it passes the secret to every flow run.
AGENT = """\
#!/bin/sh
prefect agent docker start -e PREFECT__CONTEXT__SECRETS__AWS_CREDENTIALS="$X"
"""
AGENT_TYPO = AGENT.replace("AWS_CREDENTIALS", "AWS_CREDENTAILS")
PYPROJECT = """\
[project]
name = "etl-flows"
version = "0"

[tool.credlint]
backend = "server"
"""
PYPROJECT_EXCLUDE = PYPROJECT + 'exclude = ["legacy/"]\n'


def _env(home: Optional[Path] = None, isolated: bool = True) -> Dict[str, str]:
    """The caller's environment without git's and pre-commit's own variables (a test run from a
    git hook inherits GIT_DIR, GIT_INDEX_FILE, PRE_COMMIT...; SKIP would skip the hook), and,
    when `isolated`, with git's global and system configuration switched off.

    pre-commit drops GIT_* variables, GIT_CONFIG_GLOBAL included, for the clone of the hook
    repository and try-repo's commit (pre_commit.git.no_git_env), so those two read the user's
    git configuration anyway; they only clone and commit local repositories."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("GIT_", "PRE_COMMIT")) and k not in ("SKIP", "CREDLINT_DEBUG")}
    env.update(NO_COLOR="1", TERM="dumb")
    if isolated:
        env.update(GIT_CONFIG_GLOBAL=os.devnull, GIT_CONFIG_NOSYSTEM="1")
    if home is not None:
        env["PRE_COMMIT_HOME"] = str(home)
    return env


def _git(*args: str, cwd: Path) -> str:
    proc = subprocess.run(["git", *args], cwd=str(cwd), env=_env(), capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, f"git {' '.join(args)} exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


def _init(path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True)
    _git("-c", "init.defaultBranch=main", "init", "-q", cwd=path)
    _git("config", "user.name", "credlint tests", cwd=path)
    _git("config", "user.email", "tests@credlint.invalid", cwd=path)
    _git("config", "commit.gpgsign", "false", cwd=path)


@pytest.fixture(scope="session")
def hook_repo(tmp_path_factory) -> Dict[str, str]:
    """A one-commit git repository holding this checkout's working tree: {"path", "rev"}."""
    if not (REPO / ".git").exists():
        pytest.skip(f"{REPO} is not a git checkout: pre-commit installs hooks from git repositories")
    # The user's own git configuration here (safe.directory, for a checkout someone else owns).
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            cwd=str(REPO), env=_env(isolated=False), capture_output=True, timeout=60)
    assert listed.returncode == 0, listed.stderr.decode(errors="replace")
    snapshot = tmp_path_factory.mktemp("credlint-hook-repo")
    _init(snapshot)
    for rel in sorted(set(filter(None, listed.stdout.decode("utf-8", "surrogateescape").split("\0")))):
        source = REPO / rel
        if not source.is_file():  # deleted in the working tree, or a submodule
            continue
        target = snapshot / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)
    _git("add", "-A", cwd=snapshot)
    _git("commit", "-q", "--no-verify", "-m", "working tree of the credlint checkout under test", cwd=snapshot)
    return {"path": str(snapshot), "rev": _git("rev-parse", "HEAD", cwd=snapshot).strip()}


@pytest.fixture(scope="session")
def pre_commit_home(tmp_path_factory) -> Path:
    """PRE_COMMIT_HOME for the session: the hook environment `pre-commit run` builds is reused."""
    return tmp_path_factory.mktemp("pre-commit-home")


class Started:
    """A pre-commit process running in its own process group, so that stopping it early also
    stops the pip it runs."""

    def __init__(self, args, cwd: Path, env: Dict[str, str]):
        self.args = list(args)
        self.proc = subprocess.Popen(self.args, cwd=str(cwd), env=env, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                     start_new_session=True)
        self._result: Optional[subprocess.CompletedProcess] = None

    def result(self) -> subprocess.CompletedProcess:
        if self._result is None:
            try:
                out, err = self.proc.communicate(timeout=INSTALL_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.stop()
                pytest.fail(f"{' '.join(self.args)} did not finish in {INSTALL_TIMEOUT} s")
            self._result = subprocess.CompletedProcess(self.args, self.proc.returncode, out, err)
        return self._result

    def stop(self) -> None:
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (AttributeError, ProcessLookupError):  # no process groups (Windows), or gone
                self.proc.kill()
            self.proc.communicate()


class GitProject:
    """A throw-away user repository with flows."""

    def __init__(self, root: Path, home: Path, hook_repo: Dict[str, str]):
        self.root, self.home, self.hook_repo = root, home, hook_repo
        _init(root)

    def write(self, files: Dict[str, str]) -> None:
        for rel, text in files.items():
            target = self.root / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(textwrap.dedent(text), encoding="utf-8")

    def stage(self, *paths: str) -> None:
        _git("add", "--", *(paths or (".",)), cwd=self.root)

    def commit(self, files: Optional[Dict[str, str]] = None) -> None:
        if files:
            self.write(files)
        self.stage()
        _git("commit", "-q", "--no-verify", "--allow-empty", "-m", "flows", cwd=self.root)

    def start(self, *args: str) -> "Started":
        return Started([*PRE_COMMIT, *args], self.root, _env(self.home))

    def start_try_repo(self, *args: str) -> "Started":
        """`pre-commit try-repo <credlint> credlint ARGS` (a fresh hook environment each time)."""
        return self.start("try-repo", self.hook_repo["path"], HOOK_ID, "--color=never", *args)

    def run(self, *args: str) -> subprocess.CompletedProcess:
        """`pre-commit run` with the configuration try-repo writes, committed as a user would."""
        return self.start("run", "--color=never", *args).result()

    def use_hook_config(self) -> None:
        self.write({".pre-commit-config.yaml": f"""\
            repos:
              - repo: {self.hook_repo["path"]}
                rev: {self.hook_repo["rev"]}
                hooks:
                  - id: {HOOK_ID}
            """})


def _status(proc: subprocess.CompletedProcess) -> str:
    """The hook's status line: Passed, Failed, or "(no files to check)Skipped"."""
    found = re.search(rf"^{re.escape(HOOK_ID)}\.+(.*?)$", proc.stdout, re.MULTILINE)
    assert found, f"no status line for {HOOK_ID} in pre-commit's output:\n{proc.stdout}\n{proc.stderr}"
    return found.group(1).strip()


def _hook_exit_code(proc: subprocess.CompletedProcess) -> int:
    """credlint's own exit code, which pre-commit prints under a failed hook (pre-commit itself
    exits 1 for any failure: findings, a crash or a broken install alike)."""
    found = re.search(r"^- exit code: (\d+)$", proc.stdout, re.MULTILINE)
    assert found, f"no exit code for a failed hook in pre-commit's output:\n{proc.stdout}\n{proc.stderr}"
    return int(found.group(1))


def _assert_findings(proc: subprocess.CompletedProcess) -> None:
    """The hook failed because credlint found something (exit 1), not because it broke (exit 2)."""
    assert proc.returncode == 1, _show(proc)
    assert _status(proc) == "Failed", _show(proc)
    assert _hook_exit_code(proc) == 1, _show(proc)


def _show(proc: subprocess.CompletedProcess) -> str:
    return f"exit {proc.returncode}\n--- stdout\n{proc.stdout}\n--- stderr\n{proc.stderr}"


@pytest.fixture(scope="session")
def installs(hook_repo, pre_commit_home, tmp_path_factory):
    """The three hook-environment installs of the session, started at once: the two try-repo runs
    (each installs into a store of its own) and `pre-commit install-hooks`, which builds the
    environment every `pre-commit run` of the session reuses."""
    base = tmp_path_factory.mktemp("user-repos")
    clean = GitProject(base / "clean", pre_commit_home, hook_repo)
    clean.commit({"pyproject.toml": PYPROJECT, "flows/etl.py": FLOW, "deploy/start-agent.sh": AGENT})
    staged = GitProject(base / "staged", pre_commit_home, hook_repo)
    staged.commit({"pyproject.toml": PYPROJECT, "README.md": "flows\n"})
    staged.write({"flows/etl.py": FLOW, "flows/notes.md": "not passed\n"})
    staged.stage("flows/etl.py")  # notes.md stays untracked: pre-commit passes staged files only
    warm = GitProject(base / "warm", pre_commit_home, hook_repo)
    warm.use_hook_config()
    warm.commit()
    started = {"try-repo --all-files": clean.start_try_repo("--all-files"),
               "try-repo staged": staged.start_try_repo(),
               "install-hooks": warm.start("install-hooks")}
    yield started
    for run in started.values():
        run.stop()


@pytest.fixture
def user_repo(tmp_path, pre_commit_home, hook_repo, installs) -> GitProject:
    """A user repository whose `pre-commit run` uses the session's hook environment."""
    proc = installs["install-hooks"].result()
    assert proc.returncode == 0, _show(proc)
    return GitProject(tmp_path / "user-repo", pre_commit_home, hook_repo)


# -- the manifest, without installing anything -------------------------------------------------

def test_manifest_is_valid_for_pre_commit():
    proc = subprocess.run([*PRE_COMMIT, "validate-manifest", str(REPO / ".pre-commit-hooks.yaml")],
                          env=_env(), capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, _show(proc)


def test_manifest_files_pattern_is_credlints_own_discovery():
    """The hook runs for exactly the file names credlint reads as flows or deployment files."""
    yaml = pytest.importorskip("yaml")
    from credlint.files.discover import maybe_relevant

    (hook,) = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    assert hook["id"] == HOOK_ID
    assert hook["require_serial"] is True
    assert "types" not in hook and "types_or" not in hook and "exclude" not in hook
    pattern = re.compile(hook["files"])
    names = [
        "flows/etl.py", "pyproject.toml", "deploy/config.toml", "deploy/start-agent.sh", "run.bash",
        "Makefile", "makefile", "deploy/agent.mk", "k8s/agent.yaml", "docker-compose.yml",
        ".github/workflows/deploy.yml", ".gitlab-ci.yml", ".env", ".env.production", "deploy/.envrc",
        "prod.env", "Dockerfile", "docker/Dockerfile.agent", "agent.dockerfile", "Containerfile",
        "supervisord.conf", "setup.cfg", "tox.ini",
        # read for credential formats only (CL204):
        "README.md", "requirements.txt", "deploy.env/notes.txt", "Dockerfile/notes.txt", "docs/index.rst",
        "config/settings.json", "notebooks/explore.ipynb", "infra/main.tf", "keys/id_rsa", "id_ed25519_deploy",
        "certs/server.pem", "tls.key", "AuthKey.p8", "putty.ppk", ".npmrc", ".pypirc", ".aws/credentials",
        # not read by credlint unless named in `sources`:
        "flows/etl.pyc", "NotAMakefile", "envfile", "etl.py.orig", "keys/id_rsa.pub", "store.p12", "logo.png",
        "mycredentials",
    ]
    for name in names:
        assert bool(pattern.search(name)) == maybe_relevant(name.rsplit("/", 1)[-1]), name


# -- the real pre-commit -------------------------------------------------------------------

def test_try_repo_all_files_passes_on_a_clean_project(installs):
    """flows/etl.py fetches AWS_CREDENTIALS, which deploy/start-agent.sh passes to its flow runs."""
    proc = installs["try-repo --all-files"].result()
    assert proc.returncode == 0, _show(proc)
    assert _status(proc) == "Passed", _show(proc)


def test_try_repo_on_staged_files_fails_on_a_missing_secret(installs):
    """A commit that adds flows/etl.py, with nothing that provides its secret."""
    proc = installs["try-repo staged"].result()
    _assert_findings(proc)
    assert re.search(r"^flows/etl\.py:5:\d+: CL101 missing-secret", proc.stdout, re.MULTILINE), _show(proc)
    assert "'AWS_CREDENTIALS'" in proc.stdout, _show(proc)


def test_all_files_fails_on_a_missing_secret(user_repo):
    user_repo.use_hook_config()
    user_repo.commit({"pyproject.toml": PYPROJECT, "flows/etl.py": FLOW})
    proc = user_repo.run("--all-files")
    _assert_findings(proc)
    assert re.search(r"^flows/etl\.py:5:\d+: CL101 missing-secret", proc.stdout, re.MULTILINE), _show(proc)


def test_a_changed_deployment_file_alone_runs_the_hook_on_its_flows(user_repo):
    user_repo.use_hook_config()
    user_repo.commit({"pyproject.toml": PYPROJECT, "flows/etl.py": FLOW, "deploy/start-agent.sh": AGENT})
    proc = user_repo.run("--all-files")
    assert proc.returncode == 0, _show(proc)

    user_repo.write({"deploy/start-agent.sh": AGENT_TYPO})  # the agent now passes the wrong name
    user_repo.stage("deploy/start-agent.sh")
    proc = user_repo.run()
    assert "(no files to check)" not in proc.stdout, _show(proc)
    _assert_findings(proc)
    # The flow the agent serves is re-checked, although pre-commit passed only the script ...
    assert re.search(r"^flows/etl\.py:5:\d+: CL101 missing-secret", proc.stdout, re.MULTILINE), _show(proc)
    # ... and the script itself says what went wrong.
    assert re.search(r"^deploy/start-agent\.sh:2:\d+: CL104 unused-secret", proc.stdout, re.MULTILINE), _show(proc)
    assert "did you mean 'AWS_CREDENTIALS'?" in proc.stdout, _show(proc)


def test_a_file_credlint_excludes_is_not_reported_when_pre_commit_passes_it(user_repo):
    user_repo.use_hook_config()
    user_repo.commit({"pyproject.toml": PYPROJECT_EXCLUDE, "flows/etl.py": FLOW,
                      "deploy/start-agent.sh": AGENT})
    user_repo.write({"legacy/old_etl.py": FLOW.replace("AWS_CREDENTIALS", "OLD_AWS_CREDENTIALS")})
    user_repo.stage("legacy/old_etl.py")
    proc = user_repo.run()
    # pre-commit passed the file (the hook ran rather than "(no files to check)Skipped") ...
    assert _status(proc) == "Passed", _show(proc)
    # ... and credlint left it out, as [tool.credlint] exclude says.
    assert proc.returncode == 0, _show(proc)

    # Control: without the exclude, the same staged file fails the hook.
    user_repo.write({"pyproject.toml": PYPROJECT})
    user_repo.stage("pyproject.toml")
    proc = user_repo.run()
    _assert_findings(proc)
    assert re.search(r"^legacy/old_etl\.py:5:\d+: CL101 missing-secret", proc.stdout, re.MULTILINE), _show(proc)


def test_a_commit_touching_two_projects_checks_both(user_repo):
    """A monorepo with a project per service: pre-commit passes files of both in one call, and
    each is checked against its own project (the first path used to decide for all)."""
    clean = FLOW.replace('credentials=PrefectSecret("AWS_CREDENTIALS")', 'credentials=None')
    leaky = textwrap.dedent("""\
        from prefect import Flow
        from prefect.tasks.snowflake import SnowflakeQuery
        with Flow("b") as flow:
            SnowflakeQuery(account="a", user="u", password="Zq8uPw7731xKmN")(query="select 1")
        """)
    user_repo.use_hook_config()
    user_repo.commit({"svc_a/pyproject.toml": PYPROJECT, "svc_a/flows/a.py": clean,
                      "svc_b/pyproject.toml": PYPROJECT, "svc_b/flows/b.py": clean})
    user_repo.write({"svc_a/flows/a.py": clean + "\n", "svc_b/flows/b.py": leaky})
    user_repo.stage("svc_a/flows/a.py", "svc_b/flows/b.py")
    proc = user_repo.run()
    _assert_findings(proc)
    assert re.search(r"^svc_b/flows/b\.py:4:\d+: CL201 hardcoded-credential-argument", proc.stdout,
                     re.MULTILINE), _show(proc)
    assert "Zq8uPw7731xKmN" not in proc.stdout + proc.stderr
