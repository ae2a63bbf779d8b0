"""`lionrepro experiments`: the paper's recipe and its ablations, fine-tuned from one base and scored side by side.

The runs are the profile's `[experiments.runs.NAME]` tables, all trained with its `[train]` settings (equal budgets;
see lionrepro/asr/recipe_runs.py). `--only` trains the runs it names (the summary still holds every finished run).
`summary.json` gathers every run's scores and the paired-bootstrap comparisons (lionrepro/claims/bootstrap.py) that
the measured claims read, so that a difference is only called one when it is larger than the test sets' sampling
noise.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from lionrepro.asr import recipe_runs
from lionrepro.asr.training_loop import FINAL_MODEL
from lionrepro.claims.bootstrap import compare_runs
from lionrepro.config import load_profile
from lionrepro.corpora.data_record import data_summary
from lionrepro.provenance import provenance, write_json_atomic
from lionrepro.stages.options import add_training_arguments, training_config


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--base", type=Path, help="base checkpoint (default: model/ under the profile's [pretrain] out)"
    )
    parser.add_argument("--only", nargs="+", metavar="RUN", help="run only these experiments (default: all)")
    add_training_arguments(parser)  # the same settings for every run; --out defaults to RESULTS/experiments


def run(args: argparse.Namespace) -> int:
    profile = load_profile(args.profile)
    section = profile["experiments"]
    base = args.base or Path(profile["pretrain"]["out"]) / FINAL_MODEL
    if not (base / "model.safetensors").exists():
        raise SystemExit(f"no base checkpoint at {base}: run `lionrepro pretrain-base` or pass --base")
    runs = section["runs"]
    chosen = args.only or list(runs)
    unknown = sorted(set(chosen) - set(runs))
    if unknown:
        raise SystemExit(f"unknown experiments {unknown}; the profile defines {sorted(runs)}")
    root = args.out or recipe_runs.experiments_dir()
    started = time.perf_counter()
    data = data_summary()
    entries = recipe_runs.run_all(
        runs,
        chosen,
        lambda run: training_config(profile["train"], args, profile, tags=run["tags"]),
        profile,
        base,
        root,
        data,
        device=args.device,
        progress=not args.quiet,
    )
    summary = {
        "provenance": provenance(profile=profile["name"], seed=profile["seed"], stage="experiments", base=str(base)),
        "inputs": recipe_runs.experiment_inputs(
            profile, data, base, {"steps": args.steps, "lr": args.lr, "batch_size": args.batch_size, "seed": args.seed}
        ),
        "wall_s": time.perf_counter() - started,
        "runs": entries,
        "comparisons": compare_runs(section, root, entries),
    }
    write_json_atomic(root / recipe_runs.SUMMARY, summary)
    print(f"wrote {root / recipe_runs.SUMMARY}")
    return 0
