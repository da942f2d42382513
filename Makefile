# Every target creates or reuses the virtual environment in $(VENV): a fresh clone needs
# nothing but python3 (>= 3.11) and the package registries.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
DEMO_DIR ?= demo-run
# The suite runs on both cores (pytest-xdist); PYTEST_ARGS= runs it in one process.
PYTEST_ARGS ?= -n 2

.PHONY: venv demo test lint typecheck pytest bench chaos clean

venv: $(STAMP)

# A $(VENV) that is a symbolic link to no usable environment (dangling, or a loop, as a copied
# tree can carry) is replaced by a new environment, with one line saying so.
$(STAMP): pyproject.toml
	@if [ -L $(VENV) ] && [ ! -x $(PY) ]; then \
		echo "make: $(VENV) is a link to no usable environment ($$(readlink $(VENV))): replacing it" >&2; \
		rm -f $(VENV); \
	fi
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev,bench]'
	@rm -f $(VENV)/.installed-*
	@touch $@

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

typecheck: venv
	$(VENV)/bin/mypy

# pytest exits 5 when it collects nothing: say so loudly and fail.
pytest: venv
	@$(PY) -m pytest $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make test: pytest collected no tests -- failing" >&2; fi; \
	exit $$rc

test: lint typecheck pytest

demo: venv
	$(VENV)/bin/toekgw demo --workdir $(DEMO_DIR)

# Benchmarks print ratios to baselines measured in the same run and write bench/results/*.json.
# The month-end (bench/month_end.py) runs the whole month through the simulators per size.
MONTH_END_SIZES ?= 100000,1000000
# PostgreSQL journal vs bare COPY (bench/pg_journal.py): the issue's size is 1,000,000.
PG_JOURNAL_COUNT ?= 100000
# TØK's intake vs a bare pika loop (bench/tok_intake.py): the messages and rounds the figures in
# docs/performance.md and bench/results/tok_intake*.json are measured with.
TOK_INTAKE_COUNT ?= 20000
TOK_INTAKE_ROUNDS ?= 5
# asyncssh warns at import that cryptography deprecates DSA (a matter for its maintainers; pytest
# filters the same warning): the benchmarks' and the chaos run's output stays readable.
bench chaos: export PYTHONWARNINGS = ignore:DSA is deprecated
bench: venv
	$(PY) bench/run.py
	$(PY) bench/nemkonto_bundle.py
	$(PY) bench/eindkomst_report.py
	$(PY) bench/month_end.py --sizes $(MONTH_END_SIZES)
	$(PY) bench/receive_floor.py
	$(PY) bench/oir_vouchers.py
	$(PY) bench/oir_callback.py
	$(PY) bench/tok_intake.py --count $(TOK_INTAKE_COUNT) --rounds $(TOK_INTAKE_ROUNDS)
	$(PY) bench/tok_intake.py --journal postgresql --count $(TOK_INTAKE_COUNT) \
		--rounds $(TOK_INTAKE_ROUNDS)
	$(PY) bench/tok_intake_workers.py
	$(PY) bench/pg_journal.py --count $(PG_JOURNAL_COUNT)
	$(PY) bench/duplicates.py
	$(PY) bench/journal_chain.py
	$(PY) -m pytest -q -p no:cacheprovider bench/bench_journal.py --benchmark-only \
		--benchmark-json bench/results/journal.json

# Random SIGKILLs over every flow for CHAOS_MINUTES, then an independent check (not in
# `make test`): bench/chaos.py; the figures go to bench/results/chaos.json. Then TØK's
# month-end with four workers on one PostgreSQL, SIGKILLed at random (bench/tok_workers.py).
CHAOS_MINUTES ?= 10
TOK_WORKERS_COUNT ?= 200000
chaos: venv
	$(PY) -m pytest -q -p no:cacheprovider --hypothesis-profile=fuzz tests/test_fuzz_*.py
	$(PY) bench/chaos.py --minutes $(CHAOS_MINUTES)
	$(PY) bench/tok_workers.py --count $(TOK_WORKERS_COUNT) --workers 4

clean:
	rm -rf $(VENV) $(DEMO_DIR) .pytest_cache .mypy_cache .ruff_cache build *.egg-info
