"""Speed of ``startref check`` on issue 15's size: a 300-citation paper with a 200-entry bibliography.

    python bench/check_speed.py                  # build the paper, check it (warm models), print the table
    python bench/check_speed.py --jobs 1         # embed on one thread
    python bench/check_speed.py --versus-suggest # `startref suggest` and `startref check` on it, each a fresh process

The paper is real, cut to size: the largest dev paper (HabibMrad__deep-learning-in-cardiology, 466 cite commands,
271 entries), its text cut after the 300th cite command (``\\end{document}`` appended), and its .bib cut to 200
entries: the 188 cited in that part, then the others in file order. Written to a temporary folder; nothing in
``shared/`` changes.

Timed: ``check_document`` as ``startref check`` runs it (the bibliography parsed, every cited key ranked with eval's
masking, the .bib checks), after the models are loaded (as in a running server or LSP) and with the encoder's text
cache emptied, so every sentence is embedded; then once more after a two-word edit in the middle of the text,
with the encoder's cache as the first run left it (what ``startref lsp`` does when the paper is saved). Reported: wall time, the process's CPU time (all threads), peak RSS
of the process (models included, as ``suggest``), and the load average (other work on the machine slows the wall
clock).

``--versus-suggest`` (issue 15's "memory as ``suggest``"): the two commands as a user runs them, each in a fresh
process on the same cut paper: ``startref suggest`` at its middle cite command (ranking the 200 entries for one
spot) and ``startref check`` (every cite); reported per command: wall time, peak RSS of the process (``wait4``'s
``ru_maxrss``: models, imports and all) and the load average.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
PAPER = "HabibMrad__deep-learning-in-cardiology"
CITES = 300
ENTRIES = 200

from startref.citations.audit import check_document  # noqa: E402
from startref.citations.bibindex import load_bibliography  # noqa: E402
from startref.citations.engine import Engine  # noqa: E402
from startref.latex.cites import find_cites  # noqa: E402
from startref.latex.commands import syntax_with_user_wrappers  # noqa: E402


def build(dest: Path) -> tuple[Path, int, int]:
    """Write the cut paper and .bib into ``dest``; returns (tex, cite commands, entries)."""
    src = SHARED / "bench" / "papers" / PAPER
    text = (src / "ms.tex").read_text(encoding="utf-8")
    cites = find_cites(text, syntax_with_user_wrappers(text))
    cut = cites[CITES - 1].end
    end = text.find("\n", cut)
    body = text[: end if end >= 0 else len(text)] + "\n\\end{document}\n"
    bib_src = src / "ms.bib"
    index = load_bibliography([bib_src])
    cited = {e.key for c in cites[:CITES] for k in c.keys if (e := index.get(k)) is not None}
    keep = [e for e in index.entries if e.key in cited]
    keep += [e for e in index.entries if e.key not in cited][: max(0, ENTRIES - len(keep))]
    lines = bib_src.read_text(encoding="utf-8").splitlines(keepends=True)
    starts = sorted(e.line for e in index.entries)
    out: list[str] = []
    for e in sorted(keep, key=lambda e: e.line):
        nxt = next((s for s in starts if s > e.line), len(lines) + 1)
        out.append("".join(lines[e.line - 1 : nxt - 1]))
    tex = dest / "ms.tex"
    tex.write_text(body, encoding="utf-8")
    (dest / "ms.bib").write_text("".join(out), encoding="utf-8")
    return tex, len(find_cites(tex.read_text(encoding="utf-8"), syntax_with_user_wrappers(body))), len(keep)


def versus_suggest(tex: Path, jobs: int) -> str:
    """Peak RSS and wall time of ``startref suggest`` and ``startref check`` on ``tex``, each in a fresh process."""
    text = tex.read_text(encoding="utf-8")
    cites = find_cites(text, syntax_with_user_wrappers(text))
    mid = cites[len(cites) // 2].start
    line = text.count("\n", 0, mid) + 1
    col = mid - (text.rfind("\n", 0, mid) + 1) + 1
    bib = str(tex.with_suffix(".bib"))
    script = Path(sys.executable).with_name("startref")  # the console script beside this Python
    exe = [str(script)] if script.is_file() else [sys.executable, "-m", "startref.cli.main"]
    commands = {
        f"suggest --at {line}:{col}": [*exe, "suggest", str(tex), "--at", f"{line}:{col}", "--bib", bib, "--json"],
        f"check --jobs {jobs}": [*exe, "check", str(tex), "--bib", bib, "--json", "--jobs", str(jobs)],
    }
    rows = []
    for name, argv in commands.items():
        load0 = os.getloadavg()[0]
        t0 = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        _pid, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        code = os.waitstatus_to_exitcode(status)
        err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
        if code not in (0, 1):  # check exits 1 when it finds something at --fail-on
            raise SystemExit(f"{name} failed ({code}): {err[-2000:]}")
        rows.append(f"| startref {name} | {wall:.1f} s | {usage.ru_utime + usage.ru_stime:.1f} s | "
                    f"{usage.ru_maxrss / 1024:.0f} MB | {load0:.1f} / {os.getloadavg()[0]:.1f} |")
    return "\n".join(["| command (fresh process) | wall | CPU (all threads) | peak RSS | load avg before / after |",
                      "|---|---|---|---|---|", *rows])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=2, help="embedding threads (startref check's --jobs)")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--versus-suggest", action="store_true",
                        help="run `startref suggest` and `startref check` on the paper, each in a fresh process")
    args = parser.parse_args()
    if args.versus_suggest:
        with tempfile.TemporaryDirectory(prefix="startref-check-speed-") as tmp:
            tex, n_cites, n_entries = build(Path(tmp))
            print(f"{PAPER} cut to {CITES} cite commands / {n_entries} entries, {os.cpu_count()} cores")
            print(versus_suggest(tex, args.jobs))
        return 0
    engine = Engine()
    engine.warm()
    rows = []
    with tempfile.TemporaryDirectory(prefix="startref-check-speed-") as tmp:
        tex, n_cites, n_entries = build(Path(tmp))
        runs = ["cold"] * args.repeat + ["re-check after an edit"]
        for kind in runs:
            if kind == "cold":
                engine.encoder.forget_texts()
            else:  # what startref lsp does on save: one sentence changed, the other sentences' vectors cached
                text = tex.read_text(encoding="utf-8")
                at = text.index(" ", len(text) // 2)
                tex.write_text(text[:at] + " In particular," + text[at:], encoding="utf-8")
            load0 = os.getloadavg()[0]
            t0, c0 = time.perf_counter(), time.process_time()
            report = check_document(engine, path=tex, bib=[Path(tmp) / "ms.bib"], workers=args.jobs)
            wall, cpu = time.perf_counter() - t0, time.process_time() - c0
            rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            rows.append((kind, n_cites, report.checked, report.bibliography["entries"], wall, cpu,
                         report.timing_ms.get("rank", 0) / 1000, rss, load0, os.getloadavg()[0]))
    print(f"{PAPER} cut to {CITES} cite commands / {n_entries} entries, --jobs {args.jobs}, {os.cpu_count()} cores")
    print("| run | cite commands | keys scored | entries | wall | CPU (all threads) | peak RSS | load avg before / after |")
    print("|---|---|---|---|---|---|---|---|")
    for kind, c, k, e, wall, cpu, _rank, rss, l0, l1 in rows:
        print(f"| {kind} | {c} | {k} | {e} | {wall:.1f} s | {cpu:.1f} s | {rss:.0f} MB | {l0:.1f} / {l1:.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
