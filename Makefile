# serviceideas — `make run` serves the demo, `make test` runs every check.
# Each step is guarded by a stamp file (never under static/, which is served) or by the files
# it makes, so a second run on a set-up machine is quick.
# `make run PORT=8000 HOST=0.0.0.0` serves on another port or address.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
FLASK  := $(BIN)/flask --app wsgi
HOST   ?= 127.0.0.1
PORT   ?= 5000
# `make run` serves the vendored copies, so the demo works on a machine without internet.
# Production's default (no SERVICEIDEAS_ASSETS set) is the CDN with SRI hashes.
export SERVICEIDEAS_ASSETS ?= local
VENDORED := static/vendor/htmx.min.js static/vendor/pico.min.css \
	static/vendor/swagger-ui-bundle.js static/vendor/swagger-ui.css

# Each language's catalogue, compiled from the .po file kept in the repository.
CATALOGUES := $(patsubst %.po,%.mo,$(wildcard serviceideas/translations/*/LC_MESSAGES/messages.po))

.PHONY: run test fuzz setup setup-dev lint format bench clean translations

# Serving installs only what the app needs; the test tools come with `make test` or `make lint`.
run: setup instance/secret_key
	SECRET_KEY="$$(cat instance/secret_key)" $(FLASK) db upgrade
	SECRET_KEY="$$(cat instance/secret_key)" $(FLASK) seed-demo
	SECRET_KEY="$$(cat instance/secret_key)" $(FLASK) find-duplicates
	SECRET_KEY="$$(cat instance/secret_key)" $(FLASK) enrol-training
	@echo "serviceideas is at http://$(HOST):$(PORT)/ — demo sign-ins use the password demo-password-1"
	SECRET_KEY="$$(cat instance/secret_key)" exec $(BIN)/gunicorn --workers 2 \
		--bind $(HOST):$(PORT) --access-logfile - wsgi:app

test: setup-dev
	scripts/test-all

# The generated-input test (tests/test_fuzz.py) with many more examples than `make test` runs.
fuzz: setup-dev
	$(BIN)/pytest -q -n auto --hypothesis-profile=fuzz tests/test_fuzz.py

setup: $(VENV)/.installed $(VENDORED) $(CATALOGUES)

# The npm devDependencies first: that install also stands for `setup`'s (one `npm ci`, not two).
setup-dev: node_modules/.installed-dev setup $(VENV)/.installed-dev

# The benchmark (README, "Benchmark"): SQLite and a throwaway PostgreSQL, about 10 minutes.
bench: setup
	@command -v wrk >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get install -y -qq wrk >/dev/null; } \
		|| { echo "the benchmark needs wrk: apt-get install -y wrk"; exit 1; }
	scripts/bench

lint: setup-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: setup-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

$(VENV)/.installed: pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
		|| { echo "serviceideas needs Python 3.11 or newer (set PYTHON=...)"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -c constraints.txt -e .
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed
	$(BIN)/pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error
	touch $@

# The accessibility checks of `make test` (tests/browser/test_accessibility.py) need package.json's
# devDependencies: axe-core and the Nu HTML Checker (vnu-jar). `npm ci` empties node_modules
# first, so this stamps both installs.
node_modules/.installed-dev: package.json package-lock.json
	npm ci --include=dev --ignore-scripts --no-audit --no-fund --loglevel=error
	touch node_modules/.installed $@

# Front-end files come from the npm registry and are copied here, never committed. The copies
# are their own targets: a stamp file in static/ would be served with them.
static/vendor/htmx.min.js: node_modules/.installed
	mkdir -p $(@D)
	cp node_modules/htmx.org/dist/htmx.min.js $@

static/vendor/pico.min.css: node_modules/.installed
	mkdir -p $(@D)
	cp node_modules/@picocss/pico/css/pico.min.css $@

# Swagger UI, for the API's documentation page (/api/v1/docs).
static/vendor/swagger-ui-bundle.js static/vendor/swagger-ui.css: node_modules/.installed
	mkdir -p $(@D)
	cp node_modules/swagger-ui-dist/$(@F) $@

# Texts marked for translation (docs/architecture.md, "Translations"): extract them into
# messages.pot and bring each language's .po file in line, new texts empty and changed ones
# marked fuzzy for a translator. `make test` fails until none is empty or fuzzy.
translations: setup
	$(BIN)/python -m serviceideas.catalogues serviceideas/translations/messages.pot
	$(BIN)/pybabel update --width 100 --ignore-obsolete \
		-i serviceideas/translations/messages.pot -d serviceideas/translations

# A fuzzy entry is not compiled: until a translator confirms it, the English text shows.
serviceideas/translations/%/LC_MESSAGES/messages.mo: serviceideas/translations/%/LC_MESSAGES/messages.po $(VENV)/.installed
	$(BIN)/pybabel compile --statistics -i $< -o $@

# A random key made once for this machine's demo server; production sets SECRET_KEY itself.
instance/secret_key:
	mkdir -p instance
	$(PYTHON) -c 'import secrets; print(secrets.token_urlsafe(48))' > $@
	chmod 600 $@

clean:
	rm -rf $(VENV) node_modules static/vendor .pytest_cache .ruff_cache
