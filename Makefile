# Kaiku Portal: every target builds its own virtualenv from nothing, so a fresh clone needs only Python 3.11+.
PYTHON ?= python3
PORT ?= 6543
# `make test` runs the tests in this many processes (pytest-xdist; auto: one per core).  Every test
# builds its own application and database in its own temporary folder, and every server it starts listens on
# a free port, so the processes share nothing but the compiled-template cache.
TEST_WORKERS ?= auto
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DOMAIN := kaiku
LOCALES := fi sv en
PO := $(foreach l,$(LOCALES),portal/locale/$(l)/LC_MESSAGES/$(DOMAIN).po) \
	$(foreach l,$(LOCALES),plugins/kaiku_registry/locale/$(l)/LC_MESSAGES/kaiku_registry.po)
MO := $(PO:.po=.mo)

.PHONY: constraints faults node_modules scanner editor-assets serve dev test lint check-lint audit i18n catalogs load dump evolve backup restore zeo bench clean

# constraints.txt pins every package `make` installs (the lock file); `make constraints` renews it from a
# fresh install of setup.cfg's ranges.
$(STAMP): setup.cfg pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip 'setuptools<81' wheel
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev,testing,relstorage]'
	touch $(STAMP)

constraints:
	rm -rf .venv-lock
	$(PYTHON) -m venv .venv-lock
	.venv-lock/bin/python -m pip install --quiet --upgrade pip 'setuptools<81' wheel
	.venv-lock/bin/python -m pip install --quiet -e '.[dev,testing,relstorage]'
	{ echo '# Made by `make constraints` from setup.cfg: the exact versions `make` installs.'; \
	  .venv-lock/bin/python -m pip freeze --exclude-editable; } > constraints.txt
	rm -rf .venv-lock

%.mo: %.po $(STAMP)
	$(BIN)/pybabel compile --use-fuzzy -i $< -o $@

catalogs: $(MO)

# The site as its users get it: no debugger, no template reloading.
serve: $(STAMP) catalogs scanner editor-assets
	mkdir -p var
	$(BIN)/kaiku-registry development.ini keygen
	$(BIN)/pserve development.ini http_port=$(PORT)

# For developers on their own machine: dev.ini adds pyramid_debugtoolbar (see README: what it exposes).
dev: $(STAMP) catalogs scanner
	mkdir -p var
	$(BIN)/kaiku-registry dev.ini keygen
	$(BIN)/pserve dev.ini http_port=$(PORT)

# axe-core and the Nu HTML Checker for the browser tests, pinned in package-lock.json.
# Without npm the browser tests skip (and say so loudly); CI requires them.
node_modules/.installed: package.json package-lock.json
	@if command -v npm >/dev/null; then \
	  npm ci --no-audit --no-fund --ignore-scripts && touch $@; \
	else echo '*** npm is missing: axe-core and vnu-jar are not installed, browser checks will skip ***'; fi

node_modules: node_modules/.installed editor-assets

# The rich-text editor of bodies: Toast UI Editor (MIT, pinned in package.json) and its Finnish and Swedish
# texts bundled by esbuild (also pinned) into the theme's static files, so the app serves it itself; the
# bundle keeps the licence comments and is built, not committed (themes/kaiku/editor/toastui.js says what).
EDITOR_DIR = themes/kaiku/static/vendor/toastui
editor-assets: $(EDITOR_DIR)/toastui-editor.js

$(EDITOR_DIR)/toastui-editor.js: themes/kaiku/editor/toastui.js node_modules/.installed
	@if [ -x node_modules/.bin/esbuild ]; then \
	  mkdir -p $(EDITOR_DIR) && \
	  node_modules/.bin/esbuild themes/kaiku/editor/toastui.js --bundle --minify --format=iife \
	    --target=es2019 --legal-comments=eof --log-level=warning --outfile=$@ && \
	  cp node_modules/@toast-ui/editor/dist/toastui-editor.css $(EDITOR_DIR)/; \
	else echo '*** node_modules is missing: bodies are edited as plain Markdown text ***'; fi

# The door page's fallback barcode decoder (zxing-wasm, pinned in package-lock.json): its script, its
# WebAssembly and its licence copied into the plugin's static files, which the app serves from its own
# origin (the Content-Security-Policy allows no other).  Copied, not kept in git, so package-lock.json
# stays the one pin of its version.  Without npm the door scans only where the browser has its own
# BarcodeDetector, and typing the code works everywhere.
SCANNER := plugins/kaiku_registry/static/vendor/zxing-wasm
$(SCANNER)/.copied: node_modules/.installed
	@if [ -f node_modules/zxing-wasm/dist/iife/reader/index.js ]; then \
	  mkdir -p $(SCANNER) && \
	  cp node_modules/zxing-wasm/dist/iife/reader/index.js $(SCANNER)/zxing-reader.js && \
	  cp node_modules/zxing-wasm/dist/reader/zxing_reader.wasm $(SCANNER)/zxing_reader.wasm && \
	  cp node_modules/zxing-wasm/LICENSE $(SCANNER)/LICENSE && touch $@; \
	else echo '*** zxing-wasm is not installed: the door scans only with the browser'"'"'s own BarcodeDetector ***'; fi

scanner: $(SCANNER)/.copied

# The fault test (tests/test_faults.py: app processes and the ZEO server killed under load) runs after the
# rest, once: a failure fails make test.
test: $(STAMP) catalogs check-lint node_modules scanner
	$(BIN)/python -m pytest -n $(TEST_WORKERS) -m 'not faults' $(PYTEST_ARGS)
	@status=0; $(BIN)/python -m pytest -m faults $(PYTEST_ARGS) || status=$$?; \
	if [ $$status -ne 0 ] && [ $$status -ne 5 ]; then exit $$status; fi

faults: $(STAMP) catalogs
	$(BIN)/python -m pytest -m faults $(PYTEST_ARGS)

check-lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

lint: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Known vulnerabilities in the installed Python packages (not part of `make test`: it needs the network).
audit: $(STAMP)
	test -x $(BIN)/pip-audit || $(BIN)/python -m pip install --quiet pip-audit
	$(BIN)/pip-audit --local --skip-editable

# Extract translatable strings from Python and templates, then merge them into every language's catalog.
i18n: $(STAMP)
	$(BIN)/pot-create -c lingva.cfg -k plural:2,3 -o portal/locale/$(DOMAIN).pot portal themes/kaiku
	$(BIN)/pot-create -c lingva.cfg -k plural:2,3 -o plugins/kaiku_registry/locale/kaiku_registry.pot plugins/kaiku_registry
	for l in $(LOCALES); do \
	  $(BIN)/pybabel update -D $(DOMAIN) -l $$l -i portal/locale/$(DOMAIN).pot -d portal/locale --no-fuzzy-matching; \
	  $(BIN)/pybabel update -D kaiku_registry -l $$l -i plugins/kaiku_registry/locale/kaiku_registry.pot \
	    -d plugins/kaiku_registry/locale --no-fuzzy-matching; \
	done

load: $(STAMP)
	$(BIN)/portal-load development.ini

dump: $(STAMP)
	$(BIN)/portal-dump development.ini var/dump

evolve: $(STAMP)
	$(BIN)/portal-evolve development.ini

# Back up var/Data.fs (repozo: full, then incremental) with a snapshot of var/blobs into var/backups;
# `make restore DATE=2026-01-31-12-00-00 TO=var/restored` puts back the state of that moment.
backup: $(STAMP)
	$(BIN)/portal-backup development.ini backup

restore: $(STAMP)
	$(BIN)/portal-backup development.ini restore $(if $(DATE),--date $(DATE)) --to $(or $(TO),var/restored)

# The ZEO storage server that production.ini's app processes share.
zeo: $(STAMP)
	mkdir -p var/zeo
	$(BIN)/runzeo -C etc/zeo.conf

bench: $(STAMP) catalogs
	$(BIN)/python bench/scale.py

clean:
	rm -rf $(VENV) node_modules var/screenshots *.egg-info $(SCANNER)
