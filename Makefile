# mentorlib workbench. Two commands on a fresh machine (Python 3.11+ and make):
#   make demo   # venv + install + generate the demo study + run every stage
#   make test   # ruff + mypy + pytest (library, CLI, notebooks)
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.mentorlib-installed

.PHONY: demo test lab sample bench validate install clean pages

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	$(BIN)/python -m ipykernel install --sys-prefix --name mentorlib --display-name "mentorlib (.venv)" >/dev/null
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/mentorlib demo

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/python -m pytest -n 2 --dist loadgroup

lab: $(STAMP)
	$(BIN)/jupyter lab notebooks/

# regenerate the committed synthetic sample study (tests check it is up to date)
sample: $(STAMP)
	$(BIN)/python -m mentorlib.sample

bench: $(STAMP)
	$(BIN)/python benchmarks/run_all.py

# draft the demo study's latest summary and review and render their pages (PNG) for a look;
# needs chromium, poppler-utils and (for the DOCX) libreoffice
pages: $(STAMP)
	$(BIN)/python tools/render_reports.py --study data/processed/demo --out reports/pages

clean:
	rm -rf data/raw/demo data/processed/demo reports/demo benchmarks/out
