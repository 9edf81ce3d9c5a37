"""The real-editor rule holds everywhere: a missing dependency skips on a developer's machine and FAILS under CI.

Checked for each of its three forms (tests/realtools.py for pytest, scripts/real-tools.sh for shell and the
Makefile, scripts/real-tools.cjs for node) and for the VS Code extension's test-all.sh, which must stop with an
error under CI=true when chromium's or code-server's prerequisites are missing, before any npm or tsc work.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from realtools import real_tools_required, require_tool

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "scripts" / "real-tools.sh"
ABSENT = "startref-no-such-tool-3f9c"


def _env(ci: str | None, require: str | None = None, path: str | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "STARTREF_REAL_TOOLS")}
    if ci is not None:
        env["CI"] = ci
    if require is not None:
        env["STARTREF_REAL_TOOLS"] = require
    if path is not None:
        env["PATH"] = path
    return env


def _sh(*args: str, env: dict[str, str], user: bool = False) -> subprocess.CompletedProcess[str]:
    cmd = ["bash", str(SCRIPT), *args]
    if user and os.geteuid() == 0:  # the "not root" branch, as an unprivileged user
        cmd = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", *cmd]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60, check=False)


@pytest.mark.parametrize(("ci", "require", "expected"), [
    (None, None, False), ("false", None, False), ("", None, False),
    ("true", None, True), ("TRUE", None, True), ("1", None, True), ("yes", None, True), (None, "require", True),
])
def test_what_counts_as_ci(ci: str | None, require: str | None, expected: bool) -> None:
    assert real_tools_required(_env(ci, require)) is expected


def test_require_tool_finds_a_present_command_or_file() -> None:
    assert require_tool("bash") == Path(subprocess.run(["bash", "-c", "command -v bash"], capture_output=True,
                                                       text=True, check=True).stdout.strip()).resolve()
    assert require_tool(str(SCRIPT)) == SCRIPT


@pytest.mark.parametrize("name", [ABSENT, f"/nonexistent/{ABSENT}"])
def test_require_tool_skips_without_ci_and_fails_under_ci(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    monkeypatch.delenv("STARTREF_REAL_TOOLS", raising=False)
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="apt-get install -y pkg"):
        require_tool(name, package="pkg", what="the test")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="failure, not a skip"):
        require_tool(name, package="pkg", what="the test")
    monkeypatch.delenv("CI")
    monkeypatch.setenv("STARTREF_REAL_TOOLS", "require")
    with pytest.raises(pytest.fail.Exception):
        require_tool(name)


def test_the_shell_rule_runs_skips_or_fails() -> None:
    assert _sh("check", "t", "bash:bash", f"{SCRIPT}:x", env=_env("true")).returncode == 0
    skipped = _sh("check", "the X test", "bash:bash", f"{ABSENT}:pkg-a", env=_env(None))
    assert skipped.returncode == 77 and "SKIP: the X test" in skipped.stderr and "apt-get install -y pkg-a" in skipped.stderr
    failed = _sh("check", "the X test", f"{ABSENT}:pkg-a", f"/nonexistent/{ABSENT}.h:pkg-b", env=_env("true"))
    assert failed.returncode == 1 and "FAIL: the X test" in failed.stderr and "pkg-a pkg-b" in failed.stderr
    assert _sh("check", "t", f"{ABSENT}:p", env=_env(None, "require")).returncode == 1
    assert _sh("missing", "t", "setup failed", env=_env("1")).returncode == 1
    assert _sh("missing", "t", "setup failed", env=_env(None)).returncode == 77


def test_make_system_deps_fails_under_ci_when_it_cannot_install() -> None:
    # not root and a package missing: a developer is told the command; CI stops (it used to only print it)
    if os.geteuid() == 0:
        require_tool("setpriv", package="util-linux", what="running the 'not root' branch as root")
    told = _sh("install", "bash:bash", f"{ABSENT}:pkg-a", env=_env(None), user=True)
    assert told.returncode == 0 and "apt-get install -y pkg-a" in told.stderr
    failed = _sh("install", "bash:bash", f"{ABSENT}:pkg-a", env=_env("true"), user=True)
    assert failed.returncode == 1 and "FAIL" in failed.stderr and "pkg-a" in failed.stderr
    assert _sh("install", "bash:bash", env=_env("true"), user=True).returncode == 0  # nothing missing: no apt
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    assert "bash scripts/real-tools.sh install $(REAL_TOOL_DEPS)" in makefile


def test_vscode_test_all_fails_under_ci_without_chromium_or_ripgrep(tmp_path: Path) -> None:
    test_all = REPO / "editor-extension" / "vscode" / "scripts" / "test-all.sh"
    no_chromium = _env("true")
    no_chromium["STARTREF_CHROMIUM"] = f"/nonexistent/{ABSENT}/chromium"
    # a PATH with the shell's few tools and nothing else: no rg, no npm (so a late check would fail differently)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("bash", "dirname", "tr", "id"):
        (bin_dir / tool).symlink_to(require_tool(tool))
    no_rg = _env("true", path=str(bin_dir))
    for env in (no_chromium, no_rg):
        run = subprocess.run(["bash", str(test_all)], env=env, capture_output=True, text=True, timeout=120,
                             check=False)
        assert run.returncode == 1, run.stderr[-2000:]
        assert "FAIL: the real-VS-Code test" in run.stderr
        assert "npm" not in run.stdout  # it stopped before installing anything


def test_the_node_rule_skips_or_throws(tmp_path: Path) -> None:
    node = require_tool("node", package="nodejs", what="the node form of the rule")
    probe = ("const r = require(process.argv[1]);"
             "try { console.log(JSON.stringify(r.skipUnlessPresent('real X', ['', 'chromium (apt)']))); }"
             "catch (e) { console.log('threw: ' + e.message); }"
             "console.log(JSON.stringify(r.skipUnlessPresent('real X', ['', ''])));")

    def run(env: dict[str, str]) -> list[str]:
        out = subprocess.run([str(node), "-e", probe, str(REPO / "scripts" / "real-tools.cjs")], env=env,
                             capture_output=True, text=True, timeout=60, check=True)
        return out.stdout.splitlines()

    assert run(_env(None)) == ['"real X unavailable, missing: chromium (apt)"', "false"]
    threw, nothing_missing = run(_env("true"))
    assert threw.startswith("threw: real X unavailable, missing: chromium (apt)") and "not a skip" in threw
    assert nothing_missing == "false"
