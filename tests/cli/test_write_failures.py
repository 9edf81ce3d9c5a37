"""Write failures name the paper, and leftovers of killed writes are cleaned up by the next write (issue #11)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from startref.fileio import TMP_SUFFIX, atomic_write_bytes, remove_stale_temps

_WRITE_UNDER_SIZE_LIMIT = """
import resource, signal, sys
from startref.fileio import atomic_write_bytes
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (1000, 1000))  # the disk is "full" after 1000 bytes
try:
    atomic_write_bytes(sys.argv[1], b"x" * 5000)
except OSError as err:
    print(err.filename, "|", err)
"""


def test_a_failed_write_names_the_paper_not_the_temp_file(tmp_path: Path) -> None:
    paper = tmp_path / "paper.tex"
    paper.write_bytes(b"original")
    out = subprocess.run([sys.executable, "-c", _WRITE_UNDER_SIZE_LIMIT, str(paper)], capture_output=True,
                         text=True, check=True).stdout
    filename, message = out.split("|", 1)
    assert filename.strip() == str(paper) and "paper.tex is unchanged" in message
    assert TMP_SUFFIX not in out
    assert paper.read_bytes() == b"original"
    assert not list(tmp_path.glob(f"*{TMP_SUFFIX}"))


def test_leftovers_of_a_killed_write_are_removed_but_a_live_writers_file_is_not(tmp_path: Path) -> None:
    paper = tmp_path / "paper.tex"
    paper.write_bytes(b"v1")
    dead = tmp_path / f".paper.tex.abc123{TMP_SUFFIX}"
    dead.write_bytes(b"half")
    old = time.time() - 60
    os.utime(dead, (old, old))
    live = tmp_path / f".paper.tex.live99{TMP_SUFFIX}"
    live.write_bytes(b"being written")
    os.utime(live, (old, old))
    holder = subprocess.Popen([sys.executable, "-c", (
        "import fcntl, os, sys, time\n"
        f"fd = os.open({str(live)!r}, os.O_RDONLY)\n"
        "fcntl.flock(fd, fcntl.LOCK_EX)\n"
        "print('locked', flush=True)\n"
        "time.sleep(60)\n")], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        atomic_write_bytes(paper, b"v2")
        assert paper.read_bytes() == b"v2"
        assert not dead.exists()
        assert live.exists()
    finally:
        holder.kill()
        holder.wait()
    assert remove_stale_temps(paper) == [live]  # its writer died: now it goes too
