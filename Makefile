# Two entry points (README): `make reproduce` and `make test`. Each creates .venv and installs when needed.
# torch==2.13.0 is installed first: it is the CPU build, and an unpinned torch would pull a multi-GB CUDA build.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export HF_HUB_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: install constraints data base reproduce test lint bench clean

install: $(STAMP)

# Versions are pinned by constraints.txt (same seed, same metrics needs the same libraries).
$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q torch==2.13.0
	$(BIN)/python -m pip install -q -c constraints.txt -e ".[dev]"
	touch $(STAMP)

# Re-resolve pyproject.toml's ranges in a scratch venv and pin what it got: run, review the diff, re-run `make test`.
constraints:
	rm -rf .venv-constraints && $(PYTHON) -m venv .venv-constraints
	.venv-constraints/bin/python -m pip install -q --upgrade pip
	.venv-constraints/bin/python -m pip install -q torch==2.13.0
	.venv-constraints/bin/python -m pip install -q -e ".[dev]"
	{ sed -n '1,3p' constraints.txt; .venv-constraints/bin/python -m pip freeze --exclude-editable | sed 's/+cpu//'; } \
	  > constraints.new && mv constraints.new constraints.txt
	rm -rf .venv-constraints

# Lion-12, the synthetic corpus (cached under ~/.cache/lionrepro: about a minute the first time, seconds after), with
# its manifests and the balanced training manifest that the measured claims read; without the `pretrain` split, which
# only `lionrepro pretrain-base` reads (`lionrepro data --pretrain` builds it).
data: $(STAMP)
	$(BIN)/lionrepro data

# The committed base (models/tiny-base/), re-made (about an hour on 2 cores; not part of `make reproduce`): Lion-12 with
# its `pretrain` split, then `pretrain-base` as two one-thread processes under torchrun, whose global batch is twice
# [pretrain.train] batch_size. Resumable: run it again after an interruption.
base: $(STAMP)
	$(BIN)/lionrepro data --pretrain
	OMP_NUM_THREADS=1 $(BIN)/torchrun --nproc_per_node 2 -m lionrepro.stages.cli pretrain-base

# The main job after install: Lion-12, then the recipe, its ablations and the control fine-tuned from the committed base
# at three seeds each and scored (a line per run as it ends; resumable), then every claim (results/claims.json), then
# tables/ from results files only, then the notebooks executed against results/ (notebooks/html/, notebooks/figures/),
# the report card, and the total time.
reproduce: $(STAMP)
	@started=$$(date +%s); \
	$(BIN)/lionrepro data && $(BIN)/lionrepro experiments && $(BIN)/lionrepro claims && $(BIN)/lionrepro tables \
	  && $(BIN)/lionrepro report \
	  && awk '/^## /{exit} {print}' tables/claims.md; \
	rc=$$?; echo "make reproduce: $$(( ($$(date +%s) - started) / 60 )) min in all after install (exit $$rc)"; exit $$rc

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# pytest's exit code 5 means no test ran: that must fail, never pass silently.
test: lint data
	$(BIN)/python -m pytest; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests: failing" >&2; exit 1; fi; exit $$rc

bench: $(STAMP)
	$(BIN)/python -m pytest benchmarks --benchmark-enable --benchmark-json=results/benchmarks.json

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
