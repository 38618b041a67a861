# The course's commands. `make test` and `make course` set everything up themselves on a
# fresh machine: a virtual environment in .venv from the pinned lock, plus ffmpeg.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# nussl (deprecated upstream) lives in a side environment layered on .venv, for its cross-checks
NUSSL_VENV ?= .venv-nussl
NUSSL_STAMP := $(NUSSL_VENV)/.installed
export PATH := $(abspath $(VENV))/bin:$(PATH)

.PHONY: help setup system-deps nussl-env test course lab sync homework slides dataset lock clean bench

help:
	@echo "make test     install everything (.venv, ffmpeg, chromium, npm) and run the whole test suite,"
	@echo "              the nussl cross-checks first, in .venv-nussl (make nussl-env)"
	@echo "make course   execute every notebook into build/ (HTML + index), print a timing table"
	@echo "              (FAST=1 for fast mode)"
	@echo "make lab      JupyterLab on notebooks/"
	@echo "make sync     rewrite every notebook's setup cell and the README's syllabus table"
	@echo "make homework rebuild the student notebooks and build/homework/*/autograder.zip"
	@echo "make slides   build the lecture slides (reveal.js, offline) into build/slides/"
	@echo "make dataset  regenerate data/bundled (needs fluidsynth and two soundfonts; see data/README.md);"
	@echo "              SEED=, SONGS=, DATASET_OUT= render other songs (the capstone's hidden songs)"
	@echo "make lock     re-pin requirements/lock.txt from pyproject's ranges"
	@echo "make bench    run every benchmark (about an hour), print one table, write benchmarks/results.md"
	@echo "              (QUICK=1 for a smoke run of a few minutes)"

$(STAMP): requirements/lock.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -r requirements/lock.txt
	$(PY) -m pip install --quiet --no-deps -e .
	touch $(STAMP)

setup: $(STAMP) system-deps

system-deps:
	@bash tools/system_deps.sh

# .venv's packages plus nussl and the dependencies .venv lacks (tools/install_nussl.sh)
$(NUSSL_STAMP): $(STAMP) tools/install_nussl.sh
	rm -rf $(NUSSL_VENV)
	$(PY) -m venv $(NUSSL_VENV)
	$(NUSSL_VENV)/bin/python -c "import site; open(site.getsitepackages()[0] + '/course-venv.pth', 'w').write(\
	  'import site; site.addsitedir(%r)\n' % '$$($(PY) -c "import site; print(site.getsitepackages()[0])")')"
	PYTHON=$(NUSSL_VENV)/bin/python bash tools/install_nussl.sh
	touch $(NUSSL_STAMP)

nussl-env: $(NUSSL_STAMP)

test: setup nussl-env
	COURSE_FAST=1 $(NUSSL_VENV)/bin/python -m pytest tests/test_nussl_crosscheck.py
	COURSE_FAST=1 $(PY) -m pytest

course: setup
	COURSE_FAST=$(if $(FAST),1,0) $(PY) tools/run_course.py --out build

bench: setup
	$(PY) benchmarks/run_all.py $(if $(QUICK),--quick,)

lab: setup
	$(VENV)/bin/jupyter lab notebooks/

sync: $(STAMP)
	$(PY) tools/sync_notebooks.py

homework: $(STAMP)
	$(PY) tools/build_homework.py

slides: setup
	$(PY) tools/build_slides.py --out build/slides

# the shipped set by default; the capstone's hidden songs with another seed and count, e.g.
# make dataset SEED=<secret> SONGS=24 DATASET_OUT=hidden   (its test split: 8 songs)
SEED ?= 2026
SONGS ?= 80
DATASET_OUT ?= data/bundled
dataset: $(STAMP)
	$(PY) tools/generate_dataset.py --out $(DATASET_OUT) --seed $(SEED) --n-songs $(SONGS)

lock:
	rm -rf /tmp/course-lock && $(PYTHON) -m venv /tmp/course-lock
	/tmp/course-lock/bin/pip install --quiet torch==2.11.0 torchaudio==2.11.0 -e ".[tests,lab,grading,slides,site]"
	{ echo "# Exact versions that \`make\` and CI install (Python 3.11, Linux x86_64)."; \
	  echo "# Regenerate with \`make lock\` after changing the ranges in pyproject.toml."; \
	  /tmp/course-lock/bin/pip freeze --exclude-editable; } > requirements/lock.txt

clean:
	rm -rf build .venv $(NUSSL_VENV)
