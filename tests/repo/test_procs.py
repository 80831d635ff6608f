"""tools/procs.py's memory figures: the PSS of a process tree counts a page its processes share once."""

from __future__ import annotations

import subprocess
import sys
import time

from tools.procs import stop_process_group, tree_pss_mb, tree_rss_mb

# A parent that fills 64 MB, then forks a child that only sleeps: the 64 MB are one copy, shared by both.
_FORKED = """
import os, time
block = bytearray(64 * 1024 * 1024)
for i in range(0, len(block), 4096):
    block[i] = 1
if os.fork() == 0:
    time.sleep(60)
    os._exit(0)
print("ready", flush=True)
time.sleep(60)
"""


def test_a_page_shared_after_fork_counts_once_in_pss_and_twice_in_rss():
    process = subprocess.Popen([sys.executable, "-c", _FORKED], stdout=subprocess.PIPE, start_new_session=True)
    try:
        assert process.stdout.readline() == b"ready\n"
        time.sleep(0.2)  # the child has forked and is asleep
        rss, pss = tree_rss_mb(process.pid), tree_pss_mb(process.pid)
        assert rss > 128, rss  # both processes resident with the block
        assert 64 < pss < rss - 48, (pss, rss)  # the block once, and the interpreter's own shared pages once
    finally:
        stop_process_group(process)
