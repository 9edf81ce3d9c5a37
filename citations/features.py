"""Ranking features: one row of numbers per bibliography entry for one cursor position.

Why these features (measured on real papers, see DEVELOPERS.md and the README's ablation table):
- what the words around the cursor say: sentence-encoder similarity to the entry's title, BM25 over the entry's
  title/venue/authors, and a short BM25 over the last few words ("BERT~\\cite", "Smith et al.~\\cite");
- what the document already did: 43% of citations re-cite an earlier key, so how often and how recently an entry
  was cited, how similar the words around its earlier citations are to the words here, which entries were cited
  together with the most recent ones or share their topic and authors, and whether the author is currently
  introducing new references (a related-work run) or pointing back;
- where the cursor stands: authors re-cite within the section that discussed an entry, and an introduction or a
  related-work section brings new entries where a results section points back (``latex/sections.py`` finds the
  section, the innermost heading and the paragraph);
- how the author keeps the .bib: many .bib files grow in citation order, so the first not-yet-cited entry after
  the most recently introduced one is a strong guess for a new citation — when the document so far shows that order;
  and entries standing next to the ones just cited were often added (and are cited) together.
The weights are learned (``startref train``); nothing here decides how the features combine.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass

import numpy as np

from startref.citations.bytecache import ByteLRU, env_megabytes
from startref.citations.bibindex import BibIndex, Entry
from startref.citations.bm25 import BM25
from startref.citations.encoder import SentenceEncoder
from startref.citations.history_features import (
    SECTION_KINDS,
    bib_local,
    cited_windows,
    citing_rhythm,
    hist_lexical,
    hist_words,
    history_features,
    recent_anchors,
    recent_neighbours,
    section_features,
)
from startref.citations.text import STOPWORDS, fold, tokenize
from startref.latex.sections import Outline

__all__ = [
    "FEATURE_NAMES", "PriorCite", "Query", "IndexFeatures", "index_features", "compute_features", "encoder_texts",
    "query_encoder_texts",
]

FEATURE_NAMES: tuple[str, ...] = (
    "enc_sim",  # cosine(context, entry title)
    "enc_z",  # the same, z-scored within the query
    "enc_top",  # 1 / (1 + rank of enc_sim)
    "bm25",  # BM25(context words -> entry), log1p
    "bm25_z",
    "bm25_near",  # BM25 of the last few words before the cursor, log1p
    "bm25_sentence",  # BM25 of the sentence the cursor stands in, log1p
    "author_near",  # an author's last name stands right before/after the cursor
    "author_adjacent",  # ... within the last few words before the cursor ("Smith et al.~\\cite")
    "key_near",  # share of the key's word parts ("vaswani", "attention") among the words near the cursor
    "acronym_near",  # the title's leading name ("BERT: ...", "Adam: ...") stands near the cursor
    "year_near",  # the entry's year stands right before/after the cursor
    "cited",  # cited before in this document
    "cited_log_count",  # log1p(times cited before)
    "cited_recency",  # 1 / (1 + cite commands since its last citation)
    "cited_near",  # exp(-characters since its last citation / 3000)
    "hist_words",  # max share of the near words found around one of its earlier citations
    "cocite",  # log1p(times cited together with the keys of the last three cite commands)
    "uncited_x_progress",  # not cited yet x share of the bibliography already cited
    "bib_next",  # the first uncited entry after the most recently introduced one, in .bib order
    "bib_near",  # exp(-|bib distance - 1| / 3) for uncited entries after that one
    "bib_next_x_order",  # bib_next x how often the document so far introduced entries in .bib order
    "bib_near_x_order",
    "no_title",  # entry without a usable title (only its key can be matched)
    "year_recent",  # (year - 1950) / 100, 0 when unknown
    "enc_sentence",  # cosine(the sentence the cursor stands in, entry title)
    "hist_lex",  # idf-weighted share of the context's words found around the entry's earlier citations
    "bib_local",  # exp(-(.bib distance to the nearest entry of the last three cite commands - 1) / 3)
    "is_misc",  # @misc/@online/@software/@manual or no venue: software, data sets, web pages
    "query_etal",  # query-level: "et al." or a year stands right before the cursor (an author is being cited)
    "enc_near",  # cosine(the last words before the cursor, entry title)
    "bm25_last",  # BM25 of the last three content words before the cursor, log1p
    "bm25_after",  # BM25 of the first content words after the cursor, log1p
    "title_sim_recent",  # max cosine(entry title, titles of the other entries of the last three cite commands)
    "author_recent",  # shares an author with an entry of the last three cite commands
    "query_new_rate",  # query-level: share of the last five cite commands that introduced an entry not cited before
    "query_cite_density",  # query-level: log1p(cite commands in the last 1,500 characters)
    "cited_in_section",  # cited earlier in the section the cursor stands in (part/chapter/section level)
    "cited_in_subsection",  # ... under the innermost heading above the cursor
    "cited_in_paragraph",  # ... in the cursor's paragraph
    "query_section_cites",  # query-level: log1p(cite commands earlier in the cursor's section)
    "query_section_intro",  # query-level: the section's title says introduction / overview / motivation
    "query_section_related",  # ... related work / background / preliminaries
    "query_section_results",  # ... experiments / results / evaluation
    "query_section_closing",  # ... conclusion / discussion / limitations
    "bm25_heading",  # BM25 of the titles of the cursor's section and innermost heading, log1p
)

_CTX_BEFORE_CHARS = 400
_CTX_AFTER_CHARS = 150
_NEAR_WORDS = 8
_NEAR_CHARS = 90
_ADJACENT_CHARS = 40
_LAST_WORDS = 3
_AFTER_WORDS = 8
_YEAR = re.compile(r"\b(1[89]\d\d|20\d\d)\b")
_MISC_TYPES = frozenset({"misc", "online", "software", "manual", "electronic", "www", "dataset", "unpublished"})
_ETAL = re.compile(r"(et\s+al\.?|\b(1[89]\d\d|20\d\d)[a-z]?\)?|'s)[\s~,;:]*$")


@dataclass(frozen=True)
class PriorCite:
    """An earlier cite command: the index keys it cites, where it stands, and the words around it."""

    keys: tuple[str, ...]
    start: int
    window: str


@dataclass(frozen=True)
class Query:
    """Everything the ranker may know at a cursor: plain text around it and the document's citation history.

    ``before``/``after`` are plain text (cite commands removed) ending/starting at the cursor; ``history`` lists
    earlier cite commands in document order with canonical index keys; ``cursor`` is the offset of the cursor;
    ``outline`` where the cursor's section, innermost heading and paragraph start (offsets like ``cursor``).
    """

    before: str
    after: str
    history: tuple[PriorCite, ...]
    cursor: int
    exclude: frozenset[str] = frozenset()
    outline: Outline = Outline()

    @property
    def context_text(self) -> str:
        """The encoder's view of the context: the end of the text before plus the start of the text after."""
        before = self.before[-_CTX_BEFORE_CHARS:]
        cut = before.find(" ")
        if len(self.before) > _CTX_BEFORE_CHARS and 0 <= cut < 40:
            before = before[cut + 1 :]
        return f"{before} {self.after[:_CTX_AFTER_CHARS]}".strip()


@dataclass
class IndexFeatures:
    """Per-bibliography precomputation shared by every query on it (built once, cached by fingerprint)."""

    index: BibIndex
    keys: list[str]
    key_pos: dict[str, int]
    emb: np.ndarray
    bm25: BM25
    author_tokens: list[frozenset[str]]
    key_tokens: list[frozenset[str]]
    acronyms: list[str]
    years: list[str]
    no_title: np.ndarray
    year_recent: np.ndarray
    is_misc: np.ndarray


def entry_text(entry: Entry) -> str:
    """The text of an entry the encoder compares with the context: its title (its key's words when untitled)."""
    if entry.title.strip():
        return entry.title
    return " ".join(re.split(r"[^A-Za-z]+|(?<=[a-z])(?=[A-Z])", entry.key)).strip()


def _key_tokens(key: str) -> frozenset[str]:
    """Word parts of a citation key: "vaswani2017attention" -> {"vaswani", "attention"}; "He:2016ab" -> {"he"}."""
    parts = re.findall(r"[A-Za-z]{3,}", re.sub(r"(?<=[a-z])(?=[A-Z])", " ", key))
    return frozenset(fold(p) for p in parts if fold(p) not in STOPWORDS)


def _acronym(title: str) -> str:
    """The name a title gives its method, when it leads with one: "BERT: Pre-training of ..." -> "bert"."""
    head = title.split(":", 1)[0].strip() if ":" in title else ""
    words = head.split()
    if len(words) == 1 and len(words[0]) >= 3:
        return fold(re.sub(r"[^\w-]", "", words[0]))
    return ""


def _bm25_text(entry: Entry) -> str:
    return " ".join(
        part for part in (entry.title, entry.venue, " ".join(entry.authors), entry.keywords, entry.abstract[:500]) if part
    )


#: Per-bibliography ranking data, bounded by bytes (STARTREF_INDEX_CACHE_MB, default 64): the embeddings plus
#: 3 KB per entry for BM25 postings and the token sets (tracemalloc on real bibliographies: 2-3 KB). A miss is
#: cheap: entry vectors come from the encoder's per-entry cache, the rest takes milliseconds.
_INDEX_CACHE: ByteLRU[tuple[str, str], IndexFeatures] = ByteLRU(
    env_megabytes("STARTREF_INDEX_CACHE_MB", 64), lambda f: int(f.emb.nbytes) + 3000 * len(f.keys))


def index_features(index: BibIndex, encoder: SentenceEncoder, emb: np.ndarray | None = None) -> IndexFeatures:
    """The cached per-bibliography data for ``index`` (entry embeddings come from the encoder's disk cache).

    ``emb``: the entries' embeddings when the caller keeps its own (the library embeds with a progress bar and
    caches by content); the result is then not kept in this module's cache either."""
    # The adapter is part of the key: the plain and the fine-tuned MiniLM share a path but not their embeddings.
    cache_key = (index.fingerprint, f"{encoder.path}|{getattr(encoder, 'adapter_digest', '')}")
    given = emb is not None
    hit = None if given else _INDEX_CACHE.get(cache_key)  # ByteLRU holds its own lock
    if hit is not None:
        return hit
    entries = list(index.entries)
    texts = [entry_text(e) for e in entries]
    if emb is None and len(entries) >= _big_bib_from():
        from startref.citations.big_bib import entry_vectors  # a big .bib: a vector store by text, see there

        emb = entry_vectors(texts, encoder)
    if emb is None:
        emb = encoder.encode_corpus(texts, index.fingerprint) if entries else np.zeros((0, encoder.dim), np.float32)
    years = [_plausible_year(e.year) for e in entries]
    feats = IndexFeatures(
        index=index,
        keys=[e.key for e in entries],
        key_pos={e.key: i for i, e in enumerate(entries)},
        emb=emb,
        bm25=BM25([_bm25_text(e) for e in entries]),
        author_tokens=[frozenset(fold(a) for a in e.authors[:3] if len(a) >= 3) for e in entries],
        key_tokens=[_key_tokens(e.key) for e in entries],
        acronyms=[_acronym(e.title) for e in entries],
        years=years,
        no_title=np.array([0.0 if e.title.strip() else 1.0 for e in entries], dtype=np.float32),
        year_recent=np.array([(int(y) - 1950) / 100.0 if y else 0.0 for y in years], dtype=np.float32),
        is_misc=np.array([1.0 if e.entry_type.lower() in _MISC_TYPES or not e.venue.strip() else 0.0 for e in entries], np.float32),
    )
    return feats if given else _INDEX_CACHE.put(cache_key, feats)


def _big_bib_from() -> int:
    from startref.citations.big_bib import candidate_stage_from

    return candidate_stage_from() or 10**12


def _plausible_year(raw: str) -> str:
    """The entry's four-digit year, or "" (unknown). Why the range: a .bib with ``year = {18}`` made
    ``year_recent`` -19.3, far outside anything the ranker was trained on, and that one entry then topped 37 of 40
    library requests; an implausible year is treated like a missing one."""
    head = raw.strip()[:4]
    return head if len(head) == 4 and head.isdigit() and 1400 <= int(head) <= 2100 else ""


def _zscore(x: np.ndarray) -> np.ndarray:
    if x.size == 0:
        return x
    sd = float(x.std())
    return (x - float(x.mean())) / sd if sd > 1e-9 else np.zeros_like(x)


def _near_words(query: Query) -> tuple[list[str], str]:
    """The last few content words before the cursor (and the raw characters around it) for exact matches."""
    tail = query.before[-_NEAR_CHARS:]
    head = query.after[: _NEAR_CHARS // 2]
    words = tokenize(tail)[-_NEAR_WORDS:]
    return words, f"{tail} {head}"


_SENTENCE_END = re.compile(r"[.!?](?=\s|$)")


def _sentence(query: Query) -> str:
    """The sentence around the cursor: from the last sentence end before it to the first one after it."""
    before = query.before[-600:]
    ends = list(_SENTENCE_END.finditer(before))
    # "et al." and "e.g." end no sentence; a full stop right before the cursor ends the previous one.
    ends = [m for m in ends if not before[max(0, m.start() - 5) : m.end()].endswith(("al.", "e.g.", "i.e.", "cf."))]
    start = ends[-1].end() if ends else 0
    after = query.after[:300]
    m = _SENTENCE_END.search(after)
    return f"{before[start:]} {after[: m.start() if m else len(after)]}"


_ALL_FEATURES = frozenset(FEATURE_NAMES)
_ENCODER_TEXTS = {"context": ("enc_sim", "enc_z", "enc_top"), "sentence": ("enc_sentence",), "near": ("enc_near",)}
_HISTORY_COLUMNS = ("cited", "cited_log_count", "cited_recency", "cited_near", "cocite", "uncited_x_progress", "bib_next",
                    "bib_near", "bib_next_x_order", "bib_near_x_order")
_SECTION_COLUMNS = ("cited_in_section", "cited_in_subsection", "cited_in_paragraph", "query_section_cites",
                    *(name for name, _ in SECTION_KINDS), "bm25_heading")


def encoder_texts(query: Query, sentence: str | None = None) -> dict[str, str]:
    """The texts ``compute_features`` embeds for ``query`` (context, sentence, near words). Public so a caller with
    many queries (``startref check``) can embed them all in batches first; ``encode`` then finds them cached."""
    if sentence is None:
        sentence = _sentence(query)
    return {
        "context": query.context_text or " ",
        "sentence": sentence.strip() or " ",
        "near": " ".join(query.before[-160:].split()[-25:]) or " ",
    }


def query_encoder_texts(query: Query) -> list[str]:
    """The texts ``compute_features`` embeds for ``query``, as a list: mining encodes those of many queries in one
    batched call first (several times faster on CPU than one call per query), and the features then read the
    encoder's cache."""
    return list(encoder_texts(query).values())


def compute_features(
    query: Query, fx: IndexFeatures, encoder: SentenceEncoder, only: Collection[str] | None = None
) -> np.ndarray:
    """The (entries x FEATURE_NAMES) matrix for ``query``.

    ``only`` computes just the named columns and leaves the others zero: the ablation benchmark times what each set
    of signals costs by running exactly the work those signals need (the encoder is called only for the texts an
    ``enc_*`` column of the set compares with). The default computes every column.
    """
    n = len(fx.keys)
    if n == 0:
        return np.zeros((0, len(FEATURE_NAMES)), np.float32)
    wanted = _ALL_FEATURES if only is None else frozenset(only)
    unknown = wanted.difference(_ALL_FEATURES)
    if unknown:
        raise ValueError(f"unknown feature names: {', '.join(sorted(unknown))}")

    def want(*names: str) -> bool:
        return not wanted.isdisjoint(names)

    columns: dict[str, np.ndarray] = {}
    sentence = _sentence(query) if want("enc_sentence", "bm25_sentence") else ""
    near_words, near_raw = _near_words(query)
    texts = encoder_texts(query, sentence)
    needed = [name for name, cols in _ENCODER_TEXTS.items() if want(*cols)]
    if needed:
        vectors = dict(zip(needed, encoder.encode([texts[name] for name in needed])))
        if "context" in vectors:
            enc = fx.emb @ vectors["context"]
            ranks = np.empty(n, np.float32)
            ranks[np.argsort(-enc, kind="stable")] = np.arange(n, dtype=np.float32)
            columns.update(enc_sim=enc, enc_z=_zscore(enc), enc_top=1.0 / (1.0 + ranks))
        if "sentence" in vectors:
            columns["enc_sentence"] = fx.emb @ vectors["sentence"]
        if "near" in vectors:
            columns["enc_near"] = fx.emb @ vectors["near"]
    if want("bm25", "bm25_z"):
        bm = np.log1p(fx.bm25.scores(query.context_text))
        columns.update(bm25=bm, bm25_z=_zscore(bm))
    if want("bm25_near"):
        columns["bm25_near"] = np.log1p(fx.bm25.scores(near_words)) if near_words else np.zeros(n, np.float32)
    if want("bm25_sentence"):
        columns["bm25_sentence"] = np.log1p(fx.bm25.scores(sentence))
    if want("bm25_last"):
        columns["bm25_last"] = (np.log1p(fx.bm25.scores(near_words[-_LAST_WORDS:])) if near_words
                                else np.zeros(n, np.float32))
    if want("bm25_after"):
        columns["bm25_after"] = np.log1p(fx.bm25.scores(tokenize(query.after[:120])[:_AFTER_WORDS]))
    if want("author_near", "key_near", "acronym_near"):
        near_folded = {fold(w) for w in re.findall(r"[^\W\d_]{3,}", near_raw)}
        columns["author_near"] = np.array([1.0 if toks & near_folded else 0.0 for toks in fx.author_tokens], np.float32)
        columns["key_near"] = np.array([len(t & near_folded) / len(t) if t else 0.0 for t in fx.key_tokens], np.float32)
        columns["acronym_near"] = np.array([1.0 if a and a in near_folded else 0.0 for a in fx.acronyms], np.float32)
    if want("author_adjacent"):
        adjacent_folded = {fold(w) for w in re.findall(r"[^\W\d_]{3,}", query.before[-_ADJACENT_CHARS:])}
        columns["author_adjacent"] = np.array(
            [1.0 if toks & adjacent_folded else 0.0 for toks in fx.author_tokens], np.float32
        )
    if want("year_near"):
        near_years = set(_YEAR.findall(near_raw))
        columns["year_near"] = np.array([1.0 if y and y in near_years else 0.0 for y in fx.years], np.float32)
    if want("query_etal"):
        columns["query_etal"] = np.full(n, 1.0 if _ETAL.search(query.before[-30:]) else 0.0, np.float32)
    if want(*_HISTORY_COLUMNS):
        columns.update(history_features(query, fx, n))
    if want("bib_local", "title_sim_recent", "author_recent"):
        anchors = recent_anchors(query, fx)
        columns["bib_local"] = bib_local(anchors, n)
        if want("title_sim_recent", "author_recent"):  # a big .bib's order columns need only bib_local
            columns["title_sim_recent"], columns["author_recent"] = recent_neighbours(anchors, fx, n)
    if want("query_new_rate", "query_cite_density"):
        new_rate, density = citing_rhythm(query)
        columns["query_new_rate"] = np.full(n, new_rate, np.float32)
        columns["query_cite_density"] = np.full(n, density, np.float32)
    if want("hist_words", "hist_lex"):
        windows = cited_windows(query, fx)
        columns["hist_words"] = hist_words(windows, set(near_words), n)
        columns["hist_lex"] = hist_lexical(query, windows, n)
    if want(*_SECTION_COLUMNS):
        columns.update(section_features(query, fx, n))
    columns.update(no_title=fx.no_title, year_recent=fx.year_recent, is_misc=fx.is_misc)
    out = np.zeros((n, len(FEATURE_NAMES)), np.float32)
    for j, name in enumerate(FEATURE_NAMES):
        if name in wanted:
            out[:, j] = columns[name]
    return out


def group_history(cites: Sequence[tuple[Sequence[str], int, str]], index: BibIndex) -> tuple[PriorCite, ...]:
    """PriorCites from (keys as written, start offset, window text), keys mapped to canonical index keys."""
    out: list[PriorCite] = []
    for keys, start, window in cites:
        canon: list[str] = []
        for key in keys:
            entry = index.get(key)
            if entry is not None and entry.key not in canon:
                canon.append(entry.key)
        out.append(PriorCite(keys=tuple(canon), start=start, window=window))
    return tuple(out)

