# Two commands do everything on a fresh clone with Python 3.11: `make run` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
REQUIREMENTS := $(wildcard requirements/*.txt)
DEV_ENV := APP_ENV=development

.PHONY: run run-core run-bot run-web test test-mongo lint bench fuzz clean help

help:
	@echo "make run       all roles on the embedded defaults (SQLite, locmem), demo data loaded once"
	@echo "make run-core  core alone: migrate, then serve on PORT (default 8000)"
	@echo "make run-bot   the bot alone on PORT (default 8001); BOT_MODE=polling for long polling"
	@echo "make run-web   the web role (dashboard API) alone on PORT (default 8002)"
	@echo "make test      the whole test suite (TEST_WORKERS=4 pytest workers; 0: one process)"
	@echo "make test-mongo  the whole test suite on the MongoDB profile (a throwaway SecantusDB server)"
	@echo "make bench     benchmarks (wrk against gunicorn, DEBUG off)"
	@echo "make lint      ruff, and the import contracts (lint-imports; pyproject.toml [tool.importlinter])"
	@echo "make fuzz      both OpenAPI schemas fuzzed for long (FUZZ_EXAMPLES per operation, default 2000), a random"
	@echo "               seed printed for replay: make fuzz SEED=<seed>"

$(STAMP): $(REQUIREMENTS)
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "Python 3.11 is required ($(PYTHON) not found; set PYTHON=...)"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements/dev.txt
	touch $(STAMP)

venv: $(STAMP)

run: $(STAMP)
	$(DEV_ENV) $(BIN)/python deploy/run_platform.py

run-core: $(STAMP)
	$(DEV_ENV) $(BIN)/python manage.py migrate --noinput
	$(DEV_ENV) DJANGO_SETTINGS_MODULE=config.settings.core PORT=$${PORT:-8000} $(BIN)/gunicorn -c deploy/gunicorn/conf.py \
		config.wsgi

# The bot alone (webhook mode under uvicorn; BOT_MODE=polling for long polling). Needs core running.
run-bot: $(STAMP)
	@if [ "$${BOT_MODE:-webhook}" = polling ]; then \
		$(DEV_ENV) DJANGO_SETTINGS_MODULE=config.settings.bot $(BIN)/python manage.py runbot; \
	else \
		$(DEV_ENV) DJANGO_SETTINGS_MODULE=config.settings.bot $(BIN)/uvicorn apps.botgateway.asgi:application \
			--host $${BIND_HOST:-127.0.0.1} --port $${PORT:-8001} --lifespan on --no-access-log; \
	fi

# The web role alone (browser API, dashboard, live-updates WebSocket; ASGI under uvicorn). Needs core running
# (CORE_API_URL, default :8000). Several workers: gunicorn -c deploy/gunicorn/conf.py -k uvicorn_worker.UvicornWorker
# apps.dashboard.asgi:application, with REDIS_URL so they share the live feed.
run-web: $(STAMP)
	$(DEV_ENV) DJANGO_SETTINGS_MODULE=config.settings.web $(BIN)/uvicorn apps.dashboard.asgi:application \
		--host $${BIND_HOST:-127.0.0.1} --port $${PORT:-8002} --lifespan on --no-access-log

# Several pytest workers (pytest-xdist): most of the suite waits on role processes, browsers and subprocesses rather
# than computing, so more workers than CPUs pays. Tests sharing a module-scoped platform stay on one worker
# (tests/conftest.py). TEST_WORKERS=0 runs everything in this one process.
TEST_WORKERS ?= 4
MONGO_TEST_WORKERS ?= 2

test: $(STAMP)
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadgroup

# SecantusDB goes into its own .venv-secantus/ (test tool, GPL), never into $(VENV).
# The core suite on the MongoDB profile. Left out: what has no database to vary (bot, web, the sandbox, the deploy
# artifacts) and the suites that start role processes, which run core on its default store.
# MONGO_TEST_WORKERS workers, each with its own SecantusDB server (tests/mongo/run.py).
test-mongo: $(STAMP)
	$(BIN)/python -m tests.mongo.run -n $(MONGO_TEST_WORKERS) --dist loadgroup \
		--ignore=tests/e2e --ignore=tests/tgsandbox --ignore=tests/botgateway \
		--ignore=tests/common/test_role_profiles.py --ignore=tests/common/test_framework_bypasses.py \
		--ignore=tests/dashboard --ignore=tests/browser \
		--ignore=tests/deploy --ignore=tests/deploy_models --ignore=tests/observability --ignore=tests/docs \
		--ignore=tests/fuzz/test_openapi_fuzz.py

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports

# Core's permission checks beside the floor (a bare DRF view, no middleware, its own gunicorn), what each
# hand-compiled statement buys (bench.prepared_seam), event ingest and the member list, then the bot (webhook
# throughput, the same with a group's content rules on: every lock but all and text, 1,000 blocklist entries;
# command round trip), group protection (throughput with antiflood on, flood -> restriction, a raid of
# joiners), then web (groups list through web against core's own, 1,000 live WebSocket clients); see
# docs/benchmarks.md.
bench: $(STAMP)
	$(BIN)/python -m bench.run
	$(BIN)/python -m bench.prepared_seam
	$(BIN)/python -m bench.core_data
	$(BIN)/python -m bench.bot
	$(BIN)/python -m bench.protection
	$(BIN)/python -m bench.banlists
	$(BIN)/python -m bench.federation_propagation
	$(BIN)/python -m bench.web

# Both OpenAPI schemas against live core and web (tests/fuzz): every schemathesis check and phase, stateful included.
# CI runs the same module with a fixed seed and 50 cases per operation.
fuzz: $(STAMP)
	@seed="$(SEED)"; [ -n "$$seed" ] || seed=$$(od -An -N4 -tu4 /dev/urandom | tr -d ' '); \
	echo "fuzz seed $$seed (replay: make fuzz SEED=$$seed)"; \
	FUZZ_SEED=$$seed FUZZ_EXAMPLES=$${FUZZ_EXAMPLES:-2000} FUZZ_PHASES=examples,coverage,fuzzing,stateful \
		FUZZ_TIMEOUT=$${FUZZ_TIMEOUT:-86400} $(BIN)/python -m pytest tests/fuzz -s -q -rA; \
	status=$$?; echo "fuzz seed $$seed"; exit $$status

clean:
	rm -rf $(VENV) .venv-secantus data .pytest_cache

# The deploy artifacts only (Dockerfile, compose, Kubernetes, nginx, observability; no Docker engine needed).
.PHONY: deploy-check
deploy-check: $(STAMP)
	$(BIN)/python -m pytest tests/deploy
