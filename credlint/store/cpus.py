"""How many CPUs a run may use: its affinity, its container's quota, and what other processes
keep busy. Kept apart from the workers, with nothing but `os` to import: `credlint check` asks it
before forking its early worker, first thing, and every import before that fork delays it."""
from __future__ import annotations

import os
import sys


def default_jobs(own: int = 0) -> int:
    """Worker processes for a run that names none: the CPUs this process may use, less those
    other processes keep busy (`own`: how many of the running ones are this run's own worker).
    On a busy machine a pool gains nothing and costs its start and the pickled results."""
    return max(1, usable_cpus() - int(max(0.0, busy_cpus() - own) + 0.5))


def usable_cpus() -> int:
    """The CPUs this process may run on, capped by its container's CPU quota, which
    `os.cpu_count` ignores (a pod limited to one CPU on a 16-core node gets 1)."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cpus = os.cpu_count() or 1
    quota = cpu_quota()
    if quota is not None:
        cpus = min(cpus, int(quota + 0.5))
    return max(1, cpus)


def busy_cpus(loadavg: str = "/proc/loadavg") -> float:
    """CPUs other processes are using now: the tasks runnable at this moment besides this one
    (`/proc/loadavg`'s fourth field), unless the last minute's load average is lower, so that
    neither a passing process nor one that has just ended counts as lasting work. 0 where unknown."""
    try:
        with open(loadavg, encoding="ascii") as handle:
            fields = handle.read().split()
        return max(0.0, min(float(fields[0]), int(fields[3].split("/")[0]) - 1))
    except (OSError, ValueError, IndexError, UnicodeDecodeError):
        return 0.0


def cpu_quota(root: str = "/sys/fs/cgroup") -> "float | None":
    """CPUs' worth of time the cgroup may use (cgroup v2 `cpu.max`, v1 `cpu.cfs_quota_us` over
    `cpu.cfs_period_us`), or None when unlimited or unknown."""
    def read(name: str) -> "str | None":
        try:
            with open(os.path.join(root, name), encoding="ascii") as handle:
                return handle.read().strip()
        except (OSError, UnicodeDecodeError):
            return None

    try:
        found = read("cpu.max")  # v2: "max 100000" or "150000 100000"
        if found is not None:
            quota, _, period = found.partition(" ")
            return None if quota == "max" else int(quota) / int(period or "100000")
        quota, period = read("cpu/cpu.cfs_quota_us"), read("cpu/cpu.cfs_period_us")  # v1: -1 is none
        if quota is None or period is None or int(quota) <= 0:
            return None
        return int(quota) / int(period)
    except (ValueError, ZeroDivisionError):
        return None


def can_fork() -> bool:
    """fork is safe and cheap here (not on macOS, where system libraries may not survive it)."""
    return hasattr(os, "fork") and sys.platform.startswith("linux")
