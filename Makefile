# Two commands for a fresh machine: `make run` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8501

.PHONY: run test test-spark seed lint format clean

$(BIN)/activate: requirements.txt
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is needed ($(PYTHON) not found)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	touch $(BIN)/activate

var/warehouse.duckdb: | $(BIN)/activate
	$(BIN)/python -m data_seed generate --customers 200000 --months 36

seed: $(BIN)/activate
	$(BIN)/python -m data_seed generate --customers 200000 --months 36

run: $(BIN)/activate var/warehouse.duckdb
	$(BIN)/python -m dashboard.access.users seed-demo
	@echo "Dashboard: http://localhost:$(PORT)"
	$(BIN)/python -m streamlit run dashboard/server.py --server.port $(PORT) --server.address 0.0.0.0

test: $(BIN)/activate
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest

# The mart refresh on a local Spark cluster (needs Java: apt-get install -y openjdk-17-jre-headless).
test-spark: $(VENV)/.spark-installed
	$(BIN)/python -m pytest tests_spark

$(VENV)/.spark-installed: requirements-spark.txt $(BIN)/activate
	$(BIN)/pip install --quiet -r requirements-spark.txt
	touch $@

lint format:
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) var
