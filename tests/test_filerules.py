"""``FileRules``, the one door every file read goes through: names, regular files, size, no existence oracle."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from startref.filerules import ANY_FILE, BIB, TEX, FileRuleError, FileRules

SERVER = FileRules.server(1000)


def _reason(rules: FileRules, path: Path | str, kind: str) -> str:
    with pytest.raises(FileRuleError) as info:
        rules.read(path, kind)
    return info.value.reason


def test_server_rules_refuse_other_names_whether_or_not_they_exist(tmp_path: Path) -> None:
    secret = tmp_path / "credentials.txt"
    secret.write_text("password\n")
    missing = tmp_path / "missing.txt"
    # the same answer for an existing and a missing file: the rules are decided on the name alone
    assert _reason(SERVER, secret, BIB) == _reason(SERVER, missing, BIB) == "forbidden"
    assert str(pytest.raises(FileRuleError, SERVER.read, secret, BIB).value) == \
        str(pytest.raises(FileRuleError, SERVER.read, missing, BIB).value)
    assert not SERVER.is_candidate(secret, BIB) and not SERVER.is_candidate(missing, BIB)
    assert _reason(SERVER, tmp_path / "x.bib", TEX) == "forbidden"  # a .bib is not a .tex
    assert ANY_FILE.read(secret, BIB) == b"password\n"  # the CLI's user named it: allowed


def test_links_are_judged_by_their_target(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("x")
    (tmp_path / "a.bib").symlink_to(secret)
    (tmp_path / "dangling.bib").symlink_to(tmp_path / "nowhere.txt")
    assert _reason(SERVER, tmp_path / "a.bib", BIB) == _reason(SERVER, tmp_path / "dangling.bib", BIB) == "forbidden"
    (tmp_path / "good.bib").write_text("@misc{a, title={A}}")
    (tmp_path / "link.bib").symlink_to(tmp_path / "good.bib")
    assert SERVER.read(tmp_path / "link.bib", BIB).startswith(b"@misc")


def test_fifo_is_never_opened_and_never_blocks(tmp_path: Path) -> None:
    fifo = tmp_path / "refs.bib"
    os.mkfifo(fifo)
    outcome: list[str] = []
    reader = threading.Thread(target=lambda: outcome.append(_reason(ANY_FILE, fifo, BIB)), daemon=True)
    reader.start()
    reader.join(10)
    if reader.is_alive():  # the old behaviour: blocked in open(); free it so the test process can end
        with open(fifo, "wb"):
            pass
        pytest.fail("reading a FIFO blocked")
    assert outcome == ["not_regular"]
    assert not SERVER.is_candidate(fifo, BIB)


def test_devices_directories_loops_and_size(tmp_path: Path) -> None:
    assert _reason(ANY_FILE, "/dev/zero", BIB) == "not_regular"  # endless: never read
    assert _reason(ANY_FILE, tmp_path, BIB) == "not_regular"
    loop = tmp_path / "loop.bib"
    loop.symlink_to(loop)
    with pytest.raises(FileRuleError) as info:
        ANY_FILE.read(loop, BIB)
    assert info.value.reason == "symlink_loop" and "loop" in str(info.value)
    big = tmp_path / "big.bib"
    big.write_bytes(b"%" * 1001)
    assert _reason(SERVER, big, BIB) == "too_large"
    assert _reason(ANY_FILE, tmp_path / "nope.bib", BIB) == "not_found"
