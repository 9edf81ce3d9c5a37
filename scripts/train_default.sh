#!/usr/bin/env bash
# How the shipped models in citations/artifacts were made (seeded; see MODEL_CARD.md).
#
# 1. On a GPU (about 1 minute on an H200; also runs on CPU, much slower): fine-tune MiniLM's top two layers on
#    (context, cited title) pairs from shared/train — once on all papers (the shipped adapter) and once on each half
#    of the papers (for cross-fitting) — then mine and fit the ranker:
#      startref train ../shared/train/papers -o citations/artifacts --encoder-epochs 3 --device cuda
# 2. Without a GPU, with the half adapters already in citations/artifacts/crossfit (what this script does):
#    each paper is mined with the adapter fine-tuned on the OTHER half, so the ranker weighs the encoder as it
#    behaves on papers it has not seen.
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/startref train ../shared/train/papers -o citations/artifacts --crossfit citations/artifacts/crossfit "$@"
