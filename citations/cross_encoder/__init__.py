"""The cross-encoder re-ranker of the top few suggestions (issue #17): measured, not shipped.

Why a package: its three parts have one job each and are only imported by the training script, ``bench/rerank.py``
and their tests, never by the engine at run time (the re-ranker lowered dev hit@1 at every weight; MODEL_CARD.md,
"Accuracy II, third round").

- ``lists``: the training and held-out lists (context + the shipped ranker's top candidates) rebuilt from the mined
  feature caches, and the pair texts the model reads;
- ``scorer``: the model (``CrossEncoder``), the top-``k`` re-ordering and its ``rerank.json`` settings;
- ``training``: the listwise fine-tune with a wall-clock budget and checkpoints.
"""
