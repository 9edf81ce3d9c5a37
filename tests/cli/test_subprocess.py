"""The installed ``startref`` console script and ``python -m startref``, run as real processes."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

from startref import __version__

SCRIPT = Path(sys.executable).with_name("startref")


def _run(*argv: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*argv], capture_output=True, text=True, cwd=cwd, timeout=120)


def test_console_script_version_and_python_m() -> None:
    assert SCRIPT.exists(), f"console script not installed at {SCRIPT}"
    done = _run(str(SCRIPT), "--version")
    assert done.returncode == 0 and done.stdout.strip() == f"startref {__version__}"
    done = _run(sys.executable, "-m", "startref", "--version")
    assert done.returncode == 0 and done.stdout.strip() == f"startref {__version__}"


def test_console_script_suggest_json(bench_papers: Path, tmp_path: Path) -> None:
    shutil.copytree(bench_papers / "eggplantbren__DNest4" / "paper", tmp_path / "paper")
    done = _run(str(SCRIPT), "suggest", "ms.tex", "--at", "89:1", "--json", "--no-generator", cwd=tmp_path / "paper")
    assert done.returncode == 0, done.stderr
    body = json.loads(done.stdout)
    assert body["file"] == "ms.tex" and body["candidates"]
    assert "Traceback" not in done.stderr


def test_console_script_bad_input_exit_2_without_traceback(tmp_path: Path) -> None:
    junk = tmp_path / "junk.tex"
    junk.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 20)
    done = _run(str(SCRIPT), "suggest", str(junk), "--at", "1:1", "--no-generator")
    assert done.returncode == 2
    assert done.stderr.startswith(f"startref: error: {junk}")
    assert "Traceback" not in done.stderr
    assert done.stdout == ""


def _wait_for_cpu_seconds(pid: int, seconds: float, timeout_s: float) -> None:
    """Return once process ``pid`` has used ``seconds`` of CPU (user + system, from /proc), polling every 5 ms."""
    import os
    import time

    tick = os.sysconf("SC_CLK_TCK")
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        if (int(fields[11]) + int(fields[12])) / tick >= seconds:
            return
        time.sleep(0.005)
    raise AssertionError(f"process {pid} used less than {seconds} CPU-seconds in {timeout_s} s")


def test_ctrl_c_exits_130_and_writes_nothing(bench_papers: Path, tmp_path: Path) -> None:
    import signal

    shutil.copytree(bench_papers / "eggplantbren__DNest4" / "paper", tmp_path / "paper")
    tex = tmp_path / "paper" / "ms.tex"
    # Every \citep becomes a placeholder: the whole run costs about 4 CPU-seconds (models loading, then ranking 26
    # placeholders). The Ctrl-C is sent once the process has used 1 CPU-second, so it lands inside loading or
    # ranking however loaded the machine is (a fixed wall-clock sleep did not: under a load average of 10 the
    # test process woke after the child had finished, and a Ctrl-C during interpreter teardown is a plain SIGINT
    # death, not our handler).
    tex.write_bytes(re.sub(rb"\\citep\{[^{}]*\}", rb"\\citep{?}", tex.read_bytes()))
    before = tex.read_bytes()
    assert before.count(b"\\citep{?}") >= 20
    # A shell that runs the suite in the background (`make test &`) ignores SIGINT, its children inherit that and
    # Python then installs no KeyboardInterrupt handler: the child gets the default disposition back, as a
    # terminal's Ctrl-C would find it.
    proc = subprocess.Popen([str(SCRIPT), "annotate", str(tex), "--in-place", "--no-generator"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    _wait_for_cpu_seconds(proc.pid, 1.0, timeout_s=60)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "startref: interrupted" in err and "Traceback" not in err
    assert tex.read_bytes() == before
    assert sorted(p.name for p in tex.parent.iterdir() if "startref-tmp" in p.name or p.suffix == ".bak") == []
