# The two commands of the quick start: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test check-security lint typecheck unit pg-test migrate seed bench-proposals bench-thread bench-lineage bench-polls bench-guidelines bench bench-memory messages compile-messages clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

# Dev tools, the OpenID provider the sign-in tests run on loopback, and axe-core for the
# accessibility tests (both skipped without Node).
$(VENV)/.installed-dev: pyproject.toml tests/oidc/package-lock.json tests/e2e/axe/package-lock.json $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[dev]'
	if command -v npm >/dev/null 2>&1; then npm ci --prefix tests/oidc --no-audit --no-fund --silent; npm ci --prefix tests/e2e/axe --no-audit --no-fund --silent; fi
	touch $@

## run: install, migrate the SQLite database, seed the demo on first start, serve on http://$(HOST):$(PORT)
run: export NORMSFORUM_ENVIRONMENT ?= development
run: export NORMSFORUM_BASE_URL ?= http://$(HOST):$(PORT)
run: $(VENV)/.installed
	$(BIN)/normsforum migrate
	$(BIN)/normsforum seed-demo --if-empty
	$(BIN)/normsforum serve --host $(HOST) --port $(PORT)

## test: lint, type-check, then the whole suite on SQLite and (where installed) PostgreSQL
test: lint typecheck unit pg-test

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(VENV)/.installed-dev
	$(BIN)/mypy

unit: $(VENV)/.installed-dev
	$(BIN)/pytest --db=sqlite

# The browser tests drive pages, not the database: they run once, in the SQLite pass.
pg-test: $(VENV)/.installed-dev
	$(BIN)/pytest --db=postgresql --ignore=tests/e2e

## check-security: the slow safety proofs: the API contract on PostgreSQL (the production
## database; `--db=sqlite` runs it on SQLite), crashes on both; a new proof is one more line
check-security: export NORMSFORUM_CHECK_SECURITY = 1
check-security: $(VENV)/.installed-dev
	$(BIN)/pytest -p no:cacheprovider --db=postgresql -m check_security tests/security/test_api_contract.py
	$(BIN)/pytest -p no:cacheprovider --db=sqlite -m check_security tests/security/test_crash.py
	$(BIN)/pytest -p no:cacheprovider --db=postgresql -m check_security tests/security/test_crash.py

# Babel skips folders whose names start with "_" unless told otherwise: templates/_macros has
# strings too.
I18N_IGNORED_DIRS := .* node_modules

## messages: extract the interface's strings (babel.cfg) and bring every catalog up to date
messages: $(VENV)/.installed
	$(BIN)/pybabel extract -F babel.cfg -o app/locales/messages.pot --project "Norms Forum" \
		--version 1 --copyright-holder "Norms Forum contributors" --sort-by-file --width 100 \
		--ignore-dirs "$(I18N_IGNORED_DIRS)" .
	$(BIN)/pybabel update -i app/locales/messages.pot -d app/locales --width 100 --ignore-pot-creation-date --ignore-obsolete

## compile-messages: compile the catalogs to .mo (the app compiles a newer .po in memory otherwise)
compile-messages: $(VENV)/.installed
	$(BIN)/pybabel compile -d app/locales --statistics

migrate: $(VENV)/.installed
	$(BIN)/normsforum migrate

seed: $(VENV)/.installed
	$(BIN)/normsforum seed-demo

## bench-proposals: list and search cost at 100 vs 10,000 proposals, on SQLite and PostgreSQL
bench-proposals: $(VENV)/.installed-dev
	$(BIN)/python -m bench.proposal_list --db sqlite
	$(BIN)/python -m bench.proposal_list --db postgresql

## bench-thread: thread pages and "more replies" at 50 vs 10,000 comments, on SQLite and PostgreSQL
bench-thread: $(VENV)/.installed-dev
	$(BIN)/python -m bench.thread --db sqlite
	$(BIN)/python -m bench.thread --db postgresql

## bench-lineage: lineage walks (ancestors, descendants, tree, attribution) in 10,000 works
bench-lineage: $(VENV)/.installed-dev
	$(BIN)/python -m bench.lineage --db sqlite
	$(BIN)/python -m bench.lineage --db postgresql

## bench-polls: tally of 1,000,000 ballots; results at 10 vs 100,000 ballots (both databases run, either may fail it)
bench-polls: $(VENV)/.installed-dev
	status=0; \
	$(BIN)/python -m bench.polls --db sqlite || status=1; \
	$(BIN)/python -m bench.polls --db postgresql || status=1; \
	exit $$status

## bench-guidelines: the guidelines at 200 clauses after 10 vs 2,000 versions (both databases run, either may fail it)
bench-guidelines: $(VENV)/.installed-dev
	status=0; \
	$(BIN)/python -m bench.guidelines --db sqlite || status=1; \
	$(BIN)/python -m bench.guidelines --db postgresql || status=1; \
	exit $$status

## bench: the load benchmark (issue 9): the app as served in production, under wrk on loopback, SQLite then PostgreSQL
bench: $(VENV)/.installed-dev
	$(BIN)/python -m bench.load --db both

## bench-memory: one worker's memory at start and at its peak under wrk -c32 (issue 9: under 150 MB)
bench-memory: $(VENV)/.installed-dev
	$(BIN)/python -m bench.memory

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
