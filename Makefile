# ribbon-book: two commands do everything.
#   make book   build the executed HTML book into _build/html, with every chapter as a
#               notebook (executed, student, instructor) beside it
#   make test   unit, property and chapter tests, the strict book build, the notebooks
#               and the PDF, then the tests of what was built (offline math rendering in
#               headless Chromium, links, the PDF, the notebooks in a fresh environment)
# Also: make pdf (the whole book as _build/pdf/ribbon-book.pdf), make notebooks.
# Both create .venv from pyproject.toml + constraints.txt when it is missing or stale.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
JOBS   ?= 2

export RIBBONLIB_LEDGER_DIR := $(CURDIR)/_build/ledger
export PYDEVD_DISABLE_FILE_VALIDATION := 1
# One BLAS thread per process: the chapters make many small matrix products, which
# threads only slow down, and `pytest -n $(JOBS)` already uses every core. It also fixes
# the order of floating-point sums, so a rebuild prints the same digits.
export OPENBLAS_NUM_THREADS := 1
export OMP_NUM_THREADS := 1
export MKL_NUM_THREADS := 1

CHROMIUM ?= chromium
export CHROMIUM

.PHONY: book test venv clean lock bench assets chromium mutation pdf notebooks poppler

venv: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24"
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[book,test]"
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 > /dev/null
	touch $(STAMP)

# MathJax, the ipywidgets manager and RequireJS, pinned in tools/offline-assets.toml,
# fetched from the npm registry into _vendor/ (ignored by git) unless already there; the
# build copies them into _build/html so that the book reads without network. If the
# registry cannot be reached this says so and the build falls back to the CDN.
assets: $(STAMP)
	$(BIN)/python tools/fetch_offline_assets.py

# Debian's headless-capable Chromium for tests/html, installed when missing (as root).
chromium:
	@command -v $(CHROMIUM) > /dev/null || { \
	  echo "Installing Debian's chromium for the tests of the built HTML"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium > /dev/null; }
	@command -v $(CHROMIUM) > /dev/null || { \
	  echo "chromium is missing and could not be installed (apt-get install chromium, as root)"; exit 1; }

# poppler's pdftotext and pdfinfo, with which the tests read the PDF (Debian, as root).
poppler:
	@command -v pdftotext > /dev/null || { \
	  echo "Installing Debian's poppler-utils for the checks of the PDF"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq poppler-utils > /dev/null; }
	@command -v pdftotext > /dev/null || { \
	  echo "pdftotext is missing and could not be installed (apt-get install poppler-utils, as root)"; exit 1; }

# cffconvert validates CITATION.cff in the tests; it needs jsonschema<4, so it lives in an
# environment of its own, pinned in tools/cffconvert-requirements.txt.
CFF_VENV  := $(VENV)/cffconvert
CFF_STAMP := $(CFF_VENV)/.installed

$(CFF_STAMP): tools/cffconvert-requirements.txt $(STAMP)
	rm -rf $(CFF_VENV) && $(BIN)/python -m venv $(CFF_VENV)
	$(CFF_VENV)/bin/python -m pip install --quiet -r tools/cffconvert-requirements.txt
	touch $(CFF_STAMP)

# Every chapter as a notebook, from the executed copies in the execution cache and the
# numbers of the built pages: executed next to its page, student and instructor sets,
# the solutions of each chapter (tools/notebooks.py). Needs a built book.
NOTEBOOKS = $(BIN)/python tools/notebooks.py
# The whole book as one PDF: a one-page HTML build printed by Chromium (tools/build_pdf.py).
BUILD_PDF = $(BIN)/python tools/build_pdf.py

book: $(STAMP) assets
	$(BIN)/jupyter-book build . --warningiserror --nitpick --keep-going
	$(NOTEBOOKS)
	@echo "Book written to $(CURDIR)/_build/html/index.html (make pdf adds the PDF)"

notebooks: $(STAMP)
	$(NOTEBOOKS)

pdf: $(STAMP) assets chromium poppler
	@test -d _build/html || $(MAKE) book
	$(BUILD_PDF)

# Each chapter is executed once, from scratch, by its test; the test stores the executed
# notebook in the book's execution cache, so the strict build renders these fresh outputs.
# tests/html checks that build, so it runs after it (and fails if there is no build).
# The notebooks and the PDF are made from that build, and tests/html checks them too.
test: $(STAMP) $(CFF_STAMP) assets chromium poppler
	RIBBONLIB_PRIME_CACHE=$(CURDIR)/_build/.jupyter_cache $(BIN)/python -m pytest -n $(JOBS) -p no:cacheprovider --ignore=tests/html tests
	$(BIN)/jupyter-book build . --all --warningiserror --nitpick --keep-going
	$(NOTEBOOKS)
	$(BUILD_PDF)
	$(BIN)/python -m pytest -p no:cacheprovider tests/html
	@echo "Book written to $(CURDIR)/_build/html/index.html"

bench: $(STAMP)
	for f in benchmarks/bench_*.py; do echo "== $$f"; $(BIN)/python $$f || exit 1; done

# Mutation score of the numeric modules of ribbonlib against the unit and property tests
# (tools/mutation/run.py; settings in [tool.mutmut] of pyproject.toml; equivalent
# survivors listed in tests/mutation_survivors.md). Slow, so never part of `make test`:
# one worker at the lowest priority. `make mutation MODULES="bounds phase"` for some
# modules, MUTATION_ARGS="--sample 40" for a seeded sample of each.
MODULES ?=
MUTATION_ARGS ?=
MUTATION_STAMP := $(VENV)/.installed-mutation

$(MUTATION_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[mutation]"
	touch $(MUTATION_STAMP)

mutation: $(MUTATION_STAMP)
	nice -n 19 $(BIN)/python tools/mutation/run.py --workers 1 $(MUTATION_ARGS) $(MODULES)

# Re-resolve the exact versions from the ranges in pyproject.toml (every extra, so that
# the notebook and mutation extras are pinned too).
lock:
	rm -rf /tmp/ribbon-lock && $(PYTHON) -m venv /tmp/ribbon-lock
	/tmp/ribbon-lock/bin/python -m pip install --quiet --upgrade "pip>=24"
	/tmp/ribbon-lock/bin/python -m pip install --quiet ".[book,test,notebook,mutation]"
	{ echo "# Exact versions of every package in the book's environment (pip constraints)."; \
	  echo "# Regenerate with: make lock   (after changing the ranges in pyproject.toml)"; \
	  /tmp/ribbon-lock/bin/python -m pip freeze --exclude ribbonlib; } > constraints.txt
	$(PYTHON) -c "$$ENVYML"

# environment.yml mirrors constraints.txt (checked by tests/test_environment.py).
define ENVYML
pins = [l.strip() for l in open('constraints.txt') if l.strip() and not l.startswith('#')]
head = ['# Conda / Binder environment of ribbon-book. The pip pins mirror constraints.txt',
        '# exactly (tests/test_environment.py checks this); regenerate both with `make lock`.',
        'name: ribbon-book', 'channels:', '  - conda-forge', 'dependencies:', '  - python=3.11',
        '  - pip', '  - pip:', '      - -e .']
open('environment.yml', 'w').write('\n'.join(head + ['      - ' + p for p in pins]) + '\n')
endef
export ENVYML

clean:
	rm -rf _build
