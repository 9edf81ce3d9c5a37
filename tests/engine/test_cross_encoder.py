"""The cross-encoder re-ranker: its training lists come from real mined cases, the recipe trains and saves a model
that loads and scores, and re-ranking only ever re-orders the ranker's top K."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest

from startref.citations.bibindex import Entry
from startref.citations.cross_encoder.scorer import (
    HEAD_FILE, CrossEncoder, combined_order, read_settings, rerank_top,
)
from startref.citations.cross_encoder.lists import (
    CURSOR_MARK, CaseList, candidate_text, case_lists, load_lists, query_text, save_lists,
)
from startref.citations.cross_encoder.training import TrainConfig, train_cross_encoder, training_lists
from startref.citations.engine import Engine, RankedEntry
from startref.citations.errors import ModelError, ModelNotFoundError
from startref.citations.evaluation import load_paper, mine_cases
from startref.citations.features import Query
from startref.citations.mining_cache import _sample, mine_paper
from startref.citations.models import default_encoder_path
from startref.citations.training import find_corpus_papers


def test_query_text_keeps_the_words_at_the_cursor() -> None:
    before = "Intro words. " * 40 + "Residual connections were introduced by"
    after = "and later widened. " + "More text follows. " * 20
    text = query_text(before, after)
    assert text.endswith(CURSOR_MARK + " and later widened. More text follows. More text follows. More text follows.") \
        or text.split(CURSOR_MARK)[1].startswith(" and later widened.")
    assert text.split(CURSOR_MARK)[0].rstrip().endswith("Residual connections were introduced by")
    assert len(text) < 400  # short: the pair must fit the re-ranker's token budget
    assert query_text("before the cursor", "").endswith(CURSOR_MARK)  # drafting: nothing after


def test_candidate_text_names_title_authors_and_year() -> None:
    entry = Entry("he2016", "article", {}, title="Deep Residual Learning", authors=("He", "Zhang", "Ren", "Sun"),
                  year="2016")
    assert candidate_text(entry) == "Deep Residual Learning | He, Zhang, Ren et al. 2016"


def test_case_lists_from_real_mined_cases(corpus: Path, engine: Engine) -> None:
    paper = find_corpus_papers(corpus)[0]
    loaded = load_paper(paper.main_tex, list(paper.bibs) or None)
    mined = mine_paper(paper.name, loaded, engine.encoder, max_cases=12, drafting_share=0.5)
    lists = case_lists(paper.name, loaded, mined.feats, mined.drafting, engine.ranker, max_cases=12,
                       drafting_share=0.5, depth=5)
    cases = _sample(list(mine_cases(loaded.text, loaded.index)), paper.name, 0, 12)
    assert len(lists) == len(cases) + len(mined.drafting)
    assert sum(cl.drafting for cl in lists) == len(mined.drafting) > 0
    by_text = {candidate_text(e): e.key for e in loaded.index.entries}
    lists_of_default = [cl for cl in lists if not cl.drafting]
    for case, cl in zip(cases, lists_of_default):
        assert len(cl.candidates) == min(5, len(loaded.index) - len(case.query.exclude))
        assert cl.scores == sorted(cl.scores, reverse=True)
        # The gold flags are the case's cited keys, and the scores are the shipped ranker's on the mined features.
        assert cl.gold == [by_text[t] in case.gold for t in cl.candidates]
    assert all(cl.query.endswith(CURSOR_MARK) for cl in lists if cl.drafting)
    assert any(not cl.query.endswith(CURSOR_MARK) for cl in lists_of_default)
    # A cache from another version of the paper (one case fewer) is skipped, never mixed up.
    assert case_lists(paper.name, loaded, mined.feats[:-1], mined.drafting, engine.ranker, max_cases=12,
                      drafting_share=0.5) == []


def _toy_lists(n: int) -> list[CaseList]:
    """Lists where the cited title repeats the context's topic word and reads as a review (learnable by a tiny
    network in a few steps), with ranker scores that put it second."""
    rng = random.Random(1)
    topics = ["galaxy", "protein", "network", "market", "climate", "theorem", "sensor", "language"]
    out = []
    for i in range(n):
        topic = topics[i % len(topics)]
        others = [t for t in topics if t != topic]
        rng.shuffle(others)
        titles = [f"A study of {t} dynamics" for t in [others[0], topic, *others[1:5]]]
        titles[1] = f"A review of {topic} research"
        out.append(CaseList("toy", i % 3 == 0, f"Recent work on the {topic} problem {CURSOR_MARK} shows",
                            titles, [3.0, 2.5, 2.0, 1.0, 0.5, 0.0], [t == titles[1] for t in titles]))
    return out


@pytest.fixture(scope="module")
def tiny_base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small randomly initialised BERT with the packaged MiniLM's tokenizer: the recipe's code path, in seconds."""
    from transformers import AutoTokenizer, BertConfig, BertModel

    out = tmp_path_factory.mktemp("tiny-base")
    tokenizer = AutoTokenizer.from_pretrained(str(default_encoder_path()), local_files_only=True)
    config = BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=64)
    BertModel(config).save_pretrained(str(out))
    tokenizer.save_pretrained(str(out))
    return out


@pytest.fixture(scope="module")
def trained(tiny_base: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("ce") / "model"
    lists_file = out.parent / "lists.jsonl"
    save_lists(lists_file, _toy_lists(48))
    config = TrainConfig(layers=2, max_steps=30, save_every=10, threads=1, lr=1e-3, head_lr=1e-2, warmup=5,
                         epochs=5.0)
    result = train_cross_encoder(load_lists(lists_file), tiny_base, out, config)
    assert result.steps == 30 and result.pairs == 30 * 4 * 6
    return out


def test_training_recipe_saves_a_model_that_loads_and_learns(trained: Path, tiny_base: Path) -> None:
    record = json.loads((trained / "rerank.json").read_text())
    assert record["trained"]["steps"] == 30 and record["trained"]["layers"] == 2
    assert record["trained"]["base"] == tiny_base.name
    assert (trained / HEAD_FILE).is_file() and not trained.with_name("model.tmp").exists()
    model = CrossEncoder(trained)
    # The toy task is learnable from the words alone: after 30 steps the cited title beats the others.
    hits = 0
    for cl in _toy_lists(16):
        scores = model.score(cl.query, cl.candidates)
        assert scores.shape == (6,) and np.isfinite(scores).all()
        hits += int(np.argmax(scores) == 1)
    assert hits >= 12
    # A title longer than the whole token budget is cut, not an error (it stopped the first real run).
    long_title = Entry("x", "article", {}, title="Very long title " * 80, authors=("A",) * 9, year="2020")
    assert np.isfinite(model.score("context " * 200 + CURSOR_MARK, [candidate_text(long_title)])).all()


def test_training_lists_keep_the_cited_entry_and_hard_negatives() -> None:
    lists = _toy_lists(10) + [CaseList("x", False, "q", ["a", "b"], [1.0, 0.0], [False, False])]
    out = training_lists(lists, 4, random.Random(0))
    assert len(out) == 10  # a list without its cited entry teaches nothing and is dropped
    for (_q, cands, gold, scores), cl in zip(out, lists):
        assert len(cands) == 4 and sum(gold) == 1 and cl.candidates[1] in cands
        assert scores == [cl.scores[cl.candidates.index(c)] for c in cands]  # each candidate keeps its ranker score
    # A size at least the list's length keeps the whole list, in the ranker's order (the residual recipe's lists).
    whole = training_lists(lists, 16, random.Random(0))
    assert [c for _q, c, _g, _s in whole] == [cl.candidates for cl in lists[:10]]


def test_residual_training_learns_what_the_ranker_misses_and_keeps_the_best_epoch(
        tiny_base: Path, tmp_path: Path) -> None:
    """Residual mode: the loss is over ranker scale x ranker logit + cross-encoder logit, so the network learns the
    correction (the toy ranker always puts the cited title second); the held-out loss after each epoch picks the
    epoch whose weights are kept, and the record says which."""
    out = tmp_path / "model"
    config = TrainConfig(layers=2, list_size=16, lists_per_step=4, threads=1, lr=3e-3, head_lr=1e-2, warmup=2,
                         epochs=4.0, residual=True)
    result = train_cross_encoder(_toy_lists(48), tiny_base, out, config, validation=_toy_lists(16))
    assert result.steps == 48 and result.validation is not None and len(result.validation) == 4
    assert result.kept_epoch == 1 + int(np.argmin(result.validation))
    record = json.loads((out / "rerank.json").read_text())["trained"]
    assert record["residual"] is True and record["kept_epoch"] == result.kept_epoch
    assert record["held_out_loss"] == [round(v, 4) for v in result.validation]
    assert record["ranker_scale"] == round(result.ranker_scale, 4) and result.ranker_scale > 0
    # The held-out loss of the ranker alone (its cited title always second of six) is beaten by the kept epoch.
    ranker_alone = float(np.mean([np.log(np.exp(cl.scores).sum()) - cl.scores[1] for cl in _toy_lists(16)]))
    assert min(result.validation) < ranker_alone
    model = CrossEncoder(out)
    hits = 0
    for cl in _toy_lists(16):
        combined = result.ranker_scale * np.array(cl.scores) + model.score(cl.query, cl.candidates)
        hits += int(np.argmax(combined) == 1)
    assert hits >= 12


def _ranked(n: int) -> list[RankedEntry]:
    titles = ["A study of galaxy dynamics", "A study of protein dynamics", "A study of market dynamics",
              "A review of climate research", "A study of sensor dynamics", "A study of network dynamics"]
    return [RankedEntry(Entry(f"k{i}", "article", {}, title=titles[i]), float(n - i), 0.0, np.zeros(1), np.zeros(1))
            for i in range(n)]


def test_rerank_only_reorders_the_top_k(trained: Path) -> None:
    model = CrossEncoder(trained)
    query = Query("Recent work on the climate problem", "", (), 0)
    ranked = _ranked(6)
    out = rerank_top(model, ranked, query, 4, 1e6)
    assert [r.entry.key for r in out[4:]] == ["k4", "k5"]  # below K: untouched
    assert {r.entry.key for r in out[:4]} == {"k0", "k1", "k2", "k3"}
    from startref.citations.cross_encoder.lists import pair_texts

    context, texts = pair_texts(query, [r.entry for r in ranked[:4]])
    ce = model.score(context, texts)
    assert [r.entry.key for r in out[:4]] == [f"k{i}" for i in np.argsort(-ce, kind="stable")]
    assert out[0].entry.key == "k3"  # the cited-looking title, fourth by the ranker, comes first
    assert rerank_top(model, ranked, query, 4, 0.0) == ranked
    assert model.rerank(ranked, query, k=1) == ranked


def test_combined_order_ties_keep_the_ranker_order() -> None:
    assert list(combined_order(np.array([3.0, 2.0, 1.0]), np.array([0.0, 1.0, 2.0]), 1.0)) == [0, 1, 2]
    assert list(combined_order(np.array([3.0, 2.0, 1.0]), np.array([0.0, 1.0, 3.0]), 1.0)) == [2, 0, 1]


def test_missing_or_broken_model_files_are_named(tmp_path: Path, trained: Path) -> None:
    with pytest.raises(ModelNotFoundError, match=str(tmp_path)):
        CrossEncoder(tmp_path)
    (tmp_path / "rerank.json").write_text("{not json")
    with pytest.raises(ModelError, match="rerank.json"):
        read_settings(tmp_path)
    assert read_settings(trained).k == 5


def test_a_later_worse_epoch_keeps_the_earlier_weights_and_says_so(tiny_base: Path, tmp_path: Path) -> None:
    """Held-out lists that disagree with the training ones (there the first title is the cited one) get worse as
    the model learns: the first epoch's weights stay on disk, and the record names it beside every epoch's loss."""
    out = tmp_path / "model"
    validation = [CaseList(cl.paper, cl.drafting, cl.query, cl.candidates, cl.scores,
                           [i == 0 for i in range(len(cl.candidates))]) for cl in _toy_lists(16)]
    config = TrainConfig(layers=2, list_size=16, lists_per_step=4, threads=1, lr=3e-3, head_lr=1e-2, warmup=2,
                         epochs=3.0, residual=True)
    result = train_cross_encoder(_toy_lists(48), tiny_base, out, config, validation=validation)
    assert result.validation is not None and len(result.validation) == 3
    assert result.validation[0] < result.validation[-1] and result.kept_epoch == 1
    record = json.loads((out / "rerank.json").read_text())["trained"]
    assert record["kept_epoch"] == 1 and record["steps"] == result.steps == 36
    assert record["held_out_loss"] == [round(v, 4) for v in result.validation]
    # the weights on disk are the first epoch's: on the held-out lists they score as well as that epoch did
    model = CrossEncoder(out)
    loss = np.mean([np.log(np.exp(s := record["ranker_scale"] * np.array(cl.scores)
                                  + model.score(cl.query, cl.candidates)).sum()) - s[0] for cl in validation])
    assert abs(loss - result.validation[0]) < 1e-3
