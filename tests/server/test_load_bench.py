"""bench/load.py measures what its rows say: unseen requests are unseen, replays are labelled, \\nocite is no case.

Why: a load benchmark that sends its warm-up requests again reports the encoder's cache lookups (a few ms) as
the latency of new requests. These tests pin the request plan on the real dev papers and run the script once
against the session's real server.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest
from serverproc import RunningServer


@pytest.fixture(scope="module")
def load_bench(repo_root: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_load", repo_root / "bench" / "load.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_load"] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)  # it puts bench/ on sys.path for its sibling load_requests.py
    return module


def _body(req) -> str:
    return json.dumps(req.body, sort_keys=True)


def test_no_run_repeats_a_warm_up_request_or_another_runs(load_bench: ModuleType, bench_papers: Path) -> None:
    requests = load_bench.masked_requests(bench_papers, k=5)
    plan = load_bench.plan_runs(requests, [100, 100, 300], max_bibs=20)
    assert len(plan.firsts) == len({json.dumps(r.body["bib"]) for r in requests}) >= 15
    sent = [_body(r) for r in plan.firsts] + [_body(r) for batch in plan.batches for r in batch]
    assert len(sent) == len(set(sent)), "a measured request was sent before"
    assert [len(b) for b in plan.batches[:2]] == [100, 100]


def test_runs_are_cut_short_rather_than_wrapped_around(load_bench: ModuleType, bench_papers: Path) -> None:
    requests = load_bench.masked_requests(bench_papers, k=5)
    plan = load_bench.plan_runs(requests, [10_000, 50], max_bibs=3)
    assert len(plan.firsts) == 3
    assert len(plan.batches[0]) == plan.pool_size < 10_000 and plan.batches[1] == []
    bibs = {json.dumps(r.body["bib"]) for r in plan.firsts}
    assert all(json.dumps(r.body["bib"]) in bibs for r in plan.batches[0])


def test_nocite_is_never_masked(load_bench: ModuleType, bench_papers: Path) -> None:
    # two dev papers use \nocite (20 commands); \nocite prints nothing, so no ranking could ever "hit" it
    papers = ("Bihaqo__thesis", "econ-ark__HAFiscal-Public")
    requests = [r for r in load_bench.masked_requests(bench_papers, k=5, per_paper=10_000) if r.paper in papers]
    assert {r.paper for r in requests} == set(papers)
    for req in requests:
        original = Path(req.body["path"]).read_text(encoding="utf-8")
        text, cursor = req.body["text"], req.body["cursor"]
        assert original.startswith(text[:cursor]) and original.endswith(text[cursor:])
        removed = original[cursor : len(original) - (len(text) - cursor)]
        assert "\\nocite" not in removed, removed
        assert "cite" in removed.lower()


def test_the_script_reports_unseen_and_replayed_runs(load_bench: ModuleType, server: RunningServer,
                                                     bench_papers: Path, tmp_path: Path) -> None:
    out = tmp_path / "load.json"
    rc = load_bench.main(["--url", server.base_url, "--token", str(server.token), "--papers", str(bench_papers),
                          "--max-bibs", "2", "--requests", "3", "--clients", "1", "2", "--json", str(out)])
    assert rc == 0
    report = json.loads(out.read_text(encoding="utf-8"))
    assert len(report["first_per_bibliography_ms"]) == 2
    assert [(r["clients"], r["requests"]) for r in report["runs"]] == [
        (1, "unseen"), (1, "replayed"), (2, "unseen"), (2, "replayed")]
    for run in report["runs"]:
        assert run["n"] == 3 and run["statuses"] == {"200": 3}
        assert 0 < run["p50_ms"] <= run["p95_ms"]


def test_a_run_cut_short_by_its_duration_knows_what_it_sent(load_bench: ModuleType, server: RunningServer,
                                                            bench_papers: Path) -> None:
    # the replay row must time the same requests as the unseen row, not the ones the unseen run had no time for
    plan = load_bench.plan_runs(load_bench.masked_requests(bench_papers, k=5), [40], max_bibs=1)
    res = load_bench.run_load(server.base_url, plan.batches[0], clients=1, duration_s=0.3, token=server.token)
    assert 1 <= len(res.sent) == len(res.latencies_ms) < 40
    assert res.sent == plan.batches[0][: len(res.sent)]


def test_a_failed_warm_up_stops_the_script(load_bench: ModuleType, server: RunningServer, bench_papers: Path) -> None:
    # a table of 401s (or timeouts) measured as latencies would be a lie; the script says why and stops
    with pytest.raises(SystemExit, match="the first requests failed"):
        load_bench.main(["--url", server.base_url, "--token", "wrong", "--papers", str(bench_papers),
                         "--max-bibs", "1", "--requests", "1"])
