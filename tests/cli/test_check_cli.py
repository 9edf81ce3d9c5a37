"""``startref check`` end to end on a real paper: the text, JSON, gcc, GitHub and SARIF outputs, exit codes, bad
input, and that no file is ever written.

The document is the introduction of the real minimap2 paper (lines 1-104 of shared/bench's minimap2.tex, 7 cite
commands) with its real 57-entry .bib, plus a cite of a key that is not in it; ranking its keys takes a few seconds,
and later runs in this process find the sentence embeddings cached.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from startref.cli.main import main

SARIF_SCHEMA = Path(__file__).parent / "data" / "sarif-schema-2.1.0.json"


def _paper(bench_papers: Path, folder: Path, *, undefined: bool) -> Path:
    source = bench_papers / "lh3__minimap2" / "tex"
    lines = (source / "minimap2.tex").read_text(encoding="utf-8").splitlines()[:104]
    if undefined:
        lines.append("Minimap2 itself is described elsewhere~\\citep{Li:2018abc}.")
    lines += ["\\bibliography{minimap2}", "\\end{document}", ""]
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "minimap2.tex").write_text("\n".join(lines), encoding="utf-8")
    (folder / "minimap2.bib").write_bytes((source / "minimap2.bib").read_bytes())
    return folder / "minimap2.tex"


@pytest.fixture(scope="module")
def paper(bench_papers: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _paper(bench_papers, tmp_path_factory.mktemp("check") / "paper", undefined=True)


@pytest.fixture(scope="module")
def clean_paper(bench_papers: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _paper(bench_papers, tmp_path_factory.mktemp("check") / "clean", undefined=False)


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["check", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_text_output_groups_findings_by_file_and_exits_1_on_an_undefined_key(paper: Path, capsys) -> None:
    code, out, err = _run(capsys, str(paper), "--color", "never")
    assert code == 1, out + err
    lines = out.splitlines()
    assert lines[0] == str(paper)
    undefined = [line for line in lines if "[undefined_key]" in line]
    assert len(undefined) == 1
    assert re.match(re.escape(str(paper)) + r":105:\d+: error: undefined key `Li:2018abc`", undefined[0].strip())
    assert "`Li:2018ab`" in undefined[0]
    assert any(line.endswith("minimap2.bib") for line in lines)  # the duplicate entry, under its own file header
    assert re.search(r"\d+ problems? \(1 error, \d+ warnings?\) in 8 cite commands, \d+ keys scored", lines[-1])
    assert "\033[" not in out and err == ""  # no colour and no progress bar when not on a terminal


def test_colour_is_opt_in_off_a_terminal(paper: Path, capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    code, out, _ = _run(capsys, str(paper), "--color", "always")
    assert code == 1 and "\033[1;31merror\033[0m" in out
    monkeypatch.setenv("NO_COLOR", "1")
    assert "\033[" not in _run(capsys, str(paper), "--color", "auto")[1]


def test_json_is_the_documented_schema_and_min_severity_filters(paper: Path, capsys) -> None:
    from startref.server.schemas import CheckResponse

    code, out, _ = _run(capsys, str(paper), "--json", "--fail-on", "never")
    assert code == 0
    body = json.loads(out)
    CheckResponse.model_validate(body)  # the CLI's JSON is the server's response body
    assert body["version"] == 1 and body["summary"]["citations"] == 8
    assert {f["severity"] for f in body["findings"]} <= {"error", "warning"}
    undefined = [f for f in body["findings"] if f["code"] == "undefined_key"]
    assert [f["key"] for f in undefined] == ["Li:2018abc"]
    loc = undefined[0]["location"]
    text = paper.read_text(encoding="utf-8")
    assert text[loc["offset"] : loc["end_offset"]] == "Li:2018abc"
    assert undefined[0]["replacements"][0]["text"] == "Li:2018ab"
    everything = json.loads(_run(capsys, str(paper), "--format", "json", "--min-severity", "info")[1])
    assert any(f["code"] == "unused_entry" for f in everything["findings"])
    assert not any(f["code"] == "unused_entry" for f in body["findings"])
    errors_only = json.loads(_run(capsys, str(paper), "--json", "--min-severity", "error")[1])
    assert [f["code"] for f in errors_only["findings"]] == ["undefined_key"]


def test_gcc_and_github_formats(paper: Path, capsys) -> None:
    code, out, _ = _run(capsys, str(paper), "--format", "gcc")
    assert code == 1
    lines = out.splitlines()
    assert lines and all(re.match(r"^[^:]+:\d+:\d+: (error|warning|note): .+ \[[a-z_]+\]$", line) for line in lines)
    code, out, _ = _run(capsys, str(paper), "--format", "github")
    lines = out.splitlines()
    assert lines and all(re.match(r"^::(error|warning|notice) file=[^,]+,line=\d+,col=\d+,endLine=\d+,endColumn=\d+,"
                                  r"title=startref [a-z_]+::", line) for line in lines)
    assert any(line.startswith("::error ") and "Li:2018abc" in line for line in lines)


def test_sarif_validates_against_the_sarif_2_1_0_schema(paper: Path, capsys) -> None:
    code, out, _ = _run(capsys, str(paper), "--format", "sarif", "--min-severity", "info", "--sensitivity", "high")
    assert code == 1
    log = json.loads(out)
    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    jsonschema.validators.validator_for(schema)(schema).validate(log)
    results = log["runs"][0]["results"]
    rules = [r["id"] for r in log["runs"][0]["tool"]["driver"]["rules"]]
    assert {r["ruleId"] for r in results} <= set(rules)
    assert any(r["ruleId"] == "undefined_key" and r["level"] == "error" for r in results)
    assert any(r["level"] == "note" for r in results)  # unused entries (info)
    fixes = [r for r in results if r.get("fixes")]
    assert all(r["ruleId"] in ("possible_miscitation", "same_work_two_keys") for r in fixes)
    broken = json.loads(json.dumps(log))
    broken["runs"][0]["results"][0]["level"] = "fatal"
    with pytest.raises(jsonschema.ValidationError):  # the validation can fail
        jsonschema.validators.validator_for(schema)(schema).validate(broken)


def test_fail_on_decides_the_exit_code(clean_paper: Path, capsys) -> None:
    code, out, _ = _run(capsys, str(clean_paper), "--format", "json")
    body = json.loads(out)
    assert code == 0 and body["summary"]["error"] == 0
    assert body["summary"]["warning"] >= 1  # the real .bib holds one work twice (Sedlazeck)
    assert _run(capsys, str(clean_paper), "--fail-on", "warning")[0] == 1
    assert _run(capsys, str(clean_paper), "--fail-on", "never", "--min-severity", "info")[0] == 0


def test_bad_input_exits_2_with_the_file_named(paper: Path, tmp_path: Path, capsys) -> None:
    code, _, err = _run(capsys, str(tmp_path / "missing.tex"))
    assert code == 2 and "missing.tex" in err and "Traceback" not in err
    code, _, err = _run(capsys, str(paper), "--bib", str(tmp_path / "nothere.bib"))
    assert code == 2 and "nothere.bib" in err
    lonely = tmp_path / "lonely.tex"
    lonely.write_text("\\documentclass{article}\\begin{document}See \\cite{x}.\\end{document}\n", encoding="utf-8")
    code, _, err = _run(capsys, str(lonely))
    assert code == 2 and "bibliography" in err
    code, _, err = _run(capsys, str(paper), "--sensitivity", "extreme")
    assert code == 2 and "invalid choice: 'extreme'" in err


def _snapshot(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_never_modifies_a_file_and_runs_as_a_console_command(bench_papers: Path, tmp_path: Path) -> None:
    tex = _paper(bench_papers, tmp_path / "p", undefined=True)
    before = _snapshot(tex.parent)
    env = dict(os.environ, NO_COLOR="1")
    done = subprocess.run([sys.executable, "-m", "startref", "check", tex.name, "--format", "gcc"], cwd=tex.parent,
                          capture_output=True, text=True, env=env, timeout=600)
    assert done.returncode == 1, done.stderr
    assert done.stdout.startswith("minimap2.tex:") or "\nminimap2.tex:" in done.stdout
    assert "minimap2.bib:" in done.stdout  # .bib findings relative to the working directory too
    assert done.stderr == ""  # no progress bar off a terminal
    assert _snapshot(tex.parent) == before


def test_the_progress_bar_follows_the_phases_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    from startref.cli import check

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    stderr = Terminal()
    monkeypatch.setattr(sys, "stderr", stderr)
    with check._progress("paper.tex") as update:
        assert update is not None
        for done in range(1, 4):
            update("embedding", done, 3)
        for done in range(1, 6):
            update("ranking", done, 5)
    shown = stderr.getvalue()
    assert "check paper.tex: embedding" in shown and "3/3" in shown
    assert "check paper.tex: ranking" in shown and "5/5" in shown
