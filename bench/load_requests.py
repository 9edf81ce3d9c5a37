"""The requests of bench/load.py: masked citations from real papers, a merged library, and which request goes where.

Why its own module: what is sent decides what a latency means. Every ``\\cite...{...}`` of the bench papers' .tex
files is removed in turn with the cursor where it was (``\\nocite`` is left alone: it prints nothing, so no ranking
could ever place it); ``plan_runs`` makes sure no measured request was sent to the server before.
"""

from __future__ import annotations

import json
import os
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Request", "RunPlan", "SHARED", "parse_source", "masked_requests", "merge_library", "plan_runs"]

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("STARTREF_SHARED", REPO.parent / "shared")).resolve()
CITE_RE = re.compile(r"\\(?!nocite\b)(?:[a-zA-Z]*cite[a-zA-Z]*)\*?(?:\s*\[[^\]\n]*\]){0,2}\s*\{([^{}\n]*)\}")
ENTRY_RE = re.compile(r"^(\s*@\s*([A-Za-z]+)\s*[{(]\s*)([^,\s{}()]+)(\s*,)", re.MULTILINE)
CROSSREF_RE = re.compile(r"(\bcrossref\s*=\s*[{\"]\s*)([^}\"\s]+)", re.IGNORECASE)


@dataclass(frozen=True)
class Request:
    """One masked citation: the JSON body to send and the keys that were removed (for hit@k)."""

    paper: str
    body: dict
    keys: tuple[str, ...]


def parse_source(source: Path) -> dict[str, list[str] | str]:
    """``SOURCE.txt`` as {field: value or list of indented values} (main_tex, tex_files, bib_files, ...)."""
    out: dict[str, list[str] | str] = {}
    current: str | None = None
    for line in source.read_text(encoding="utf-8").splitlines():
        if line.startswith((" ", "\t")) and current is not None:
            value = out.setdefault(current, [])
            if isinstance(value, list):
                value.append(line.strip())
            continue
        name, _, rest = line.partition(":")
        current = name.strip()
        out[current] = rest.strip() if rest.strip() else []
    return out


def _paper_dirs(root: Path) -> list[Path]:
    return sorted(p for p in root.iterdir() if (p / "SOURCE.txt").is_file()) if root.is_dir() else []


def masked_requests(papers: Path, *, k: int, library: Path | None = None,
                    paper_index: dict[str, int] | None = None, per_paper: int = 40, seed: int = 0) -> list[Request]:
    """Masked-citation requests from every paper, interleaved across papers so any prefix is varied."""
    rng = random.Random(seed)
    per: list[list[Request]] = []
    for paper in _paper_dirs(papers):
        source = parse_source(paper / "SOURCE.txt")
        tex_files = source.get("tex_files") or []
        bib_files = source.get("bib_files") or []
        own_bibs = [str(paper / b) for b in bib_files if b.lower().endswith(".bib") and (paper / b).is_file()]
        if not own_bibs and library is None:
            continue
        reqs: list[Request] = []
        for rel in tex_files if isinstance(tex_files, list) else []:
            tex = paper / rel
            if tex.suffix.lower() != ".tex":
                continue
            try:
                text = tex.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                continue
            for m in CITE_RE.finditer(text):
                keys = tuple(x.strip() for x in m.group(1).split(",") if x.strip())
                if not keys:
                    continue
                start = m.start()
                if start > 0 and text[start - 1] == "~":
                    start -= 1
                masked = text[:start] + text[m.end():]
                # the paper's own .bib files are named explicitly: several bench papers lack the input that
                # would let discovery find them, and this benchmark measures answering, not discovery
                body: dict = {"text": masked, "cursor": start, "path": str(tex), "bib": own_bibs, "k": k}
                if library is not None and paper_index is not None:
                    suffix = f"__p{paper_index[paper.name]}"
                    body["bib"] = [str(library)]
                    keys = tuple(key + suffix for key in keys)
                reqs.append(Request(paper.name, body, keys))
        rng.shuffle(reqs)
        if reqs:
            per.append(reqs[:per_paper])
    out: list[Request] = []
    for i in range(max((len(r) for r in per), default=0)):
        out.extend(r[i] for r in per if i < len(r))
    return out


def merge_library(paper_roots: Sequence[Path], out_dir: Path,
                  max_entries: int | None = None, every_bib: bool = False) -> tuple[Path, dict[str, int], int]:
    """Concatenate every paper's .bib files into one library with unique keys; returns (file, paper index, entries).

    Keys become ``<key>__p<i>`` (crossref values too); a key repeated inside one paper gets ``_<n>`` as well, so
    every key in the library is unique. Every paper of the first root is included (the requests come from it);
    papers of later roots are added, in name order, while the library has fewer than ``max_entries`` entries.
    ``every_bib``: every .bib file under a paper's folder, not only those its SOURCE.txt names (the ones the
    paper uses).
    """
    paper_index: dict[str, int] = {}
    parts: list[str] = []
    entries = 0
    for n_root, root in enumerate(paper_roots):
        for paper in _paper_dirs(root):
            if n_root and max_entries is not None and entries >= max_entries:
                break
            idx = paper_index.setdefault(paper.name, len(paper_index))
            suffix = f"__p{idx}"
            seen: dict[str, int] = {}
            bibs = parse_source(paper / "SOURCE.txt").get("bib_files") or []
            bibs = bibs if isinstance(bibs, list) else []
            if every_bib:
                bibs = [*bibs, *sorted(str(b.relative_to(paper)) for b in paper.rglob("*.bib")
                                       if str(b.relative_to(paper)) not in bibs)]
            for rel in bibs:
                path = paper / rel
                if path.suffix.lower() != ".bib" or not path.is_file():
                    continue
                text = path.read_bytes().decode("utf-8", errors="replace")

                def rename(m: re.Match[str]) -> str:
                    nonlocal entries
                    if m.group(2).lower() in ("string", "preamble", "comment"):
                        return m.group(0)
                    key = m.group(3)
                    n = seen.get(key, 0)
                    seen[key] = n + 1
                    entries += 1
                    new = key + suffix + (f"_{n}" if n else "")
                    return f"{m.group(1)}{new}{m.group(4)}"

                text = ENTRY_RE.sub(rename, text)
                text = CROSSREF_RE.sub(lambda m: m.group(1) + m.group(2) + suffix, text)
                parts.append(f"% ---- {paper.name}/{rel}\n{text}\n")
    out = out_dir / "library.bib"
    out.write_text("".join(parts), encoding="utf-8")
    return out, paper_index, entries


def _body_id(req: Request) -> str:
    return json.dumps(req.body, sort_keys=True)


@dataclass(frozen=True)
class RunPlan:
    """Which requests go where: one first request per bibliography, then disjoint batches of unseen requests."""

    firsts: list[Request]
    batches: list[list[Request]]
    pool_size: int


def plan_runs(requests: Sequence[Request], sizes: Sequence[int], *, max_bibs: int) -> RunPlan:
    """The first request of each of the first ``max_bibs`` bibliographies, then one batch per entry of ``sizes``.

    Why so strict: a request the server has answered before finds its query embeddings in the encoder's cache and
    costs a fraction of a new one. No batch repeats a first request, a request of another batch, or a body sent
    twice; a batch is cut short (never wrapped around) when the requests run out.
    """
    firsts: dict[str, Request] = {}
    for req in requests:
        bib = json.dumps(req.body.get("bib"))
        if bib not in firsts and len(firsts) < max_bibs:
            firsts[bib] = req
    sent = {_body_id(r) for r in firsts.values()}
    pool: list[Request] = []
    for req in requests:
        body = _body_id(req)
        if json.dumps(req.body.get("bib")) in firsts and body not in sent:
            sent.add(body)
            pool.append(req)
    batches: list[list[Request]] = []
    offset = 0
    for size in sizes:
        batches.append(pool[offset : offset + size])
        offset += size
    return RunPlan(list(firsts.values()), batches, len(pool))
