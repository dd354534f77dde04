# Two commands on a fresh machine: `make run` (serve webhook + workers) and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: run test bench demo clean

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

run: $(VENV)/.installed
	bin/run

test: $(VENV)/.installed
	$(VENV)/bin/pytest

bench: $(VENV)/.installed
	$(PY) bench/webhook.py

# A trading day of alerts through the whole pipeline on its own fresh database (never your data);
# prints the results and writes var/demo-report.html. Extra options: make demo ARGS="--file x.json".
demo: $(VENV)/.installed
	rm -f var/demo.sqlite3 var/demo.sqlite3-wal var/demo.sqlite3-shm
	env -u DATABASE_URL -u REDIS_URL -u QUEUE_BROKER SQLITE_PATH=var/demo.sqlite3 $(PY) manage.py demo $(ARGS)

clean:
	rm -rf $(VENV) var staticfiles
