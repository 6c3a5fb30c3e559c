# xrec: `make reproduce` (all notebooks, paper profile) and `make test` (unit tests + every notebook, smoke profile).
# Both create the virtual environment on first use.

PYTHON      ?= python3
VENV        := .venv
BIN         := $(VENV)/bin
PROFILE     ?= paper
# Profiles: smoke (CI), paper (the committed report), full (the papers' own scale, meant for a GPU; the run first
# prints its time estimate, `python -m xrec_lib.runner --profile full --estimate-only` prints only that). The
# paper profile writes the committed report in reports/; any other profile writes reports-<profile>/ (ignored by
# git), so a smoke or full run never overwrites the paper-profile results.
REPORTS_DIR ?= $(if $(filter paper,$(PROFILE)),$(CURDIR)/reports,$(CURDIR)/reports-$(PROFILE))
JOBS        ?= 1
# Data root of the real public datasets: the shared copy when present beside the project, else ./data.
XREC_DATA_DIR ?= $(firstword $(wildcard $(abspath $(CURDIR)/../shared/data)) $(CURDIR)/data)
export XREC_DATA_DIR
# Jupyter/IPython state stays inside the project instead of the home folder.
export JUPYTER_CONFIG_DIR  := $(CURDIR)/.jupyter/config
export JUPYTER_RUNTIME_DIR := $(CURDIR)/.jupyter/runtime
export IPYTHONDIR          := $(CURDIR)/.jupyter/ipython
export MPLBACKEND          := Agg
$(shell mkdir -p $(JUPYTER_CONFIG_DIR) $(JUPYTER_RUNTIME_DIR) $(IPYTHONDIR))

.PHONY: setup test reproduce tune lab data clean

setup: $(VENV)/.installed

$(VENV)/.installed: requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@

test: setup
	XREC_REPORTS_DIR=$$(mktemp -d) $(BIN)/python -m pytest tests notebooks --nbval-lax

reproduce: setup
	$(BIN)/python -m xrec_lib.runner --profile $(PROFILE) --reports-dir $(REPORTS_DIR) --jobs $(JOBS) $(if $(FORCE),--force) $(NOTEBOOKS); \
	status=$$?; $(BIN)/python -m xrec_lib.report --reports-dir $(REPORTS_DIR) && exit $$status

# One equal-budget hyperparameter search per model (Optuna TPE); writes xrec_lib/profiles/tuned/.
TRIALS ?= 20
tune: setup
	$(BIN)/python -m xrec_lib.tuning --trials $(TRIALS) $(TUNE_ARGS) $(NOTEBOOKS)

lab: setup
	$(BIN)/jupyter lab --notebook-dir=notebooks $(if $(filter 0,$(shell id -u)),--allow-root)

data: setup
	$(BIN)/python -m xrec_lib.data.fetch --data-dir $(XREC_DATA_DIR)

clean:
	rm -rf $(REPORTS_DIR)/.staging-* $(REPORTS_DIR)/failed .jupyter
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
