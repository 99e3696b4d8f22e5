# E-Ren: `make run` serves the site locally, `make test` runs everything CI checks.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
LOCK := requirements/dev.txt
BOOTSTRAP := requirements/bootstrap.txt
# The venv is rebuilt when a lock changes or PYTHON is another minor version.
PYTHON_VERSION := $(shell $(PYTHON) -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)
STAMP := $(VENV)/.installed-py$(PYTHON_VERSION)-$(shell cat $(BOOTSTRAP) $(LOCK) | sha1sum | cut -c1-12)

.PHONY: run test lint typecheck security-lint audit migrations-check pytest venv lock clean browser \
	screenshots vendor-static

run: $(STAMP)
	$(BIN)/python scripts/run_local.py

test: $(STAMP) browser deploy-tools lint typecheck security-lint migrations-check pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# mypy with django-stubs over the apps (settings in pyproject.toml; cache in .mypy_cache).
# tests/core/test_typecheck.py shows that a wrong argument type in a service call fails it.
typecheck: $(STAMP)
	DJANGO_ENV=test $(BIN)/mypy

# bandit over the app code (settings in pyproject.toml): medium severity and above fail.
security-lint: $(STAMP)
	$(BIN)/bandit -c pyproject.toml -r eren core users events escore orgs demo --severity-level medium --quiet

# Known vulnerabilities in the pinned runtime dependencies. pip-audit asks PyPI's vulnerability
# data over the internet, so it is not part of make test (CI's sandbox has no such access);
# Jenkins runs it after make test, and it is worth a run before every dependency change.
audit: $(STAMP)
	$(BIN)/pip-audit --strict --require-hashes --disable-pip -r requirements/base.txt

migrations-check: $(STAMP)
	DJANGO_ENV=test $(BIN)/python manage.py makemigrations --check --dry-run

# PostgreSQL and Redis from DATABASE_URL/REDIS_URL, else the standard local ports, else
# private servers on free ports for this run only (scripts/services.py).
# Two test processes (pytest-xdist, each with its own test database): much of the suite waits
# on servers, workers, browsers and subprocesses. PYTEST_WORKERS=0 runs them in one process.
PYTEST_WORKERS ?= 2
pytest: $(STAMP)
	$(BIN)/python scripts/services.py -- $(BIN)/pytest -n $(PYTEST_WORKERS) --cov --cov-report=term:skip-covered $(PYTEST_ARGS)

venv: $(STAMP)

# The browser test drives Debian's Chromium (Playwright cannot download browsers here).
CHROMIUM_PATH ?= /usr/bin/chromium
browser:
	@test -x $(CHROMIUM_PATH) || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium; \
	  else echo "Install Chromium (sudo apt-get install chromium) or set CHROMIUM_PATH." >&2; exit 1; fi; }

# Every page type at phone and desktop size, as anonymous, student and organizer, into
# test-artifacts/screenshots/ (not committed) for review: the accessibility test's walk.
screenshots: $(STAMP) browser deploy-tools
	rm -rf test-artifacts/screenshots && mkdir -p test-artifacts/screenshots
	EREN_SCREENSHOTS=$(CURDIR)/test-artifacts/screenshots $(BIN)/python scripts/services.py -- \
	  $(BIN)/pytest -q -p no:cacheprovider tests/browser/test_accessibility.py -k any_page
	@echo "Screenshots in test-artifacts/screenshots/"

# The lock files are the single source of versions for make run, make test, Jenkins and the
# image. The interpreter's own pip (whatever its age) installs only the hash-pinned uv of
# $(BOOTSTRAP); uv then makes the venv exactly the lock: no resolution, hashes checked.
$(STAMP): $(LOCK) $(BOOTSTRAP)
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "E-Ren needs Python 3.11 or newer: make PYTHON=python3.12 ...")'
	@$(BIN)/python -c 'import sys; sys.exit("%d.%d" % sys.version_info[:2] != "$(PYTHON_VERSION)")' 2>/dev/null \
	  || $(PYTHON) -m venv --clear $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --require-hashes -r $(BOOTSTRAP)
	$(BIN)/uv pip sync --quiet --python $(BIN)/python --require-hashes $(LOCK)
	$(BIN)/uv pip check --quiet --python $(BIN)/python
	rm -f $(VENV)/.installed-*
	touch $@

# Re-pin after editing pyproject.toml or requirements/bootstrap.in. The locks hold every
# platform and Python >= 3.11 (markers), and no index URL or path of this machine. Their
# header names the uv command itself: Renovate (renovate.json) reruns it to update them.
UV_COMPILE = $(BIN)/uv pip compile --quiet --universal --generate-hashes --python-version 3.11
lock: $(STAMP)
	$(UV_COMPILE) -o $(BOOTSTRAP) requirements/bootstrap.in
	$(UV_COMPILE) -o requirements/base.txt pyproject.toml
	$(UV_COMPILE) --extra dev -o requirements/dev.txt pyproject.toml

clean:
	rm -rf $(VENV) staticfiles .coverage

# deploy-tools (kubectl, npm-groovy-lint for tests/deploy) and image-check.
include deploy/tools.mk

# Leaflet and its marker clusters (the map view) are served from our static files, copied
# from the npm packages pinned in deploy/tools/package.json; run after changing a version.
# tests/events/test_map.py checks that static/vendor/ is exactly the pinned packages' files.
NPM_MODULES := $(DEPLOY_TOOLS_DIR)/npm/node_modules
vendor-static: $(DEPLOY_NPM_STAMP)
	rm -rf static/vendor/leaflet static/vendor/leaflet.markercluster
	mkdir -p static/vendor/leaflet static/vendor/leaflet.markercluster
	cp -r $(NPM_MODULES)/leaflet/dist/leaflet.js $(NPM_MODULES)/leaflet/dist/leaflet.js.map \
	  $(NPM_MODULES)/leaflet/dist/leaflet.css $(NPM_MODULES)/leaflet/dist/images \
	  $(NPM_MODULES)/leaflet/LICENSE static/vendor/leaflet/
	cp $(addprefix $(NPM_MODULES)/leaflet.markercluster/dist/,leaflet.markercluster.js \
	  leaflet.markercluster.js.map MarkerCluster.css MarkerCluster.Default.css) \
	  $(NPM_MODULES)/leaflet.markercluster/MIT-LICENCE.txt static/vendor/leaflet.markercluster/

# Leaderboard benchmark: 100,000 students in a database and Redis key prefix of their own
# (the database is created if missing). Results go in docs/BENCHMARKS.md.
BENCH_ESCORE_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/eren_bench_escore
.PHONY: bench-leaderboard
bench-leaderboard: $(STAMP)
	DATABASE_URL=$(BENCH_ESCORE_DATABASE_URL) CACHE_KEY_PREFIX=eren-bench DEBUG=false RATELIMIT_ENABLE=false \
	LOG_LEVEL=WARNING $(BIN)/python -m bench.leaderboard_benchmark $(BENCH_ARGS)

# Search benchmark: 5,000 and 500,000 generated events in databases of their own (created if
# missing; names must start with eren_bench; bench-search-data fills them, ~4 min).
# Results go in docs/BENCHMARKS.md.
BENCH_SEARCH_5K_URL ?= postgres://postgres@127.0.0.1:5432/eren_bench_5k
BENCH_SEARCH_500K_URL ?= postgres://postgres@127.0.0.1:5432/eren_bench_500k
.PHONY: bench-search bench-search-data
bench-search-data: $(STAMP)
	DATABASE_URL=$(BENCH_SEARCH_5K_URL) $(BIN)/python -m bench.generate_events --events 5000 --reset
	DATABASE_URL=$(BENCH_SEARCH_500K_URL) $(BIN)/python -m bench.generate_events --events 500000 --reset
bench-search: $(STAMP)
	DATABASE_URL=$(BENCH_SEARCH_5K_URL) $(BIN)/python -m bench.search_benchmark --iterations 200 --server $(BENCH_ARGS)
	DATABASE_URL=$(BENCH_SEARCH_500K_URL) $(BIN)/python -m bench.search_benchmark --iterations 50 --server $(BENCH_ARGS)
# The search page over HTTP on the 500,000 events (the load test's search part alone).
bench-load-500k: $(STAMP)
	DATABASE_URL=$(BENCH_SEARCH_500K_URL) REDIS_URL=$(BENCH_REDIS_URL) LOG_LEVEL=WARNING \
	  $(BIN)/python -m bench.load_test --search-only $(BENCH_LOAD_ARGS)

# Suggestions, API search and the uncached search page vs /health with wrk and varied
# queries (issue 19), then where each request's time goes (SQL, rows, serialization, template).
.PHONY: bench-search-ratios
bench-search-ratios: $(STAMP)
	DATABASE_URL=$(BENCH_SEARCH_5K_URL) REDIS_URL=$(BENCH_REDIS_URL) $(BIN)/python -m bench.search_ratio_benchmark --seconds 8 --rounds 3 $(BENCH_ARGS)
	DATABASE_URL=$(BENCH_SEARCH_5K_URL) REDIS_URL=$(BENCH_REDIS_URL) $(BIN)/python -m bench.search_profile --requests 300

# Cached anonymous event list vs /health on one gunicorn (needs wrk: apt-get install wrk).
.PHONY: bench-pages bench-pages-signed-in bench-balance
bench-pages: $(STAMP)
	RATELIMIT_ENABLE=false DATABASE_URL=$(BENCH_SEARCH_5K_URL) $(BIN)/python -m bench.page_cache_benchmark --seconds 5 --rounds 5 $(BENCH_ARGS)
# The pages a signed-in student sees vs /health (issue 25), 2 workers, on the database that
# `make run` seeds (the demo accounts sign in), then its in-process profile per page.
BENCH_DEMO_URL ?= postgres://postgres@127.0.0.1:5432/eren
bench-pages-signed-in: $(STAMP)
	DATABASE_URL=$(BENCH_DEMO_URL) REDIS_URL=$(BENCH_REDIS_URL) $(BIN)/python -m bench.page_cache_benchmark \
	  --signed-in --workers 2 --seconds 5 --rounds 3 $(BENCH_ARGS)
	DATABASE_URL=$(BENCH_DEMO_URL) REDIS_URL=$(BENCH_REDIS_URL) $(BIN)/python -m bench.signed_in_profile --requests 200
# Do the gunicorn workers share keep-alive load? Ten short /health runs, then one long one.
bench-balance: $(STAMP)
	DATABASE_URL=$(BENCH_DATABASE_URL) REDIS_URL=$(BENCH_REDIS_URL) $(BIN)/python -m bench.worker_balance \
	  --runs 10 --seconds 3 --keepalive-seconds 30 $(BENCH_ARGS)

# Offline evaluation of "For you" (issue 23): the demo seed (5,000 events, 800 students) in a
# database of its own, then hit rate at 10 of the ranker against "most popular" and "soonest".
BENCH_RECOMMENDATIONS_URL ?= postgres://postgres@127.0.0.1:5432/eren_bench_demo
.PHONY: bench-recommendations
bench-recommendations: $(STAMP)
	-createdb -h 127.0.0.1 -U postgres eren_bench_demo 2>/dev/null
	DATABASE_URL=$(BENCH_RECOMMENDATIONS_URL) $(BIN)/python manage.py migrate -v0
	DATABASE_URL=$(BENCH_RECOMMENDATIONS_URL) $(BIN)/python manage.py seed_demo
	DATABASE_URL=$(BENCH_RECOMMENDATIONS_URL) $(BIN)/python -m bench.recommendation_eval $(BENCH_ARGS)

# Load test of issue 8 on one database (names must start with eren_bench): bench-data fills
# it (5,000 events, 100,000 students who can log in, registrations, scores), bench-load runs
# gunicorn as production does and locust on this machine (/health baseline, page ratios,
# the 200-user mix, worker RSS), bench-contention sends 500 registrations for 100 seats
# (all at once, then BENCH_CONTENTION_RATE a second).
# `make bench` runs every benchmark; results go in docs/BENCHMARKS.md.
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/eren_bench
BENCH_REDIS_URL ?= redis://127.0.0.1:6379/12
BENCH_EVENTS ?= 5000
BENCH_STUDENTS ?= 100000
BENCH_USERS ?= 200
BENCH_DURATION ?= 60
BENCH_CONTENTION_RATE ?= 50
BENCH_ENV = DATABASE_URL=$(BENCH_DATABASE_URL) REDIS_URL=$(BENCH_REDIS_URL) LOG_LEVEL=WARNING
.PHONY: bench bench-data bench-load bench-load-signed-in bench-contention bench-search bench-search-data bench-load-500k
bench-data: $(STAMP)
	$(BENCH_ENV) $(BIN)/python -m bench.generate_events --events $(BENCH_EVENTS) \
	  --students $(BENCH_STUDENTS) --reset
bench-load: $(STAMP)
	$(BENCH_ENV) $(BIN)/python -m bench.load_test --users $(BENCH_USERS) \
	  --duration $(BENCH_DURATION) $(BENCH_LOAD_ARGS)
# The same 200 users, every one signed in (issue 25).
bench-load-signed-in: $(STAMP)
	$(BENCH_ENV) $(BIN)/python -m bench.load_test --signed-in --users $(BENCH_USERS) \
	  --duration $(BENCH_DURATION) $(BENCH_LOAD_ARGS)
bench-contention: $(STAMP)
	$(BENCH_ENV) $(BIN)/python -m bench.registration_contention $(BENCH_CONTENTION_ARGS)
	$(BENCH_ENV) $(BIN)/python -m bench.registration_contention --rate $(BENCH_CONTENTION_RATE) \
	  $(BENCH_CONTENTION_ARGS)
# Cold install of the dev lock into an empty venv: pip (resolving, --no-deps) against uv.
.PHONY: bench-install
bench-install:
	$(PYTHON) -m bench.install_time --python $(PYTHON) $(BENCH_ARGS)

bench: bench-install bench-search-data bench-search bench-search-ratios bench-load-500k bench-leaderboard bench-pages bench-data \
  bench-load bench-load-signed-in bench-contention bench-balance bench-pages-signed-in \
  bench-recommendations
