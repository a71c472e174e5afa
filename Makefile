# The two Quick-start commands: `make run` and `make test`. Both are idempotent:
# the virtualenv is built once (and again only when pyproject.toml changes).
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CONSTRAINT := $(CURDIR)/envs/build-constraints.txt

.PHONY: install run test lint clean report recommend

install: $(STAMP)

# ml-metrics 0.1.4 ships only an sdist whose setup.py needs setuptools<58
# (use_2to3); it is built first with that constraint in its isolated build env.
# pip < 26.2 passes PIP_CONSTRAINT to build envs, pip >= 26.2 PIP_BUILD_CONSTRAINT.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=23"
	PIP_CONSTRAINT=$(CONSTRAINT) PIP_BUILD_CONSTRAINT=$(CONSTRAINT) \
		$(BIN)/python -m pip install --quiet --no-deps ml-metrics==0.1.4
	$(BIN)/python -m pip install --quiet -e ".[test,cluster]"
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/snakemake --cores 4 --resources gpu=1

# The main run's report as one file, report.html (runs the workflow first if needed).
report: $(STAMP)
	$(BIN)/snakemake --cores 4 --resources gpu=1
	$(BIN)/snakemake --report report.html

# Similar artists of one artist from the main run: make recommend ARTIST="Metal Artist 25"
RUN ?= results/demo/split-42
recommend: $(STAMP)
	@test -n "$(ARTIST)" || { echo 'error: ARTIST is not set; fix: make recommend ARTIST="an artist id or name"' >&2; exit 2; }
	$(BIN)/artistrec recommend $(RUN) "$(ARTIST)"

test: $(STAMP)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/snakefmt --check .
	$(BIN)/snakemake --lint

clean:
	rm -rf results logs .snakemake metrics.json report.html
