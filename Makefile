PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test test-reliability bench templates clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $@

demo: $(STAMP)
	@command -v soffice >/dev/null || [ "$$(id -u)" != 0 ] || bash .ci/system-packages.sh
	$(BIN)/gongwen demo

test: $(STAMP)
	$(BIN)/pytest -q

test-reliability: $(STAMP)
	$(BIN)/pytest -q -m reliability tests/reliability

bench: $(STAMP)
	$(BIN)/python bench/refno.py
	$(BIN)/python bench/render.py
	$(BIN)/python bench/archive.py
	$(BIN)/python bench/find.py
	$(BIN)/python bench/distribution.py
	PREFECT_LOGGING_LEVEL=WARNING $(BIN)/python bench/lifecycle.py

templates: $(STAMP)
	$(BIN)/python -m doc_templates.build

clean:
	rm -rf $(VENV) .gongwen
