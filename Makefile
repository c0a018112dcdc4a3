# The IDN Book: environment, vendored browser assets, book build and tests.
#
#   make book               execute every notebook of _toc.yml (papermill, PROFILE=full) and build _build/html
#   make book PROFILE=quick the same with the small CI parameters of notebooks/profiles.yaml
#   make test               ruff + pytest in two processes (runs every notebook once, quick profile, builds the book
#                           into _build/html and checks every page in Debian's Chromium)
#
# Executed notebooks are cached in _build/executed/<profile>/: a rebuild re-executes nothing
# unless a notebook's code cells, its parameters, idn_core (the build tool idn_core/book aside)
# or requirements.txt changed; prose edits are merged into the cached outputs.
#   make execute ONLY=03_ensembles   runs one notebook (or several, space-separated); same for book

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-builtin-rules

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
VENV_STAMP := $(VENV)/.idn-book-installed
PROFILE ?= full
ONLY ?=
BOOK_ARGS = --profile $(PROFILE)$(if $(ONLY), --only $(ONLY))
PYTEST_ARGS ?=
# make test runs these (the chapters, the book build, the browser; in this order) in a second
# pytest process beside the rest of the suite: their long single-process stretches (Sphinx,
# Chromium) then overlap the other tests. Their report follows the other one's.
BOOK_TESTS := tests/test_notebooks.py tests/test_book.py tests/test_browser.py
BOOK_TEST_LOG := _build/test-book.log

# Browser assets served by the book itself (never from a CDN), fetched once from the npm registry
# (the tarballs stay in .cache/vendor/npm: later runs work offline).
VENDOR_DIR := .cache/vendor
VENDOR_NPM := $(VENDOR_DIR)/npm
VENDOR_OUT := $(VENDOR_DIR)/static/vendor
VENDOR_STAMP := $(VENDOR_DIR)/.stamp
REQUIREJS_VERSION := 2.3.8
HTML_MANAGER_VERSION := 1.0.15
MATHJAX_VERSION := 3.2.2
# plotly.js's partial bundle of cartesian traces (scatter, bar, histogram, heatmap, box, pie,
# ...: every trace type the book draws; tests/test_book.py checks it), 1.5 MB instead of the
# full bundle's 4.8 MB, at the version the installed plotly package embeds.
PLOTLY_JS_VERSION = $$($(PY) -c 'import plotly.offline as o; print(o.get_plotlyjs_version())')

# The browser tests drive Debian's Chromium (never a browser downloaded by Playwright).
CHROMIUM := /usr/bin/chromium

.PHONY: help venv vendor chromium book execute test test-fast lint format clean distclean

help:
	@echo "targets: venv vendor chromium book [PROFILE=full|quick] [ONLY=stem...] execute test test-fast lint format clean distclean"

venv: $(VENV_STAMP)

$(VENV_STAMP): requirements.txt pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q -r requirements.txt
	$(PY) -m pip install -q -e . --no-deps
	@touch $@

vendor: $(VENDOR_STAMP)

$(VENDOR_STAMP): Makefile requirements.txt | $(VENV_STAMP)
	@mkdir -p $(VENDOR_NPM)
	@plotly_js=$(PLOTLY_JS_VERSION); cd $(VENDOR_NPM) && for spec in requirejs@$(REQUIREJS_VERSION) \
	    @jupyter-widgets/html-manager@$(HTML_MANAGER_VERSION) mathjax@$(MATHJAX_VERSION) \
	    plotly.js-cartesian-dist-min@$$plotly_js; do \
	  tgz=$$(echo "$${spec#@}" | sed -e 's|/|-|' -e 's|@|-|').tgz; \
	  test -s "$$tgz" || { echo "npm pack $$spec"; npm pack --silent "$$spec" >/dev/null; }; \
	done
	@rm -rf $(VENDOR_DIR)/unpacked $(VENDOR_DIR)/static
	@mkdir -p $(VENDOR_DIR)/unpacked $(VENDOR_OUT)/widgets $(VENDOR_OUT)/mathjax
	@for tgz in $(VENDOR_NPM)/*.tgz; do \
	  d=$(VENDOR_DIR)/unpacked/$$(basename $$tgz .tgz); mkdir -p $$d; tar -xzf $$tgz -C $$d; \
	done
	@cp $(VENDOR_DIR)/unpacked/requirejs-$(REQUIREJS_VERSION)/package/require.js $(VENDOR_OUT)/require.js
	@cd $(VENDOR_DIR)/unpacked/jupyter-widgets-html-manager-$(HTML_MANAGER_VERSION)/package/dist && \
	  cp embed-amd.js *.woff2 *.woff *.ttf *.eot *.svg $(CURDIR)/$(VENDOR_OUT)/widgets/
	@cd $(VENDOR_DIR)/unpacked/mathjax-$(MATHJAX_VERSION)/package/es5 && \
	  cp -r tex-mml-chtml.js a11y adaptors input sre ui $(CURDIR)/$(VENDOR_OUT)/mathjax/ && \
	  mkdir -p $(CURDIR)/$(VENDOR_OUT)/mathjax/output && \
	  cp -r output/chtml output/chtml.js $(CURDIR)/$(VENDOR_OUT)/mathjax/output/
	@cp $(VENDOR_DIR)/unpacked/plotly.js-cartesian-dist-min-$(PLOTLY_JS_VERSION)/package/plotly-cartesian.min.js $(VENDOR_OUT)/
	@rm -rf $(VENDOR_DIR)/unpacked
	@echo "vendored into $(VENDOR_OUT): $$(du -sh $(VENDOR_OUT) | cut -f1)"
	@touch $@

# Installs Debian's chromium when missing (apt, as root or through sudo); instant when present.
chromium:
	@if [ ! -x $(CHROMIUM) ]; then \
	  echo "installing Debian's chromium for the browser tests"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends chromium fonts-liberation fonts-dejavu-core; \
	fi
	@test -x $(CHROMIUM) || { echo "$(CHROMIUM) is still missing"; exit 1; }

execute: venv vendor
	$(PY) -m idn_core.book execute $(BOOK_ARGS)

book: venv vendor
	$(PY) -m idn_core.book build $(BOOK_ARGS)

lint: venv
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

format: venv
	$(PY) -m ruff check --fix .
	$(PY) -m ruff format .

# Runs lint and every test even if one part fails, then fails if any did.
test: venv vendor chromium
	@status=0; \
	$(PY) -m ruff check . || status=1; \
	$(PY) -m ruff format --check . || status=1; \
	mkdir -p _build; \
	$(PY) -m pytest $(BOOK_TESTS) $(PYTEST_ARGS) > $(BOOK_TEST_LOG) 2>&1 & book=$$!; \
	$(PY) -m pytest $(addprefix --ignore=,$(BOOK_TESTS)) $(PYTEST_ARGS) || status=1; \
	wait $$book || status=1; \
	echo "---- the book's tests ($(BOOK_TEST_LOG)) ----"; cat $(BOOK_TEST_LOG); \
	exit $$status

test-fast: venv lint
	$(PY) -m pytest -m "not slow" $(PYTEST_ARGS)

clean:
	rm -rf _build .pytest_cache .ruff_cache
	find . -path ./.venv -prune -o -name __pycache__ -type d -exec rm -rf {} +

distclean: clean
	rm -rf .cache $(VENV)
