"""What a process tree has used, read from /proc: CPU seconds, resident and peak resident memory."""

from __future__ import annotations

import os
from pathlib import Path

from tools.procs import tree_pids

CLOCK_TICKS_PER_S = os.sysconf("SC_CLK_TCK")


def _stat_fields(pid: int) -> list[str]:
    text = Path(f"/proc/{pid}/stat").read_text()
    return text[text.rindex(")") + 2 :].split()  # after "(comm)", which may hold spaces


def cpu_seconds(root: int) -> float:
    """User plus system CPU time the tree's live processes have used, all their threads included."""
    total_ticks = 0
    for pid in tree_pids(root):
        try:
            fields = _stat_fields(pid)
        except OSError:
            continue
        total_ticks += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of proc(5))
    return total_ticks / CLOCK_TICKS_PER_S


def _status_kib(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


def resident_mib(root: int) -> float:
    """Resident memory of the tree now (VmRSS summed), in MiB."""
    return sum(_status_kib(pid, "VmRSS") for pid in tree_pids(root)) / 1024


def peak_resident_mib(root: int) -> float:
    """The kernel's high-water mark of each process's resident memory (VmHWM), summed over the tree, in MiB.

    An upper bound of the tree's peak: each process's own peak is exact (no sampling can miss it), and
    the sum assumes they peaked together.
    """
    return sum(_status_kib(pid, "VmHWM") for pid in tree_pids(root)) / 1024
