# Dent.py book: the two commands are `make book` (build the HTML book) and `make test`
# (everything CI checks). Both create the environment (.venv) first when it is missing.

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PROFILE ?= auto
FORCE ?=
STAGES := _build/stage-times.txt

# $(call timed,NAME,COMMAND): run COMMAND, print and record how long it took, keep its status.
timed = start=$$(date +%s); echo "=== $(1)"; $(2); rc=$$?; \
	took=$$(( $$(date +%s) - start )); mkdir -p _build; \
	echo "$(1): $${took} s" >> $(STAGES); echo "=== $(1): $${took} s (exit $$rc)"; exit $$rc

.PHONY: help venv book execute html test unit lint guards notebooks chromium browser lab clean

help:
	@echo "make book   execute every changed notebook (PROFILE=$(PROFILE); FORCE=1 runs all) and"
	@echo "            build _build/html, even when a notebook fails (make then exits 1)"
	@echo "make test   lint, unit tests, notebook guards, notebooks (smoke), HTML, browser check"
	@echo "make lab    open JupyterLab on the book with the dentpy environment"
	@echo "make clean  remove _build (keeps .venv)"

venv: $(VENV)/.installed

$(VENV)/.installed: requirements.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade pip
	$(PY) -m pip install -r requirements.txt
	touch $@

book: venv
	$(PY) -m dentpy.book book --profile $(PROFILE) $(if $(FORCE),--force)

execute: venv
	$(PY) -m dentpy.book execute --profile $(PROFILE) $(if $(FORCE),--force)

html: venv
	$(PY) -m dentpy.book html

lint: venv
	$(PY) -m ruff check .

unit: venv
	$(PY) -m pytest -q

guards: venv
	$(PY) -m dentpy.book guards

notebooks: venv
	$(PY) -m dentpy.book execute --profile smoke --force

chromium:
	@if ! command -v chromium >/dev/null 2>&1; then \
	  if command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	    echo "installing Debian's chromium for the browser check"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else \
	    echo "NOTICE: chromium is missing and cannot be installed here (needs apt-get as root)"; \
	  fi; \
	fi

browser: venv chromium
	$(PY) -m dentpy.book check-site --skip-if-missing
	$(PY) -m dentpy.book check-lab --skip-if-missing

test:
	@rm -f $(STAGES)
	@$(call timed,install,$(MAKE) --no-print-directory venv)
	@$(call timed,lint,$(MAKE) --no-print-directory lint)
	@$(call timed,chromium (for the browser tests),$(MAKE) --no-print-directory chromium)
	@$(call timed,unit tests and guards,$(MAKE) --no-print-directory unit)
	@$(call timed,notebooks (smoke),$(MAKE) --no-print-directory notebooks)
	@$(call timed,book (HTML),$(MAKE) --no-print-directory html)
	@$(call timed,browser check,$(MAKE) --no-print-directory browser)
	@echo "=== time per stage"; cat $(STAGES)

lab: venv
	@if [ "$$(id -u)" = 0 ]; then \
	  echo "NOTE: running as root (a container or cloud notebook): starting JupyterLab with --allow-root"; \
	fi
	OMP_WAIT_POLICY=$${OMP_WAIT_POLICY:-PASSIVE} $(VENV)/bin/jupyter lab \
	  $$([ "$$(id -u)" = 0 ] && echo --allow-root) book/

clean:
	rm -rf _build
