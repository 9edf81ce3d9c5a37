"""``startref config``: the file lives under $XDG_CONFIG_HOME (else ~/.config), is valid TOML read back with
tomllib, and its library sources reach the commands; a broken file is a clear error naming it."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from startref.citations.library.config import ConfigError, config_path, library_sources, load_config, set_value


def _run(*args: str, home: Path, xdg: Path | None) -> subprocess.CompletedProcess[str]:
    import os

    env = {k: v for k, v in os.environ.items() if k not in ("XDG_CONFIG_HOME", "STARTREF_CONFIG")}
    env["HOME"] = str(home)
    if xdg is not None:
        env["XDG_CONFIG_HOME"] = str(xdg)
    return subprocess.run([sys.executable, "-m", "startref", "config", *args], capture_output=True, text=True,
                          env=env, timeout=120)


def test_set_and_show_follow_xdg(tmp_path: Path) -> None:
    xdg = tmp_path / "xdg"
    out = _run("set", "library.sources", "/data/zotero.sqlite,~/lib.bib", home=tmp_path, xdg=xdg)
    assert out.returncode == 0, out.stderr
    path = xdg / "startref" / "config.toml"
    assert path.is_file() and str(path) in out.stdout
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    assert data == {"library": {"sources": ["/data/zotero.sqlite", "~/lib.bib"]}}
    assert _run("set", "library.enabled", "false", home=tmp_path, xdg=xdg).returncode == 0
    shown = _run(home=tmp_path, xdg=xdg)
    assert shown.returncode == 0 and "enabled = false" in shown.stdout and str(path) in shown.stdout
    assert library_sources(tomllib.loads(path.read_text(encoding="utf-8"))) == ()  # disabled
    bad = _run("set", "library.nope", "1", home=tmp_path, xdg=xdg)
    assert bad.returncode == 2 and "unknown setting 'library.nope'" in bad.stderr


def test_default_is_home_dot_config(tmp_path: Path) -> None:
    out = _run("path", home=tmp_path, xdg=None)
    assert out.stdout.strip() == str(tmp_path / ".config" / "startref" / "config.toml")


def test_broken_file_names_itself(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    path = config_path()
    path.parent.mkdir(parents=True)
    path.write_text("[library\nsources = 3\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=str(path)):
        load_config()
    path.write_text('[library]\nsources = 3\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="list of paths"):
        library_sources()
    path.unlink()
    set_value("library.append_to", "refs.bib")
    assert load_config() == {"library": {"append_to": "refs.bib"}}
