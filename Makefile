# Kaiku Portal: every target builds its own virtualenv from nothing, so a fresh clone needs only Python 3.11+.
PYTHON ?= python3
PORT ?= 6543
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DOMAIN := kaiku
LOCALES := fi sv en
PO := $(foreach l,$(LOCALES),portal/locale/$(l)/LC_MESSAGES/$(DOMAIN).po)
MO := $(PO:.po=.mo)

.PHONY: node_modules serve test lint check-lint audit i18n catalogs load dump clean

$(STAMP): setup.cfg pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip 'setuptools<81' wheel
	$(BIN)/python -m pip install --quiet -e '.[dev,testing]'
	touch $(STAMP)

%.mo: %.po $(STAMP)
	$(BIN)/pybabel compile --use-fuzzy -i $< -o $@

catalogs: $(MO)

serve: $(STAMP) catalogs
	mkdir -p var
	$(BIN)/pserve development.ini http_port=$(PORT)

# axe-core and the Nu HTML Checker for the browser tests, pinned in package-lock.json.
# Without npm the browser tests skip (and say so loudly); CI requires them.
node_modules/.installed: package.json package-lock.json
	@if command -v npm >/dev/null; then \
	  npm ci --no-audit --no-fund --ignore-scripts && touch $@; \
	else echo '*** npm is missing: axe-core and vnu-jar are not installed, browser checks will skip ***'; fi

node_modules: node_modules/.installed

test: $(STAMP) catalogs check-lint node_modules
	$(BIN)/python -m pytest $(PYTEST_ARGS)

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
	$(BIN)/pot-create -c lingva.cfg -o portal/locale/$(DOMAIN).pot portal themes/kaiku
	for l in $(LOCALES); do \
	  $(BIN)/pybabel update -D $(DOMAIN) -l $$l -i portal/locale/$(DOMAIN).pot -d portal/locale --no-fuzzy-matching; \
	done

load: $(STAMP)
	$(BIN)/portal-load development.ini

dump: $(STAMP)
	$(BIN)/portal-dump development.ini var/dump

clean:
	rm -rf $(VENV) node_modules var/screenshots *.egg-info
